//! Kernels without KLIPS: `ipsecN` becomes an XFRM interface (kind `xfrm`,
//! Linux 4.19 and later) made over rtnetlink, bound to the physical device
//! by IFLA_XFRM_LINK.
//!
//! The if_id rule: `ipsecN` gets `if_id = N + 1`. A packet routed into an
//! XFRM interface only matches policies and SAs whose if_id equals the
//! interface's; Linux refuses if_id 0 for an interface (since 5.17, and in
//! the stable kernels that took the fix: "if_id must be non zero"), so N
//! itself cannot be used for ipsec0.
#![forbid(unsafe_code)]

use super::netlink::{self, Link};
use super::sys::RouteSocket;
use super::{Action, Error, VirtualDevice};

/// The if_id of `ipsecN`; `None` when N + 1 does not fit in 32 bits.
pub fn if_id(n: u32) -> Option<u32> {
    n.checked_add(1)
}

/// Receive buffer: a link dump datagram is at most a page or two, but a
/// short buffer would cut it, so leave room.
const RECV_BUF: usize = 64 * 1024;

/// A conversation with rtnetlink: requests with increasing sequence numbers.
struct Rtnl {
    sock: RouteSocket,
    seq: u32,
    buf: Vec<u8>,
    debug: bool,
}

/// A refused request: errno and the kernel's extended-ack text.
struct Refusal {
    errno: i32,
    text: Option<String>,
}

impl Refusal {
    fn describe(&self) -> String {
        let mut s = strerror(self.errno);
        if self.errno == libc::EOPNOTSUPP {
            s.push_str(" (no XFRM interface support: is the xfrm_interface module available?)");
        }
        if let Some(t) = self.text.as_deref().filter(|t| !t.is_empty()) {
            s.push_str(&format!(" ({t})"));
        }
        s
    }
}

/// The C library's text for `errno`, without Rust's "(os error N)".
fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(at) => s[..at].to_string(),
        None => s,
    }
}

