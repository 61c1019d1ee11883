//! SA identifiers ("SAIDs") as FreeS/WAN writes them, shared by `ipsec spi`
//! and `ipsec eroute`: libopenswan `ttosa` (parsing, magic names) and `satot`
//! with the `'x'` format (the text of /proc/net/ipsec_spi and ipsec_eroute),
//! and which kernel IPsec stack the tools talk to.
//!
//! A SAID is `<proto><sep><spi>@<addr>`: proto `ah`, `esp`, `comp`, `tun` or
//! `int`; sep `.` (IPv4, hex SPI), `:` (IPv6, hex SPI) or nothing (SPI in C
//! notation, family from the address).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use crate::ctl::AddrFamily;
use crate::text::{numeric_arg, ttoaddr};
use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The protocol part of a SAID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaProto {
    Ah,
    Esp,
    /// IPCOMP (`comp`): the SPI is the CPI.
    Comp,
    /// IP-in-IP (`tun`), KLIPS's tunnel SA.
    Tun,
    /// KLIPS's internal shunts (`int`): %pass, %drop...
    Int,
}

impl SaProto {
    /// The name in SAID text.
    pub fn name(self) -> &'static str {
        match self {
            SaProto::Ah => "ah",
            SaProto::Esp => "esp",
            SaProto::Comp => "comp",
            SaProto::Tun => "tun",
            SaProto::Int => "int",
        }
    }

    /// `--proto` values and SAID prefixes.
    pub fn from_name(name: &str) -> Option<SaProto> {
        [
            SaProto::Ah,
            SaProto::Esp,
            SaProto::Comp,
            SaProto::Tun,
            SaProto::Int,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// KLIPS `proto2satype`: AH 2, ESP 3, IPIP 9, COMP 10, INT 11.
    pub fn klips_satype(self) -> u8 {
        match self {
            SaProto::Ah => 2,
            SaProto::Esp => 3,
            SaProto::Tun => 9,
            SaProto::Comp => 10,
            SaProto::Int => 11,
        }
    }
}

/// The SPIs of KLIPS's shunt SAs (`int<spi>@0.0.0.0`).
pub const SPI_PASS: u32 = 256;
pub const SPI_DROP: u32 = 257;
pub const SPI_REJECT: u32 = 258;
pub const SPI_HOLD: u32 = 259;
pub const SPI_TRAP: u32 = 260;
pub const SPI_TRAPSUBNET: u32 = 261;

/// Smallest SPI the tools accept: 0..=0xFF are reserved by IANA.
pub const MIN_SPI: u32 = 0x100;

const MAGIC: &[(&str, SaProto, u32, bool)] = &[
    ("%pass", SaProto::Int, SPI_PASS, false),
    ("%drop", SaProto::Int, SPI_DROP, false),
    ("%reject", SaProto::Int, SPI_REJECT, false),
    ("%hold", SaProto::Int, SPI_HOLD, false),
    ("%trap", SaProto::Int, SPI_TRAP, false),
    ("%trapsubnet", SaProto::Int, SPI_TRAPSUBNET, false),
    ("%passthrough4", SaProto::Tun, 0, false),
    ("%passthrough6", SaProto::Tun, 0, true),
];

/// One SA identifier: protocol, SPI, destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Said {
    pub proto: SaProto,
    pub spi: u32,
    pub dst: IpAddr,
}

impl Said {
    /// The magic name this SAID has, if any (`%pass`, `%passthrough4`...).
    pub fn magic_name(&self) -> Option<&'static str> {
        if !self.dst.is_unspecified() {
            return None;
        }
        MAGIC
            .iter()
            .find(|(_, p, spi, v6)| {
                *p == self.proto && *spi == self.spi && *v6 == self.dst.is_ipv6()
            })
            .map(|(n, ..)| *n)
    }

    /// A shunt (`int` SAID or a passthrough): no SA behind it, so the SPI
    /// floor does not apply to it.
    pub fn is_magic(&self) -> bool {
        self.magic_name().is_some()
    }

    /// The address family of the destination.
    pub fn family(&self) -> AddrFamily {
        AddrFamily::of(&self.dst)
    }
}

/// satot's `'x'` format: `esp0x1001@192.0.2.2`, magic SAIDs by name.
impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.magic_name() {
            return f.write_str(name);
        }
        write!(f, "{}0x{:x}@{}", self.proto.name(), self.spi, self.dst)
    }
}

/// libopenswan `ttosa`: SAID text or one of the magic names.
pub fn parse_said(text: &str) -> Result<Said, String> {
    if text == "%passthrough" {
        return parse_said("%passthrough4");
    }
    if let Some((_, proto, spi, v6)) = MAGIC.iter().find(|(n, ..)| *n == text) {
        let dst = if *v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok(Said {
            proto: *proto,
            spi: *spi,
            dst,
        });
    }
    if text.starts_with('%') {
        return Err(format!("unknown magic SA name `{text}'"));
    }
    let (left, addr_text) = text
        .split_once('@')
        .ok_or_else(|| "no @ in SA specifier".to_string())?;
    let plen = left.bytes().take_while(u8::is_ascii_alphabetic).count();
    let proto_name = left.get(..plen).unwrap_or("");
    let proto = SaProto::from_name(proto_name)
        .ok_or_else(|| "SA specifier lacks valid protocol prefix".to_string())?;
    let rest = left.get(plen..).unwrap_or("");
    let (family, spi_text, hex) = if let Some(s) = rest.strip_prefix('.') {
        (Some(AddrFamily::Ipv4), s, true)
    } else if let Some(s) = rest.strip_prefix(':') {
        (Some(AddrFamily::Ipv6), s, true)
    } else {
        (None, rest, false)
    };
    if spi_text.is_empty() {
        return Err("SPI number missing".into());
    }
    let spi = if hex {
        u32::from_str_radix(spi_text, 16).map_err(|_| "SPI is not a hex number".to_string())?
    } else {
        numeric_arg(spi_text)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| "SPI is not a number below 2^32".to_string())?
    };
    let family = family.unwrap_or(if addr_text.contains(':') {
        AddrFamily::Ipv6
    } else {
        AddrFamily::Ipv4
    });
    let dst = ttoaddr(addr_text, family).map_err(|e| format!("bad address in SA: {e}"))?;
    Ok(Said { proto, spi, dst })
}

