//! Carrying out whack requests (spec §2.7 order), replies as `NNN text` lines.

use super::daemon::{reply_line, Daemon};
use std::os::unix::net::UnixStream;

/// True once `buf` holds a whole request frame.
pub fn frame_complete(_buf: &[u8]) -> bool {
    false
}

pub fn handle(_d: &mut Daemon, stream: UnixStream, _buf: &[u8]) {
    let _ = reply_line(
        &stream,
        30,
        "ignoring message from whack: control protocol not available",
    );
}
