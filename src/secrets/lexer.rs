//! The ipsec.secrets lexer (`programs/pluto/lex.c` shift/flushline).
//!
//! * Lines are read one at a time and trailing whitespace is stripped.
//! * A token starting in column 0 starts a new record; tokens on indented lines
//!   continue the current record.
//! * Between tokens `#` starts a comment to end of line; inside a token it is literal.
//! * A token starting with `"` or `'` runs to the next identical quote and keeps both
//!   quotes; an unterminated one runs to end of line and is flagged.
//! * A token starting with `0t` runs to end of line.
//! * Otherwise a token runs to the next whitespace; a trailing `:` glued to a token
//!   longer than one character is split off as its own token.

/// One token with the line it is on (1-based).
#[derive(Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a [u8],
    pub line: usize,
    /// A quoted token whose closing quote is missing (it runs to end of line).
    pub unterminated: bool,
}

impl Token<'_> {
    /// The quote character if the token is quoted.
    pub fn quote(&self) -> Option<u8> {
        match self.text.first() {
            Some(&q @ (b'"' | b'\'')) => Some(q),
            _ => None,
        }
    }

    /// The bytes between the quotes of a quoted token (the closing one may be missing).
    pub fn unquoted(&self) -> &[u8] {
        let inner = self.text.get(1..).unwrap_or_default();
        if self.unterminated {
            inner
        } else {
            inner
                .get(..inner.len().saturating_sub(1))
                .unwrap_or_default()
        }
    }

    /// Exact comparison (lex.c tokeq).
    pub fn is(&self, s: &str) -> bool {
        self.text == s.as_bytes()
    }

    /// Case-insensitive keyword comparison (lex.c tokeqword).
    pub fn is_word(&self, s: &str) -> bool {
        self.text.eq_ignore_ascii_case(s.as_bytes())
    }
}

impl core::fmt::Debug for Token<'_> {
    // Tokens may be secrets: show only where they are.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Token(line {}, {} bytes)", self.line, self.text.len())
    }
}

/// A record: the tokens from one column-0 token up to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub tokens: Vec<Token<'a>>,
}

impl Record<'_> {
    /// The line of the record's first token.
    pub fn line(&self) -> usize {
        self.tokens.first().map_or(0, |t| t.line)
    }
}

/// The lexed file: its records, and the line of the first token if the file starts
/// with indentation (those leading tokens are discarded, as lex.c flushline does).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lexed<'a> {
    pub records: Vec<Record<'a>>,
    pub starts_indented: Option<usize>,
}

fn is_space(c: u8) -> bool {
    // C isspace() in the "C" locale.
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits a file into records of tokens.
pub fn lex(src: &[u8]) -> Lexed<'_> {
    let mut out = Lexed::default();
    let mut current: Option<Record<'_>> = None;
    for (idx, raw) in src.split(|&b| b == b'\n').enumerate() {
        let line_no = idx + 1;
        let end = raw.iter().rposition(|&c| !is_space(c)).map_or(0, |p| p + 1);
        let line = raw.get(..end).unwrap_or_default();
        let mut p = 0usize;
        while let Some(&c) = line.get(p) {
            if is_space(c) {
                p += 1;
                continue;
            }
            if c == b'#' {
                break;
            }
            let start = p;
            let rest = line.get(start..).unwrap_or_default();
            let mut unterminated = false;
            let len = if c == b'"' || c == b'\'' {
                match rest.iter().skip(1).position(|&x| x == c) {
                    Some(close) => close + 2,
                    None => {
                        unterminated = true;
                        rest.len()
                    }
                }
            } else if rest.starts_with(b"0t") {
                rest.len()
            } else {
                let mut l = rest.iter().position(|&x| is_space(x)).unwrap_or(rest.len());
                if l > 1 && rest.get(l - 1) == Some(&b':') {
                    l -= 1;
                }
                l
            };
            let tok = Token {
                text: rest.get(..len).unwrap_or_default(),
                line: line_no,
                unterminated,
            };
            p = start + len;
            if start == 0 {
                if let Some(r) = current.take() {
                    out.records.push(r);
                }
                current = Some(Record { tokens: vec![tok] });
            } else if let Some(r) = current.as_mut() {
                r.tokens.push(tok);
            } else if out.starts_indented.is_none() {
                out.starts_indented = Some(line_no);
            }
        }
    }
    if let Some(r) = current {
        out.records.push(r);
    }
    out
}
