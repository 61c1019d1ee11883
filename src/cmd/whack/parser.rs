//! whack's command line: getopt_long-style scanning and per-option handling.
//!
//! [`parse_args`] is pure (no socket; only `--optionsfrom` reads files): it
//! turns the arguments into a [`Parsed`] value or the [`WhackError`] whack
//! would print. The checks that need the whole command line are in
//! [`super::validate`].

use std::fmt;

use super::options::{lookup, Arg, Class, Id, Lookup, OptDef, DEBUG_ALL_BITS};
use super::validate;
use crate::ctl::{
    self, AddrFamily, Connection, End, KeyRequest, SendCert, Subnet, WhackMessage, LIST_PUBKEYS,
    POLICY_FAIL_MASK, POLICY_GROUP, POLICY_OPPO, POLICY_SHUNT_MASK, POLICY_TUNNEL, REREAD_SECRETS,
    RSA_MAX_ENCODING_BYTES,
};
use crate::text::data::ttodata_public;
use crate::text::{numeric_arg, ttoaddr, ttoprotoport, ttosubnet, NAME_LOOKUP_FAILED};

/// whack's program name in diagnostics.
pub const PROGNAME: &str = "whack";
/// Default control socket: `<ctlbase>.ctl` with the default ctlbase.
pub const DEFAULT_CTL_PATH: &str = "/var/run/pluto.ctl";
/// `sizeof(sun_path)`: the socket path must fit with its NUL.
const SUN_PATH_MAX: usize = 108;
/// `optionsfrom` gives up on the 100th use (loop detection).
const OPTIONSFROM_MAXLOOP: u32 = 100;
/// Size of whack's diagq buffer: longer messages are cut to 119 bytes.
const DIAGQ_BUF: usize = 120;

/// A whack failure before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhackError {
    /// `whack error: [<label> ]["<name>" ]<message>`, exit 1.
    Diag {
        /// `--label` as known when the error was found.
        label: Option<String>,
        /// `--name` as known when the error was found.
        name: Option<String>,
        /// The message.
        message: String,
    },
    /// A getopt_long complaint (`whack: unrecognized option '--x'`), exit 1.
    Getopt(String),
    /// An `--optionsfrom` failure (`whack: optionsfrom failed: ...`), exit 2.
    OptionsFrom(String),
    /// An option rswan does not implement yet (`whack: --aggrmode is not
    /// implemented by rswan yet`), exit 1: nothing is sent to pluto.
    NotImplemented(String),
}

impl WhackError {
    /// The exit status whack ends with.
    pub fn exit_code(&self) -> i32 {
        match self {
            WhackError::OptionsFrom(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for WhackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WhackError::Diag {
                label,
                name,
                message,
            } => {
                write!(f, "whack error: ")?;
                if let Some(l) = label {
                    write!(f, "{l} ")?;
                }
                if let Some(n) = name {
                    write!(f, "\"{n}\" ")?;
                }
                write!(f, "{message}")
            }
            WhackError::Getopt(m) | WhackError::OptionsFrom(m) => write!(f, "{m}"),
            WhackError::NotImplemented(what) => {
                write!(f, "{PROGNAME}: {what} is not implemented by rswan yet")
            }
        }
    }
}

impl std::error::Error for WhackError {}

/// A request ready to be sent: the message plus what stays in whack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What pluto is told.
    pub msg: WhackMessage,
    /// The control socket path (`<ctlbase>.ctl`).
    pub ctl_path: String,
    /// `--label` (decorates diagnostics only; not sent).
    pub label: Option<String>,
    /// `--xauthname`: answer to pluto's user-name prompt (RC 41).
    pub xauth_name: Option<String>,
    /// `--xauthpass`: answer to pluto's secret prompt (RC 40).
    pub xauth_pass: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// `--help` was reached: print the usage to stderr, exit 0.
    Help,
    /// `--version` was reached: print the version to stdout, exit 0.
    Version,
    /// Send a request to pluto.
    Send(Box<Request>),
}

