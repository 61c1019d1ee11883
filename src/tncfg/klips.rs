//! KLIPS: the `ipsecN` devices exist in the kernel already, and tncfg binds
//! them to a physical device with the SIOCDEVPRIVATE ioctls of
//! `ipsec_tunnel.h`, on an AF_INET datagram socket:
//!
//! ```text
//! struct ifreq (40 bytes):  ifr_name[16] = virtual device
//!   at 16 (ifr_data):       struct ipsectunnelconf { __u32 cf_cmd; char cf_name[12]; }
//! ```
//!
//! `cf_cmd` repeats the ioctl number and `cf_name` is the physical device.
//! The listing is `/proc/net/ipsec_tncfg`, printed as it is.
#![forbid(unsafe_code)]

use super::sys::{self, IoctlFailure};
use super::{Action, Error};

/// IPSEC_SET_DEV = SIOCDEVPRIVATE: attach.
pub const IPSEC_SET_DEV: u32 = 0x89F0;
/// IPSEC_DEL_DEV: detach.
pub const IPSEC_DEL_DEV: u32 = 0x89F1;
/// IPSEC_CLR_DEV: detach every ipsecN.
pub const IPSEC_CLR_DEV: u32 = 0x89F2;

/// The listing KLIPS keeps; its presence also says KLIPS is loaded.
pub const PROC_TNCFG: &str = "/proc/net/ipsec_tncfg";

/// `sizeof(struct ifreq)` on Linux.
const IFREQ_LEN: usize = 40;
/// `IFNAMSIZ`: ifr_name, NUL included.
const IFNAMSIZ: usize = 16;
/// `cf_name`, NUL included (the original overflowed it with strcpy).
pub const CF_NAME_LEN: usize = 12;

/// The ioctl number and the `struct ifreq` argument for `action`. Names
/// that do not fit (with their NUL) are refused here, before any system
/// call.
pub fn ioctl_arg(action: &Action) -> Result<(u32, [u8; IFREQ_LEN]), Error> {
    let (cmd, virt, phys) = match action {
        Action::Attach { virt, phys } => (IPSEC_SET_DEV, virt.name(), Some(phys.as_str())),
        Action::Detach { virt } => (IPSEC_DEL_DEV, virt.name(), None),
        // The kernel clears every device whatever the name; tncfg always
        // named ipsec0.
        Action::Clear => (IPSEC_CLR_DEV, "ipsec0".to_string(), None),
        Action::List => return Err(Error::new("internal: listing is not an ioctl")),
    };
    let mut ifr = [0u8; IFREQ_LEN];
    if virt.len() >= IFNAMSIZ {
        return Err(Error::new(format!(
            "virtual device name \"{virt}\" is too long (at most {} characters).",
            IFNAMSIZ - 1
        )));
    }
    ifr[..virt.len()].copy_from_slice(virt.as_bytes());
    ifr[16..20].copy_from_slice(&cmd.to_ne_bytes());
    if let Some(phys) = phys {
        if phys.len() >= CF_NAME_LEN {
            return Err(Error::new(format!(
                "physical device name \"{phys}\" is too long for KLIPS (at most {} characters).",
                CF_NAME_LEN - 1
            )));
        }
        ifr[20..20 + phys.len()].copy_from_slice(phys.as_bytes());
    }
    Ok((cmd, ifr))
}

/// The text tncfg printed for a failed `socket()`.
pub fn socket_error_text(errno: i32, root: bool) -> String {
    match errno {
        libc::EACCES if root => "Root denied permission!?!".into(),
        libc::EACCES => "Run as root user.".into(),
        libc::EPROTONOSUPPORT => "Internet Protocol not enabled".into(),
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS => "Insufficient system resources.".into(),
        libc::ENODEV => "No such device.  Is the virtual device valid?  Is the ipsec module linked into the kernel or loaded as a module?".into(),
        _ => format!("Unknown socket error {errno}."),
    }
}

/// The text tncfg printed for a failed ioctl: `Socket ioctl failed on
/// <what> -- <why>`.
pub fn ioctl_error_text(cmd: u32, virt: &str, errno: i32) -> String {
    const EINVAL_TEXT: &str = "Invalid argument, check kernel log messages for specifics.";
    let (what, why) = match (cmd, errno) {
        (_, libc::EINVAL) => (verb(cmd), EINVAL_TEXT.to_string()),
        (IPSEC_SET_DEV, libc::ENODEV) => ("attach", "No such device.  Is the virtual device valid?  Is the ipsec module linked into the kernel or loaded as a module?".into()),
        (IPSEC_SET_DEV, libc::ENXIO) => ("attach", "No such device.  Is the physical device valid?".into()),
        (IPSEC_SET_DEV, libc::EBUSY) => ("attach", format!("Device busy.  Virtual device {virt} is already attached to a physical device -- Use detach first.")),
        (IPSEC_DEL_DEV, libc::ENODEV) => ("detach", "No such device.  Is the virtual device valid?  The ipsec module may not be linked into the kernel or loaded as a module.".into()),
        (IPSEC_DEL_DEV, libc::ENXIO) => ("detach", "Device requested is not linked to any physical device.".into()),
        (IPSEC_CLR_DEV, libc::ENODEV) => ("clear", "Failed.  Is the ipsec module linked into the kernel or loaded as a module?.".into()),
        _ => (verb(cmd), format!("Unknown socket error {errno}.")),
    };
    format!("Socket ioctl failed on {what} -- {why}")
}

