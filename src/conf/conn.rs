//! A resolved conn section to the [`Conn`]s it stands for: its keys
//! checked against the key table, the ends built, the connection-wide
//! keys turned into policy bits and numbers with ipsec.conf's defaults,
//! then the checks whack makes of a command line.

use std::path::Path;
use std::rc::Rc;

use super::end::{self, EndKeys};
use super::keys::{self, Side, Support};
use super::lexer::Item;
use super::sections::Resolved;
use super::{Auto, Conn, Diagnostic, Host, Severity};
use crate::ctl::{
    self, never_negotiate, AddrFamily, Connection, DpdAction, POLICY_AUTHENTICATE, POLICY_COMPRESS,
    POLICY_DONT_REKEY, POLICY_ENCRYPT, POLICY_FAIL_DROP, POLICY_FAIL_NONE, POLICY_FAIL_PASS,
    POLICY_FAIL_REJECT, POLICY_OPPO, POLICY_PFS, POLICY_PSK, POLICY_RSASIG, POLICY_SHUNT_DROP,
    POLICY_SHUNT_MASK, POLICY_SHUNT_PASS, POLICY_SHUNT_REJECT, POLICY_SHUNT_TRAP, POLICY_TUNNEL,
};

/// Diagnostics about one conn, and whether it may load.
pub struct Ctx<'a> {
    file: Rc<Path>,
    line: u32,
    name: String,
    diags: &'a mut Vec<Diagnostic>,
    reported: &'a mut std::collections::HashSet<(Rc<Path>, u32, String)>,
    pub ok: bool,
}

impl Ctx<'_> {
    /// An error about the item `it`: the conn does not load.
    pub fn error(&mut self, it: &Item, m: String) {
        self.ok = false;
        self.diags.push(Diagnostic::new(
            &it.file,
            it.line,
            Severity::Error,
            format!("conn {}: {m}", self.name),
        ));
    }

    /// An error about the conn as a whole.
    pub fn error_at_section(&mut self, m: String) {
        self.ok = false;
        self.diags.push(Diagnostic::new(
            &self.file,
            self.line,
            Severity::Error,
            format!("conn {}: {m}", self.name),
        ));
    }

    /// A note about `it`, once however many conns it applies to.
    fn note_once(&mut self, it: &Item, m: String) {
        let k = (it.file.clone(), it.line, it.key.clone());
        if self.reported.insert(k) {
            self.diags
                .push(Diagnostic::new(&it.file, it.line, Severity::Note, m));
        }
    }
}

/// The values of the connection-wide keys, by key.
#[derive(Default)]
struct ConnKeys {
    items: Vec<Item>,
}

impl ConnKeys {
    fn get(&self, key: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.key == key && !i.value.is_empty())
    }
}