/// Everything gathered while scanning the options; [`validate::finish`]
/// turns it into a [`Request`].
#[derive(Debug, Clone)]
pub(super) struct State {
    pub label: Option<String>,
    pub name: Option<String>,
    pub ctl_path: String,
    pub msg: WhackMessage,
    pub conn: Connection,
    /// `--keyid`, `--addkey`, `--pubkeyrsa` as given.
    pub keyid: Option<String>,
    pub addkey: bool,
    pub pubkey: Option<Vec<u8>>,
    pub oppo_here: Option<std::net::IpAddr>,
    pub oppo_there: Option<std::net::IpAddr>,
    pub xauth_name: Option<String>,
    pub xauth_pass: Option<String>,
    /// Debug options seen (`whack_options`), the first of them, and the
    /// set they build.
    pub debug_options: bool,
    pub first_debug_option: Option<&'static str>,
    pub debugging: u64,
    /// `--dpdaction` as parsed; `None` for an unknown word.
    pub dpd_action: Option<ctl::DpdAction>,
    /// The first option given that rswan does not implement, as named in
    /// the refusal (`--aggrmode`, `--host %group`).
    pub not_implemented: Option<String>,
    /// Some connection or end option was given (OPT_CD).
    pub opt_cd: bool,
    pub opts_seen: Vec<Id>,
    pub lst_seen: Vec<Id>,
    pub end_seen: Vec<Id>,
    pub end_seen_before_to: Vec<Id>,
    pub cd_seen: Vec<Id>,
    /// First option that fixed the host address family / the client family.
    pub af_used_by: Option<String>,
    pub tunnel_af_used_by: Option<String>,
    /// Non-option arguments left over, in order.
    pub leftovers: Vec<String>,
    /// Looks up host names (`--host`, `--nexthop`, ... given as names):
    /// the system resolver, or a fake in tests.
    pub resolve: HostLookup,
    optionsfrom_uses: u32,
}

impl State {
    fn new() -> State {
        State {
            label: None,
            name: None,
            ctl_path: DEFAULT_CTL_PATH.to_string(),
            msg: WhackMessage::default(),
            conn: Connection::default(),
            keyid: None,
            addkey: false,
            pubkey: None,
            oppo_here: None,
            oppo_there: None,
            xauth_name: None,
            xauth_pass: None,
            debug_options: false,
            first_debug_option: None,
            debugging: 0,
            dpd_action: Some(ctl::DpdAction::Clear),
            not_implemented: None,
            opt_cd: false,
            opts_seen: Vec::new(),
            lst_seen: Vec::new(),
            end_seen: Vec::new(),
            end_seen_before_to: Vec::new(),
            cd_seen: Vec::new(),
            af_used_by: None,
            tunnel_af_used_by: None,
            leftovers: Vec::new(),
            optionsfrom_uses: 0,
            resolve: system_lookup,
        }
    }

    /// Notes an option rswan does not implement; the first one is refused
    /// once the whole line is read.
    pub fn refuse(&mut self, what: String) {
        self.not_implemented.get_or_insert(what);
    }

    /// `diag(message)`.
    pub fn diag(&self, message: impl Into<String>) -> WhackError {
        WhackError::Diag {
            label: self.label.clone(),
            name: self.name.clone(),
            message: message.into(),
        }
    }

