//! Replies pluto -> whack: `NNN text` lines and whack's exit status.
//!
//! Each reply line is a zero-padded (at least 3 digit) decimal code, a space,
//! the text and a newline. whack copies every complete line to its stdout
//! and derives its exit status from the codes ([`update_status`]).

/// Reply codes (`enum rc_type`). Several names share a number, as in
/// Openswan: the "improper request" block counts up from DUPNAME = 20 and
/// the "permanent failure" block restarts at BADWHACKMESSAGE = 30, so
/// 30 = INITSHUNT = BADWHACKMESSAGE, 31 = WILDCARD = NORETRANSMISSION and
/// 32 = NOVALIDPIN = INTERNALERR. The numbers are what scripts see (whack's
/// exit status), so they are kept and the overlap accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rc {
    /// 0: plain output; does not affect whack's exit status.
    Comment,
    /// 1: whack-detected problem.
    WhackProblem,
    /// 2: copy of a normal log line; ignored for the exit status.
    Log,
    /// 3: serious log line (does set the exit status).
    LogSerious,
    /// 4: success; sets the exit status to 0.
    Success,
    /// 6: one IPsec SA's traffic (`--trafficstatus`, libreswan's
    /// RC_INFORMATIONAL_TRAFFIC); ignored for the exit status.
    Traffic,
    /// 10: a retransmission happened.
    Retransmission,
    /// 20: connection name already used.
    DupName,
    /// 21: unknown connection name or state number.
    UnknownName,
    /// 22: neither end of the connection is us.
    Orient,
    /// 23: road-warrior clash / protocol or family inconsistency.
    Clash,
    /// 24: need `--listen` first.
    Deaf,
    /// 25: cannot route.
    Route,
    /// 26: cannot unroute: route busy.
    RtBusy,
    /// 27: malformed id.
    BadId,
    /// 28: no key found through DNS.
    NoKey,
    /// 29: cannot initiate: peer IP unknown.
    NoPeerIp,
    /// 30: cannot initiate a shunt-only connection.
    InitShunt,
    /// 31: cannot initiate: ID has wildcards.
    Wildcard,
    /// 32: cannot initiate without a valid smartcard PIN.
    NoValidPin,
    /// 30: bad magic / malformed whack message.
    BadWhackMessage,
    /// 31: gave up after the maximum number of retransmissions.
    NoRetransmission,
    /// 32: internal error.
    InternalErr,
    /// 33: opportunism failed.
    OppoFailure,
    /// 34: algorithm not supported / bad ike= or esp= string.
    NoAlgo,
    /// 35: crypto helpers overloaded.
    CryptoFailed,
    /// 36: several algorithms given for aggressive mode.
    AggrAlgo,
    /// 37: fatal error, negotiation aborted.
    Fatal,
    /// 40: pluto asks whack for a secret (xauth password).
    EnterSecret,
    /// 41: pluto asks whack for a user name (xauth).
    XauthPrompt,
    /// 100 + state: progress, the state entered.
    NewState(u32),
    /// 200 + notification: a transition failed with that notify type.
    Notification(u32),
}

/// Every fixed code, in declaration order (from_code picks the first match).
const FIXED: [(Rc, u32, &str); 30] = [
    (Rc::Comment, 0, "RC_COMMENT"),
    (Rc::WhackProblem, 1, "RC_WHACK_PROBLEM"),
    (Rc::Log, 2, "RC_LOG"),
    (Rc::LogSerious, 3, "RC_LOG_SERIOUS"),
    (Rc::Success, 4, "RC_SUCCESS"),
    (Rc::Traffic, 6, "RC_INFORMATIONAL_TRAFFIC"),
    (Rc::Retransmission, 10, "RC_RETRANSMISSION"),
    (Rc::DupName, 20, "RC_DUPNAME"),
    (Rc::UnknownName, 21, "RC_UNKNOWN_NAME"),
    (Rc::Orient, 22, "RC_ORIENT"),
    (Rc::Clash, 23, "RC_CLASH"),
    (Rc::Deaf, 24, "RC_DEAF"),
    (Rc::Route, 25, "RC_ROUTE"),
    (Rc::RtBusy, 26, "RC_RTBUSY"),
    (Rc::BadId, 27, "RC_BADID"),
    (Rc::NoKey, 28, "RC_NOKEY"),
    (Rc::NoPeerIp, 29, "RC_NOPEERIP"),
    (Rc::InitShunt, 30, "RC_INITSHUNT"),
    (Rc::Wildcard, 31, "RC_WILDCARD"),
    (Rc::NoValidPin, 32, "RC_NOVALIDPIN"),
    (Rc::BadWhackMessage, 30, "RC_BADWHACKMESSAGE"),
    (Rc::NoRetransmission, 31, "RC_NORETRANSMISSION"),
    (Rc::InternalErr, 32, "RC_INTERNALERR"),
    (Rc::OppoFailure, 33, "RC_OPPOFAILURE"),
    (Rc::NoAlgo, 34, "RC_NOALGO"),
    (Rc::CryptoFailed, 35, "RC_CRYPTOFAILED"),
    (Rc::AggrAlgo, 36, "RC_AGGRALGO"),
    (Rc::Fatal, 37, "RC_FATAL"),
    (Rc::EnterSecret, 40, "RC_ENTERSECRET"),
    (Rc::XauthPrompt, 41, "RC_XAUTHPROMPT"),
];