/// The kernel IPsec stack the manual tools talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// Openswan's KLIPS: /proc/net/ipsec_* exist; PF_KEY with the KLIPS
    /// extensions, listings read from /proc.
    Klips,
    /// Linux XFRM with `af_key` (/proc/net/pfkey, no ipsec_* files):
    /// listings come from SADB_DUMP / SADB_X_SPDDUMP.
    Netkey,
    /// Linux XFRM without `af_key`: the same PF_KEY messages, translated to
    /// XFRM netlink ([`crate::xfrm::afkey`]); listings from XFRM dumps.
    Xfrm,
    /// Neither: nothing to talk to.
    None,
}

impl Stack {
    /// Looks at /proc/net the way the tools' documentation describes; with
    /// neither KLIPS nor PF_KEY there, an XFRM netlink socket tells whether
    /// the kernel has XFRM (a refusal other than "no such protocol", such
    /// as EPERM, still means it has).
    pub fn detect() -> Stack {
        match Stack::detect_in(Path::new("/proc/net")) {
            Stack::None => match crate::xfrm::XfrmSocket::open() {
                Err(crate::xfrm::XfrmError::Unavailable { .. }) => Stack::None,
                _ => Stack::Xfrm,
            },
            s => s,
        }
    }

    /// NETKEY either way (PF_KEY or XFRM netlink).
    pub fn is_netkey(self) -> bool {
        matches!(self, Stack::Netkey | Stack::Xfrm)
    }

    /// As [`Stack::detect`], for a /proc/net-like directory.
    pub fn detect_in(proc_net: &Path) -> Stack {
        let klips = ["ipsec_spi", "ipsec_eroute", "ipsec_tncfg"]
            .iter()
            .any(|f| proc_net.join(f).exists());
        if klips {
            Stack::Klips
        } else if proc_net.join("pfkey").exists() {
            Stack::Netkey
        } else {
            Stack::None
        }
    }
}

/// The any-address of a family (`0.0.0.0` or `::`).
pub fn any_addr(family: AddrFamily) -> IpAddr {
    match family {
        AddrFamily::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AddrFamily::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn said_forms() {
        let s = parse_said("esp.1001@192.0.2.2").unwrap();
        assert_eq!(s.proto, SaProto::Esp);
        assert_eq!(s.spi, 0x1001);
        assert_eq!(s.dst, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(s.to_string(), "esp0x1001@192.0.2.2");
        let s = parse_said("tun0x130@192.168.43.1").unwrap();
        assert_eq!((s.proto, s.spi), (SaProto::Tun, 0x130));
        let s = parse_said("ah256@10.0.0.1").unwrap();
        assert_eq!((s.proto, s.spi), (SaProto::Ah, 256));
        let s = parse_said("comp:3d0@2001:db8::1").unwrap();
        assert_eq!((s.proto, s.spi), (SaProto::Comp, 0x3d0));
        assert!(s.dst.is_ipv6());
        assert_eq!(s.to_string(), "comp0x3d0@2001:db8::1");
    }

    #[test]
    fn said_errors() {
        assert!(parse_said("esp.1001").is_err());
        assert!(parse_said("xyz.1001@1.2.3.4").is_err());
        assert!(parse_said("esp.zz@1.2.3.4").is_err());
        assert!(parse_said("esp@1.2.3.4").is_err());
        assert!(parse_said("esp.100@1.2.3.4.5").is_err());
        assert!(parse_said("esp0x100000000@1.2.3.4").is_err());
        assert!(parse_said("%nonsense").is_err());
        // IPv6 separator with an IPv4 address.
        assert!(parse_said("esp:100@1.2.3.4").is_err());
    }

    #[test]
    fn magic_names_round_trip() {
        for (name, proto, spi, _) in MAGIC {
            let s = parse_said(name).unwrap();
            assert_eq!((s.proto, s.spi), (*proto, *spi));
            assert_eq!(s.to_string(), *name);
            assert!(s.is_magic());
        }
        assert_eq!(
            parse_said("%passthrough").unwrap().to_string(),
            "%passthrough4"
        );
        assert_eq!(parse_said("int0x104@0.0.0.0").unwrap().to_string(), "%trap");
        assert!(!parse_said("int0x104@1.2.3.4").unwrap().is_magic());
    }

    #[test]
    fn stack_detection() {
        let dir = std::env::temp_dir().join(format!("said-stack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(Stack::detect_in(&dir), Stack::None);
        std::fs::write(dir.join("pfkey"), "").unwrap();
        assert_eq!(Stack::detect_in(&dir), Stack::Netkey);
        std::fs::write(dir.join("ipsec_eroute"), "").unwrap();
        assert_eq!(Stack::detect_in(&dir), Stack::Klips);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