    /// `diagq(message, arg)`: the message and the quoted argument, cut to
    /// whack's 120-byte buffer.
    pub fn diagq(&self, message: &str, arg: &str) -> WhackError {
        let mut text = format!("{message} \"{arg}\"");
        if text.len() >= DIAGQ_BUF {
            let mut cut = DIAGQ_BUF - 1;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        self.diag(text)
    }

    /// The end being described (before `--to` the left one, after it the right).
    fn end(&mut self) -> &mut End {
        &mut self.conn.right
    }

    fn end_has(&self, id: Id) -> bool {
        self.end_seen.contains(&id)
    }
}

/// Parses whack's arguments (everything after the program name).
pub fn parse_args(args: &[String]) -> Result<Parsed, WhackError> {
    parse_args_with(args, system_lookup)
}

/// [`parse_args`] with host names looked up by `resolve`.
pub fn parse_args_with(args: &[String], resolve: HostLookup) -> Result<Parsed, WhackError> {
    let mut st = State::new();
    st.resolve = resolve;
    let mut args: Vec<String> = args.to_vec();
    let mut i = 0;
    while let Some(arg) = args.get(i).cloned() {
        i += 1;
        if arg == "--" {
            st.leftovers.extend(args.iter().skip(i).cloned());
            break;
        }
        let Some(body) = arg.strip_prefix("--") else {
            if let Some(c) = arg.strip_prefix('-').and_then(|s| s.chars().next()) {
                return Err(WhackError::Getopt(format!(
                    "{PROGNAME}: invalid option -- '{c}'"
                )));
            }
            st.leftovers.push(arg);
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let def = match lookup(name) {
            Lookup::Found(def) => def,
            Lookup::Unknown => {
                return Err(WhackError::Getopt(format!(
                    "{PROGNAME}: unrecognized option '{arg}'"
                )))
            }
            Lookup::Ambiguous(names) => {
                let list: Vec<String> = names.iter().map(|n| format!(" '--{n}'")).collect();
                return Err(WhackError::Getopt(format!(
                    "{PROGNAME}: option '{arg}' is ambiguous; possibilities:{}",
                    list.concat()
                )));
            }
        };
        let value = match (def.arg, inline) {
            (Arg::None, None) => None,
            (Arg::None, Some(_)) => {
                return Err(WhackError::Getopt(format!(
                    "{PROGNAME}: option '--{}' doesn't allow an argument",
                    def.name
                )))
            }
            (_, Some(v)) => Some(v),
            (_, None) => match args.get(i).cloned() {
                Some(v) => {
                    i += 1;
                    Some(v)
                }
                None => {
                    return Err(WhackError::Getopt(format!(
                        "{PROGNAME}: option '--{}' requires an argument",
                        def.name
                    )))
                }
            },
        };
        let optarg = value.unwrap_or_default();
        match def.id {
            Id::Help => return Ok(Parsed::Help),
            Id::Version => return Ok(Parsed::Version),
            Id::OptionsFrom => {
                let extra = super::optionsfrom::expand(&optarg, &mut st.optionsfrom_uses)?;
                args.splice(i..i, extra);
                continue;
            }
            _ => {}
        }
        handle(&mut st, def, &optarg)?;
    }
    validate::finish(st).map(|r| Parsed::Send(Box::new(r)))
}

/// The `optionsfrom` loop limit, for [`super::optionsfrom`].
pub(super) fn optionsfrom_limit_reached(uses: u32) -> bool {
    uses >= OPTIONSFROM_MAXLOOP
}

/// Records `def` in its class's seen set, rejecting a repeat.
fn note_seen(st: &mut State, def: &OptDef) -> Result<(), WhackError> {
    let key = def.id.dup_key();
    let set = match def.class {
        Class::Opt => &mut st.opts_seen,
        Class::List => &mut st.lst_seen,
        Class::End => &mut st.end_seen,
        Class::Conn => &mut st.cd_seen,
        Class::Debug => {
            st.debug_options = true;
            return Ok(());
        }
        Class::General | Class::Unclassed => return Ok(()),
    };
    if set.contains(&key) {
        return Err(st.diagq("duplicated flag", def.name));
    }
    set.push(key);
    if matches!(def.class, Class::End | Class::Conn) {
        st.opt_cd = true;
    }
    Ok(())
}

/// A host name to the first address of the family asked for (`true`: IPv6).
pub type HostLookup = fn(&str, bool) -> Result<std::net::IpAddr, String>;

fn system_lookup(name: &str, v6: bool) -> Result<std::net::IpAddr, String> {
    crate::dns::Resolver::system().lookup_host(name, v6)
}

/// An address, or a host name looked up as Openswan's whack did.
fn addr(st: &State, arg: &str, af: AddrFamily) -> Result<std::net::IpAddr, WhackError> {
    match ttoaddr(arg, af) {
        Ok(a) => Ok(a),
        Err(e) if e == NAME_LOOKUP_FAILED => (st.resolve)(arg, af == AddrFamily::Ipv6)
            .map_err(|why| st.diagq(&format!("{e} ({why})"), arg)),
        Err(e) => Err(st.diagq(e, arg)),
    }
}

fn subnet(st: &State, arg: &str, af: AddrFamily) -> Result<Subnet, WhackError> {
    ttosubnet(arg, af).map_err(|e| st.diagq(e, arg))
}

fn client_addr(st: &State, arg: &str) -> Result<std::net::IpAddr, WhackError> {
    let a = addr(st, arg, st.conn.tunnel_addr_family)?;
    if a.is_unspecified() {
        return Err(st.diagq("0.0.0.0 or 0::0 isn't a valid client address", arg));
    }
    Ok(a)
}

/// Handles one option with its argument (empty for argument-less options).
fn handle(st: &mut State, def: &'static OptDef, arg: &str) -> Result<(), WhackError> {
    let num = if def.arg == Arg::Numeric {
        numeric_arg(arg).ok_or_else(|| st.diagq("badly formed numeric argument", arg))?
    } else {
        0
    };
    note_seen(st, def)?;
    let name = def.name;
    if def.id.not_implemented() {
        st.refuse(format!("--{name}"));
    }
    if def.class == Class::Debug {
        st.first_debug_option.get_or_insert(name);
    }
    match def.id {
        Id::Help | Id::Version | Id::OptionsFrom => {}
        Id::Label => st.label = Some(arg.to_string()),
        Id::CtlBase => {
            let path = format!("{arg}{}", ctl::CTL_SUFFIX);
            if path.len() >= SUN_PATH_MAX {
                return Err(st.diag(format!(
                    "<ctlbase>{} must be fit in a sun_addr",
                    ctl::CTL_SUFFIX
                )));
            }
            st.ctl_path = path;
        }
        Id::Name => {
            st.name = Some(arg.to_string());
            st.msg.name = Some(arg.to_string());
        }
        Id::KeyId => st.keyid = Some(arg.to_string()),
        Id::MyId => st.msg.myid = Some(arg.to_string()),
        Id::AddKey => st.addkey = true,
        Id::PubkeyRsa => {
            let key = ttodata_public(arg.as_bytes()).and_then(|k| {
                if k.len() > RSA_MAX_ENCODING_BYTES {
                    Err(format!("longer than {RSA_MAX_ENCODING_BYTES} bytes"))
                } else {
                    Ok(k)
                }
            });
            match key {
                Ok(k) => st.pubkey = Some(k),
                Err(ugh) => {
                    let mut m = format!("RSA public-key data malformed ({ugh})");
                    // whack formats this into an 80-byte buffer first.
                    if m.len() >= 80 {
                        let mut cut = 79;
                        while !m.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        m.truncate(cut);
                    }
                    return Err(st.diagq(&m, arg));
                }
            }
        }
        Id::Route => st.msg.route = true,
        Id::Unroute => st.msg.unroute = true,
        Id::Initiate => st.msg.initiate = true,
        Id::Terminate => st.msg.terminate = true,
        Id::Delete => st.msg.delete = true,
        Id::DeleteState => st.msg.delete_state = Some(num),
        Id::Crash => st.msg.crash = Some(client_addr(st, arg)?),
        Id::Listen => st.msg.listen = true,
        Id::Unlisten => st.msg.unlisten = true,
        Id::PurgeOcsp => st.msg.purge_ocsp = true,
        Id::Reread(bit) => st.msg.reread |= bit,
        // Everything rswan can reread: the secrets (it loads no certificates or CRLs).
        Id::RereadAll => st.msg.reread = REREAD_SECRETS,
        Id::Status => st.msg.status = true,
        Id::Shutdown => st.msg.shutdown = true,
        Id::Json => st.msg.status_json = true,
        Id::TrafficStatus => st.msg.traffic_status = true,
        Id::XauthName => st.xauth_name = Some(arg.to_string()),
        Id::XauthPass => st.xauth_pass = Some(arg.to_string()),
        Id::OppoHere => {
            st.tunnel_af_used_by = Some(name.to_string());
            st.oppo_here = Some(client_addr(st, arg)?);
        }
        Id::OppoThere => {
            st.tunnel_af_used_by = Some(name.to_string());
            st.oppo_there = Some(client_addr(st, arg)?);
        }
        Id::Async => st.msg.asynchronous = true,
        Id::Utc => st.msg.utc = true,
        Id::List(bit) => st.msg.list |= bit,
        // Everything rswan can list: the public keys.
        Id::ListAll => st.msg.list = LIST_PUBKEYS,
        Id::Host => host(st, name, arg)?,
        Id::EndId => st.end().id = Some(arg.to_string()),
        Id::Cert => st.end().cert = Some(arg.to_string()),
        Id::Ca => st.end().ca = Some(arg.to_string()),
        Id::Groups => st.end().groups = Some(arg.to_string()),
        Id::IkePort => {
            let port = u16::try_from(num).ok().filter(|p| *p != 0);
            let port = port.ok_or_else(|| {
                st.diagq("<port-number> must be a number between 1 and 65535", arg)
            })?;
            st.end().ikeport = port;
        }
        Id::NextHop => {
            st.af_used_by = Some(name.to_string());
            let af = st.conn.addr_family;
            let a = if arg == "%direct" {
                af.any()
            } else {
                addr(st, arg, af)?
            };
            st.end().nexthop = a;
        }
        Id::SrcIp => {
            st.af_used_by = Some(name.to_string());
            let a = addr(st, arg, st.conn.addr_family)?;
            st.end().srcip = Some(a);
        }
        Id::Client => {
            if st.end_has(Id::ClientWithin) {
                return Err(st.diag("--client conflicts with --clientwithin"));
            }
            st.tunnel_af_used_by = Some(name.to_string());
            if arg.starts_with("vhost:") || arg.starts_with("vnet:") {
                st.end().virt = Some(arg.to_string());
            } else {
                let s = subnet(st, arg, st.conn.tunnel_addr_family)?;
                st.end().client = Some(s);
            }
            st.conn.policy |= POLICY_TUNNEL;
        }
        Id::ClientWithin => {
            if st.end_has(Id::Client) {
                return Err(st.diag("--clientwithin conflicts with --client"));
            }
            st.tunnel_af_used_by = Some(name.to_string());
            let s = subnet(st, arg, st.conn.tunnel_addr_family)?;
            let end = st.end();
            end.client = Some(s);
            end.client_wildcard = true;
            st.conn.policy |= POLICY_TUNNEL;
        }
        Id::ClientProtoPort => {
            let (protocol, port, wildcard) = ttoprotoport(arg).map_err(|e| st.diagq(e, arg))?;
            let end = st.end();
            end.protocol = protocol;
            end.port = port;
            end.port_wildcard = wildcard;
        }
        Id::DnsKeyOnDemand => st.end().dns_key_on_demand = true,
        Id::Updown => st.end().updown = Some(arg.to_string()),
        Id::SendCert => {
            let v = match arg {
                "yes" | "always" => SendCert::Always,
                "no" | "never" => SendCert::Never,
                "ifasked" => SendCert::IfAsked,
                "forced" => SendCert::Forced,
                _ => return Err(st.diagq("whack sendcert value is not legal", arg)),
            };
            st.end().sendcert = Some(v);
        }
        Id::CertType => st.end().certtype = Some(num),
        Id::XauthServer => st.end().xauth_server = true,
        Id::XauthClient => st.end().xauth_client = true,
        Id::ModecfgServer => st.end().modecfg_server = true,
        Id::ModecfgClient => st.end().modecfg_client = true,
        Id::To => {
            if !st.end_has(Id::Host) {
                return Err(st.diag("connection missing --host before --to"));
            }
            st.conn.left = std::mem::take(&mut st.conn.right);
            st.end_seen_before_to = std::mem::take(&mut st.end_seen);
        }
        Id::Policy(bit) => st.conn.policy |= bit,
        Id::Shunt(v) => st.conn.policy = (st.conn.policy & !POLICY_SHUNT_MASK) | v,
        Id::Fail(v) => st.conn.policy = (st.conn.policy & !POLICY_FAIL_MASK) | v,
        Id::IkeLifetime => st.conn.ike_lifetime = num,
        Id::IpsecLifetime => st.conn.ipsec_lifetime = num,
        Id::RekeyMargin => st.conn.rekey_margin = num,
        Id::RekeyFuzz => st.conn.rekey_fuzz = num,
        Id::KeyingTries => st.conn.keying_tries = num,
        Id::ForceEncaps => st.conn.force_encaps = true,
        Id::DpdDelay => st.conn.dpd_delay = num,
        Id::DpdTimeout => st.conn.dpd_timeout = num,
        Id::DpdAction => {
            st.dpd_action = match arg {
                "clear" => Some(ctl::DpdAction::Clear),
                "hold" => Some(ctl::DpdAction::Hold),
                "restart" => Some(ctl::DpdAction::Restart),
                _ => None,
            }
        }
        Id::Ike => st.conn.ike = Some(arg.to_string()),
        Id::PfsGroup => st.conn.pfsgroup = Some(arg.to_string()),
        Id::Esp => st.conn.esp = Some(arg.to_string()),
        Id::Ipv4 => {
            if st.cd_seen.contains(&Id::Ipv6) {
                return Err(st.diag("--ipv4 conflicts with --ipv6"));
            }
            // The default: nothing to set, nothing to check.
        }
        Id::Ipv6 => {
            if st.cd_seen.contains(&Id::Ipv4) {
                return Err(st.diag("--ipv6 conflicts with --ipv4"));
            }
            if let Some(by) = &st.af_used_by {
                return Err(st.diagq("--ipv6 must precede", by));
            }
            st.af_used_by = Some(name.to_string());
            st.conn.addr_family = AddrFamily::Ipv6;
            if !st.cd_seen.contains(&Id::TunnelIpv4)
                && !st.cd_seen.contains(&Id::TunnelIpv6)
                && st.tunnel_af_used_by.is_none()
            {
                st.conn.tunnel_addr_family = AddrFamily::Ipv6;
            }
        }
        Id::TunnelIpv4 | Id::TunnelIpv6 => {
            let (other, family, text) = if def.id == Id::TunnelIpv4 {
                (Id::TunnelIpv6, AddrFamily::Ipv4, "--tunnelipv4")
            } else {
                (Id::TunnelIpv4, AddrFamily::Ipv6, "--tunnelipv6")
            };
            if st.cd_seen.contains(&other) {
                let o = if other == Id::TunnelIpv4 {
                    "--tunnelipv4"
                } else {
                    "--tunnelipv6"
                };
                return Err(st.diag(format!("{text} conflicts with {o}")));
            }
            if let Some(by) = &st.tunnel_af_used_by {
                return Err(st.diagq(&format!("{text} must precede"), by));
            }
            st.conn.tunnel_addr_family = family;
        }
        Id::DebugNone => st.debugging = 0,
        Id::DebugAll => st.debugging |= DEBUG_ALL_BITS,
        Id::DebugBit(bit) => st.debugging |= bit,
    }
    Ok(())
}

/// `--host`: an address or one of the `%` keywords.
fn host(st: &mut State, name: &str, arg: &str) -> Result<(), WhackError> {
    st.af_used_by = Some(name.to_string());
    let af = st.conn.addr_family;
    let new_policy = match arg {
        "%any" => 0,
        "%opportunistic" => POLICY_TUNNEL | POLICY_OPPO,
        "%group" => POLICY_TUNNEL | POLICY_GROUP,
        "%opportunisticgroup" => POLICY_TUNNEL | POLICY_OPPO | POLICY_GROUP,
        _ => {
            let a = addr(st, arg, af)?;
            st.end().host = a;
            return Ok(());
        }
    };
    st.end().host = af.any();
    st.conn.policy |= new_policy;
    if new_policy & (POLICY_OPPO | POLICY_GROUP) != 0 {
        if new_policy & POLICY_GROUP != 0 {
            // Parsed on as Openswan did, then refused: rswan has no groups.
            st.refuse(format!("--{name} {arg}"));
        }
        if !st.end_has(Id::Client) {
            // Opportunism and groups: host unknown, client 0.0.0.0/0 (or ::/0).
            st.tunnel_af_used_by = Some(arg.to_string());
            let tf = st.conn.tunnel_addr_family;
            st.end().client = Subnet::new(tf.any(), 0);
        }
        if new_policy & POLICY_GROUP != 0 {
            // The group's clients come from its policy file.
            if st.end_has(Id::Client) {
                return Err(st.diag("--host %group clashes with --client"));
            }
            st.end_seen.push(Id::Client);
        }
        if new_policy & POLICY_OPPO != 0 {
            st.end().dns_key_on_demand = true;
        }
    }
    Ok(())
}

/// The pubkey form's parts as gathered, for [`validate::finish`].
pub(super) fn key_request(st: &State) -> Option<KeyRequest> {
    st.keyid.as_ref().map(|keyid| KeyRequest {
        keyid: keyid.clone(),
        add: st.addkey,
        pubkey_rsa: st.pubkey.clone(),
    })
}
