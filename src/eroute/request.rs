//! From the words of an `ipsec eroute` command line to a checked
//! [`Request`] (spec §5.3): every rule is applied before anything is sent.

use crate::ctl::{AddrFamily, Subnet};
use crate::pfkey::consts::{IPPROTO_TCP, IPPROTO_UDP};
use crate::said::Said;
use crate::spi::request::said_of;
use crate::text::{numeric_arg, ttoprotoport, ttosubnet};

/// The option values as given (the front end has checked each appears at
/// most once and that exactly one action was named).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `add`, `addin`, `replace`, `replacein`, `del` or `clear`.
    pub action: String,
    pub eraf: Option<String>,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub transport_proto: Option<String>,
    pub src_port: Option<String>,
    pub dst_port: Option<String>,
    pub said: Option<String>,
    pub af: Option<String>,
    pub edst: Option<String>,
    pub spi: Option<String>,
    pub proto: Option<String>,
}

/// What the command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Outbound eroute (KLIPS X_ADDFLOW; NETKEY outbound SPD entry).
    Add,
    /// Inbound check for a tunnel (KLIPS INFLOW; NETKEY in and fwd entries).
    AddIn,
    Replace,
    ReplaceIn,
    Del,
    Clear,
}

impl Action {
    /// Adds or replaces (needs an SA).
    pub fn installs(self) -> bool {
        matches!(
            self,
            Action::Add | Action::AddIn | Action::Replace | Action::ReplaceIn
        )
    }

    /// Concerns the inbound direction.
    pub fn inbound(self) -> bool {
        matches!(self, Action::AddIn | Action::ReplaceIn)
    }

    /// Replaces an existing entry.
    pub fn replaces(self) -> bool {
        matches!(self, Action::Replace | Action::ReplaceIn)
    }
}

/// One side of a flow: a subnet and a port (0 = any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub net: Subnet,
    pub port: u16,
}

/// A checked `ipsec eroute` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    /// Source and destination flows (not for `--clear`).
    pub flows: Option<(Flow, Flow)>,
    /// `--transport-proto`, 0 = any.
    pub proto: u8,
    /// The SA (add, addin, replace, replacein).
    pub said: Option<Said>,
}

fn port(text: &Option<String>, what: &str) -> Result<u16, String> {
    let Some(t) = text else { return Ok(0) };
    if let Some(n) = numeric_arg(t) {
        return u16::try_from(n).map_err(|_| format!("{what} `{t}' is not in 0..65535"));
    }
    // A service name: ttoprotoport knows /etc/services and a built-in table.
    match ttoprotoport(&format!("tcp/{t}")) {
        Ok((_, p, false)) if p != 0 => Ok(p),
        _ => Err(format!(
            "{what} `{t}' is neither a number nor a known service"
        )),
    }
}

fn transport_proto(text: &str) -> Result<u8, String> {
    match ttoprotoport(text) {
        Ok((p, _, _)) if !text.contains('/') => Ok(p),
        _ => Err(format!(
            "--transport-proto `{text}' is neither a protocol name nor a number 0..255"
        )),
    }
}

