//! From the words of an `ipsec spi` command line to a checked [`Request`]:
//! every rule of the command line (spec §5.4) is applied here, before
//! anything is sent, so bad input never reaches the kernel.

use super::alg::{self, Transform};
use crate::ctl::AddrFamily;
use crate::pfkey::wire::Lifetime;
use crate::said::{parse_said, SaProto, Said, MIN_SPI};
use crate::text::{numeric_arg, ttoaddr, ttodata};
use std::net::IpAddr;

/// The option values as given (the front end has checked each appears at
/// most once and that exactly one action was named).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `ah`, `esp`, `comp`, `ip4`, `ip6`, `del` or `clear`, with its algorithm.
    pub action: String,
    pub alg: Option<String>,
    pub said: Option<String>,
    pub af: Option<String>,
    pub edst: Option<String>,
    pub spi: Option<String>,
    pub proto: Option<String>,
    pub src: Option<String>,
    pub dst: Option<String>,
    pub life: Option<String>,
    pub replay_window: Option<String>,
    pub authkey: Option<String>,
    pub enckey: Option<String>,
    pub iv: Option<String>,
    pub natt: Option<String>,
    pub sport: Option<String>,
    pub dport: Option<String>,
    pub saref: bool,
}

/// What to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ah,
    Esp,
    Comp,
    /// IP-in-IP tunnel SA (KLIPS only).
    Ip4,
    Ip6,
}

/// What the command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add(Kind),
    Del,
    Clear,
}

/// NAT-T encapsulation of an ESP SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Natt {
    /// 0 none, 1 non-IKE marker (`nonike`), 2 non-ESP marker (`nonesp`, RFC 3948).
    pub encap: u8,
    pub sport: u16,
    pub dport: u16,
}

/// A checked `ipsec spi` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    /// The SA (not for `--clear`).
    pub said: Option<Said>,
    /// `--src`: the SA's source (tunnel source for `--ip4/--ip6`).
    pub src: Option<IpAddr>,
    pub transform: Option<Transform>,
    pub auth_key: Vec<u8>,
    pub enc_key: Vec<u8>,
    /// `--iv`, checked for its format; PF_KEY v2 has no extension to carry it.
    pub iv: Option<Vec<u8>>,
    pub replay_window: u8,
    pub soft: Option<Lifetime>,
    pub hard: Option<Lifetime>,
    pub natt: Option<Natt>,
    pub saref: bool,
}

fn family(text: &str) -> Result<AddrFamily, String> {
    match text {
        "inet" => Ok(AddrFamily::Ipv4),
        "inet6" => Ok(AddrFamily::Ipv6),
        _ => Err(format!(
            "unknown address family `{text}' for --af (inet or inet6)"
        )),
    }
}

/// The SA of `--said`, or of `--af --edst --spi --proto` (all four).
pub fn said_of(
    said: Option<&str>,
    af: Option<&str>,
    edst: Option<&str>,
    spi: Option<&str>,
    proto: Option<&str>,
) -> Result<Said, String> {
    if let Some(text) = said {
        if af.is_some() || edst.is_some() || spi.is_some() || proto.is_some() {
            return Err("--said conflicts with --af, --edst, --spi and --proto".into());
        }
        let s = parse_said(text).map_err(|e| format!("bad --said `{text}': {e}"))?;
        if s.spi < MIN_SPI && !s.is_magic() {
            return Err(format!(
                "SPI 0x{:x} of --said is below 0x{MIN_SPI:x} (0..0xff are reserved)",
                s.spi
            ));
        }
        return Ok(s);
    }
    let edst = edst.ok_or("missing --edst (or --said): the SA's destination is needed")?;
    let spi_text = spi.ok_or("missing --spi (or --said)")?;
    let proto_text = proto.ok_or("missing --proto (or --said)")?;
    let af = af.ok_or("missing --af (or --said)")?;
    let family = family(af)?;
    let dst = ttoaddr(edst, family).map_err(|e| format!("bad --edst `{edst}': {e}"))?;
    let spi = numeric_arg(spi_text)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("bad --spi `{spi_text}': not a number below 2^32"))?;
    if spi < MIN_SPI {
        return Err(format!(
            "--spi 0x{spi:x} is below 0x{MIN_SPI:x} (0..0xff are reserved)"
        ));
    }
    let proto = SaProto::from_name(proto_text)
        .filter(|p| *p != SaProto::Int)
        .ok_or_else(|| format!("unknown --proto `{proto_text}' (ah, esp, comp or tun)"))?;
    Ok(Said { proto, spi, dst })
}