impl Rtnl {
    fn open(debug: bool) -> Result<Rtnl, Error> {
        let sock = RouteSocket::open()
            .map_err(|e| Error::new(format!("cannot open rtnetlink socket -- {}", strerror(e))))?;
        Ok(Rtnl {
            sock,
            seq: std::process::id(),
            buf: vec![0; RECV_BUF],
            debug,
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send(&mut self, msg: &[u8]) -> Result<(), Error> {
        if self.debug {
            super::debug_line(&format!("rtnetlink send {}", hex(msg)));
        }
        self.sock
            .send(msg)
            .map_err(|e| Error::new(format!("rtnetlink send failed -- {}", strerror(e))))
    }

    fn recv(&mut self) -> Result<usize, Error> {
        self.sock.recv(&mut self.buf).map_err(|e| {
            let why = if e == libc::EAGAIN || e == libc::EWOULDBLOCK {
                "no answer from the kernel".to_string()
            } else {
                strerror(e)
            };
            Error::new(format!("rtnetlink receive failed -- {why}"))
        })
    }

    /// Every link of the namespace.
    fn links(&mut self) -> Result<Vec<Link>, Error> {
        let seq = self.next_seq();
        self.send(&netlink::dump_links(seq))?;
        let mut links = Vec::new();
        loop {
            let n = self.recv()?;
            let data = self.buf.get(..n).unwrap_or(&[]);
            for m in netlink::messages(data).map_err(Error::new)? {
                if m.seq != seq {
                    continue;
                }
                match m.kind {
                    netlink::NLMSG_DONE => return Ok(links),
                    netlink::NLMSG_ERROR => {
                        let (errno, text) =
                            netlink::parse_error(m.flags, m.payload).map_err(Error::new)?;
                        let r = Refusal { errno, text };
                        return Err(Error::new(format!("cannot list links -- {}", r.describe())));
                    }
                    netlink::RTM_NEWLINK => {
                        links.push(netlink::parse_link(m.payload).map_err(Error::new)?)
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a request that asks for an acknowledgement and waits for it.
    fn request(
        &mut self,
        build: impl FnOnce(u32) -> Vec<u8>,
    ) -> Result<Result<(), Refusal>, Error> {
        let seq = self.next_seq();
        self.send(&build(seq))?;
        loop {
            let n = self.recv()?;
            let data = self.buf.get(..n).unwrap_or(&[]);
            for m in netlink::messages(data).map_err(Error::new)? {
                if m.seq != seq || m.kind != netlink::NLMSG_ERROR {
                    continue;
                }
                let (errno, text) = netlink::parse_error(m.flags, m.payload).map_err(Error::new)?;
                return Ok(if errno == 0 {
                    Ok(())
                } else {
                    Err(Refusal { errno, text })
                });
            }
        }
    }
}

/// An `ipsecN` XFRM interface and the device it is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// `ipsecN`.
    pub virt: String,
    /// The physical device (`--physical`).
    pub phys: String,
    pub if_id: u32,
}

/// What `ipsec tncfg --attach` bound: every `ipsecN` XFRM interface with
/// the device under it (pluto gives a connection on that device the
/// interface's if_id).
pub fn attachments() -> Result<Vec<Attachment>, Error> {
    let links = Rtnl::open(false)?.links()?;
    Ok(attachments_of(&links))
}

fn attachments_of(links: &[Link]) -> Vec<Attachment> {
    ipsec_interfaces(links)
        .into_iter()
        .filter_map(|(_, x)| {
            let phys = links
                .iter()
                .find(|l| l.index == x.xfrm_link && x.xfrm_link != 0)?;
            Some(Attachment {
                virt: x.name.clone(),
                phys: phys.name.clone(),
                if_id: x.xfrm_if_id,
            })
        })
        .collect()
}

/// `ipsecN` XFRM interfaces among `links`, by N.
fn ipsec_interfaces(links: &[Link]) -> Vec<(u32, &Link)> {
    let mut v: Vec<(u32, &Link)> = links
        .iter()
        .filter(|l| l.kind == "xfrm")
        .filter_map(|l| VirtualDevice::parse(&l.name).ok().map(|d| (d.n, l)))
        .collect();
    crate::sort::sort_by_key(&mut v, |(n, _)| *n);
    v
}

/// One listing line, in the `/proc/net/ipsec_tncfg` format:
/// `ipsecN -> <physical|NULL> mtu=<mtu>(<mtu>) -> <physical mtu|0>`.
/// An XFRM interface has one MTU (the kernel finds the path MTU per SA),
/// so it fills both the device and the effective MTU fields.
pub fn listing_line(x: &Link, links: &[Link]) -> String {
    let phys = links
        .iter()
        .find(|l| x.xfrm_link != 0 && l.index == x.xfrm_link);
    let (pname, pmtu) = match phys {
        Some(p) => (p.name.as_str(), p.mtu),
        None => ("NULL", 0),
    };
    format!(
        "{} -> {} mtu={}({}) -> {}",
        x.name, pname, x.mtu, x.mtu, pmtu
    )
}

/// The listing: one line per `ipsecN` XFRM interface, in order of N.
pub fn listing(links: &[Link]) -> Vec<String> {
    ipsec_interfaces(links)
        .into_iter()
        .map(|(_, x)| listing_line(x, links))
        .collect()
}

/// What attach will ask the kernel for: the physical device's index and
/// the if_id, or the reason it refuses without asking.
pub fn plan_attach(virt: &VirtualDevice, phys: &str, links: &[Link]) -> Result<(u32, u32), Error> {
    let name = virt.name();
    if let Some(existing) = links.iter().find(|l| l.name == name) {
        let why = if existing.kind == "xfrm" {
            format!("Device busy.  Virtual device {name} is already attached to a physical device -- Use detach first.")
        } else {
            format!("Device busy.  {name} exists and is not an XFRM interface.")
        };
        return Err(Error::new(format!("attach failed -- {why}")));
    }
    // An IP alias (eth0:1) means its device, as KLIPS read it.
    let base = phys.split(':').next().unwrap_or(phys);
    let Some(p) = links.iter().find(|l| l.name == base) else {
        return Err(Error::new(format!(
            "attach failed -- No such device.  Is the physical device valid? (no device \"{base}\")"
        )));
    };
    let id = if_id(virt.n)
        .ok_or_else(|| Error::new(format!("attach failed -- {name}: N too large for an if_id")))?;
    Ok((p.index, id))
}

/// The index of the XFRM interface `virt`, or why detach refuses.
pub fn plan_detach(virt: &VirtualDevice, links: &[Link]) -> Result<u32, Error> {
    let name = virt.name();
    match links.iter().find(|l| l.name == name) {
        None => Err(Error::new(format!(
            "detach failed -- Device requested is not linked to any physical device. (no {name})"
        ))),
        Some(l) if l.kind != "xfrm" => Err(Error::new(format!(
            "detach failed -- {name} is not an XFRM interface; not deleting it."
        ))),
        Some(l) => Ok(l.index),
    }
}

/// Runs `action` with XFRM interfaces; the listing is returned as lines.
pub fn run(action: &Action, debug: bool) -> Result<Vec<String>, Error> {
    let mut rtnl = Rtnl::open(debug)?;
    let links = rtnl.links()?;
    match action {
        Action::List => Ok(listing(&links)),
        Action::Attach { virt, phys } => {
            let (link, id) = plan_attach(virt, phys, &links)?;
            let name = virt.name();
            if debug {
                super::debug_line(&format!("{name}: XFRM interface, link {link}, if_id {id}"));
            }
            rtnl.request(|seq| netlink::new_xfrm_link(seq, &name, link, id))?
                .map_err(|r| Error::new(format!("attach failed -- {}", r.describe())))?;
            Ok(Vec::new())
        }
        Action::Detach { virt } => {
            let index = plan_detach(virt, &links)?;
            rtnl.request(|seq| netlink::del_link(seq, index))?
                .map_err(|r| Error::new(format!("detach failed -- {}", r.describe())))?;
            Ok(Vec::new())
        }
        Action::Clear => {
            let mut first_failure = None;
            for (_, x) in ipsec_interfaces(&links) {
                let index = x.index;
                if let Err(r) = rtnl.request(|seq| netlink::del_link(seq, index))? {
                    first_failure.get_or_insert_with(|| {
                        Error::new(format!("clear failed -- {}: {}", x.name, r.describe()))
                    });
                }
            }
            first_failure.map_or(Ok(Vec::new()), Err)
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str, mtu: u32, kind: &str, xlink: u32, id: u32) -> Link {
        Link {
            index,
            name: name.into(),
            mtu,
            flags: 0,
            kind: kind.into(),
            xfrm_link: xlink,
            xfrm_if_id: id,
        }
    }

    fn links() -> Vec<Link> {
        vec![
            link(1, "lo", 65536, "", 0, 0),
            link(2, "w0", 1500, "veth", 0, 0),
            link(9, "ipsec2", 1400, "xfrm", 2, 3),
            link(8, "ipsec0", 1500, "xfrm", 2, 1),
            link(7, "ipsec1", 1500, "xfrm", 0, 2),
            link(6, "xfrm9", 1500, "xfrm", 2, 10), // not ipsecN: not ours
            link(5, "ipsec7", 1500, "dummy", 0, 0), // not xfrm: not ours
        ]
    }

    #[test]
    fn attachments_name_the_device_under_each_ipsec_interface() {
        let a = attachments_of(&links());
        let names: Vec<(&str, &str, u32)> = a
            .iter()
            .map(|x| (x.virt.as_str(), x.phys.as_str(), x.if_id))
            .collect();
        // ipsec1 is attached to nothing; xfrm9 and the dummy ipsec7 are not ours.
        assert_eq!(names, [("ipsec0", "w0", 1), ("ipsec2", "w0", 3)]);
    }

    #[test]
    fn if_id_is_n_plus_one() {
        assert_eq!(if_id(0), Some(1));
        assert_eq!(if_id(41), Some(42));
        assert_eq!(if_id(u32::MAX), None);
    }

    #[test]
    fn listing_lines() {
        assert_eq!(
            listing(&links()),
            vec![
                "ipsec0 -> w0 mtu=1500(1500) -> 1500",
                "ipsec1 -> NULL mtu=1500(1500) -> 0",
                "ipsec2 -> w0 mtu=1400(1400) -> 1500",
            ]
        );
        assert!(listing(&links()[..2]).is_empty());
    }

    #[test]
    fn attach_plan() {
        let l = links();
        let v = VirtualDevice::parse("ipsec3").unwrap();
        assert_eq!(plan_attach(&v, "w0", &l).unwrap(), (2, 4));
        assert_eq!(plan_attach(&v, "w0:1", &l).unwrap(), (2, 4));
        let e = plan_attach(&v, "eth9", &l).unwrap_err();
        assert!(
            e.text.contains("Is the physical device valid?"),
            "{}",
            e.text
        );
        let busy = VirtualDevice::parse("ipsec0").unwrap();
        let e = plan_attach(&busy, "w0", &l).unwrap_err();
        assert_eq!(e.text, "attach failed -- Device busy.  Virtual device ipsec0 is already attached to a physical device -- Use detach first.");
        let other = VirtualDevice::parse("ipsec7").unwrap();
        assert!(plan_attach(&other, "w0", &l)
            .unwrap_err()
            .text
            .contains("not an XFRM interface"));
    }

    #[test]
    fn detach_plan() {
        let l = links();
        assert_eq!(
            plan_detach(&VirtualDevice::parse("ipsec2").unwrap(), &l).unwrap(),
            9
        );
        assert!(plan_detach(&VirtualDevice::parse("ipsec5").unwrap(), &l)
            .unwrap_err()
            .text
            .contains("not linked to any physical device"));
        assert!(plan_detach(&VirtualDevice::parse("ipsec7").unwrap(), &l)
            .unwrap_err()
            .text
            .contains("not deleting it"));
    }

    #[test]
    fn errno_text_has_no_rust_suffix() {
        assert_eq!(strerror(libc::ENODEV), "No such device");
        let r = Refusal {
            errno: libc::EINVAL,
            text: Some("if_id must be non zero".into()),
        };
        assert_eq!(r.describe(), "Invalid argument (if_id must be non zero)");
    }
}
