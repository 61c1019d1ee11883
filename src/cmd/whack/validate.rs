//! The checks whack makes once the whole command line is read, in the
//! original order (spec §2.5, then the form rules of §2.2), and the
//! assembly of the final message.

use std::net::IpAddr;

use super::options::Id;
use super::parser::{key_request, Request, State, WhackError};
use crate::ctl::{
    self, never_negotiate, AddrFamily, End, OppoInitiate, POLICY_AGGRESSIVE, POLICY_ENCRYPT,
    POLICY_ID_AUTH_MASK, POLICY_IPSEC_MASK, POLICY_OPPO, POLICY_PFS, POLICY_RSASIG,
    POLICY_SHUNT_MASK, POLICY_SHUNT_TRAP,
};

/// Turns the scanned state into a request, or the first complaint.
pub(super) fn finish(mut st: State) -> Result<Request, WhackError> {
    // What rswan does not implement is refused before anything else is
    // checked: no other diagnostic could make the line acceptable.
    if let Some(what) = not_implemented(&st) {
        return Err(WhackError::NotImplemented(what));
    }
    if let Some(arg) = st.leftovers.first() {
        return Err(st.diagq("unexpected argument", arg));
    }
    if st.msg.status_json && !st.msg.status {
        return Err(st.diag("--json goes with --status"));
    }

    // Opportunistic initiation simulation.
    match (st.oppo_here, st.oppo_there) {
        (Some(_), None) | (None, Some(_)) => {
            return Err(st.diag("--oppohere and --oppothere must be used together"))
        }
        (Some(my_client), Some(peer_client)) => {
            st.msg.oppo_initiate = Some(OppoInitiate {
                my_client,
                peer_client,
            });
            // --tunnelipv4/6 alone go with the opportunistic initiation.
            if st
                .cd_seen
                .iter()
                .all(|id| matches!(id, Id::TunnelIpv4 | Id::TunnelIpv6))
            {
                st.opt_cd = false;
            }
        }
        (None, None) => {}
    }

    if st.opt_cd {
        check_connection(&mut st)?;
    }

    // --name is mandatory for some forms and pointless for others.
    let needs_name = st.msg.route
        || st.msg.unroute
        || st.msg.initiate
        || st.msg.terminate
        || st.msg.delete
        || st.opt_cd;
    if let Some(len) = st
        .name
        .as_ref()
        .map(String::len)
        .filter(|l| *l > ctl::MAX_CONN_NAME)
    {
        // Not echoed: the name is what is too long.
        st.name = None;
        return Err(st.diag(format!(
            "connection name is {len} bytes long; at most {} allowed",
            ctl::MAX_CONN_NAME
        )));
    }
    if needs_name {
        if st.name.is_none() {
            return Err(st.diag("missing --name <connection_name>"));
        }
    } else if !st.debug_options && st.name.is_some() {
        return Err(st.diag("no reason for --name"));
    }

    if (st.addkey || st.pubkey.is_some()) && st.keyid.is_none() {
        return Err(st.diag("--addkey and --pubkeyrsa require --keyid"));
    }
    st.msg.key = key_request(&st);
    if st.debug_options {
        st.msg.debug = Some(st.debugging);
    }
    if st.opt_cd {
        st.msg.connection = Some(st.conn.clone());
    }

    if !st.msg.has_action() {
        return Err(st.diag("no action specified; try --help for hints"));
    }

    let c = &st.conn;
    if c.policy & POLICY_AGGRESSIVE != 0 && c.ike.is_none() {
        return Err(st.diag("can not specify aggressive mode without ike= to set algorithm"));
    }

    if let Err(m) = ctl::check::times(c) {
        return Err(st.diag(m));
    }
    let Some(dpd_action) = st.dpd_action else {
        return Err(st.diag(
            "dpdaction can only be \"clear\", \"hold\" or \"restart\", defaulting to \"hold\"",
        ));
    };
    if let Some(conn) = st.msg.connection.as_mut() {
        conn.dpd_action = dpd_action;
    }

    if ctl::encode(&st.msg).is_err() {
        return Err(st.diag("too many bytes of strings to fit in message to pluto"));
    }

    Ok(Request {
        msg: st.msg,
        ctl_path: st.ctl_path,
        label: st.label,
        xauth_name: st.xauth_name,
        xauth_pass: st.xauth_pass,
    })
}

