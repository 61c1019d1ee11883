//! Running the updown command (spec §3.1) with the verbs the engine asks
//! for (`prepare`, `route`, `unroute`, `up`, `down`), its variables built
//! from the connection's description, queued on the daemon's child runner
//! ([`crate::updown::child`]): the event loop never waits for a script.
//! The verbs of one connection run in the order queued; connections run in
//! parallel. Output and failures are logged when a command ends.

use super::conns::policy_text;
use super::daemon::Daemon;
use crate::ctl;
use crate::ike::Level;
use crate::updown::child::{Done, Job, Runner};
use crate::updown::{build, UpdownCall, Verb};
use std::time::Duration;

/// How long an updown command may run.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The default updown: this very binary's `_updown`, so no `ipsec` on PATH is needed.
fn default_script() -> String {
    match std::env::current_exe() {
        Ok(p) if !p.to_string_lossy().contains(['\'', ' ']) => format!("{} _updown", p.display()),
        _ => crate::updown::env::DEFAULT_UPDOWN.to_string(),
    }
}

fn call(d: &Daemon, conn: &str, verb: Verb) -> Option<UpdownCall> {
    let c = d.conns.get(conn)?;
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

/// One queued updown command: the verb, and its name as logged
/// (`route-client`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub verb: Verb,
    pub name: String,
}

/// The child runner pluto's event loop drives; its tokens start at `base`.
pub fn runner(base: mio::Token) -> Runner<Step> {
    Runner::new(base, MAX_CHILDREN, TIMEOUT)
}

/// Updown commands running at once (one per connection at most).
const MAX_CHILDREN: usize = 64;

/// Queues `verbs` for `conn`, in order, as one chain: a failing `route`
/// drops the verbs queued behind it in the chain. The commands are built
/// now, from the connection as it is now. False when a command could not
/// be built (nothing is queued then).
fn queue(d: &mut Daemon, conn: &str, verbs: &[Verb]) -> bool {
    // Without a kernel stack pluto makes no routing changes either.
    if d.config.stack == super::options::Stack::None {
        return true;
    }
    let mut jobs = Vec::new();
    let chain = d.children.new_chain();
    for &verb in verbs {
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
        jobs.push(Job {
            key: conn.to_string(),
            tag: Step {
                verb,
                name: cmd.verb.to_string(),
            },
            command: cmd.command,
            chain,
            stop_chain_on_failure: verb == Verb::Route,
        });
    }
    for job in jobs {
        d.children.enqueue(d.poll.registry(), job);
    }
    true
}

/// Queues the engine's chain of verbs for `conn` (`prepare`, `route`,
/// `up`...); true when it was queued. The verbs run once those queued
/// before them for `conn` have finished; their output and failure are
/// logged then ([`done`]).
pub fn run(d: &mut Daemon, conn: &str, verbs: &[Verb]) -> bool {
    queue(d, conn, verbs)
}

/// A queued command finished: its output lines and failure are logged as
/// pluto always logged them (and copied to whack if a request is being
/// served right now). The connection's flags were set when the verbs were
/// queued, as if they would succeed; a failed `route` or `up` takes its
/// flag back, unless more verbs of the connection were queued after it
/// (they were decided on the flags as they were then).
pub fn done(d: &mut Daemon, done: Done<Step>) {
    let conn = done.job.key.clone();
    let name = &done.job.tag.name;
    let ok = done.success();
    match &done.result {
        Ok(out) => {
            for l in out.log_lines(name) {
                say(d, &conn, Level::Info, &format!("\"{conn}\": {l}"));
            }
            if let Some(f) = out.failure(name) {
                say(d, &conn, Level::Error, &format!("\"{conn}\": {f}"));
            }
        }
        Err(e) => say(
            d,
            &conn,
            Level::Error,
            &format!("\"{conn}\": unable to run {name} command: {e}"),
        ),
    }
    for j in &done.cancelled {
        d.log.info(&format!(
            "\"{conn}\": {} not run: {name} failed",
            j.tag.name
        ));
    }
    if ok || done.queued_after > 0 {
        return;
    }
    // The engine recorded the route or `up` as done when it asked for them.
    let up_cancelled = done.cancelled.iter().any(|j| j.tag.verb == Verb::Up);
    d.ep.updown_failed(&conn, done.job.tag.verb, up_cancelled);
}

/// Logs an updown line, and copies it to a whack waiting for `conn`'s
/// updown commands (`--route`): failures with RC_LOG_SERIOUS, so that
/// whack's exit status says the route failed.
fn say(d: &mut Daemon, conn: &str, level: Level, text: &str) {
    d.say(level, text);
    let rc = if level == Level::Error {
        crate::ctl::Rc::LogSerious
    } else {
        crate::ctl::Rc::Log
    };
    for w in d.waiters.iter().filter(|w| w.updown && w.conn == conn) {
        let _ = super::daemon::reply_line(&w.stream, rc, text);
    }
}
