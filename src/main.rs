//! The `ipsec` multi-call binary: dispatches on argv[0] or on the first argument.

use std::process::ExitCode;

#[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
mod glibc;

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