/// The conns `r` stands for (several with `leftsubnets=`/`rightsubnets=`),
/// or none after an error.
pub fn build(
    r: &Resolved,
    host: &dyn Host,
    diags: &mut Vec<Diagnostic>,
    reported: &mut std::collections::HashSet<(Rc<Path>, u32, String)>,
) -> Vec<Conn> {
    if r.fragment {
        return Vec::new();
    }
    let mut cx = Ctx {
        file: r.section.file.clone(),
        line: r.section.line,
        name: r.name.to_string(),
        diags,
        reported,
        ok: !r.broken,
    };
    let (mut left, mut right) = (EndKeys::default(), EndKeys::default());
    let mut ck = ConnKeys::default();
    for it in &r.items {
        if keys::is_user_extension(&it.key) {
            continue; // user extensions, as ipsec.conf(5) reserves them
        }
        let Some((k, side)) = keys::lookup(&it.key, false) else {
            cx.error(it, format!("unknown key \"{}\"", it.key));
            continue;
        };
        match k.support {
            Support::Refused(why) if !keys::is_off(&it.value) => {
                cx.error(it, format!("{}={}: {why}", it.key, it.value));
                continue;
            }
            Support::Refused(_) => continue,
            Support::Ignored(why) => {
                cx.note_once(it, format!("{} ignored: {why}", it.key));
                continue;
            }
            Support::Used => {}
        }
        match side {
            Some(Side::Left) => {
                left.set(k.name, it.clone());
            }
            Some(Side::Right) => {
                right.set(k.name, it.clone());
            }
            None => ck.items.push(it.clone()),
        }
    }

    let auto = match ck.get("auto").map(|i| (i, i.value.as_str())) {
        None | Some((_, "ignore")) => Auto::Ignore,
        Some((_, "add")) => Auto::Add,
        Some((_, "route")) => Auto::Route,
        Some((_, "start")) => Auto::Start,
        Some((i, v)) => {
            cx.error(i, format!("auto={v}: must be ignore, add, route or start"));
            Auto::Ignore
        }
    };

    let mut c = Connection::default();
    policy(&mut cx, &ck, &mut c);
    numbers(&mut cx, &ck, &mut c);
    lifetimes(&mut cx, &c);

    // Families: connaddrfamily=, else the literal addresses.
    let af = match ck.get("connaddrfamily").map(|i| (i, i.value.as_str())) {
        Some((_, "ipv4")) => AddrFamily::Ipv4,
        Some((_, "ipv6")) => AddrFamily::Ipv6,
        Some((i, v)) => {
            cx.error(i, format!("connaddrfamily={v}: must be ipv4 or ipv6"));
            AddrFamily::Ipv4
        }
        None => left
            .literal_family()
            .or(right.literal_family())
            .unwrap_or(AddrFamily::Ipv4),
    };
    let taf = left.subnet_family().or(right.subnet_family()).unwrap_or(af);
    c.addr_family = af;
    c.tunnel_addr_family = taf;

    let l = end::build(&left, "left", &mut cx, host, af, taf);
    let r_ = end::build(&right, "right", &mut cx, host, af, taf);
    let (Some(mut l), Some(mut r_)) = (l, r_) else {
        return Vec::new();
    };
    // Default nexthops: the default route's gateway for %defaultroute,
    // the other host otherwise (%direct when that is %any).
    let (lh, rh) = (l.end.host, r_.end.host);
    for (this, that_host) in [(&mut l, rh), (&mut r_, lh)] {
        if !this.nexthop_given {
            this.end.nexthop = this.route_nexthop.unwrap_or(that_host);
        }
    }
    if l.end.host.is_unspecified() && r_.end.host.is_unspecified() {
        cx.error_at_section("left and right cannot both be %any".into());
    }
    if l.end.protocol != r_.end.protocol {
        cx.error_at_section(
            "the protocol for leftprotoport and rightprotoport must be the same".into(),
        );
    }
    for e in [&l.end, &r_.end] {
        for a in [Some(e.host), Some(e.nexthop), e.srcip]
            .into_iter()
            .flatten()
        {
            if AddrFamily::of(&a) != af {
                cx.error_at_section(format!(
                    "{a} is not of the conn's address family (set connaddrfamily=)"
                ));
            }
        }
    }
    // An opportunistic end's clients are anyone, unless it says.
    let oppo = l.oppo || r_.oppo;
    for b in [&mut l, &mut r_] {
        if b.oppo && b.end.client.is_none() && b.subnets.is_empty() {
            b.end.client = crate::ctl::Subnet::new(taf.any(), 0);
        }
    }
    if oppo {
        c.policy |= POLICY_OPPO;
        if c.policy & (POLICY_PSK | POLICY_RSASIG) != POLICY_RSASIG {
            cx.error_at_section("%opportunistic needs authby=rsasig".into());
        }
        if c.policy & POLICY_PFS == 0 || c.policy & POLICY_ENCRYPT == 0 {
            cx.error_at_section("%opportunistic needs pfs=yes and auth=esp".into());
        }
    }
    let has_client = l.end.client.is_some()
        || r_.end.client.is_some()
        || !l.subnets.is_empty()
        || !r_.subnets.is_empty()
        || l.end.virt.is_some()
        || r_.end.virt.is_some();
    if has_client && ck.get("type").is_some_and(|i| i.value == "transport") {
        // whack would quietly make it a tunnel (--client implies it).
        cx.error_at_section("type=transport cannot have subnets (they need type=tunnel)".into());
    }
    if has_client {
        c.policy |= POLICY_TUNNEL;
    }
    if never_negotiate(c.policy) && c.policy & POLICY_SHUNT_MASK == POLICY_SHUNT_TRAP {
        cx.error_at_section("authby=never needs type=passthrough, drop or reject".into());
    }

    let mut key_reqs = Vec::new();
    for (e, side) in [(&l, "left"), (&r_, "right")] {
        if let Some(k) = &e.key {
            match end::key_request(&e.end, k) {
                Some(req) => key_reqs.push(req),
                None => cx.error_at_section(format!(
                    "{side}rsasigkey= with {side}=%any needs {side}id= (the key's identity)"
                )),
            }
        }
    }
    if !cx.ok {
        return Vec::new();
    }

    let one = |c: &Connection, name: String| Conn {
        name,
        auto,
        connection: c.clone(),
        keys: key_reqs.clone(),
        file: r.section.file.to_path_buf(),
        line: r.section.line,
    };
    c.left = l.end.clone();
    c.right = r_.end.clone();
    if l.subnets.is_empty() && r_.subnets.is_empty() {
        return vec![one(&c, r.name.to_string())];
    }
    // One conn per pair, named NAME/LxR as Openswan's starter named them:
    // subnet= is number 0, the subnets= from 1, a side with neither is 1.
    let numbered = |b: &end::Built| -> Vec<(usize, Option<ctl::Subnet>)> {
        let mut v: Vec<(usize, Option<ctl::Subnet>)> = Vec::new();
        if b.end.client.is_some() {
            v.push((0, b.end.client));
        }
        v.extend(b.subnets.iter().enumerate().map(|(i, s)| (i + 1, Some(*s))));
        if v.is_empty() {
            v.push((1, None));
        }
        v
    };
    let (ls, rs) = (numbered(&l), numbered(&r_));
    let mut out = Vec::new();
    for (i, lc) in &ls {
        for (j, rc) in &rs {
            c.left.client = *lc;
            c.right.client = *rc;
            out.push(one(&c, format!("{}/{i}x{j}", r.name)));
        }
    }
    out
}

