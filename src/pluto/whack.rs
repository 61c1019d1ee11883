//! Carrying out whack requests in the fixed order of spec §2.7, answering
//! with `NNN text` lines.

use super::conns::{self, Conn};
use super::daemon::{reply_line, Daemon, Waiter, MAX_REQUEST};
use crate::ctl::{self, Rc, WhackMessage};
use crate::ike::{Command, Level};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::time::Instant;

/// True once `buf` holds a whole request frame, or bytes that can never become one.
pub fn frame_complete(buf: &[u8]) -> bool {
    match ctl::frame_len(buf) {
        Ok(Some(n)) => buf.len() >= n,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// One request's answers.
struct Reply<'a> {
    stream: &'a UnixStream,
}

impl Reply<'_> {
    fn line(&self, rc: Rc, text: &str) {
        let _ = reply_line(self.stream, rc, text);
    }
}

pub fn handle(d: &mut Daemon, stream: UnixStream, buf: &[u8]) {
    let msg = match ctl::decode(buf.get(..buf.len().min(MAX_REQUEST)).unwrap_or_default()) {
        Ok(m) => m,
        Err(e) => {
            d.log.info(&format!("ignoring message from whack: {e}"));
            let _ = reply_line(
                &stream,
                Rc::BadWhackMessage,
                &format!("ignoring message from whack: {e}"),
            );
            return;
        }
    };
    // Lines the engine logs while doing this request go to whack too.
    d.echo = stream.try_clone().ok();
    let keep = execute(d, &msg, &Reply { stream: &stream });
    d.pump();
    d.echo = None;
    if keep.is_none() && (msg.traffic_status || (msg.status && msg.status_json)) {
        super::traffic::start(d, stream, msg.status_json, Instant::now());
        d.pump();
        super::traffic::finish_due(d, Instant::now());
    } else if let Some(conn) = keep {
        d.waiters.push(Waiter {
            stream,
            conn: conn.0,
            ipsec: conn.1,
            updown: false,
        });
    } else if let Some(name) = msg
        .name
        .as_ref()
        .filter(|n| msg.route && d.children.busy(n))
    {
        d.waiters.push(Waiter {
            stream,
            conn: name.clone(),
            ipsec: false,
            updown: true,
        });
    }
}

/// Runs every part of `msg`. Returns the connection an attached `--initiate`
/// waits for (and whether it waits for an IPsec SA).
fn execute(d: &mut Daemon, msg: &WhackMessage, r: &Reply<'_>) -> Option<(String, bool)> {
    let now = Instant::now();
    let name = msg.name.clone().unwrap_or_default();
    // whack refuses these itself; a message that carries one anyway is
    // refused whole, before any part of it is done.
    if let Some(what) = not_implemented(msg) {
        let line = format!("{what} is not implemented by rswan yet; nothing was done");
        d.log.info(&line);
        r.line(Rc::BadWhackMessage, &line);
        return None;
    }
    if let Some(len) = msg
        .name
        .as_ref()
        .map(String::len)
        .filter(|l| *l > ctl::MAX_CONN_NAME)
    {
        let line = format!(
            "connection name is {len} bytes long; at most {} allowed; nothing was done",
            ctl::MAX_CONN_NAME
        );
        d.log.info(&line);
        r.line(Rc::BadWhackMessage, &line);
        return None;
    }
    if let Some(bits) = msg.debug {
        // Debugging of one connection (with --name) is refused above.
        d.config.debug = bits;
        d.log.debug = bits != 0;
        d.log.bridge_debug();
        d.ep.set_debug(bits != 0);
    }
    if let Some(id) = &msg.myid {
        match crate::ident::parse_id(id) {
            Ok(crate::ident::IdSpec::Id(i)) => d.myid = Some(i),
            Ok(_) | Err(_) => r.line(Rc::BadId, "myid malformed"),
        }
    }
    if msg.delete {
        if d.conns.contains(&name) {
            delete_connection(d, now, &name);
        } else if msg.connection.is_none() {
            r.line(Rc::UnknownName, &format!("no connection named \"{name}\""));
        }
    }
    if let Some(serial) = msg.delete_state {
        if let Err(e) = d.ep.handle_command(now, Command::DeleteState(serial)) {
            r.line(e.rc(), &e.to_string());
        }
    }
    if let Some(peer) = msg.crash {
        crash(d, now, peer, r);
    }
    if let Some(c) = &msg.connection {
        add_connection(d, &name, c, r);
    }
    if msg.listen {
        listen(d, r);
    }
    if msg.unlisten {
        d.log.info("no longer listening for IKE messages");
        d.close_interfaces();
        d.listening = false;
    }
    if msg.reread & ctl::REREAD_SECRETS != 0 {
        load_secrets(d, r);
    }
    if msg.list & ctl::LIST_PUBKEYS != 0 {
        for line in super::status::pubkey_lines(d) {
            r.line(Rc::Comment, &line);
        }
    }
    if let Some(k) = &msg.key {
        add_pubkey(d, k, r);
    }
    if msg.route {
        route(d, &name, true, r);
    }
    if msg.unroute {
        route(d, &name, false, r);
    }
    let mut keep = None;
    if msg.initiate {
        keep = initiate(d, now, &name, msg.asynchronous, r);
    }
    if let Some(o) = &msg.oppo_initiate {
        let cmd = Command::OppoInitiate(o.my_client, o.peer_client);
        if let Err(e) = d.ep.handle_command(now, cmd) {
            r.line(e.rc(), &e.to_string());
        }
    }
    if msg.terminate {
        match d.conns.get_mut(&name) {
            None => r.line(Rc::UnknownName, &format!("no connection named \"{name}\"")),
            Some(c) => {
                c.up = false;
                d.log.info(&format!(
                    "\"{name}\": terminating SAs using this connection"
                ));
                r.line(
                    Rc::Log,
                    &format!("\"{name}\": terminating SAs using this connection"),
                );
                if c.loaded {
                    let _ = d.ep.handle_command(now, Command::Terminate(name.clone()));
                }
            }
        }
    }
    // --status --json and --trafficstatus wait for the kernel's counters
    // (`traffic`); the text status is answered at once.
    if msg.status && !msg.status_json {
        for line in super::status::render(d, now) {
            r.line(Rc::Comment, &line);
        }
    }
    if msg.shutdown {
        d.log.info("shutting down");
        d.shutdown = true;
    }
    keep
}

