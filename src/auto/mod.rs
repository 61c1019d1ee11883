//! `ipsec auto` and `ipsec setup`: pluto driven from `ipsec.conf`.
//!
//! Both send pluto what `ipsec whack` would, built from the conns that
//! [`crate::conf`] read. Which messages, in which order, is decided here
//! by pure functions ([`plan`], [`start_plan`]) so that it is tested
//! without a pluto; [`daemon`] starts and stops the pluto process.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod daemon;
#[cfg(test)]
mod tests;

use crate::conf::{Auto, Config, Conn};
use crate::ctl::{KeyRequest, WhackMessage, LIST_ALL, LIST_PUBKEYS, REREAD_ALL, REREAD_SECRETS};

/// What `ipsec auto` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `--add NAME`: the conn's raw keys, then the conn.
    Add,
    /// `--delete NAME`.
    Delete,
    /// `--replace NAME`: delete (if it exists), then add.
    Replace,
    /// `--up NAME`: initiate.
    Up,
    /// `--down NAME`: terminate.
    Down,
    /// `--route NAME`.
    Route,
    /// `--unroute NAME`.
    Unroute,
    /// `--status`.
    Status,
    /// `--rereadsecrets`.
    RereadSecrets,
    /// `--rereadall`.
    RereadAll,
    /// `--listall`.
    ListAll,
    /// `--listpubkeys`.
    ListPubkeys,
    /// `--ready`: pluto starts listening.
    Ready,
}

impl Op {
    /// The operation an `ipsec auto` option names.
    pub fn from_option(opt: &str) -> Option<Op> {
        Some(match opt {
            "--add" => Op::Add,
            "--delete" => Op::Delete,
            "--replace" => Op::Replace,
            "--up" => Op::Up,
            "--down" => Op::Down,
            "--route" => Op::Route,
            "--unroute" => Op::Unroute,
            "--status" => Op::Status,
            "--rereadsecrets" => Op::RereadSecrets,
            "--rereadall" => Op::RereadAll,
            "--listall" => Op::ListAll,
            "--listpubkeys" => Op::ListPubkeys,
            "--ready" => Op::Ready,
            _ => return None,
        })
    }

    /// Whether the operation is about one conn (takes a NAME).
    pub fn needs_name(self) -> bool {
        matches!(
            self,
            Op::Add | Op::Delete | Op::Replace | Op::Up | Op::Down | Op::Route | Op::Unroute
        )
    }

    /// Whether the conn's description is read from ipsec.conf: `--add` and
    /// `--replace`; the others only name a conn pluto knows.
    pub fn reads_conn(self) -> bool {
        matches!(self, Op::Add | Op::Replace)
    }
}

/// One message to send, and whether its failure ends the run (a failed
/// `--delete` before an add only means the conn was not there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub msg: WhackMessage,
    pub may_fail: bool,
}

impl Step {
    /// Whether whack's exit status `rc` for this step is a failure. An
    /// asynchronous initiation ends with the state it reached (100 +
    /// state), as whack's does: that is progress, not a failure.
    pub fn failed(&self, rc: i32) -> bool {
        rc != 0 && !(self.msg.asynchronous && (100..200).contains(&rc))
    }
}

fn step(msg: WhackMessage) -> Step {
    Step {
        msg,
        may_fail: false,
    }
}

fn named(name: &str) -> WhackMessage {
    WhackMessage {
        name: Some(name.to_string()),
        ..WhackMessage::default()
    }
}

/// The conns `NAME` stands for: the conn of that name, or the conns that
/// `leftsubnets=`/`rightsubnets=` made of it (`NAME/1x2`, ...).
pub fn conns_named<'a>(config: &'a Config, name: &str) -> Vec<&'a Conn> {
    if let Some(c) = config.conn(name) {
        return vec![c];
    }
    config
        .conns
        .iter()
        .filter(|c| {
            c.name
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|r| {
                    !r.is_empty() && r.chars().all(|ch| ch.is_ascii_digit() || ch == 'x')
                })
        })
        .collect()
}

/// `ipsec auto --add` of one conn: its raw keys (each `whack --keyid ID
/// --pubkeyrsa KEY`), then the connection.
pub fn add_steps(c: &Conn) -> Vec<Step> {
    let mut out: Vec<Step> = c
        .keys
        .iter()
        .map(|k| {
            step(WhackMessage {
                key: Some(KeyRequest {
                    keyid: k.keyid.clone(),
                    add: k.add,
                    pubkey_rsa: k.pubkey_rsa.clone(),
                }),
                ..WhackMessage::default()
            })
        })
        .collect();
    out.push(step(WhackMessage {
        connection: Some(c.connection.clone()),
        ..named(&c.name)
    }));
    out
}