fn key(text: &str, what: &str) -> Result<Vec<u8>, String> {
    ttodata(text.as_bytes())
        .map_err(|e| format!("bad {what} `{}...': {e}", text.get(..2).unwrap_or(text)))
}

/// `--life soft|hard-allocations|bytes|addtime|usetime|packets=N[,...]`.
pub fn parse_life(text: &str) -> Result<(Option<Lifetime>, Option<Lifetime>), String> {
    let (mut soft, mut hard): (Option<Lifetime>, Option<Lifetime>) = (None, None);
    for item in text.split(',') {
        let bad = || {
            format!(
                "bad --life item `{item}' (soft|hard-allocations|bytes|addtime|usetime|packets=N)"
            )
        };
        let (name, value) = item.split_once('=').ok_or_else(bad)?;
        let (which, field) = name.split_once('-').ok_or_else(bad)?;
        let value = numeric_arg(value).ok_or_else(bad)?;
        let lt = match which {
            "soft" => soft.get_or_insert_with(Lifetime::default),
            "hard" => hard.get_or_insert_with(Lifetime::default),
            _ => return Err(bad()),
        };
        let small = || u32::try_from(value).map_err(|_| bad());
        match field {
            "allocations" => lt.allocations = small()?,
            "bytes" => lt.bytes = value,
            "addtime" => lt.addtime = value,
            "usetime" => lt.usetime = value,
            "packets" => lt.packets = small()?,
            _ => return Err(bad()),
        }
    }
    Ok((soft, hard))
}

fn natt(args: &Args) -> Result<Option<Natt>, String> {
    let port = |v: &Option<String>, what: &str| -> Result<u16, String> {
        match v {
            None => Ok(0),
            Some(t) => numeric_arg(t)
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("bad {what} `{t}': not a port number")),
        }
    };
    // 2.4.9 stored --sport as the destination port and --dport as the
    // source port; here each sets the port it names.
    let sport = port(&args.sport, "--sport")?;
    let dport = port(&args.dport, "--dport")?;
    let encap = match args.natt.as_deref() {
        None if args.sport.is_none() && args.dport.is_none() => return Ok(None),
        None => return Err("--sport/--dport need --natt".into()),
        Some("none") => 0,
        Some("nonike") => 1,
        Some("nonesp") => 2,
        Some(t) => numeric_arg(t)
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| format!("bad --natt `{t}' (none, nonesp, nonike or a number)"))?,
    };
    Ok(Some(Natt {
        encap,
        sport,
        dport,
    }))
}