/// What rswan does not implement in `msg`, named as whack's option, or
/// `None` when pluto can do all of it.
fn not_implemented(msg: &WhackMessage) -> Option<String> {
    const LISTS: &[(u32, &str)] = &[
        (ctl::LIST_CERTS, "--listcerts"),
        (ctl::LIST_CACERTS, "--listcacerts"),
        (ctl::LIST_ACERTS, "--listacerts"),
        (ctl::LIST_AACERTS, "--listaacerts"),
        (ctl::LIST_OCSPCERTS, "--listocspcerts"),
        (ctl::LIST_GROUPS, "--listgroups"),
        (ctl::LIST_CRLS, "--listcrls"),
        (ctl::LIST_OCSP, "--listocsp"),
        (ctl::LIST_CARDS, "--listcards"),
        (ctl::LIST_EVENTS, "--listevents"),
    ];
    const REREADS: &[(u8, &str)] = &[
        (ctl::REREAD_CACERTS, "--rereadcacerts"),
        (ctl::REREAD_AACERTS, "--rereadaacerts"),
        (ctl::REREAD_OCSPCERTS, "--rereadocspcerts"),
        (ctl::REREAD_ACERTS, "--rereadacerts"),
        (ctl::REREAD_CRLS, "--rereadcrls"),
    ];
    if let Some(opt) = msg.connection.as_ref().and_then(conns::not_implemented) {
        return Some(opt.to_string());
    }
    if let Some(bits) = msg.debug {
        if msg.name.is_some() {
            return Some("debugging of one connection (--debug-* with --name)".into());
        }
        let impair = (0..64u32).find(|b| bits & ctl::IMPAIR_ALL & (1u64 << b) != 0);
        if let Some(bit) = impair {
            let name = usize::try_from(bit)
                .ok()
                .and_then(|b| ctl::DBG_NAMES.get(b))
                .copied()
                .unwrap_or("impair");
            return Some(format!("--{name}"));
        }
    }
    if let Some((_, opt)) = LISTS.iter().find(|(bit, _)| msg.list & bit != 0) {
        return Some(opt.to_string());
    }
    if let Some((_, opt)) = REREADS.iter().find(|(bit, _)| msg.reread & bit != 0) {
        return Some(opt.to_string());
    }
    if msg.purge_ocsp {
        return Some("--purgeocsp".into());
    }
    if msg.key.as_ref().is_some_and(|k| k.pubkey_rsa.is_none()) {
        return Some("--keyid without --pubkeyrsa (a key lookup in DNS)".into());
    }
    None
}

