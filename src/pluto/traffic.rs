//! Status with the kernel's traffic counters: `whack --status --json` (one
//! JSON object per line: pluto, then each connection, then each state)
//! and `whack --trafficstatus` (libreswan's line per IPsec SA).
//!
//! pluto never waits for the kernel: the request asks it for each IPsec
//! SA's byte counter ([`KernelOp::QuerySa`], as DPD does), keeps whack's
//! socket, and answers when every counter is in or after [`PATIENCE`]; a
//! counter the kernel did not give (no SA there, `--noklips`) is `null`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::daemon::{reply_line, Daemon};
use crate::ctl::reply::Rc;
use crate::ike::kernel::{IpsecProto, KernelOp, KernelReply};
use crate::ike::StateInfo;

/// Request numbers of the counter queries: far above the engine's, which
/// count up from 1.
const QUERY_BASE: u64 = 1 << 62;
/// How long a status waits for the kernel's counters.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// One IPsec SA's direction: (state serial, inbound).
type Leg = (u64, bool);

/// A status request waiting for counters.
pub struct Pending {
    stream: UnixStream,
    json: bool,
    deadline: Instant,
    asked: HashMap<u64, Leg>,
    bytes: HashMap<Leg, u64>,
}

/// The first SA of an IPsec state (ESP, else AH, else IPCOMP): the one
/// whose counters stand for the state's traffic.
fn main_said(s: &StateInfo) -> Option<(IpsecProto, u32, u32)> {
    [IpsecProto::Esp, IpsecProto::Ah, IpsecProto::Ipcomp]
        .iter()
        .find_map(|p| s.saids.iter().find(|(q, _, _)| q == p).copied())
}

/// Starts a `--status --json` / `--trafficstatus` answer on `stream`.
pub fn start(d: &mut Daemon, stream: UnixStream, json: bool, now: Instant) {
    let mut asked = HashMap::new();
    for s in d.ep.states() {
        if !s.ipsec || !s.kind.is_established() {
            continue;
        }
        let Some((proto, peer_spi, our_spi)) = main_said(&s) else {
            continue;
        };
        let (local, peer): (IpAddr, IpAddr) = (s.local.ip(), s.peer.ip());
        for (inbound, spi, src, dst) in
            [(true, our_spi, peer, local), (false, peer_spi, local, peer)]
        {
            d.next_query = d.next_query.wrapping_add(1);
            let req = QUERY_BASE | d.next_query;
            asked.insert(req, (s.serial, inbound));
            d.kernel.submit(KernelOp::QuerySa {
                req,
                proto,
                spi,
                src,
                dst,
            });
        }
    }
    d.status_waiters.push(Pending {
        stream,
        json,
        deadline: now + PATIENCE,
        asked,
        bytes: HashMap::new(),
    });
}

/// Takes a kernel reply if it answers a status query (true), else leaves it
/// for the engine (false).
pub fn answer(d: &mut Daemon, r: &KernelReply) -> bool {
    let (req, bytes) = match r {
        KernelReply::SaUse { req, bytes } => (*req, Some(*bytes)),
        KernelReply::Failed { req, .. } => (*req, None),
        _ => return false,
    };
    if req & QUERY_BASE == 0 {
        return false;
    }
    for p in &mut d.status_waiters {
        if let Some(leg) = p.asked.remove(&req) {
            if let Some(b) = bytes {
                p.bytes.insert(leg, b);
            }
        }
    }
    true
}

/// The earliest deadline of the waiting requests.
pub fn next_deadline(d: &Daemon) -> Option<Instant> {
    d.status_waiters.iter().map(|p| p.deadline).min()
}

