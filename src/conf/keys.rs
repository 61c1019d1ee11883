//! The table of every key the reader knows, and what it does with each:
//! used, refused with a diagnostic, or ignored with a note. The key list
//! of README.md's ipsec.conf section is generated from it ([`markdown`]).

/// Where a key is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In `config setup`.
    Setup,
    /// In a `conn`.
    Conn,
    /// In a `conn`, as `left<key>` and `right<key>` (`left`/`right` for
    /// the empty key).
    End,
}

/// What the reader does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Given its meaning.
    Used,
    /// An error diagnostic (the conn does not load; a setup key is not
    /// passed on), unless the value only says "off" (`no`, `%none`, empty).
    Refused(&'static str),
    /// Accepted and ignored, with a note saying why.
    Ignored(&'static str),
}

/// One key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The name (for [`Scope::End`] without `left`/`right`).
    pub name: &'static str,
    /// Where it goes.
    pub scope: Scope,
    /// What is done with it.
    pub support: Support,
    /// What it becomes (for [`Support::Used`]).
    pub doc: &'static str,
}

const fn used(name: &'static str, scope: Scope, doc: &'static str) -> Key {
    Key {
        name,
        scope,
        support: Support::Used,
        doc,
    }
}
const fn refused(name: &'static str, scope: Scope, why: &'static str) -> Key {
    Key {
        name,
        scope,
        support: Support::Refused(why),
        doc: "",
    }
}
const fn ignored(name: &'static str, scope: Scope, why: &'static str) -> Key {
    Key {
        name,
        scope,
        support: Support::Ignored(why),
        doc: "",
    }
}

const NO_X509: &str =
    "X.509 certificates are not supported; use rsasigkey= raw keys or authby=secret";
const NO_XAUTH: &str = "XAUTH and mode config are not supported";
const KLIPS_ONLY: &str = "KLIPS tuning; rswan drives NETKEY (XFRM)";
const STARTER: &str = "Openswan start-up script tuning with no meaning here";

use Scope::{Conn as C, End as E, Setup as S};

/// Every key, grouped as ipsec.conf(5) groups them.
pub const KEYS: &[Key] = &[
    // conn: the ends
    used("", E, "--host: an address, a host name (looked up), %any, %any6 (IPv6 hosts), %defaultroute (address and nexthop of the default route)"),
    used("id", E, "--id"),
    used("subnet", E, "--client (vhost:/vnet: forms as in whack)"),
    used("subnets", E, "one conn per combination of left and right subnets, named NAME/LxR (subnet= is number 0, subnets= from 1)"),
    used("nexthop", E, "--nexthop (%direct, %defaultroute); default: the default route's gateway with %defaultroute, else the other host"),
    used("sourceip", E, "--srcip"),
    used("updown", E, "--updown"),
    used("protoport", E, "--clientprotoport"),
    used(
        "rsasigkey",
        E,
        "a 0s/0x raw key sent as --keyid ID --pubkeyrsa KEY; %none; %dns, %dnsondemand as --dnskeyondemand",
    ),
    used("ikeport", E, "--ikeport"),
    refused("subnetwithin", E, "--clientwithin is not implemented"),
    refused("cert", E, NO_X509),
    refused("ca", E, NO_X509),
    refused("sendcert", E, NO_X509),
    refused("groups", E, NO_X509),
    refused("rsasigkey2", E, "a second key per end is not supported"),
    refused("xauthserver", E, NO_XAUTH),
    refused("xauthclient", E, NO_XAUTH),
    refused("xauthusername", E, NO_XAUTH),
    refused("modecfgserver", E, NO_XAUTH),
    refused("modecfgclient", E, NO_XAUTH),
    ignored("firewall", E, "the updown script decides about firewalling (set updown= to change it)"),
    ignored("hostaccess", E, "the updown script decides about host access"),
    // conn: the connection
    used("auto", C, "what ipsec setup does: ignore (default), add, route, start"),
    used("type", C, "tunnel (default), transport, passthrough, drop, reject"),
    used("authby", C, "rsasig (default), secret, secret|rsasig, never"),
    used("auth", C, "esp (default), ah"),
    used("connaddrfamily", C, "ipv4, ipv6 (default: that of the addresses)"),
    used("pfs", C, "yes (default) / no"),
    used("pfsgroup", C, "--pfsgroup"),
    used("compress", C, "yes / no (default)"),
    used("ike", C, "--ike"),
    used("esp", C, "--esp"),
    used("phase2alg", C, "--esp"),
    used("keylife", C, "--ipseclifetime (default 8h)"),
    used("lifetime", C, "--ipseclifetime"),
    used("salifetime", C, "--ipseclifetime"),
    used("ikelifetime", C, "--ikelifetime (default 1h)"),
    used("rekey", C, "yes (default) / no (--dontrekey)"),
    used("rekeymargin", C, "--rekeymargin (default 9m)"),
    used("rekeyfuzz", C, "--rekeyfuzz (default 100%)"),
    used("keyingtries", C, "--keyingtries; %forever (default) is 0"),
    used("dpddelay", C, "--dpddelay"),
    used("dpdtimeout", C, "--dpdtimeout"),
    used("dpdaction", C, "--dpdaction: hold (default), clear, restart"),
    used("forceencaps", C, "--forceencaps"),
    used("failureshunt", C, "none (default), passthrough, drop, reject"),
    used("also", C, "includes the named sections"),
    refused("aggrmode", C, "aggressive mode is not supported"),
    refused("xauth", C, NO_XAUTH),
    refused("modecfgpull", C, NO_XAUTH),
    refused("disablearrivalcheck", C, "turning the inbound tunnel check off is not supported"),
    refused("alsoflip", C, "alsoflip= is not supported; write the section with left and right swapped"),
    refused("phase2", C, "phase2=ah is not supported; use auth="),
    ignored("keyexchange", C, "IKEv1 is the only key exchange"),
    ignored("ikev2", C, "IKEv1 is the only key exchange"),
    ignored("overlapip", C, "no meaning for NETKEY"),
    ignored("sareftrack", C, KLIPS_ONLY),
    ignored("loopback", C, "no meaning for NETKEY"),
    ignored("labeledipsec", C, "labelled IPsec is not supported"),
    ignored("policylabel", C, "labelled IPsec is not supported"),
    // config setup
    used("protostack", S, "--use-netkey (netkey), --use-auto (auto), --use-nostack (none); klips and mast refused"),
    used("interfaces", S, "--interface per physical interface; %defaultroute: the default route's; %none"),
    used("nat_traversal", S, "--nat_traversal"),
    used("keep_alive", S, "--keep_alive"),
    used("force_keepalive", S, "--force_keepalive"),
    used("virtual_private", S, "--virtual_private"),
    used("plutodebug", S, "--debug-NAME per name; all, none"),
    used("plutostderrlog", S, "pluto logs to stderr, sent to this file"),
    used("plutoopts", S, "more pluto options, split at blanks"),
    used("nhelpers", S, "--nhelpers"),
    used("plutowait", S, "ipsec setup waits for each auto=start negotiation"),
    used("oe", S, "no (default); yes refused"),
    used("uniqueids", S, "yes (the default) starts pluto with --uniqueids"),
    used("myid", S, "--myid, sent to pluto by ipsec setup"),
    refused("strictcrlpolicy", S, NO_X509),
    refused("crlcheckinterval", S, NO_X509),
    refused("ocspuri", S, NO_X509),
    refused("perpeerlog", S, "per-peer logs are not supported"),
    refused("perpeerlogdir", S, "per-peer logs are not supported"),
    refused("disable_port_floating", S, "turning NAT-T port floating off is not supported"),
    ignored("nocrsend", S, "no certificate requests are sent anyway"),
    ignored("klipsdebug", S, KLIPS_ONLY),
    ignored("hidetos", S, KLIPS_ONLY),
    ignored("fragicmp", S, KLIPS_ONLY),
    ignored("overridemtu", S, KLIPS_ONLY),
    ignored("syslog", S, "pluto logs to the authpriv/daemon syslog facility as built"),
    ignored("dumpdir", S, "core dumps follow the system's settings"),
    ignored("dump", S, "core dumps follow the system's settings"),
    ignored("plutorestartoncrash", S, STARTER),
    ignored("manualstart", S, "manual keying is done with ipsec spi/eroute"),
    ignored("packetdefault", S, STARTER),
    ignored("prepluto", S, STARTER),
    ignored("postpluto", S, STARTER),
    ignored("forwardcontrol", S, "ipsec verify checks ip_forward; set it with sysctl"),
    ignored("rp_filter", S, "ipsec verify checks rp_filter; set it with sysctl"),
    ignored("nat_traversal_debug", S, STARTER),
];