/// The first thing on the line that rswan does not implement: an option
/// (in command-line order), a key lookup in DNS, per-connection debugging.
fn not_implemented(st: &State) -> Option<String> {
    if let Some(what) = &st.not_implemented {
        return Some(what.clone());
    }
    if st.keyid.is_some() && st.pubkey.is_none() {
        return Some("--keyid without --pubkeyrsa (a key lookup in DNS)".into());
    }
    match (st.first_debug_option, &st.name) {
        (Some(opt), Some(_)) => Some(format!(
            "--{} with --name (debugging of one connection)",
            opt.trim_end_matches(']')
        )),
        _ => None,
    }
}

/// The connection-form checks (spec §2.5 steps 2 to 6).
fn check_connection(st: &mut State) -> Result<(), WhackError> {
    if !st.cd_seen.contains(&Id::To) {
        return Err(st.diag("connection description option, but no --to"));
    }
    if !st.end_seen.contains(&Id::Host) {
        return Err(st.diag("connection missing --host after --to"));
    }
    if st.conn.left.host.is_unspecified() && st.conn.right.host.is_unspecified() {
        return Err(st.diag("hosts cannot both be 0.0.0.0 or 0::0"));
    }
    let policy = st.conn.policy;
    if policy & POLICY_OPPO != 0 {
        if policy & POLICY_ID_AUTH_MASK != POLICY_RSASIG {
            return Err(st.diag("only RSASIG is supported for opportunism"));
        }
        if policy & POLICY_PFS == 0 {
            return Err(st.diag("PFS required for opportunism"));
        }
        if policy & POLICY_ENCRYPT == 0 {
            return Err(st.diag("encryption required for opportunism"));
        }
    }

    let caf = st.conn.addr_family;
    let taf = st.conn.tunnel_addr_family;
    let left_default = !st.end_seen_before_to.contains(&Id::NextHop);
    let right_default = !st.end_seen.contains(&Id::NextHop);
    let (right_host, left_host) = (st.conn.right.host, st.conn.left.host);
    let (right_proto, left_proto) = (st.conn.right.protocol, st.conn.left.protocol);
    let mut left = st.conn.left.clone();
    check_end(
        st,
        &mut left,
        right_host,
        right_proto,
        left_default,
        caf,
        taf,
    )?;
    st.conn.left = left;
    let mut right = st.conn.right.clone();
    check_end(
        st,
        &mut right,
        left_host,
        left_proto,
        right_default,
        caf,
        taf,
    )?;
    st.conn.right = right;

    // An end without a client stands for its host: the host family.
    let client_family = |e: &End| e.client.map_or(caf, |c| c.family());
    if client_family(&st.conn.left) != client_family(&st.conn.right) {
        return Err(st.diag("endpoints clash: one is IPv4 and the other is IPv6"));
    }

    if never_negotiate(policy) {
        // Just a shunt, it seems; without a shunt type probably a mistake.
        if policy & POLICY_SHUNT_MASK == POLICY_SHUNT_TRAP {
            return Err(st.diag("non-shunt connection must have --psk or --rsasig or both"));
        }
    } else {
        if policy & POLICY_ID_AUTH_MASK == 0 {
            return Err(st.diag("must specify --rsasig or --psk for a connection"));
        }
        let has_client = st.conn.left.client.is_some() || st.conn.right.client.is_some();
        if policy & POLICY_IPSEC_MASK == 0 && has_client {
            return Err(st.diag("must not specify clients for ISAKMP-only connection"));
        }
    }
    Ok(())
}

/// `check_end`: families, the default nexthop, the protocol match.
fn check_end(
    st: &State,
    this: &mut End,
    that_host: IpAddr,
    that_protocol: u8,
    default_nexthop: bool,
    caf: AddrFamily,
    taf: AddrFamily,
) -> Result<(), WhackError> {
    if AddrFamily::of(&this.host) != caf {
        return Err(st.diag("address family of host inconsistent"));
    }
    if default_nexthop {
        if that_host.is_unspecified() {
            return Err(st.diag(
                "our nexthop must be specified when other host is a %any or %opportunistic",
            ));
        }
        this.nexthop = that_host;
    }
    if AddrFamily::of(&this.nexthop) != caf {
        return Err(st.diag("address family of nexthop inconsistent"));
    }
    if let Some(client) = &this.client {
        if client.family() != taf {
            return Err(st.diag("address family of client subnet inconsistent"));
        }
    }
    if this.protocol != that_protocol {
        return Err(st.diag("the protocol for leftprotoport and rightprotoport must be the same"));
    }
    Ok(())
}