/// `--keyid ID [--addkey] [--pubkeyrsa KEY]`: without --addkey the keys on
/// record for ID are replaced.
fn add_pubkey(d: &mut Daemon, k: &ctl::KeyRequest, r: &Reply<'_>) {
    let id = match crate::ident::parse_id(&k.keyid) {
        Ok(crate::ident::IdSpec::Id(id)) => id,
        Ok(_) | Err(_) => {
            r.line(Rc::BadId, &format!("bad --keyid \"{}\"", k.keyid));
            return;
        }
    };
    if !k.add {
        d.pubkeys.retain(|p| p.id != id);
    }
    match &k.pubkey_rsa {
        Some(bytes) => match crate::ike::crypto::rsa::RsaPublicKey::from_rfc3110(bytes) {
            Ok(key) => d.pubkeys.push(crate::ike::config::PublicKey { id, key }),
            Err(e) => r.line(
                Rc::LogSerious,
                &format!("refusing RSA public key for {}: {e}", k.keyid),
            ),
        },
        None => r.line(
            Rc::NoKey,
            &format!(
                "failure to fetch key for {} from DNS: DNS lookups are not supported by this build",
                k.keyid
            ),
        ),
    }
    push_secrets(d);
}

/// Hands the engine the PSKs and RSA keys of ipsec.secrets and the public keys from whack.
pub fn push_secrets(d: &mut Daemon) {
    let mut s = d
        .secrets
        .as_ref()
        .map(|l| l.psk_secrets())
        .unwrap_or_default();
    if let Some(l) = &d.secrets {
        s.rsa = l
            .rsa
            .iter()
            .map(|e| crate::ike::config::RsaSecret {
                indices: e.indices.clone(),
                key: e.key.clone(),
            })
            .collect();
    }
    s.public_keys = d.pubkeys.clone();
    let _ = d.ep.handle_command(Instant::now(), Command::LoadSecrets(s));
}

fn delete_connection(d: &mut Daemon, now: Instant, name: &str) {
    if let Some(c) = d.conns.remove(name) {
        if c.loaded {
            let _ =
                d.ep.handle_command(now, Command::DeleteConnection(name.to_string()));
        }
        d.log.info(&format!("\"{name}\": deleting connection"));
    }
}

fn crash(d: &mut Daemon, now: Instant, peer: IpAddr, r: &Reply<'_>) {
    if peer.is_unspecified() {
        r.line(Rc::Comment, "--crash needs a peer address");
        return;
    }
    // The engine logs each connection whose states go.
    let _ = d.ep.handle_command(now, Command::Crash(peer));
}

fn add_connection(d: &mut Daemon, name: &str, c: &ctl::Connection, r: &Reply<'_>) {
    if d.conns.contains(name) {
        r.line(
            Rc::DupName,
            &format!("attempt to redefine connection \"{name}\""),
        );
        return;
    }
    if c.left.host.is_unspecified() && c.right.host.is_unspecified() {
        r.line(
            Rc::Orient,
            &format!("\"{name}\": cannot have both hosts %any"),
        );
        return;
    }
    // Check everything pluto must interpret now, whichever end turns out to be us.
    if let Err((rc, text)) = conns::to_engine(name, c, true, d.myid.as_ref()) {
        r.line(rc, &format!("\"{name}\": {text}"));
        return;
    }
    d.conns.insert(Conn {
        name: name.to_string(),
        desc: c.clone(),
        left_is_us: None,
        loaded: false,
        up: false,
    });
    d.log
        .info(&format!("added connection description \"{name}\""));
    r.line(Rc::Log, &format!("added connection description \"{name}\""));
    // The interfaces are those of the last --listen, against which the
    // others are oriented already: only this one is new (as Openswan's
    // add_connection orients only what it adds).
    if d.listening {
        let ours = our_addresses(d);
        orient(d, name, &ours, Instant::now(), r);
    }
}

