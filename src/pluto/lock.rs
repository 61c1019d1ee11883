//! The lock file `<ctlbase>.pid`: created exclusively, holds pluto's PID,
//! removed on a clean exit.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct Lock {
    path: PathBuf,
    file: Option<File>,
}

#[derive(Debug)]
pub enum LockError {
    /// Exit status 10: another pluto runs, or a stale lock was left behind.
    Exists(PathBuf),
    Other(PathBuf, io::Error),
}

impl LockError {
    pub fn exit_code(&self) -> i32 {
        match self {
            LockError::Exists(_) => 10,
            LockError::Other(..) => 1,
        }
    }
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Exists(p) => {
                write!(f, "pluto: lock file \"{}\" already exists", p.display())
            }
            LockError::Other(p, e) => write!(
                f,
                "pluto: unable to create lock file \"{}\" ({e})",
                p.display()
            ),
        }
    }
}

impl Lock {
    /// Creates the lock file; it must not exist (a leftover one must be removed by hand).
    pub fn create(path: &Path) -> Result<Lock, LockError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => LockError::Exists(path.to_path_buf()),
                _ => LockError::Other(path.to_path_buf(), e),
            })?;
        Ok(Lock {
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    /// Writes `pid` as "%u\n" and closes the file.
    pub fn write_pid(&mut self, pid: u32) -> io::Result<()> {
        match self.file.take() {
            Some(mut f) => writeln!(f, "{pid}"),
            None => Ok(()),
        }
    }

    /// Keeps the file on disk when this process exits without removing it
    /// (the forking parent hands it to the daemon child).
    pub fn forget(mut self) {
        self.file = None;
        self.path = PathBuf::new();
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
