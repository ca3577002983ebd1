//! Exclusive locks across threads and processes: an `flock` on a file under
//! `/run/vlanmac`, held until the operation ends (and released by the
//! kernel if the process dies), the file removed when it is released.
//!
//! One apply or down of a topology runs at a time (`/run/vlanmac/NAME.lock`):
//! without it two applies of the same topology racing each other would both
//! plan the same creations; the loser's EEXIST would roll back its own
//! steps, some of which (an address added to the winner's link) the winner
//! counts on. The CNI plugin locks per master interface the same way.

use std::{
    fs::File,
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd},
        unix::fs::MetadataExt,
    },
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use crate::{
    error::{Error, Result},
    netns::thread,
};

/// Where the lock files live.
pub const LOCK_DIR: &str = "/run/vlanmac";

/// A held lock; the lock file is removed when it is released (while still
/// locked, so a waiter that opened the old file notices and starts over).
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    _file: File,
}

/// The locked file: a child process given a duplicate of it (cleared of
/// `FD_CLOEXEC`) holds the lock with this process, and keeps it if this
/// process dies first.
impl AsFd for FileLock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self._file.as_fd()
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `name` as a file name component: letters, digits, `-`, `_` and `.`
/// kept, every other byte hex-escaped (so no name can leave its
/// directory, nor be `.` or `..`).
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The lock file's name for topology `name`.
pub(crate) fn file_name(name: &str) -> String {
    format!("{}.lock", escape(name))
}

/// Waits (on a short-lived thread, never blocking the caller's runtime)
/// until topology `name` is free, and takes it
/// (`/run/vlanmac/NAME.lock`, the name escaped).
pub async fn lock(name: &str) -> Result<FileLock> {
    lock_path(Path::new(LOCK_DIR).join(file_name(name))).await
}

/// Waits until the lock file `path` is free, and takes it; its directory
/// is made if missing.
pub async fn lock_path(path: PathBuf) -> Result<FileLock> {
    thread::spawn_blocking(move || take(path, None)).await
}

/// [`lock_path`], giving up after `deadline`: a holder that hangs (a
/// process stopped while it held the lock) is then [`Error::Busy`] naming
/// the file, instead of a wait without end.
pub async fn lock_path_within(path: PathBuf, deadline: Duration) -> Result<FileLock> {
    thread::spawn_blocking(move || take(path, Some(deadline))).await
}

/// Takes the lock on the calling thread: a blocking `flock` without a
/// deadline; with one, non-blocking attempts with waits that grow from
/// 1 ms to 16 ms.
fn take(path: PathBuf, deadline: Option<Duration>) -> Result<FileLock> {
    let what = || format!("lock file {}", path.display());
    let io_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::PermissionDenied => crate::privileges::denied(&what()),
        _ => Error::io(what(), e),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_error)?;
    }
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_error)?;
        let how = if deadline.is_some() { libc::LOCK_EX | libc::LOCK_NB } else { libc::LOCK_EX };
        // SAFETY: flock on an fd this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), how) } != 0 {
            let e = std::io::Error::last_os_error();
            match (e.raw_os_error(), deadline) {
                (Some(libc::EINTR), _) => continue,
                (Some(libc::EWOULDBLOCK), Some(limit)) => {
                    if start.elapsed() >= limit {
                        return Err(Error::from_errno(
                            format!("{}: held by another process for {} s", what(), limit.as_secs()),
                            libc::EBUSY,
                            None,
                            None,
                        ));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(16));
                    continue;
                }
                _ => return Err(Error::io(what(), e)),
            }
        }
        // The holder before us may have removed the file we opened: the
        // lock only counts if the path still names our file.
        let ours = file.metadata().map_err(|e| Error::io(what(), e))?;
        match std::fs::metadata(&path) {
            Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => {
                return Ok(FileLock { path, _file: file });
            }
            _ => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_names_stay_in_the_directory() {
        assert_eq!(file_name("seed"), "seed.lock");
        assert_eq!(file_name("a/b"), "a%2fb.lock");
        assert_eq!(file_name("../x"), "%2e.%2fx.lock");
        assert_eq!(file_name(".hidden"), "%2ehidden.lock");
        assert!(!file_name("/etc/passwd").contains('/'));
    }

    #[test]
    fn a_lock_held_past_the_deadline_is_busy() {
        let dir = std::env::temp_dir().join(format!("vlanmac-lock-{}", std::process::id()));
        let path = dir.join("x.lock");
        let held = futures::executor::block_on(lock_path(path.clone())).unwrap();
        let start = Instant::now();
        let e = futures::executor::block_on(lock_path_within(path.clone(), Duration::from_millis(100))).unwrap_err();
        assert!(matches!(e, Error::Busy(_)), "{e}");
        assert!(e.to_string().contains("held by another process"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(held);
        let again = futures::executor::block_on(lock_path_within(path.clone(), Duration::from_millis(100)));
        assert!(again.is_ok());
        drop(again);
        let _ = std::fs::remove_dir_all(dir);
    }
}
