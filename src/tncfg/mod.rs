//! `ipsec tncfg` behind its command line: bind an `ipsecN` virtual device
//! to a physical device, unbind it, unbind all, list.
//!
//! Two kernels, two mechanisms, chosen by what the kernel offers:
//! - KLIPS (`/proc/net/ipsec_tncfg` exists): the ipsecN devices are KLIPS's
//!   own and the SIOCDEVPRIVATE ioctls bind them ([`klips`]);
//! - any other kernel (NETKEY/XFRM): `ipsecN` is created as an XFRM
//!   interface on the physical device, `--detach` deletes it ([`xfrm`]).
//!
//! The system calls are all in [`sys`]; [`netlink`] builds and parses the
//! rtnetlink messages as bytes.
#![deny(unsafe_code)]

pub mod klips;
pub mod netlink;
mod sys;
pub mod xfrm;

use std::path::Path;

/// A virtual device name: `ipsec` followed by N in decimal, no leading
/// zeros (so `ipsec0` and `ipsec00` cannot both name if_id 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualDevice {
    pub n: u32,
}

impl VirtualDevice {
    pub fn parse(name: &str) -> Result<VirtualDevice, String> {
        let bad =
            || format!("virtual device \"{name}\" is not of the form ipsecN (N a decimal number).");
        let digits = name.strip_prefix("ipsec").ok_or_else(bad)?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || (digits.len() > 1 && digits.starts_with('0'))
        {
            return Err(bad());
        }
        let n = digits.parse::<u32>().map_err(|_| bad())?;
        Ok(VirtualDevice { n })
    }

    pub fn name(&self) -> String {
        format!("ipsec{}", self.n)
    }
}

/// Checks a physical device name the way the kernel would take it:
/// 1 to 15 bytes (IFNAMSIZ with its NUL), none of them NUL, `/` or space.
pub fn check_physical(name: &str) -> Result<(), String> {
    let base = name.split(':').next().unwrap_or(name);
    if base.is_empty()
        || name.len() > 15
        || name
            .bytes()
            .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace())
    {
        return Err(format!(
            "physical device \"{name}\" is not a valid interface name."
        ));
    }
    Ok(())
}

/// What tncfg was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Attach { virt: VirtualDevice, phys: String },
    Detach { virt: VirtualDevice },
    Clear,
    List,
}

/// A failure, as the text after `<program>: ` on the one diagnostic line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub text: String,
}

impl Error {
    pub fn new(text: impl Into<String>) -> Error {
        Error { text: text.into() }
    }
}

/// The kernel mechanism tncfg uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Klips,
    Xfrm,
}

impl Backend {
    /// KLIPS when its proc files say it is loaded, else XFRM interfaces.
    pub fn detect() -> Backend {
        if Path::new(klips::PROC_TNCFG).exists() {
            Backend::Klips
        } else {
            Backend::Xfrm
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Backend::Klips => "KLIPS (SIOCDEVPRIVATE ioctls, /proc/net/ipsec_tncfg)",
            Backend::Xfrm => "XFRM interfaces (rtnetlink)",
        }
    }
}

/// `--debug` output: one line on stderr.
pub(crate) fn debug_line(s: &str) {
    crate::err_line(&format!("ipsec tncfg: debug: {s}"));
}

/// Performs `action`; returns the lines to print (the listing).
pub fn run(action: &Action, debug: bool) -> Result<Vec<String>, Error> {
    let backend = Backend::detect();
    if debug {
        debug_line(&format!("using {}", backend.describe()));
    }
    match backend {
        Backend::Klips => klips::run(action, debug),
        Backend::Xfrm => xfrm::run(action, debug),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_device_names() {
        assert_eq!(VirtualDevice::parse("ipsec0"), Ok(VirtualDevice { n: 0 }));
        assert_eq!(
            VirtualDevice::parse("ipsec17").map(|v| v.name()),
            Ok("ipsec17".into())
        );
        assert_eq!(
            VirtualDevice::parse("ipsec4294967295").map(|v| v.n),
            Ok(u32::MAX)
        );
        for bad in [
            "eth0",
            "ipsec",
            "ipsecX",
            "ipsec00",
            "ipsec01",
            "ipsec-1",
            "ipsec+1",
            "ipsec4294967296",
            "Ipsec0",
            " ipsec0",
        ] {
            let e = VirtualDevice::parse(bad).unwrap_err();
            assert!(e.contains("is not of the form ipsecN"), "{bad}: {e}");
        }
    }

    #[test]
    fn physical_device_names() {
        assert!(check_physical("eth0").is_ok());
        assert!(check_physical("eth0:1").is_ok());
        assert!(check_physical("abcdefghijklmno").is_ok());
        for bad in ["", ":1", "abcdefghijklmnop", "a/b", "a b", "a\0b"] {
            assert!(check_physical(bad).is_err(), "{bad:?}");
        }
    }
}
