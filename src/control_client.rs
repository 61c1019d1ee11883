//! A control client's conversation with pluto (whack's, and `ipsec auto`'s
//! and `ipsec setup`'s, which send what whack would): check the control
//! socket, connect, send one frame, copy the reply lines to stdout, answer
//! prompts, and end with the exit status the lines call for.

use std::ffi::{CStr, CString};
use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;

use crate::ctl::{self, reply, WhackMessage};

/// One request to pluto: the message, where to send it, and the answers to
/// pluto's xauth prompts.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// What pluto is told.
    pub msg: &'a WhackMessage,
    /// The control socket path (`<ctlbase>.ctl`).
    pub ctl_path: &'a str,
    /// `--xauthname`: answer to pluto's user-name prompt (RC 41).
    pub xauth_name: Option<&'a str>,
    /// `--xauthpass`: answer to pluto's secret prompt (RC 40).
    pub xauth_pass: Option<&'a str>,
}

impl<'a> Call<'a> {
    /// `msg` to the socket at `ctl_path`, without xauth answers.
    pub fn new(msg: &'a WhackMessage, ctl_path: &'a str) -> Call<'a> {
        Call {
            msg,
            ctl_path,
            xauth_name: None,
            xauth_pass: None,
        }
    }
}

/// whack's read buffer. A longer line is copied out in pieces, never cut.
const MAX_LINE: usize = 4096;
/// How much of a long line's start is kept to read its code.
const HEAD: usize = 32;
/// Size of the xauth answer buffers (answers are cut to 127 bytes).
const XAUTH_BUF: usize = 128;
/// RC_WHACK_PROBLEM.
const PROBLEM: i32 = 1;

fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated static or
    // thread-local string; it is copied out at once.
    let p = unsafe { libc::strerror(errno) };
    if p.is_null() {
        return format!("Unknown error {errno}");
    }
    // SAFETY: p is non-null and NUL-terminated (see above).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

fn problem(line: &str) -> i32 {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    PROBLEM
}

/// `access(path, R_OK|W_OK)`: `Err(errno)` if it fails.
fn access_rw(path: &str) -> Result<(), i32> {
    let c = CString::new(path).map_err(|_| libc::ENOENT)?;
    // SAFETY: c is a valid NUL-terminated path for the duration of the call.
    let rc = unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// True if a pluto accepts connections on `ctl_path` (nothing is sent).
pub fn answers(ctl_path: &str) -> bool {
    UnixStream::connect(ctl_path).is_ok()
}

/// Sends the request to pluto and relays the answer; returns whack's exit status.
pub fn send(req: Call<'_>) -> i32 {
    let path = req.ctl_path;
    if let Err(e) = access_rw(path) {
        return problem(&match e {
            libc::EACCES => {
                format!("whack: no right to communicate with pluto (access(\"{path}\"))")
            }
            libc::ENOENT => format!("whack: Pluto is not running (no \"{path}\")"),
            _ => format!("whack: access(\"{path}\") failed with {e} {}", strerror(e)),
        });
    }
    let frame = match ctl::encode(req.msg) {
        Ok(f) => f,
        Err(_) => return problem("whack: too many bytes of strings to fit in message to pluto"),
    };
    let mut sock = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e) => {
            let n = errno_of(&e);
            let hint = if n == libc::ECONNREFUSED {
                " is Pluto running? "
            } else {
                ""
            };
            return problem(&format!(
                "whack:{hint} connect() for \"{path}\" failed ({n} {})",
                strerror(n)
            ));
        }
    };
    if let Err(e) = sock.write_all(&frame) {
        let n = errno_of(&e);
        return problem(&format!("whack: write() failed ({n} {})", strerror(n)));
    }
    relay(&mut sock, &req)
}

