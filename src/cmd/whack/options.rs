//! whack's long options (Openswan 2.4.9 set) and getopt_long-style lookup.
//!
//! Options fall in classes that govern duplicate detection: general options
//! (never "duplicated"), action options, list options, end options (tracked
//! per end, reset at `--to`), connection options and debug options (which
//! mark the message as carrying a debug set). `--impair-jacob-two-two` sits
//! outside every class, as in 2.4.9 where it lies past whack's DBGOPT range.

use crate::ctl::{self, DBG_ALL};

/// Whether an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// No argument (`--opt=x` is an error).
    None,
    /// A string argument (`--opt=x` or `--opt x`).
    Required,
    /// A number parsed like `strtoul(arg, &end, 0)`.
    Numeric,
}

/// Duplicate-detection class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// help, version, optionsfrom, label: may repeat.
    General,
    /// OPT_*: actions and their operands.
    Opt,
    /// LST_*: listing options.
    List,
    /// END_*: options of the end being described.
    End,
    /// CD_*: connection-wide options.
    Conn,
    /// DBGOPT_*: debug and impairment options.
    Debug,
    /// Outside every class (no duplicate check, not a debug action).
    Unclassed,
}

/// What an option does. Aliases share one value; the shunt and failure
/// options share one value per family so that they count as one flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Id {
    Help,
    Version,
    OptionsFrom,
    Label,
    CtlBase,
    Name,
    KeyId,
    AddKey,
    PubkeyRsa,
    MyId,
    Route,
    Unroute,
    Initiate,
    Terminate,
    Delete,
    DeleteState,
    Crash,
    Listen,
    Unlisten,
    PurgeOcsp,
    Reread(u8),
    RereadAll,
    Status,
    Shutdown,
    Json,
    TrafficStatus,
    XauthName,
    XauthPass,
    OppoHere,
    OppoThere,
    Async,
    Utc,
    List(u32),
    ListAll,
    Host,
    EndId,
    Cert,
    Ca,
    Groups,
    IkePort,
    NextHop,
    Client,
    ClientWithin,
    ClientProtoPort,
    DnsKeyOnDemand,
    SrcIp,
    Updown,
    SendCert,
    CertType,
    XauthServer,
    XauthClient,
    ModecfgServer,
    ModecfgClient,
    To,
    /// A plain policy bit (`--psk`, `--encrypt`, ...).
    Policy(u64),
    /// The shunt field value (`--initiateontraffic`/`--pass`/`--drop`/`--reject`).
    Shunt(u64),
    /// The failure-shunt field value (`--failnone`/...).
    Fail(u64),
    TunnelIpv4,
    TunnelIpv6,
    Ipv4,
    Ipv6,
    IkeLifetime,
    IpsecLifetime,
    RekeyMargin,
    RekeyFuzz,
    KeyingTries,
    DpdDelay,
    DpdTimeout,
    DpdAction,
    ForceEncaps,
    Ike,
    PfsGroup,
    Esp,
    DebugNone,
    DebugAll,
    /// One debug or impairment bit.
    DebugBit(u64),
}

impl Id {
    /// The identity used for duplicate detection: the shunt options are one
    /// flag, the failure options another.
    pub fn dup_key(self) -> Id {
        match self {
            Id::Shunt(_) => Id::Shunt(0),
            Id::Fail(_) => Id::Fail(0),
            other => other,
        }
    }

    /// True for the options rswan parses (to keep Openswan's command line
    /// and its diagnostics) but does not implement yet: whack refuses a
    /// command line that uses one rather than send pluto something it would
    /// leave undone. Aggressive Mode, XAUTH, Mode Config, X.509 and its
    /// lists, groups, `--clientwithin` (a wildcard
    /// client the engine would take as an exact one),
    /// `--disablearrivalcheck` and the impairments.
    pub fn not_implemented(self) -> bool {
        match self {
            Id::List(bit) => bit != ctl::LIST_PUBKEYS,
            Id::Reread(bit) => bit != ctl::REREAD_SECRETS,
            Id::Policy(bit) => {
                bit & (ctl::POLICY_AGGRESSIVE
                    | ctl::POLICY_MODECFG_PULL
                    | ctl::POLICY_DISABLEARRIVALCHECK)
                    != 0
            }
            Id::DebugBit(bit) => bit & ctl::IMPAIR_ALL != 0,
            Id::PurgeOcsp
            | Id::XauthName
            | Id::XauthPass
            | Id::Cert
            | Id::Ca
            | Id::Groups
            | Id::ClientWithin
            | Id::SendCert
            | Id::CertType
            | Id::XauthServer
            | Id::XauthClient
            | Id::ModecfgServer
            | Id::ModecfgClient => true,
            _ => false,
        }
    }
}