/// Answers the requests whose counters are all in, or whose time is up.
pub fn finish_due(d: &mut Daemon, now: Instant) {
    let (done, waiting): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut d.status_waiters)
        .into_iter()
        .partition(|p| p.asked.is_empty() || p.deadline <= now);
    d.status_waiters = waiting;
    for p in done {
        let lines = if p.json {
            json_lines(d, &p.bytes, now)
        } else {
            traffic_lines(d, &p.bytes)
        };
        let rc = if p.json { Rc::Comment } else { Rc::Traffic };
        for l in lines {
            if reply_line(&p.stream, rc, &l).is_err() {
                break;
            }
        }
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped.
pub fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt_num(v: Option<u64>) -> String {
    v.map_or("null".into(), |n| n.to_string())
}

fn secs_until(at: Option<Instant>, now: Instant) -> String {
    opt_num(at.map(|t| t.saturating_duration_since(now).as_secs()))
}

fn end_json(e: &crate::ctl::End) -> String {
    format!(
        "{{\"host\":{},\"client\":{},\"id\":{},\"nexthop\":{}}}",
        js(&e.host.to_string()),
        e.client
            .map_or("null".into(), |c| js(&format!("{}/{}", c.addr, c.prefix))),
        e.id.as_deref().map_or("null".into(), js),
        js(&e.nexthop.to_string())
    )
}

/// pluto, each connection, each state: one object per line.
fn json_lines(d: &Daemon, bytes: &HashMap<Leg, u64>, now: Instant) -> Vec<String> {
    let mut out = vec![format!(
        "{{\"type\":\"pluto\",\"version\":{},\"stack\":{},\"listening\":{}}}",
        js(crate::VERSION),
        js(d.kernel.name()),
        d.listening
    )];
    for c in d.conns.iter() {
        let (ours, theirs) = match c.left_is_us {
            Some(false) => (&c.desc.right, &c.desc.left),
            _ => (&c.desc.left, &c.desc.right),
        };
        out.push(format!(
            "{{\"type\":\"connection\",\"name\":{},\"local\":{},\"remote\":{},\"policy\":{},\"routing\":{},\"eroute_owner\":{},\"up\":{}}}",
            js(&c.name),
            end_json(ours),
            end_json(theirs),
            js(&super::conns::policy_text(c.desc.policy)),
            js(d.ep.route_story(&c.name).text()),
            opt_num(d.ep.eroute_owner(&c.name)),
            c.up
        ));
    }
    for s in d.ep.states() {
        let (event, at) = s.event.map_or(("none", None), |(n, t)| (n, Some(t)));
        let peer_id = s
            .peer_id
            .as_ref()
            .map_or("null".into(), |i| js(&crate::ident::format_id(i)));
        let mut o = format!(
            "{{\"type\":\"state\",\"serial\":{},\"connection\":{},\"instance\":{},\"kind\":{},\"state\":{},\"established\":{},\"parent\":{},\"role\":{},\"local\":{},\"peer\":{},\"peer_id\":{},\"event\":{},\"event_in_s\":{}",
            s.serial,
            js(&s.conn),
            opt_num(s.instance.map(u64::from)),
            js(if s.ipsec { "ipsec" } else { "isakmp" }),
            js(s.kind.name()),
            s.kind.is_established(),
            opt_num(s.parent),
            js(if s.role == crate::ike::state::Role::Initiator { "initiator" } else { "responder" }),
            js(&s.local.to_string()),
            js(&s.peer.to_string()),
            peer_id,
            js(event),
            secs_until(at, now)
        );
        if s.ipsec {
            let sas: Vec<String> = s
                .saids
                .iter()
                .map(|(p, peer_spi, our_spi)| {
                    format!(
                        "{{\"proto\":{},\"spi_out\":\"{peer_spi:#010x}\",\"spi_in\":\"{our_spi:#010x}\"}}",
                        js(&p.name().to_ascii_lowercase())
                    )
                })
                .collect();
            o.push_str(&format!(
                ",\"sas\":[{}],\"in_bytes\":{},\"out_bytes\":{}",
                sas.join(","),
                opt_num(bytes.get(&(s.serial, true)).copied()),
                opt_num(bytes.get(&(s.serial, false)).copied())
            ));
        } else if let Some(dpd) = &s.dpd {
            o.push_str(&format!(
                ",\"dpd\":{{\"last_s\":{},\"seq_out\":{},\"seq_in_expected\":{}}}",
                opt_num(dpd.last.map(|t| now.saturating_duration_since(t).as_secs())),
                dpd.next_seq,
                dpd.expect
            ));
        }
        o.push('}');
        out.push(o);
    }
    out
}

/// libreswan's `--trafficstatus`: `#2: "name", type=ESP, inBytes=N,
/// outBytes=N, id='ID'` per established IPsec SA (no add_time: the state
/// keeps no creation time).
fn traffic_lines(d: &Daemon, bytes: &HashMap<Leg, u64>) -> Vec<String> {
    d.ep.states()
        .iter()
        .filter(|s| s.ipsec && s.kind.is_established())
        .filter_map(|s| {
            let (proto, _, _) = main_said(s)?;
            let id = s
                .peer_id
                .as_ref()
                .map_or(String::new(), crate::ident::format_id);
            Some(format!(
                "#{}: {}, type={}, inBytes={}, outBytes={}, id='{id}'",
                s.serial,
                super::status::state_name(s),
                proto.name(),
                bytes.get(&(s.serial, true)).copied().unwrap_or(0),
                bytes.get(&(s.serial, false)).copied().unwrap_or(0)
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::js;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(js("plain"), "\"plain\"");
        assert_eq!(js("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(js("x\ny\u{1}\u{7f}"), "\"x\\ny\\u0001\\u007f\"");
        assert_eq!(js("é"), "\"é\"");
    }
}