impl Request {
    /// Checks `args`; the error is the one line to print.
    pub fn from_args(args: &Args) -> Result<Request, String> {
        let action = match args.action.as_str() {
            "add" => Action::Add,
            "addin" => Action::AddIn,
            "replace" => Action::Replace,
            "replacein" => Action::ReplaceIn,
            "del" => Action::Del,
            "clear" => Action::Clear,
            other => return Err(format!("unknown action `{other}'")),
        };
        let has_sa = args.said.is_some()
            || args.af.is_some()
            || args.edst.is_some()
            || args.spi.is_some()
            || args.proto.is_some();
        let has_flow = args.eraf.is_some()
            || args.src.is_some()
            || args.dst.is_some()
            || args.transport_proto.is_some()
            || args.src_port.is_some()
            || args.dst_port.is_some();
        if action == Action::Clear {
            if has_sa || has_flow {
                return Err("--clear takes no other options".into());
            }
            return Ok(Request {
                action,
                flows: None,
                proto: 0,
                said: None,
            });
        }
        let family = match args.eraf.as_deref() {
            None | Some("inet") => AddrFamily::Ipv4,
            Some("inet6") => AddrFamily::Ipv6,
            Some(o) => return Err(format!("unknown --eraf `{o}' (inet or inet6)")),
        };
        let subnet = |t: &Option<String>, what: &str| -> Result<Subnet, String> {
            let t = t
                .as_deref()
                .ok_or_else(|| format!("--{} needs {what}", args.action))?;
            ttosubnet(t, family).map_err(|e| format!("bad {what} `{t}': {e}"))
        };
        let src = subnet(&args.src, "--src")?;
        let dst = subnet(&args.dst, "--dst")?;
        let proto = match &args.transport_proto {
            None => 0,
            Some(t) => transport_proto(t)?,
        };
        let sport = port(&args.src_port, "--src-port")?;
        let dport = port(&args.dst_port, "--dst-port")?;
        if (sport != 0 || dport != 0) && proto != IPPROTO_TCP && proto != IPPROTO_UDP {
            return Err("--src-port and --dst-port need --transport-proto tcp or udp".into());
        }
        let said = if action.installs() {
            let s = said_of(
                args.said.as_deref(),
                args.af.as_deref(),
                args.edst.as_deref(),
                args.spi.as_deref(),
                args.proto.as_deref(),
            )?;
            if s.family() != family && !s.is_magic() {
                return Err(format!("SA {s} is not of the --eraf family"));
            }
            Some(s)
        } else {
            if has_sa {
                return Err("--del takes no SA".into());
            }
            None
        };
        Ok(Request {
            action,
            flows: Some((
                Flow {
                    net: src,
                    port: sport,
                },
                Flow {
                    net: dst,
                    port: dport,
                },
            )),
            proto,
            said,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add() -> Args {
        Args {
            action: "add".into(),
            eraf: Some("inet".into()),
            src: Some("10.1.0.0/24".into()),
            dst: Some("10.2.0.0/255.255.255.0".into()),
            said: Some("tun0x1001@192.0.2.2".into()),
            ..Args::default()
        }
    }

    #[test]
    fn add_request() {
        let r = Request::from_args(&add()).unwrap();
        let (s, d) = r.flows.unwrap();
        assert_eq!(s.net.to_string(), "10.1.0.0/24");
        assert_eq!(d.net.prefix, 24);
        assert_eq!(r.said.unwrap().to_string(), "tun0x1001@192.0.2.2");
        let mut a = add();
        a.said = Some("%passthrough".into());
        assert!(Request::from_args(&a).unwrap().said.unwrap().is_magic());
    }

    #[test]
    fn ports_and_protocols() {
        let mut a = add();
        a.transport_proto = Some("tcp".into());
        a.dst_port = Some("smtp".into());
        a.src_port = Some("1024".into());
        let r = Request::from_args(&a).unwrap();
        assert_eq!(r.proto, 6);
        let (s, d) = r.flows.unwrap();
        assert_eq!((s.port, d.port), (1024, 25));
        a.transport_proto = Some("icmp".into());
        assert!(Request::from_args(&a).unwrap_err().contains("tcp or udp"));
        a.transport_proto = Some("300".into());
        assert!(Request::from_args(&a).is_err());
    }

    #[test]
    fn bad_inputs() {
        let check = |f: &dyn Fn(&mut Args), want: &str| {
            let mut a = add();
            f(&mut a);
            let e = Request::from_args(&a).unwrap_err();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        };
        check(&|a| a.src = None, "needs --src");
        check(&|a| a.dst = Some("10.2.0.0".into()), "bad --dst");
        check(&|a| a.said = None, "missing --edst");
        check(&|a| a.said = Some("esp.ff@192.0.2.2".into()), "below 0x100");
        check(&|a| a.spi = Some("0x200".into()), "conflicts");
        check(&|a| a.eraf = Some("ipx".into()), "--eraf");
        check(&|a| a.said = Some("esp:1001@2001:db8::1".into()), "family");
        check(
            &|a| {
                a.action = "del".into();
            },
            "takes no SA",
        );
        check(&|a| a.action = "clear".into(), "no other options");
    }
}
