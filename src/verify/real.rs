//! The machine itself, for [`super::System`].

use std::os::unix::fs::MetadataExt;

/// The running system; `ctl` is pluto's control socket.
pub struct Real {
    pub ctl: String,
}

impl super::System for Real {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }

    fn owner_mode(&self, path: &str) -> Option<(u32, u32)> {
        std::fs::metadata(path).ok().map(|m| (m.uid(), m.mode()))
    }

    fn xfrm_netlink(&self) -> bool {
        crate::xfrm::socket::XfrmSocket::open().is_ok()
    }

    fn pluto_answers(&self) -> bool {
        crate::control_client::answers(&self.ctl)
    }

    fn kernel_release(&self) -> String {
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }
}
