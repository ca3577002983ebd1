//! What a path given as a network namespace holds, found without anything
//! that can block: a FIFO, a directory or another kind of namespace is told
//! apart before anything opens it for the namespace (`CNI_NETNS` and
//! `Netlink(path=...)` come from outside).

use std::{fs, io, os::fd::OwnedFd, path::Path};

/// What a path given as a network namespace holds (see [`inspect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsPath {
    /// Nothing: the path does not exist.
    Missing,
    /// A network namespace (an nsfs file of type `CLONE_NEWNET`).
    NetworkNamespace,
    /// A namespace of another kind (`mount`, `pid`, `user`, ...).
    OtherNamespace(&'static str),
    /// A regular file that is no namespace: what `ip netns add` leaves
    /// when it dies before the bind mount, and what a deleted named
    /// namespace leaves while it is being removed.
    RegularFile,
    /// A directory.
    Directory,
    /// A FIFO (opening it for reading would wait for a writer).
    Fifo,
    /// A socket, a character or block device, or anything else.
    Other(&'static str),
}

impl NsPath {
    /// `is a FIFO, not a network namespace` (for anything but
    /// [`NsPath::NetworkNamespace`]).
    pub fn not_a_netns(self) -> String {
        let what = match self {
            NsPath::Missing => "does not exist",
            NsPath::NetworkNamespace => return "is a network namespace".into(),
            NsPath::OtherNamespace(kind) => return format!("is a {kind} namespace, not a network namespace"),
            NsPath::RegularFile => "is a regular file",
            NsPath::Directory => "is a directory",
            NsPath::Fifo => "is a FIFO",
            NsPath::Other(what) => return format!("is {what}, not a network namespace"),
        };
        format!("{what}, not a network namespace")
    }
}

/// What `path` holds, found without anything that can block: `stat` first
/// (a FIFO, socket or device is named and never opened), then an open with
/// `O_NONBLOCK`, `fstatfs` (nsfs or not) and the `NS_GET_NSTYPE` ioctl
/// (which kind of namespace).
pub fn inspect(path: &Path) -> io::Result<NsPath> {
    inspect_open(path).map(|(kind, _)| kind)
}

/// [`inspect`], keeping the open file of a network namespace.
pub(super) fn inspect_open(path: &Path) -> io::Result<(NsPath, Option<OwnedFd>)> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((NsPath::Missing, None)),
        Err(e) => return Err(e),
    };
    let t = meta.file_type();
    let kind = if t.is_dir() {
        NsPath::Directory
    } else if t.is_fifo() {
        NsPath::Fifo
    } else if t.is_socket() {
        NsPath::Other("a socket")
    } else if t.is_char_device() {
        NsPath::Other("a character device")
    } else if t.is_block_device() {
        NsPath::Other("a block device")
    } else {
        NsPath::RegularFile
    };
    if kind != NsPath::RegularFile {
        return Ok((kind, None));
    }
    let file = match fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((NsPath::Missing, None)),
        Err(e) => return Err(e),
    };
    let fd = OwnedFd::from(file);
    let fs = nix::sys::statfs::fstatfs(&fd)?;
    if fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
        return Ok((NsPath::RegularFile, None));
    }
    let kind = match ns_type(&fd)? {
        libc::CLONE_NEWNET => return Ok((NsPath::NetworkNamespace, Some(fd))),
        libc::CLONE_NEWNS => "mount",
        libc::CLONE_NEWPID => "pid",
        libc::CLONE_NEWUSER => "user",
        libc::CLONE_NEWUTS => "uts",
        libc::CLONE_NEWIPC => "ipc",
        libc::CLONE_NEWCGROUP => "cgroup",
        0x80 => "time",
        _ => "unknown",
    };
    Ok((NsPath::OtherNamespace(kind), None))
}

/// `ioctl(fd, NS_GET_NSTYPE)`: the `CLONE_NEW*` flag of a namespace file.
fn ns_type(fd: &OwnedFd) -> io::Result<i32> {
    use std::os::fd::AsRawFd;
    // NS_GET_NSTYPE = _IO(0xb7, 0x3) (linux/nsfs.h, Linux 4.11).
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: an ioctl without an argument on a file descriptor this
    // function borrows for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart_without_blocking() {
        let dir = std::env::temp_dir().join(format!("vlanmac-nspath-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let file = dir.join("file");
        fs::write(&file, "").unwrap();
        assert_eq!(inspect(&fifo).unwrap(), NsPath::Fifo);
        assert_eq!(inspect(&dir).unwrap(), NsPath::Directory);
        assert_eq!(inspect(&file).unwrap(), NsPath::RegularFile);
        assert_eq!(inspect(&dir.join("none")).unwrap(), NsPath::Missing);
        assert_eq!(inspect(Path::new("/proc/self/ns/net")).unwrap(), NsPath::NetworkNamespace);
        assert_eq!(inspect(Path::new("/proc/self/ns/mnt")).unwrap(), NsPath::OtherNamespace("mount"));
        assert_eq!(inspect(Path::new("/dev/null")).unwrap(), NsPath::Other("a character device"));
        assert_eq!(NsPath::Fifo.not_a_netns(), "is a FIFO, not a network namespace");
        let e = crate::netns::NetnsRef::Path(fifo.clone()).open().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("invalid input: netns: {} is a FIFO, not a network namespace", fifo.display())
        );
        assert!(matches!(crate::netns::NetnsRef::Path(file.clone()).open(), Err(crate::Error::NotFound(_))));
        assert!(crate::netns::NetnsRef::Current.open().is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