fn yes_no(cx: &mut Ctx, it: &Item) -> Option<bool> {
    match it.value.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        v => {
            cx.error(it, format!("{}={v}: must be yes or no", it.key));
            None
        }
    }
}

/// `authby=`, `type=`, `auth=`, `pfs=`, `compress=`, `rekey=`, `failureshunt=`.
fn policy(cx: &mut Ctx, ck: &ConnKeys, c: &mut Connection) {
    let mut p = 0;
    match ck.get("authby").map(|i| (i, i.value.as_str())) {
        None | Some((_, "rsasig")) => p |= POLICY_RSASIG,
        Some((_, "secret")) => p |= POLICY_PSK,
        Some((_, "secret|rsasig" | "rsasig|secret")) => p |= POLICY_PSK | POLICY_RSASIG,
        Some((_, "never")) => {}
        Some((i, v)) => cx.error(
            i,
            format!("authby={v}: must be rsasig, secret, secret|rsasig or never"),
        ),
    }
    let shunt = match ck.get("type").map(|i| (i, i.value.as_str())) {
        None | Some((_, "tunnel")) => {
            p |= POLICY_TUNNEL;
            None
        }
        Some((_, "transport")) => None,
        Some((_, "passthrough" | "pass")) => Some(POLICY_SHUNT_PASS),
        Some((_, "drop")) => Some(POLICY_SHUNT_DROP),
        Some((_, "reject")) => Some(POLICY_SHUNT_REJECT),
        Some((i, v)) => {
            cx.error(
                i,
                format!("type={v}: must be tunnel, transport, passthrough, drop or reject"),
            );
            None
        }
    };
    if let Some(s) = shunt {
        // A shunt is never negotiated: no authentication, no IPsec.
        c.policy = s;
        return;
    }
    match ck.get("auth").map(|i| (i, i.value.as_str())) {
        None | Some((_, "esp")) => p |= POLICY_ENCRYPT,
        Some((_, "ah")) => p |= POLICY_AUTHENTICATE,
        Some((i, v)) => cx.error(i, format!("auth={v}: must be esp or ah")),
    }
    if ck.get("pfs").and_then(|i| yes_no(cx, i)).unwrap_or(true) {
        p |= POLICY_PFS;
    }
    if ck
        .get("compress")
        .and_then(|i| yes_no(cx, i))
        .unwrap_or(false)
    {
        p |= POLICY_COMPRESS;
    }
    if !ck.get("rekey").and_then(|i| yes_no(cx, i)).unwrap_or(true) {
        p |= POLICY_DONT_REKEY;
    }
    match ck.get("failureshunt").map(|i| (i, i.value.as_str())) {
        None | Some((_, "none")) => p |= POLICY_FAIL_NONE,
        Some((_, "passthrough")) => p |= POLICY_FAIL_PASS,
        Some((_, "drop")) => p |= POLICY_FAIL_DROP,
        Some((_, "reject")) => p |= POLICY_FAIL_REJECT,
        Some((i, v)) => cx.error(
            i,
            format!("failureshunt={v}: must be none, passthrough, drop or reject"),
        ),
    }
    c.policy = p;
}