impl Request {
    /// Checks `args`; the error is the one line to print.
    pub fn from_args(args: &Args) -> Result<Request, String> {
        let action = match args.action.as_str() {
            "ah" => Action::Add(Kind::Ah),
            "esp" => Action::Add(Kind::Esp),
            "comp" => Action::Add(Kind::Comp),
            "ip4" => Action::Add(Kind::Ip4),
            "ip6" => Action::Add(Kind::Ip6),
            "del" => Action::Del,
            "clear" => Action::Clear,
            other => return Err(format!("unknown action `{other}'")),
        };
        let mut req = Request {
            action,
            said: None,
            src: None,
            transform: None,
            auth_key: Vec::new(),
            enc_key: Vec::new(),
            iv: None,
            replay_window: 0,
            soft: None,
            hard: None,
            natt: None,
            saref: args.saref,
        };
        if action == Action::Clear {
            return Ok(req);
        }
        let said = said_of(
            args.said.as_deref(),
            args.af.as_deref(),
            args.edst.as_deref(),
            args.spi.as_deref(),
            args.proto.as_deref(),
        )?;
        if said.is_magic() {
            return Err(format!("{said} is an eroute shunt, not an SA"));
        }
        let family = said.family();
        let addr =
            |t: &str, what: &str| ttoaddr(t, family).map_err(|e| format!("bad {what} `{t}': {e}"));
        req.src = args.src.as_deref().map(|t| addr(t, "--src")).transpose()?;
        if let Some(d) = args.dst.as_deref() {
            // 2.4.9 parsed --dst and dropped it; here it is checked.
            let d = addr(d, "--dst")?;
            if d != said.dst {
                return Err(format!(
                    "--dst {d} differs from the SA's destination {}",
                    said.dst
                ));
            }
        }
        req.said = Some(said);
        if let Action::Add(kind) = action {
            let want = match kind {
                Kind::Ah => SaProto::Ah,
                Kind::Esp => SaProto::Esp,
                Kind::Comp => SaProto::Comp,
                Kind::Ip4 | Kind::Ip6 => SaProto::Tun,
            };
            if said.proto != want {
                return Err(format!(
                    "--{} needs an SA of protocol {}, not {said}",
                    args.action,
                    want.name()
                ));
            }
            req.add_details(kind, args)?;
        } else if args.alg.is_some() || args.enckey.is_some() || args.authkey.is_some() {
            return Err("--del takes no algorithm or keys".into());
        }
        Ok(req)
    }