impl Rc {
    /// The numeric code.
    pub fn code(self) -> u32 {
        match self {
            Rc::NewState(s) => 100u32.saturating_add(s),
            Rc::Notification(n) => 200u32.saturating_add(n),
            fixed => FIXED
                .iter()
                .find(|(rc, _, _)| *rc == fixed)
                .map_or(0, |(_, c, _)| *c),
        }
    }

    /// The C name (`RC_...`); `RC_NEW_STATE` / `RC_NOTIFICATION` for the ranges.
    pub fn name(self) -> &'static str {
        match self {
            Rc::NewState(_) => "RC_NEW_STATE",
            Rc::Notification(_) => "RC_NOTIFICATION",
            fixed => FIXED
                .iter()
                .find(|(rc, _, _)| *rc == fixed)
                .map_or("", |(_, _, n)| *n),
        }
    }

    /// The code's name. The shared numbers 30, 31, 32 give the
    /// "improper request" names (InitShunt, Wildcard, NoValidPin): the number
    /// alone cannot tell them apart. 100..=199 are states, 200.. notifications;
    /// other unassigned numbers give `None`.
    pub fn from_code(code: u32) -> Option<Rc> {
        if let Some((rc, _, _)) = FIXED.iter().find(|(_, c, _)| *c == code) {
            return Some(*rc);
        }
        match code {
            100..=199 => Some(Rc::NewState(code - 100)),
            200.. => Some(Rc::Notification(code - 200)),
            _ => None,
        }
    }
}

/// One parsed reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine {
    /// The numeric code.
    pub code: u32,
    /// The text after the code and its space (no newline).
    pub text: String,
}

/// Formats one reply line, `NNN text\n`. Newlines inside `text` would break
/// the line protocol, so they (and carriage returns) become spaces.
pub fn format_line(rc: Rc, text: &str) -> String {
    format_code_line(rc.code(), text)
}

/// [`format_line`] for a raw code.
pub fn format_code_line(code: u32, text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("{code:03} {clean}\n")
}

/// Parses a line as pluto writes it: at least one digit, then a space and
/// the text (or nothing). A trailing newline is allowed. `None` otherwise.
pub fn parse_line(line: &str) -> Option<ReplyLine> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (num, rest) = line.split_at(digits);
    let text = match rest.strip_prefix(' ') {
        Some(t) => t,
        None if rest.is_empty() => "",
        None => return None,
    };
    Some(ReplyLine {
        code: num.parse().ok()?,
        text: text.to_string(),
    })
}

/// The leading number of a line as C's `strtoul(line, NULL, 10)` reads it:
/// leading white space and a sign are skipped, a line without digits is 0,
/// overflow saturates, a minus sign negates modulo 2^64.
pub fn leading_number(line: &[u8]) -> u64 {
    let mut i = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    let mut negative = false;
    match line.get(i) {
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        Some(b'+') => i += 1,
        _ => {}
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for b in line.iter().skip(i).take_while(|b| b.is_ascii_digit()) {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        u64::MAX
    } else if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

/// whack's exit-status rule for one received line: codes 0 (comment), 2
/// (log) and 6 (traffic) leave the status alone, 4 (success) resets it to
/// 0, 40 and 41 (prompts, answered by whack) leave it alone, and any other
/// code becomes the status (3, 10, 100+state and 200+notification included).
pub fn update_status(status: u64, line: &[u8]) -> u64 {
    match leading_number(line) {
        0 | 2 | 6 | 40 | 41 => status,
        4 => 0,
        n => n,
    }
}

/// The exit code whack ends with after receiving `lines` (each a complete
/// line) from pluto: the status per [`update_status`], starting at 0,
/// reduced like C's `exit()` to its low 8 bits.
pub fn exit_status<I, L>(lines: I) -> i32
where
    I: IntoIterator<Item = L>,
    L: AsRef<[u8]>,
{
    exit_code(
        lines
            .into_iter()
            .fold(0, |s, l| update_status(s, l.as_ref())),
    )
}

/// The process exit code for a status: its low 8 bits.
pub fn exit_code(status: u64) -> i32 {
    i32::from((status & 0xff) as u8)
}