fn verb(cmd: u32) -> &'static str {
    match cmd {
        IPSEC_SET_DEV => "attach",
        IPSEC_DEL_DEV => "detach",
        _ => "clear",
    }
}

/// Runs `action` against KLIPS; the listing is returned as its lines.
pub fn run(action: &Action, debug: bool) -> Result<Vec<String>, Error> {
    if let Action::List = action {
        let text = std::fs::read_to_string(PROC_TNCFG)
            .map_err(|e| Error::new(format!("cannot read {PROC_TNCFG}: {e}")))?;
        return Ok(text.lines().map(str::to_string).collect());
    }
    let (cmd, mut ifr) = ioctl_arg(action)?;
    if debug {
        super::debug_line(&format!("KLIPS ioctl {cmd:#x}, ifreq {}", hex(&ifr)));
    }
    let virt_end = ifr[..IFNAMSIZ]
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(IFNAMSIZ);
    let virt = String::from_utf8_lossy(&ifr[..virt_end]).into_owned();
    match sys::klips_ioctl(cmd, &mut ifr) {
        Ok(()) => Ok(Vec::new()),
        Err(IoctlFailure::Socket(errno)) => Err(Error::new(format!(
            "Socket creation failed -- {}",
            socket_error_text(errno, is_root())
        ))),
        Err(IoctlFailure::Ioctl(errno)) => Err(Error::new(ioctl_error_text(cmd, &virt, errno))),
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tncfg::VirtualDevice;

    fn virt(s: &str) -> VirtualDevice {
        VirtualDevice::parse(s).unwrap()
    }

    #[test]
    fn attach_argument_bytes() {
        let a = Action::Attach {
            virt: virt("ipsec0"),
            phys: "eth0".into(),
        };
        let (cmd, ifr) = ioctl_arg(&a).unwrap();
        assert_eq!(cmd, 0x89F0);
        let mut want = [0u8; 40];
        want[..6].copy_from_slice(b"ipsec0");
        want[16..20].copy_from_slice(&0x89F0u32.to_ne_bytes());
        want[20..24].copy_from_slice(b"eth0");
        assert_eq!(ifr, want);
        // on x86_64 (little endian) cf_cmd reads f0 89 00 00
        #[cfg(target_endian = "little")]
        assert_eq!(&ifr[16..20], &[0xf0, 0x89, 0, 0]);
    }

    #[test]
    fn detach_and_clear_argument_bytes() {
        let (cmd, ifr) = ioctl_arg(&Action::Detach {
            virt: virt("ipsec12"),
        })
        .unwrap();
        assert_eq!(cmd, 0x89F1);
        let mut want = [0u8; 40];
        want[..7].copy_from_slice(b"ipsec12");
        want[16..20].copy_from_slice(&0x89F1u32.to_ne_bytes());
        assert_eq!(ifr, want);

        let (cmd, ifr) = ioctl_arg(&Action::Clear).unwrap();
        assert_eq!(cmd, 0x89F2);
        let mut want = [0u8; 40];
        want[..6].copy_from_slice(b"ipsec0");
        want[16..20].copy_from_slice(&0x89F2u32.to_ne_bytes());
        assert_eq!(ifr, want);
    }

    #[test]
    fn physical_names_that_overflow_cf_name_are_refused() {
        let ok = Action::Attach {
            virt: virt("ipsec1"),
            phys: "abcdefghijk".into(), // 11 + NUL = 12
        };
        let (_, ifr) = ioctl_arg(&ok).unwrap();
        assert_eq!(&ifr[20..32], b"abcdefghijk\0");
        assert_eq!(&ifr[32..], &[0u8; 8]);
        let long = Action::Attach {
            virt: virt("ipsec1"),
            phys: "abcdefghijkl".into(),
        };
        let e = ioctl_arg(&long).unwrap_err();
        assert!(e.text.contains("too long for KLIPS"), "{}", e.text);
    }

    #[test]
    fn errno_texts() {
        assert_eq!(
            ioctl_error_text(IPSEC_SET_DEV, "ipsec0", libc::EBUSY),
            "Socket ioctl failed on attach -- Device busy.  Virtual device ipsec0 is already attached to a physical device -- Use detach first."
        );
        assert_eq!(
            ioctl_error_text(IPSEC_SET_DEV, "ipsec0", libc::ENXIO),
            "Socket ioctl failed on attach -- No such device.  Is the physical device valid?"
        );
        assert_eq!(
            ioctl_error_text(IPSEC_DEL_DEV, "ipsec0", libc::ENXIO),
            "Socket ioctl failed on detach -- Device requested is not linked to any physical device."
        );
        assert!(
            ioctl_error_text(IPSEC_DEL_DEV, "ipsec0", libc::ENODEV).ends_with(
                "The ipsec module may not be linked into the kernel or loaded as a module."
            )
        );
        assert_eq!(
            ioctl_error_text(IPSEC_CLR_DEV, "ipsec0", libc::EINVAL),
            "Socket ioctl failed on clear -- Invalid argument, check kernel log messages for specifics."
        );
        assert_eq!(
            ioctl_error_text(IPSEC_CLR_DEV, "ipsec0", libc::EPERM),
            "Socket ioctl failed on clear -- Unknown socket error 1."
        );
        assert_eq!(socket_error_text(libc::EACCES, false), "Run as root user.");
        assert_eq!(
            socket_error_text(libc::ENOBUFS, true),
            "Insufficient system resources."
        );
    }
}
