//! glibc functions this static binary defines itself.
//!
//! In a static link every glibc function the program reaches comes with the
//! objects it needs, and a few entry points drag in machinery this program
//! never uses: `printf` for wide characters, iconv with its dlopen support,
//! the locale loader, `scanf`.  Each replacement below does what glibc's
//! does in this program's situation (a static executable that never calls
//! `setlocale` or `dlopen`, whose threads name only themselves) and says
//! what its original would have brought.  The linker takes a symbol defined
//! here instead of extracting glibc's object for it.  Only the static build
//! compiles this module (see `main.rs`).

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
#[unsafe(no_mangle)]
pub extern "C" fn __dcgettext(
    _domain: *const libc::c_char,
    msgid: *const libc::c_char,
    _category: libc::c_int,
) -> *mut libc::c_char {
    msgid.cast_mut()
}

/// glibc's `dlsym`, replaced: always "no such symbol".
///
/// std looks up optional glibc functions by name at run time.  In a static
/// executable that has loaded nothing with `dlopen` glibc's `dlsym` finds
/// nothing either, for every name and for `RTLD_DEFAULT` and `RTLD_NEXT`
/// alike (its main map has no symbol table), so std takes its fallbacks in
/// both cases.  glibc's version brings `dlerror`, which formats its messages
/// with `asprintf`: the `printf` engine.
#[unsafe(no_mangle)]
pub extern "C" fn dlsym(
    _handle: *mut libc::c_void,
    _symbol: *const libc::c_char,
) -> *mut libc::c_void {
    std::ptr::null_mut()
}

/// glibc's internal `__fxprintf`, replaced: prints nothing.
///
/// glibc prints a few of its own warnings through it, here only the
/// resolver's complaints about `/etc/host.conf`; the resolver is linked for
/// threads' per-thread state and never used (names are resolved in
/// `crate::dns`).  glibc's version prints wide and narrow streams alike and
/// brings the wide `printf`, iconv, and `dlopen` to load iconv modules:
/// 30 KB.  The C declaration is variadic; a definition that takes the two
/// fixed arguments and ignores the rest is the same call on x86-64.
#[unsafe(no_mangle)]
pub extern "C" fn __fxprintf(
    _stream: *mut libc::c_void,
    _format: *const libc::c_char,
) -> libc::c_int {
    0
}

/// glibc's internal `__assert_fail`, replaced: the same message on stderr,
/// then `abort`.
///
/// glibc's own consistency checks call it, perhaps holding its locks, so
/// the message is written piece by piece, with no allocation.  glibc's
/// version formats it with `__fxprintf` (above).
#[unsafe(no_mangle)]
pub extern "C" fn __assert_fail(
    assertion: *const libc::c_char,
    file: *const libc::c_char,
    line: libc::c_uint,
    function: *const libc::c_char,
) -> ! {
    let put = |b: &[u8]| {
        // SAFETY: writes a borrowed buffer to stderr; the result does not
        // matter on the way to abort.
        unsafe { libc::write(2, b.as_ptr().cast(), b.len()) };
    };
    let text = |p: *const libc::c_char| -> &[u8] {
        if p.is_null() {
            b"?"
        } else {
            // SAFETY: glibc passes NUL-terminated string literals.
            unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes()
        }
    };
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = line;
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    put(b"ipsec: ");
    put(text(file));
    put(b":");
    put(digits.get(at..).unwrap_or_default());
    put(b": ");
    put(text(function));
    put(b": Assertion `");
    put(text(assertion));
    put(b"' failed.\n");
    // SAFETY: abort takes no arguments and does not return.
    unsafe { libc::abort() }
}

/// glibc's `pthread_setname_np`, replaced for the calling thread only.
///
/// std names a thread from inside it, with `pthread_self()`; that is
/// `prctl(PR_SET_NAME)`, as in glibc.  glibc's version also names other
/// threads by writing `/proc/self/task/TID/comm`, a path it builds with
/// `sprintf`: the `printf` engine.  Naming another thread fails with
/// `EPERM`; nothing here does that.
#[unsafe(no_mangle)]
pub extern "C" fn pthread_setname_np(
    thread: libc::pthread_t,
    name: *const libc::c_char,
) -> libc::c_int {
    // SAFETY: pthread_self has no preconditions.
    if thread != unsafe { libc::pthread_self() } {
        return libc::EPERM;
    }
    // SAFETY: glibc's contract: `name` is NUL-terminated.
    if unsafe { libc::strlen(name) } >= 16 {
        return libc::ERANGE;
    }
    // SAFETY: PR_SET_NAME reads at most 16 bytes of a NUL-terminated name.
    if unsafe { libc::prctl(libc::PR_SET_NAME, name) } == 0 {
        0
    } else {
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EINVAL)
    }
}