    fn add_details(&mut self, kind: Kind, args: &Args) -> Result<(), String> {
        let alg_text = args.alg.as_deref().unwrap_or("");
        let transform = match kind {
            Kind::Ah => Some(alg::parse_ah(alg_text)?),
            Kind::Esp => Some(alg::parse_esp(alg_text)?),
            Kind::Comp => Some(alg::parse_comp(alg_text)?),
            Kind::Ip4 | Kind::Ip6 => None,
        };
        if let Some(said) = self.said {
            if kind == Kind::Comp && said.spi > 0xffff {
                return Err(format!("CPI 0x{:x} does not fit in 16 bits", said.spi));
            }
            if matches!(kind, Kind::Ip4 | Kind::Ip6) {
                let src = self
                    .src
                    .ok_or("--ip4/--ip6 need --src ENCAP_SRC (the tunnel's source)")?;
                if (kind == Kind::Ip6) != src.is_ipv6() {
                    return Err(format!(
                        "--{} does not match the family of --src {src}",
                        args.action
                    ));
                }
            }
        }
        let enc = transform
            .and_then(|t| t.enc)
            .filter(|e| !e.key_bytes.is_empty());
        let auth = transform.and_then(|t| t.auth);
        match (enc, &args.enckey) {
            (Some(e), Some(k)) => {
                self.enc_key = key(k, "--enckey")?;
                alg::check_enc_key(&e, &self.enc_key)?;
            }
            (Some(_), None) => return Err(format!("--{} {alg_text} needs --enckey", args.action)),
            (None, Some(_)) => return Err(format!("--{} takes no --enckey", args.action)),
            (None, None) => {}
        }
        match (auth, &args.authkey) {
            (Some(a), Some(k)) => {
                self.auth_key = key(k, "--authkey")?;
                alg::check_auth_key(&a, &self.auth_key)?;
            }
            (Some(_), None) => return Err(format!("--{} {alg_text} needs --authkey", args.action)),
            (None, Some(_)) => {
                return Err(format!(
                    "--{} {alg_text} takes no --authkey (no authentication algorithm)",
                    args.action
                ))
            }
            (None, None) => {}
        }
        self.transform = transform;
        self.iv = args.iv.as_deref().map(|t| key(t, "--iv")).transpose()?;
        if let Some(w) = &args.replay_window {
            let n = numeric_arg(w)
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| format!("bad --replay_window `{w}' (1..64)"))?;
            self.replay_window = n as u8;
        }
        if let Some(l) = &args.life {
            (self.soft, self.hard) = parse_life(l)?;
        }
        self.natt = natt(args)?;
        if self.natt.is_some() && kind != Kind::Esp {
            return Err("--natt applies to ESP SAs only".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esp_args() -> Args {
        Args {
            action: "esp".into(),
            alg: Some("3des-sha1-96".into()),
            said: Some("esp.1001@192.0.2.2".into()),
            src: Some("192.0.2.1".into()),
            enckey: Some(format!("0x{}", "01".repeat(24))),
            authkey: Some(format!("0x{}", "02".repeat(20))),
            ..Args::default()
        }
    }

    #[test]
    fn esp_request() {
        let r = Request::from_args(&esp_args()).unwrap();
        assert_eq!(r.action, Action::Add(Kind::Esp));
        assert_eq!(r.said.unwrap().spi, 0x1001);
        assert_eq!(r.enc_key, vec![1; 24]);
        assert_eq!(r.auth_key, vec![2; 20]);
        assert_eq!(r.src, Some("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn bad_inputs() {
        let check = |f: &dyn Fn(&mut Args), want: &str| {
            let mut a = esp_args();
            f(&mut a);
            let e = Request::from_args(&a).unwrap_err();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        };
        check(&|a| a.alg = Some("rot13".into()), "unknown ESP transform");
        check(
            &|a| a.enckey = Some("0x0102".into()),
            "encryption key of 16 bits",
        );
        check(
            &|a| a.authkey = Some("0x0102".into()),
            "authentication key of 16 bits",
        );
        check(&|a| a.enckey = Some("0102".into()), "format prefix");
        check(&|a| a.said = Some("esp.ff@192.0.2.2".into()), "below 0x100");
        check(
            &|a| a.said = Some("ah.1001@192.0.2.2".into()),
            "needs an SA of protocol esp",
        );
        check(&|a| a.enckey = None, "needs --enckey");
        check(&|a| a.dst = Some("192.0.2.9".into()), "differs");
        check(&|a| a.replay_window = Some("65".into()), "replay_window");
        check(&|a| a.af = Some("inet".into()), "conflicts");
        check(
            &|a| {
                a.said = None;
                a.af = Some("inet".into());
                a.spi = Some("0x1001".into());
                a.proto = Some("esp".into());
            },
            "missing --edst",
        );
        check(
            &|a| {
                a.said = None;
                a.af = Some("inet".into());
                a.edst = Some("192.0.2.2".into());
                a.spi = Some("255".into());
                a.proto = Some("esp".into());
            },
            "below 0x100",
        );
        check(&|a| a.life = Some("soft-bytes".into()), "--life");
        check(&|a| a.sport = Some("4500".into()), "need --natt");
    }

    #[test]
    fn four_option_form_and_life() {
        let a = Args {
            action: "ah".into(),
            alg: Some("hmac-md5-96".into()),
            af: Some("inet".into()),
            edst: Some("10.0.0.1".into()),
            spi: Some("0x200".into()),
            proto: Some("ah".into()),
            authkey: Some(format!("0x{}", "ab".repeat(16))),
            life: Some("soft-bytes=1000,hard-addtime=60,hard-packets=9".into()),
            replay_window: Some("32".into()),
            ..Args::default()
        };
        let r = Request::from_args(&a).unwrap();
        assert_eq!(r.said.unwrap().to_string(), "ah0x200@10.0.0.1");
        assert_eq!(r.soft.unwrap().bytes, 1000);
        assert_eq!(r.hard.unwrap().addtime, 60);
        assert_eq!(r.hard.unwrap().packets, 9);
        assert_eq!(r.replay_window, 32);
    }

    #[test]
    fn sport_and_dport_are_not_swapped() {
        let mut a = esp_args();
        a.natt = Some("nonesp".into());
        a.sport = Some("4500".into());
        a.dport = Some("4501".into());
        let n = Request::from_args(&a).unwrap().natt.unwrap();
        assert_eq!((n.encap, n.sport, n.dport), (2, 4500, 4501));
    }

    #[test]
    fn ip4_needs_src() {
        let a = Args {
            action: "ip4".into(),
            said: Some("tun.1001@192.0.2.2".into()),
            ..Args::default()
        };
        assert!(Request::from_args(&a).unwrap_err().contains("--src"));
        let a = Args {
            src: Some("192.0.2.1".into()),
            ..a
        };
        assert_eq!(
            Request::from_args(&a).unwrap().action,
            Action::Add(Kind::Ip4)
        );
    }
}