/// One long option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptDef {
    /// The name without the leading `--`.
    pub name: &'static str,
    /// Argument kind.
    pub arg: Arg,
    /// What it does.
    pub id: Id,
    /// Duplicate-detection class.
    pub class: Class,
}

const fn o(name: &'static str, arg: Arg, id: Id, class: Class) -> OptDef {
    OptDef {
        name,
        arg,
        id,
        class,
    }
}

use Arg::{None as N, Numeric as U, Required as R};
use Class::{Conn as C, Debug as D, End as E, General as G, List as L, Opt as O};

/// The option table, in whack's order (it decides which names an ambiguity
/// message lists and which alias a unique prefix resolves to).
pub static OPTIONS: &[OptDef] = &[
    o("help", N, Id::Help, G),
    o("version", N, Id::Version, G),
    o("optionsfrom", R, Id::OptionsFrom, G),
    o("label", R, Id::Label, G),
    o("ctlbase", R, Id::CtlBase, O),
    o("name", R, Id::Name, O),
    o("keyid", R, Id::KeyId, O),
    o("addkey", N, Id::AddKey, O),
    o("pubkeyrsa", R, Id::PubkeyRsa, O),
    o("myid", R, Id::MyId, O),
    o("route", N, Id::Route, O),
    o("unroute", N, Id::Unroute, O),
    o("initiate", N, Id::Initiate, O),
    o("terminate", N, Id::Terminate, O),
    o("delete", N, Id::Delete, O),
    o("deletestate", U, Id::DeleteState, O),
    o("crash", R, Id::Crash, O),
    o("listen", N, Id::Listen, O),
    o("unlisten", N, Id::Unlisten, O),
    o("purgeocsp", N, Id::PurgeOcsp, O),
    o("rereadsecrets", N, Id::Reread(ctl::REREAD_SECRETS), O),
    o("rereadcacerts", N, Id::Reread(ctl::REREAD_CACERTS), O),
    o("rereadaacerts", N, Id::Reread(ctl::REREAD_AACERTS), O),
    o("rereadocspcerts", N, Id::Reread(ctl::REREAD_OCSPCERTS), O),
    o("rereadacerts", N, Id::Reread(ctl::REREAD_ACERTS), O),
    o("rereadcrls", N, Id::Reread(ctl::REREAD_CRLS), O),
    o("rereadall", N, Id::RereadAll, O),
    o("status", N, Id::Status, O),
    o("shutdown", N, Id::Shutdown, O),
    o("json", N, Id::Json, O),
    o("trafficstatus", N, Id::TrafficStatus, O),
    o("xauthname", R, Id::XauthName, O),
    o("xauthpass", R, Id::XauthPass, O),
    o("oppohere", R, Id::OppoHere, O),
    o("oppothere", R, Id::OppoThere, O),
    o("asynchronous", N, Id::Async, O),
    // list options
    o("utc", N, Id::Utc, L),
    o("listpubkeys", N, Id::List(ctl::LIST_PUBKEYS), L),
    o("listcerts", N, Id::List(ctl::LIST_CERTS), L),
    o("listcacerts", N, Id::List(ctl::LIST_CACERTS), L),
    o("listacerts", N, Id::List(ctl::LIST_ACERTS), L),
    o("listaacerts", N, Id::List(ctl::LIST_AACERTS), L),
    o("listocspcerts", N, Id::List(ctl::LIST_OCSPCERTS), L),
    o("listgroups", N, Id::List(ctl::LIST_GROUPS), L),
    o("listcrls", N, Id::List(ctl::LIST_CRLS), L),
    o("listocsp", N, Id::List(ctl::LIST_OCSP), L),
    o("listcards", N, Id::List(ctl::LIST_CARDS), L),
    o("listevents", N, Id::List(ctl::LIST_EVENTS), L),
    o("listall", N, Id::ListAll, L),
    // end description options
    o("host", R, Id::Host, E),
    o("id", R, Id::EndId, E),
    o("cert", R, Id::Cert, E),
    o("ca", R, Id::Ca, E),
    o("groups", R, Id::Groups, E),
    o("ikeport", U, Id::IkePort, E),
    o("nexthop", R, Id::NextHop, E),
    o("client", R, Id::Client, E),
    o("clientwithin", R, Id::ClientWithin, E),
    o("clientprotoport", R, Id::ClientProtoPort, E),
    o("dnskeyondemand", N, Id::DnsKeyOnDemand, E),
    o("srcip", R, Id::SrcIp, E),
    o("updown", R, Id::Updown, E),
    // connection description options
    o("to", N, Id::To, C),
    o("psk", N, Id::Policy(ctl::POLICY_PSK), C),
    o("rsasig", N, Id::Policy(ctl::POLICY_RSASIG), C),
    o("encrypt", N, Id::Policy(ctl::POLICY_ENCRYPT), C),
    o("authenticate", N, Id::Policy(ctl::POLICY_AUTHENTICATE), C),
    o("compress", N, Id::Policy(ctl::POLICY_COMPRESS), C),
    o("tunnel", N, Id::Policy(ctl::POLICY_TUNNEL), C),
    o("tunnelipv4", N, Id::TunnelIpv4, C),
    o("tunnelipv6", N, Id::TunnelIpv6, C),
    o("pfs", N, Id::Policy(ctl::POLICY_PFS), C),
    o("aggrmode", N, Id::Policy(ctl::POLICY_AGGRESSIVE), C),
    o(
        "disablearrivalcheck",
        N,
        Id::Policy(ctl::POLICY_DISABLEARRIVALCHECK),
        C,
    ),
    o("initiateontraffic", N, Id::Shunt(ctl::POLICY_SHUNT_TRAP), C),
    o("pass", N, Id::Shunt(ctl::POLICY_SHUNT_PASS), C),
    o("drop", N, Id::Shunt(ctl::POLICY_SHUNT_DROP), C),
    o("reject", N, Id::Shunt(ctl::POLICY_SHUNT_REJECT), C),
    o("failnone", N, Id::Fail(ctl::POLICY_FAIL_NONE), C),
    o("failpass", N, Id::Fail(ctl::POLICY_FAIL_PASS), C),
    o("faildrop", N, Id::Fail(ctl::POLICY_FAIL_DROP), C),
    o("failreject", N, Id::Fail(ctl::POLICY_FAIL_REJECT), C),
    o("dontrekey", N, Id::Policy(ctl::POLICY_DONT_REKEY), C),
    o("forceencaps", N, Id::ForceEncaps, C),
    o("dpddelay", U, Id::DpdDelay, C),
    o("dpdtimeout", U, Id::DpdTimeout, C),
    o("dpdaction", R, Id::DpdAction, C),
    o("xauth", N, Id::XauthServer, E),
    o("xauthserver", N, Id::XauthServer, E),
    o("xauthclient", N, Id::XauthClient, E),
    o("modecfgpull", N, Id::Policy(ctl::POLICY_MODECFG_PULL), C),
    o("modecfgserver", N, Id::ModecfgServer, E),
    o("modecfgclient", N, Id::ModecfgClient, E),
    o("modeconfigserver", N, Id::ModecfgServer, E),
    o("modeconfigclient", N, Id::ModecfgClient, E),
    o("sendcert", R, Id::SendCert, E),
    o("certtype", U, Id::CertType, E),
    o("ipv4", N, Id::Ipv4, C),
    o("ipv6", N, Id::Ipv6, C),
    o("ikelifetime", U, Id::IkeLifetime, C),
    o("ipseclifetime", U, Id::IpsecLifetime, C),
    o("rekeymargin", U, Id::RekeyMargin, C),
    o("rekeywindow", U, Id::RekeyMargin, C), // obsolete alias
    o("rekeyfuzz", U, Id::RekeyFuzz, C),
    o("keyingtries", U, Id::KeyingTries, C),
    o("ike", R, Id::Ike, C),
    o("pfsgroup", R, Id::PfsGroup, C),
    o("esp", R, Id::Esp, C),
    // debug options (2.4.9 spelling, including its "debug-all]" entry, which
    // is reachable as --debug-all only through prefix matching)
    o("debug-none", N, Id::DebugNone, D),
    o("debug-all]", N, Id::DebugAll, D),
    o("debug-raw", N, Id::DebugBit(ctl::DBG_RAW), D),
    o("debug-crypt", N, Id::DebugBit(ctl::DBG_CRYPT), D),
    o("debug-parsing", N, Id::DebugBit(ctl::DBG_PARSING), D),
    o("debug-emitting", N, Id::DebugBit(ctl::DBG_EMITTING), D),
    o("debug-control", N, Id::DebugBit(ctl::DBG_CONTROL), D),
    o("debug-lifecycle", N, Id::DebugBit(ctl::DBG_LIFECYCLE), D),
    o("debug-klips", N, Id::DebugBit(ctl::DBG_KLIPS), D),
    o("debug-dns", N, Id::DebugBit(ctl::DBG_DNS), D),
    o("debug-oppo", N, Id::DebugBit(ctl::DBG_OPPO), D),
    o(
        "debug-controlmore",
        N,
        Id::DebugBit(ctl::DBG_CONTROLMORE),
        D,
    ),
    o("debug-pfkey", N, Id::DebugBit(ctl::DBG_PFKEY), D),
    o("debug-natt", N, Id::DebugBit(ctl::DBG_NATT), D),
    o("debug-nattraversal", N, Id::DebugBit(ctl::DBG_NATT), D),
    o("debug-nat_t", N, Id::DebugBit(ctl::DBG_NATT), D),
    o("debug-nat-t", N, Id::DebugBit(ctl::DBG_NATT), D),
    o("debug-x509", N, Id::DebugBit(ctl::DBG_X509), D),
    o("debug-dpd", N, Id::DebugBit(ctl::DBG_DPD), D),
    o("debug-private", N, Id::DebugBit(ctl::DBG_PRIVATE), D),
    o(
        "impair-delay-adns-key-answer",
        N,
        Id::DebugBit(ctl::IMPAIR_DELAY_ADNS_KEY_ANSWER),
        D,
    ),
    o(
        "impair-delay-adns-txt-answer",
        N,
        Id::DebugBit(ctl::IMPAIR_DELAY_ADNS_TXT_ANSWER),
        D,
    ),
    o("impair-bust-mi2", N, Id::DebugBit(ctl::IMPAIR_BUST_MI2), D),
    o("impair-bust-mr2", N, Id::DebugBit(ctl::IMPAIR_BUST_MR2), D),
    o(
        "impair-sa-fail",
        N,
        Id::DebugBit(ctl::IMPAIR_SA_CREATION),
        D,
    ),
    o(
        "impair-die-oninfo",
        N,
        Id::DebugBit(ctl::IMPAIR_DIE_ONINFO),
        D,
    ),
    o(
        "impair-jacob-two-two",
        N,
        Id::DebugBit(ctl::IMPAIR_JACOB_TWO_TWO),
        Class::Unclassed,
    ),
];

