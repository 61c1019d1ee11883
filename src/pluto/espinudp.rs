//! The NAT-T socket (UDP 4500) shares its port with ESP in UDP (RFC 3948):
//! with `UDP_ENCAP_ESPINUDP` set on it, the kernel takes the datagrams
//! whose first four bytes are not zero as ESP and decapsulates them with
//! its SAs, eats the one-byte 0xff keepalives, and leaves the rest (IKE
//! behind the four-byte zero non-ESP marker) to be read from the socket
//! unchanged, marker included.

use std::io;
use std::os::fd::AsRawFd;

/// `<linux/udp.h>`: ESP in UDP with the non-ESP marker (RFC 3948).
const UDP_ENCAP_ESPINUDP: libc::c_int = 2;

pub fn set_espinudp(sock: &impl AsRawFd) -> io::Result<()> {
    super::bypass::setsockopt(
        sock,
        libc::SOL_UDP,
        libc::UDP_ENCAP,
        &UDP_ENCAP_ESPINUDP.to_ne_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option is the kernel's UDP socket state, there without any
    /// privilege or ESP support: what getsockopt reads back is what pluto
    /// set.
    #[test]
    fn the_socket_takes_esp_in_udp() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let read = |s: &std::net::UdpSocket| {
            let mut v: libc::c_int = -1;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: a valid fd and an int-sized buffer with its length.
            let r = unsafe {
                libc::getsockopt(
                    s.as_raw_fd(),
                    libc::SOL_UDP,
                    libc::UDP_ENCAP,
                    (&mut v as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            (r, v)
        };
        let (r, before) = read(&sock);
        set_espinudp(&sock).unwrap();
        let (r2, after) = read(&sock);
        assert_eq!((r, before), (0, 0));
        assert_eq!((r2, after), (0, UDP_ENCAP_ESPINUDP));
    }
}
