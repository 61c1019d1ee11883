//! Running the updown command (spec §3.1) with the verbs the engine asks
//! for (`prepare`, `route`, `unroute`, `up`, `down`), its variables built
//! from the connection's description; output and failures logged.

use super::conns::policy_text;
use super::daemon::Daemon;
use crate::ctl;
use crate::ike::Level;
use crate::updown::{build, run_command, UpdownCall, Verb};
use std::time::Duration;

/// How long an updown command may run.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The default updown: this very binary's `_updown`, so no `ipsec` on PATH is needed.
fn default_script() -> String {
    match std::env::current_exe() {
        Ok(p) if !p.to_string_lossy().contains(['\'', ' ']) => format!("{} _updown", p.display()),
        _ => crate::updown::env::DEFAULT_UPDOWN.to_string(),
    }
}

fn call(d: &Daemon, conn: &str, verb: Verb) -> Option<UpdownCall> {
    let c = d.conns.iter().find(|c| c.name == conn)?;
    let left = c.left_is_us?;
    let (us, them) = if left {
        (&c.desc.left, &c.desc.right)
    } else {
        (&c.desc.right, &c.desc.left)
    };
    // A connection on an `ipsecN` XFRM interface routes through it, as
    // KLIPS did through its ipsecN: directly, no next hop.
    let ipsec_dev = d.ipsec_device(us.host);
    let interface = match ipsec_dev {
        Some(a) => a.virt.clone(),
        None => d
            .ifaces
            .iter()
            .find(|f| f.raw.addr == us.host)
            .map_or_else(String::new, |f| f.raw.name.clone()),
    };
    let id = |e: &ctl::End| e.id.clone().unwrap_or_else(|| e.host.to_string());
    let client = |e: &ctl::End| e.client.map(|s| (s.addr, s.prefix));
    let up = if c.up { ctl::POLICY_UP } else { 0 };
    Some(UpdownCall {
        verb,
        conn: conn.to_string(),
        next_hop: Some(us.nexthop).filter(|n| !n.is_unspecified() && ipsec_dev.is_none()),
        interface,
        me: us.host,
        my_id: id(us),
        my_client: client(us),
        my_port: us.port,
        my_protocol: us.protocol,
        peer: them.host,
        peer_id: id(them),
        peer_client: client(them),
        peer_port: them.port,
        peer_protocol: them.protocol,
        peer_ca: String::new(),
        policy: policy_text(c.desc.policy | up),
        my_sourceip: us.srcip,
        script: Some(us.updown.clone().unwrap_or_else(default_script)),
    })
}

/// Runs one verb for `conn`; true when it succeeded. Output lines are logged
/// (and copied to whack when a request is being served).
pub fn run(d: &mut Daemon, conn: &str, verb: Verb) -> bool {
    // Without a kernel stack pluto makes no routing changes either.
    if d.config.stack == super::options::Stack::None {
        return true;
    }
    let Some(c) = call(d, conn, verb) else {
        return false;
    };
    let cmd = match build(&c) {
        Ok(cmd) => cmd,
        Err(e) => {
            d.say(Level::Error, &format!("\"{conn}\": {e}"));
            return false;
        }
    };
    let name = cmd.verb.to_string();
    match run_command(&cmd.command, TIMEOUT) {
        Ok(out) => {
            for l in out.log_lines(&name) {
                d.say(Level::Info, &format!("\"{conn}\": {l}"));
            }
            match out.failure(&name) {
                Some(f) => {
                    d.say(Level::Error, &format!("\"{conn}\": {f}"));
                    false
                }
                None => true,
            }
        }
        Err(e) => {
            d.say(
                Level::Error,
                &format!("\"{conn}\": unable to run {name} command: {e}"),
            );
            false
        }
    }
}