/// The side a [`Scope::End`] key was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `left...`.
    Left,
    /// `right...`.
    Right,
}

/// Looks up a key written in a conn (`setup == false`) or in `config setup`.
pub fn lookup(key: &str, setup: bool) -> Option<(&'static Key, Option<Side>)> {
    if setup {
        return KEYS
            .iter()
            .find(|k| k.scope == Scope::Setup && k.name == key)
            .map(|k| (k, None));
    }
    if let Some(k) = KEYS
        .iter()
        .find(|k| k.scope == Scope::Conn && k.name == key)
    {
        return Some((k, None));
    }
    let (side, rest) = if let Some(r) = key.strip_prefix("left") {
        (Side::Left, r)
    } else if let Some(r) = key.strip_prefix("right") {
        (Side::Right, r)
    } else {
        return None;
    };
    KEYS.iter()
        .find(|k| k.scope == Scope::End && k.name == rest)
        .map(|k| (k, Some(side)))
}

/// `x-`, `X-`, `x_`, `X_` keys: reserved for users, never given a meaning.
pub fn is_user_extension(key: &str) -> bool {
    ["x-", "X-", "x_", "X_"].iter().any(|p| key.starts_with(p))
}

/// Values that only say "off": accepted for a refused key.
pub fn is_off(value: &str) -> bool {
    matches!(value, "" | "no" | "%none" | "never")
}

/// The key list of README.md's ipsec.conf section, grouped as Openswan's
/// ipsec.conf(5) groups them (a conn's end parameters, its other
/// parameters, then config setup).
pub fn markdown() -> String {
    let mut out = String::new();
    for (scope, title) in [
        (
            Scope::End,
            "conn parameters: each end (`left...` and `right...`)",
        ),
        (
            Scope::Conn,
            "conn parameters: the connection, its keying and DPD",
        ),
        (Scope::Setup, "config setup"),
    ] {
        out.push_str(&format!(
            "\n#### {title}\n\n| key | what the reader does |\n|---|---|\n"
        ));
        for k in KEYS.iter().filter(|k| k.scope == scope) {
            let name = match scope {
                Scope::End if k.name.is_empty() => "left / right".to_string(),
                Scope::End => format!("left{0} / right{0}", k.name),
                _ => k.name.to_string(),
            };
            let what = match k.support {
                Support::Used => format!("used: {}", k.doc),
                Support::Refused(why) => format!("**refused**: {why}"),
                Support::Ignored(why) => format!("ignored with a note: {why}"),
            };
            out.push_str(&format!("| {name} | {} |\n", what.replace('|', "\\|")));
        }
    }
    out
}
