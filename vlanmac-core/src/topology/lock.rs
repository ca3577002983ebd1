//! One apply or down of a topology at a time, across threads and processes:
//! an exclusive `flock` on `/run/vlanmac/NAME.lock`, held until the
//! operation ends (and released by the kernel if the process dies).
//!
//! Without it two applies of the same topology racing each other would both
//! plan the same creations; the loser's EEXIST would roll back its own
//! steps, some of which (an address added to the winner's link) the winner
//! counts on.

use std::{
    fs::File,
    os::{fd::AsRawFd, unix::fs::MetadataExt},
};

use crate::{
    error::{Error, Result},
    netns::thread,
};

/// Where the lock files live.
pub const LOCK_DIR: &str = "/run/vlanmac";

/// Held for the duration of an operation on one topology; the lock file is
/// removed when it is released (while still locked, so a waiter that opened
/// the old file notices and starts over).
#[derive(Debug)]
pub(crate) struct TopologyLock {
    path: std::path::PathBuf,
    _file: File,
}

impl Drop for TopologyLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The lock file's name for topology `name`: letters, digits, `-`, `_` and
/// `.` kept, every other byte hex-escaped (so no name can leave the
/// directory).
pub(crate) fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 5);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out.push_str(".lock");
    out
}

/// Waits (on a short-lived thread, never blocking the caller's runtime)
/// until topology `name` is free, and takes it.
pub(crate) async fn lock(name: &str) -> Result<TopologyLock> {
    let path = std::path::Path::new(LOCK_DIR).join(file_name(name));
    thread::spawn_blocking(move || {
        let what = || format!("lock topology file {}", path.display());
        let io_error = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::PermissionDenied => crate::privileges::denied(&what()),
            _ => Error::io(what(), e),
        };
        std::fs::create_dir_all(LOCK_DIR).map_err(io_error)?;
        loop {
            let file =
                std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_error)?;
            // SAFETY: flock on an fd this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(Error::io(what(), e));
            }
            // The holder before us may have removed the file we opened: the
            // lock only counts if the path still names our file.
            let ours = file.metadata().map_err(|e| Error::io(what(), e))?;
            match std::fs::metadata(&path) {
                Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => {
                    return Ok(TopologyLock { path, _file: file });
                }
                _ => continue,
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn lock_file_names_stay_in_the_directory() {
        assert_eq!(file_name("seed"), "seed.lock");
        assert_eq!(file_name("a/b"), "a%2fb.lock");
        assert_eq!(file_name("../x"), "%2e.%2fx.lock");
        assert_eq!(file_name(".hidden"), "%2ehidden.lock");
        assert!(!file_name("/etc/passwd").contains('/'));
    }
}