fn listen(d: &mut Daemon, r: &Reply<'_>) {
    d.log.info("listening for IKE messages");
    r.line(Rc::Log, "listening for IKE messages");
    if let Err(e) = d.refresh_interfaces() {
        r.line(
            Rc::LogSerious,
            &format!("ERROR: cannot list interfaces: {e}"),
        );
    }
    for f in &d.ifaces {
        r.line(
            Rc::Log,
            &format!(
                "adding interface {}/{} {}:{}",
                super::daemon::vname(&f.raw, &d.config),
                f.raw.name,
                f.raw.addr,
                f.port
            ),
        );
    }
    d.listening = true;
    load_secrets(d, r);
    orient_all(d, r);
}

fn load_secrets(d: &mut Daemon, r: &Reply<'_>) {
    let path = d.config.secretsfile.clone();
    match crate::secrets::load_secrets(std::path::Path::new(&path)) {
        Ok(loaded) => {
            d.log.info("forgetting secrets");
            for f in &loaded.files {
                let line = format!("loading secrets from \"{}\"", f.display());
                d.log.info(&line);
                r.line(Rc::Log, &line);
            }
            for w in &loaded.warnings {
                d.log.line(Level::Error, w);
                r.line(Rc::LogSerious, w);
            }
            d.secrets = Some(loaded);
            push_secrets(d);
        }
        Err(e) => {
            // The secrets loaded before stay in force.
            let line = format!("ERROR: {e}");
            d.log.line(Level::Error, &line);
            r.line(Rc::LogSerious, &line);
        }
    }
}

/// The addresses of our interfaces, each once.
fn our_addresses(d: &Daemon) -> Vec<IpAddr> {
    let mut ours: Vec<IpAddr> = Vec::new();
    for f in &d.ifaces {
        if !ours.contains(&f.raw.addr) {
            ours.push(f.raw.addr);
        }
    }
    ours
}

/// Decides which end of every connection is us and loads the engine accordingly.
fn orient_all(d: &mut Daemon, r: &Reply<'_>) {
    let ours = our_addresses(d);
    let now = Instant::now();
    for name in d.conns.names() {
        orient(d, &name, &ours, now, r);
    }
}

/// Decides which end of connection `name` is us, given our addresses
/// `ours`, and (re)loads it into the engine if that changed.
fn orient(d: &mut Daemon, name: &str, ours: &[IpAddr], now: Instant, r: &Reply<'_>) {
    let Some(c) = d.conns.get(name) else { return };
    let side = match conns::orient(&c.desc, ours) {
        Ok(s) => s,
        Err(e) => {
            r.line(Rc::Orient, &format!("\"{name}\": {e}"));
            None
        }
    };
    if side == c.left_is_us && c.loaded == side.is_some() {
        return;
    }
    if c.loaded {
        let _ =
            d.ep.handle_command(now, Command::DeleteConnection(name.to_string()));
    }
    let desc = c.desc.clone();
    let mut loaded = false;
    if let Some(left) = side {
        match conns::to_engine(name, &desc, left, d.myid.as_ref()) {
            Ok(mut cfg) => {
                let host = if left {
                    desc.left.host
                } else {
                    desc.right.host
                };
                cfg.if_id = d.ipsec_device(host).map(|a| a.if_id);
                loaded =
                    d.ep.handle_command(now, Command::AddConnection(Box::new(cfg)))
                        .is_ok()
            }
            Err((rc, text)) => r.line(rc, &format!("\"{name}\": {text}")),
        }
    }
    if let Some(c) = d.conns.get_mut(name) {
        c.left_is_us = side;
        c.loaded = loaded;
    }
}

fn route(d: &mut Daemon, name: &str, on: bool, r: &Reply<'_>) {
    if on && !d.listening {
        r.line(Rc::Deaf, "need --listen before --route");
        return;
    }
    let Some(c) = d.conns.get(name) else {
        r.line(Rc::UnknownName, &format!("no connection named \"{name}\""));
        return;
    };
    if !c.loaded {
        r.line(
            Rc::Orient,
            &format!("\"{name}\": we cannot identify ourselves with either end of this connection"),
        );
        return;
    }
    let cmd = if on {
        Command::Route(name.to_string())
    } else {
        Command::Unroute(name.to_string())
    };
    if let Err(e) = d.ep.handle_command(Instant::now(), cmd) {
        r.line(e.rc(), &e.to_string());
    }
}