/// `--debug-all` ORs in this set (not private, no impairments).
pub const DEBUG_ALL_BITS: u64 = DBG_ALL;

/// Result of looking a (possibly abbreviated) option name up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// An exact name, a unique prefix, or a prefix of several entries that
    /// all behave the same (aliases): the first such entry.
    Found(&'static OptDef),
    /// A prefix of entries that behave differently: the first match and
    /// every match differing from it, in table order.
    Ambiguous(Vec<&'static str>),
    /// No option starts with the name.
    Unknown,
}

/// getopt_long's matching: an exact name wins; otherwise the name must be a
/// prefix of exactly one option, or of several with the same argument kind
/// and action.
pub fn lookup(name: &str) -> Lookup {
    if let Some(def) = OPTIONS.iter().find(|d| d.name == name) {
        return Lookup::Found(def);
    }
    let mut matches = OPTIONS.iter().filter(|d| d.name.starts_with(name));
    let Some(first) = matches.next() else {
        return Lookup::Unknown;
    };
    let differing: Vec<&'static str> = matches
        .filter(|d| d.arg != first.arg || d.id != first.id)
        .map(|d| d.name)
        .collect();
    if differing.is_empty() {
        Lookup::Found(first)
    } else {
        let mut names = vec![first.name];
        names.extend(differing);
        Lookup::Ambiguous(names)
    }
}
