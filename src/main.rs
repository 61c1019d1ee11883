//! The `ipsec` multi-call binary: dispatches on argv[0] or on the first argument.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let mut args = Vec::new();
    for arg in argv {
        match arg.into_string() {
            Ok(s) => args.push(s),
            Err(bad) => {
                eprintln!(
                    "ipsec: argument is not valid UTF-8: {}",
                    bad.to_string_lossy()
                );
                return ExitCode::from(2);
            }
        }
    }
    let code = rswan::cmd::main(&argv0, &args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// glibc's `pthread_getattr_np`, replaced.
///
/// Its one caller is std's stack-overflow reporter, which asks for the
/// current thread's stack bounds to tell an overflow from another SIGSEGV and
/// treats a failure as "bounds unknown".  glibc's version parses
/// `/proc/self/maps` with `sscanf`, and in a static link that drags in the
/// whole scanf family with its float parsers (about 85 KB of a 2 MiB budget).
/// Without it a stack overflow still ends the process at the guard page (the
/// kernel's for the main thread, glibc's for the others), only without std's
/// one-line "has overflowed its stack" message before the SIGSEGV.
#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
#[unsafe(no_mangle)]
pub extern "C" fn pthread_getattr_np(
    _thread: libc::pthread_t,
    _attr: *mut libc::pthread_attr_t,
) -> libc::c_int {
    libc::ENOSYS
}

/// glibc's `__dcgettext`, the message-catalogue lookup behind its own
/// messages (`strerror`, `assert`), replaced by what it does in the "C"
/// locale: hand back `msgid`.
///
/// The binary never calls `setlocale`, so every category stays "C" and
/// glibc's version would return `msgid` too, after locking and looking at
/// the locale.  Linking it brings the catalogue loader, the plural-form
/// parser, locale aliases and the iconv machinery with its transliteration
/// tables: 24 KB of a 2 MiB budget.
#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
#[unsafe(no_mangle)]
pub extern "C" fn __dcgettext(
    _domain: *const libc::c_char,
    msgid: *const libc::c_char,
    _category: libc::c_int,
) -> *mut libc::c_char {
    msgid.cast_mut()
}