fn initiate(
    d: &mut Daemon,
    now: Instant,
    name: &str,
    asynchronous: bool,
    r: &Reply<'_>,
) -> Option<(String, bool)> {
    if !d.listening {
        r.line(Rc::Deaf, "need --listen before --initiate");
        return None;
    }
    let Some(c) = d.conns.get_mut(name) else {
        r.line(Rc::UnknownName, &format!("no connection named \"{name}\""));
        return None;
    };
    if !c.loaded {
        r.line(
            Rc::Orient,
            &format!("\"{name}\": we cannot identify ourselves with either end of this connection"),
        );
        return None;
    }
    c.up = true;
    // Whack waits for the IPsec SA when the connection negotiates one.
    let ipsec =
        d.ep.connection(name)
            .is_some_and(|x| x.policy.wants_ipsec());
    match d
        .ep
        .handle_command(now, Command::Initiate(name.to_string()))
    {
        Ok(()) if asynchronous => None,
        Ok(()) => Some((name.to_string(), ipsec)),
        Err(e) => {
            r.line(e.rc(), &e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> ctl::Connection {
        let mut c = ctl::Connection {
            policy: ctl::POLICY_PSK | ctl::POLICY_ENCRYPT,
            ..ctl::Connection::default()
        };
        c.left.host = "192.0.2.1".parse().unwrap();
        c.right.host = "192.0.2.2".parse().unwrap();
        c
    }

    #[test]
    fn messages_carrying_what_rswan_does_not_implement_are_refused() {
        type Set = fn(&mut WhackMessage);
        let cases: &[(Set, &str)] = &[
            (
                |m| {
                    let mut c = conn();
                    c.policy |= ctl::POLICY_AGGRESSIVE;
                    m.connection = Some(c);
                },
                "--aggrmode",
            ),
            (
                |m| {
                    let mut c = conn();
                    c.right.cert = Some("c.pem".into());
                    m.connection = Some(c);
                },
                "--cert",
            ),
            (
                |m| m.list = ctl::LIST_PUBKEYS | ctl::LIST_CRLS,
                "--listcrls",
            ),
            (|m| m.list = ctl::LIST_ALL, "--listcerts"),
            (|m| m.list = ctl::LIST_EVENTS, "--listevents"),
            (|m| m.reread = ctl::REREAD_ALL, "--rereadcacerts"),
            (|m| m.reread = ctl::REREAD_CRLS, "--rereadcrls"),
            (|m| m.purge_ocsp = true, "--purgeocsp"),
            (
                |m| m.debug = Some(ctl::DBG_CONTROL | ctl::IMPAIR_BUST_MI2),
                "--impair-bust-mi2",
            ),
            (
                |m| m.debug = Some(ctl::IMPAIR_JACOB_TWO_TWO),
                "--impair-jacob-two-two",
            ),
            (
                |m| {
                    m.name = Some("c".into());
                    m.debug = Some(ctl::DBG_CONTROL);
                },
                "debugging of one connection (--debug-* with --name)",
            ),
            (
                |m| {
                    m.key = Some(ctl::KeyRequest {
                        keyid: "@east".into(),
                        add: true,
                        pubkey_rsa: None,
                    })
                },
                "--keyid without --pubkeyrsa (a key lookup in DNS)",
            ),
        ];
        for (set, what) in cases {
            // Alongside parts pluto does implement: the whole message is refused.
            let mut m = WhackMessage {
                status: true,
                listen: true,
                ..WhackMessage::default()
            };
            set(&mut m);
            assert_eq!(not_implemented(&m).as_deref(), Some(*what));
        }
    }

    #[test]
    fn messages_rswan_implements_pass() {
        let mut c = conn();
        c.dpd_delay = 10;
        c.dpd_timeout = 30;
        c.dpd_action = ctl::DpdAction::Restart;
        c.force_encaps = true;
        c.right.host = ctl::AddrFamily::Ipv4.any();
        c.right.virt = Some("vhost:%no,%priv".into());
        let ok = [
            WhackMessage {
                name: Some("c".into()),
                connection: Some(c),
                ..WhackMessage::default()
            },
            WhackMessage {
                list: ctl::LIST_PUBKEYS,
                reread: ctl::REREAD_SECRETS,
                utc: true,
                debug: Some(ctl::DBG_ALL | ctl::DBG_PRIVATE),
                ..WhackMessage::default()
            },
            WhackMessage {
                key: Some(ctl::KeyRequest {
                    keyid: "@east".into(),
                    add: false,
                    pubkey_rsa: Some(vec![1, 3, 1]),
                }),
                ..WhackMessage::default()
            },
        ];
        for m in ok {
            assert_eq!(not_implemented(&m), None, "{m:?}");
        }
    }
}