/// A time as ipsec.conf writes it: seconds, or a number with s, m, h or d.
pub fn time_value(v: &str) -> Option<u64> {
    let (num, mult) = match v.char_indices().last()? {
        (i, 's') => (v.get(..i)?, 1),
        (i, 'm') => (v.get(..i)?, 60),
        (i, 'h') => (v.get(..i)?, 3600),
        (i, 'd') => (v.get(..i)?, 86400),
        _ => (v, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// Lifetimes, rekeying, keying tries, DPD and the strings passed as typed;
/// with ipsec.conf's defaults where they differ from whack's.
fn numbers(cx: &mut Ctx, ck: &ConnKeys, c: &mut Connection) {
    let time = |cx: &mut Ctx, key: &str| -> Option<u64> {
        let it = ck.get(key)?;
        let t = time_value(&it.value);
        if t.is_none() {
            cx.error(
                it,
                format!(
                    "{key}={}: not a time (seconds, or a number with s, m, h or d)",
                    it.value
                ),
            );
        }
        t
    };
    let ipsec_life = ["keylife", "lifetime", "salifetime"]
        .iter()
        .filter_map(|k| time(cx, k))
        .next();
    c.ipsec_lifetime = ipsec_life.unwrap_or(ctl::IPSEC_LIFETIME_DEFAULT);
    c.ike_lifetime = time(cx, "ikelifetime").unwrap_or(ctl::IKE_LIFETIME_DEFAULT);
    c.rekey_margin = time(cx, "rekeymargin").unwrap_or(ctl::REKEY_MARGIN_DEFAULT);
    c.dpd_delay = time(cx, "dpddelay").unwrap_or(0);
    c.dpd_timeout = time(cx, "dpdtimeout").unwrap_or(0);
    c.rekey_fuzz = match ck.get("rekeyfuzz") {
        None => ctl::REKEY_FUZZ_DEFAULT,
        Some(it) => match it
            .value
            .strip_suffix('%')
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(n) => n,
            None => {
                cx.error(
                    it,
                    format!("rekeyfuzz={}: must be a percentage (e.g. 100%)", it.value),
                );
                ctl::REKEY_FUZZ_DEFAULT
            }
        },
    };
    // ipsec.conf's default is %forever (whack's is 3).
    c.keying_tries = match ck.get("keyingtries") {
        None => 0,
        Some(it) if it.value == "%forever" => 0,
        Some(it) => match it.value.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                cx.error(
                    it,
                    format!("keyingtries={}: must be a number or %forever", it.value),
                );
                0
            }
        },
    };
    // ipsec.conf's default is hold (whack's is clear).
    c.dpd_action = match ck.get("dpdaction").map(|i| (i, i.value.as_str())) {
        None | Some((_, "hold")) => DpdAction::Hold,
        Some((_, "clear")) => DpdAction::Clear,
        Some((_, "restart")) => DpdAction::Restart,
        Some((i, v)) => {
            cx.error(i, format!("dpdaction={v}: must be hold, clear or restart"));
            DpdAction::Hold
        }
    };
    if let Some(it) = ck.get("forceencaps") {
        c.force_encaps = yes_no(cx, it).unwrap_or(false);
    }
    c.ike = ck.get("ike").map(|i| i.value.clone());
    c.esp = ck
        .get("esp")
        .or_else(|| ck.get("phase2alg"))
        .map(|i| i.value.clone());
    c.pfsgroup = ck.get("pfsgroup").map(|i| i.value.clone());
    if let (Some(a), Some(_)) = (ck.get("esp"), ck.get("phase2alg")) {
        cx.error(
            a,
            "esp= and phase2alg= are the same setting; give one".into(),
        );
    }
}

/// whack's checks of lifetimes, rekeying and DPD (one implementation,
/// in ctl), said of the conn.
fn lifetimes(cx: &mut Ctx, c: &Connection) {
    if let Err(m) = ctl::check::times(c) {
        cx.error_at_section(m);
    }
}