/// Reads reply lines until pluto closes the socket.
///
/// Lines are never cut: a line longer than the buffer is copied out in
/// pieces as it arrives, and its code (read from its first bytes) counts
/// like any other line's. A last line without its newline is still copied
/// out, with a diagnostic, and whack then exits with RC_WHACK_PROBLEM
/// unless the status is already a failure.
fn relay(sock: &mut UnixStream, req: &Call<'_>) -> i32 {
    let mut status: u64 = 0;
    let mut pending: Vec<u8> = Vec::with_capacity(MAX_LINE);
    // The first bytes of a line already partly copied out (enough for its code).
    let mut head: Option<Vec<u8>> = None;
    let mut chunk = [0u8; MAX_LINE];
    loop {
        let room = MAX_LINE - pending.len();
        if room == 0 {
            // No newline in a full buffer: copy it out and keep reading the line.
            if head.is_none() {
                head = Some(pending.iter().take(HEAD).copied().collect());
            }
            copy_out(&pending);
            pending.clear();
            continue;
        }
        let n = match sock.read(&mut chunk[..room]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let n = errno_of(&e);
                return problem(&format!("whack: read() failed ({n} {})", strerror(n)));
            }
        };
        if n == 0 {
            if !pending.is_empty() || head.is_some() {
                copy_out(&pending);
                copy_out(b"\n");
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "whack: last line from pluto unterminated"
                );
                if reply::exit_code(status) == 0 {
                    return PROBLEM;
                }
            }
            break;
        }
        pending.extend_from_slice(&chunk[..n]);
        while let Some(pos) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            // --status --json: the JSON objects alone, one a line (without
            // the code that starts every reply line), for jq and the like.
            match line.strip_prefix(b"000 ".as_slice()) {
                Some(json) if req.msg.status_json && json.starts_with(b"{") => copy_out(json),
                _ => copy_out(&line),
            }
            // The code is at the start of the whole line.
            let start = match head.take() {
                Some(h) => h,
                None => line,
            };
            let answer = match reply::leading_number(&start) {
                40 => Some(match req.xauth_pass {
                    Some(p) => p.to_string(),
                    None => get_secret(),
                }),
                41 => match req.xauth_name {
                    Some(n) => Some(n.to_string()),
                    None => match get_value() {
                        Ok(v) => Some(v),
                        Err(code) => return code,
                    },
                },
                _ => None,
            };
            if let Some(a) = answer {
                let mut bytes: Vec<u8> = a.into_bytes();
                bytes.truncate(XAUTH_BUF - 1);
                bytes.push(0);
                if let Err(e) = sock.write_all(&bytes) {
                    let n = errno_of(&e);
                    return problem(&format!("whack: write() failed ({n} {})", strerror(n)));
                }
            }
            status = reply::update_status(status, &start);
        }
    }
    reply::exit_code(status)
}

/// Copies reply bytes to stdout as they are.
fn copy_out(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// `getpass("Enter secret: ")`: from the terminal without echo, or from
/// stdin when there is no terminal. An unreadable answer is empty.
fn get_secret() -> String {
    let prompt = "Enter secret: ";
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    match tty {
        Ok(mut tty) => {
            use std::os::unix::io::AsRawFd;
            let fd = tty.as_raw_fd();
            // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
            let mut saved: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: fd is open for the lifetime of `tty`; saved is valid.
            let have = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
            if have {
                let mut quiet = saved;
                quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
                // SAFETY: as above.
                unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) };
            }
            let _ = tty.write_all(prompt.as_bytes());
            let _ = tty.flush();
            let mut line = String::new();
            let _ = std::io::BufReader::new(&tty).read_line(&mut line);
            if have {
                // SAFETY: restores the settings read above on the same fd.
                unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
            }
            let _ = tty.write_all(b"\n");
            line.trim_end_matches(['\n', '\r']).to_string()
        }
        Err(_) => {
            let _ = write!(std::io::stderr().lock(), "{prompt}");
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            line.trim_end_matches(['\n', '\r']).to_string()
        }
    }
}

/// The user-name prompt: up to three tries on stdin for a non-empty line.
fn get_value() -> Result<String, i32> {
    for _ in 0..3 {
        let _ = write!(std::io::stderr().lock(), "Name enter:   ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => return Err(problem("Can not read password from standard in")),
            Ok(_) => {}
            Err(e) => return Err(problem(&format!("fgets value: {e}"))),
        }
        let v = line.strip_suffix('\n').unwrap_or(&line);
        if !v.is_empty() {
            return Ok(v.to_string());
        }
    }
    Err(PROBLEM)
}