/// The messages of `ipsec auto OP [NAME]`. `conns` are the conns NAME
/// stands for in ipsec.conf (used by `--add`/`--replace`; the other
/// per-conn operations act on every one of them, or on NAME itself when
/// ipsec.conf has none: pluto may know a conn added by whack).
pub fn plan(op: Op, name: &str, conns: &[&Conn], asynchronous: bool) -> Vec<Step> {
    let names: Vec<&str> = if conns.is_empty() {
        vec![name]
    } else {
        conns.iter().map(|c| c.name.as_str()).collect()
    };
    let each = |f: &dyn Fn(WhackMessage) -> WhackMessage| -> Vec<Step> {
        names.iter().map(|n| step(f(named(n)))).collect()
    };
    match op {
        Op::Add => conns.iter().flat_map(|c| add_steps(c)).collect(),
        Op::Replace => conns
            .iter()
            .flat_map(|c| {
                let mut v = vec![Step {
                    msg: WhackMessage {
                        delete: true,
                        ..named(&c.name)
                    },
                    may_fail: true,
                }];
                v.extend(add_steps(c));
                v
            })
            .collect(),
        Op::Delete => each(&|m| WhackMessage { delete: true, ..m }),
        Op::Up => each(&|m| WhackMessage {
            initiate: true,
            asynchronous,
            ..m
        }),
        Op::Down => each(&|m| WhackMessage {
            terminate: true,
            ..m
        }),
        Op::Route => each(&|m| WhackMessage { route: true, ..m }),
        Op::Unroute => each(&|m| WhackMessage { unroute: true, ..m }),
        Op::Status => vec![step(WhackMessage {
            status: true,
            ..WhackMessage::default()
        })],
        Op::RereadSecrets => vec![step(WhackMessage {
            reread: REREAD_SECRETS,
            ..WhackMessage::default()
        })],
        Op::RereadAll => vec![step(WhackMessage {
            reread: REREAD_ALL,
            ..WhackMessage::default()
        })],
        Op::ListAll => vec![step(WhackMessage {
            list: LIST_ALL,
            ..WhackMessage::default()
        })],
        Op::ListPubkeys => vec![step(WhackMessage {
            list: LIST_PUBKEYS,
            ..WhackMessage::default()
        })],
        Op::Ready => vec![step(WhackMessage {
            listen: true,
            ..WhackMessage::default()
        })],
    }
}

/// What `ipsec setup start` sends a pluto it has just started, in
/// Openswan's order (`_plutoload`): `--myid`; every conn with
/// `auto=add|route|start` added; `--listen`; the `route` and `start` conns
/// routed; the `start` conns initiated (asynchronously, unless
/// `plutowait=yes`).
pub fn start_plan(config: &Config) -> Vec<Step> {
    let mut out = Vec::new();
    if let Some(id) = &config.setup.myid {
        out.push(step(WhackMessage {
            myid: Some(id.clone()),
            ..WhackMessage::default()
        }));
    }
    let loaded = || config.conns.iter().filter(|c| c.auto != Auto::Ignore);
    for c in loaded() {
        out.extend(add_steps(c));
    }
    out.push(step(WhackMessage {
        listen: true,
        ..WhackMessage::default()
    }));
    for c in loaded().filter(|c| matches!(c.auto, Auto::Route | Auto::Start)) {
        out.push(step(WhackMessage {
            route: true,
            ..named(&c.name)
        }));
    }
    for c in loaded().filter(|c| c.auto == Auto::Start) {
        out.push(step(WhackMessage {
            initiate: true,
            asynchronous: !config.setup.pluto_wait,
            ..named(&c.name)
        }));
    }
    out
}

/// The problems worth showing for `name` (all when `None`): errors and
/// warnings about that conn and about the file as a whole (`config
/// setup`, syntax), notes only when `verbose`.
pub fn diagnostics_for(config: &Config, name: Option<&str>, verbose: bool) -> Vec<String> {
    config
        .diagnostics
        .iter()
        .filter(|d| verbose || d.severity != crate::conf::Severity::Note)
        .filter(|d| match name {
            None => true,
            Some(n) => match d.message.strip_prefix("conn ") {
                Some(rest) => rest.split(':').next().is_some_and(|c| {
                    c == n || c.strip_prefix(n).is_some_and(|r| r.starts_with('/'))
                }),
                None => true,
            },
        })
        .map(|d| d.to_string())
        .collect()
}
