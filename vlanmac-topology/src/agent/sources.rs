//! Where the agent's inputs come from, each a task on the agent's tokio
//! runtime feeding one channel: a netlink [`Monitor`] per namespace, inotify
//! on `/run/netns` and on the topology files' folders, and the container
//! runtime's events. Nothing here polls: each task sleeps in the kernel (or
//! the runtime's stream) until something happens.

use std::{
    collections::HashMap,
    ffi::OsString,
    path::{Path, PathBuf},
};

use futures::StreamExt;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use tokio::{
    io::{unix::AsyncFd, Interest},
    sync::mpsc::UnboundedSender,
    task::JoinHandle,
};
use vlanmac_core::{
    netlink::monitor::{Monitor, Notification},
    netns::{NetnsRef, NETNS_RUN_DIR},
};

/// One input of the agent's loop.
#[derive(Debug)]
pub(crate) enum Input {
    /// Notifications from the namespace `ns`.
    Notified { ns: NetnsRef, notes: Vec<Notification> },
    /// The monitor of `ns` stopped (its namespace went, or its socket
    /// failed).
    MonitorEnded { ns: NetnsRef },
    /// Something changed under a watched topology path.
    Files,
    /// An entry of `/run/netns` appeared or disappeared.
    Netns { name: OsString, gone: bool },
    /// The runtime says container `name` started, died or was destroyed,
    /// or a container was connected to or disconnected from its network
    /// `name`.
    Runtime { name: String },
    /// The runtime's event stream ended (the runtime stopped or
    /// restarted): what it would have said is unknown.
    RuntimeEnded,
    /// From the agent's caller.
    Control(super::Control),
}

/// A task that ends when this handle is dropped.
#[derive(Debug)]
pub(crate) struct Task(JoinHandle<()>);

impl Task {
    /// Whether it ended.
    pub(crate) fn ended(&self) -> bool {
        self.0.is_finished()
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads `monitor` until it fails; what it reads goes to `tx`.
pub(crate) fn watch_namespace(monitor: Monitor, tx: UnboundedSender<Input>) -> std::io::Result<Task> {
    let ns = monitor.netns().clone();
    // SAFETY: the descriptor is the monitor's socket, owned by it and open
    // (and the same) for as long as the `AsyncFd` owns the monitor.
    let mut fd =
        unsafe { AsyncFd::register_with_interest(monitor, Interest::READABLE) }.map_err(|e| e.into_parts().1)?;
    Ok(Task(tokio::spawn(async move {
        loop {
            let Ok(mut guard) = fd.readable_mut().await else { break };
            let read = guard.get_inner_mut().drain();
            guard.clear_ready();
            match read {
                Ok(notes) if notes.is_empty() => {}
                Ok(notes) => {
                    if tx.send(Input::Notified { ns: ns.clone(), notes }).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(Input::MonitorEnded { ns });
    })))
}

/// What one inotify watch is on.
#[derive(Debug, Clone)]
enum Watched {
    /// `/run/netns`.
    NetnsDir,
    /// A folder of topology files, or the folder of one.
    Files,
}

/// An inotify instance, as the reactor wants it.
struct Watcher(Inotify);

impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// inotify on `/run/netns` (made if missing) and on each path's folder
/// (a folder given, or the one a file is in).
pub(crate) fn watch_files(paths: &[PathBuf], tx: UnboundedSender<Input>) -> std::io::Result<Task> {
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
    let mut watches: HashMap<WatchDescriptor, Watched> = HashMap::new();
    std::fs::create_dir_all(NETNS_RUN_DIR)?;
    let entries = AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_ONLYDIR;
    watches.insert(inotify.add_watch(NETNS_RUN_DIR, entries)?, Watched::NetnsDir);
    for p in paths {
        let dir = if p.is_dir() {
            p.as_path()
        } else {
            p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
        };
        let flags = entries | AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_ATTRIB;
        if let Ok(wd) = inotify.add_watch(dir, flags) {
            watches.insert(wd, Watched::Files);
        }
    }
    // SAFETY: the descriptor is the inotify instance's, owned by it and
    // open (and the same) for as long as the `AsyncFd` owns it.
    let mut fd = unsafe { AsyncFd::register_with_interest(Watcher(inotify), Interest::READABLE) }
        .map_err(|e| e.into_parts().1)?;
    Ok(Task(tokio::spawn(async move {
        loop {
            let Ok(mut guard) = fd.readable_mut().await else { return };
            let events = guard.get_inner_mut().0.read_events();
            guard.clear_ready();
            let Ok(events) = events else { continue };
            let mut files = false;
            for e in events {
                match watches.get(&e.wd) {
                    Some(Watched::NetnsDir) => {
                        let Some(name) = e.name else { continue };
                        let gone = e.mask.intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM);
                        if tx.send(Input::Netns { name, gone }).is_err() {
                            return;
                        }
                    }
                    Some(Watched::Files) => files = true,
                    None => {}
                }
            }
            if files && tx.send(Input::Files).is_err() {
                return;
            }
        }
    })))
}

/// The runtime's events, as [`Input::Runtime`].
pub(crate) fn watch_runtime<E: Send + 'static>(
    events: futures::stream::BoxStream<'static, Result<String, E>>,
    tx: UnboundedSender<Input>,
) -> Task {
    Task(tokio::spawn(async move {
        let mut events = events;
        while let Some(Ok(name)) = events.next().await {
            if tx.send(Input::Runtime { name }).is_err() {
                return;
            }
        }
        // At most once a second, should the runtime end every stream at
        // once.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let _ = tx.send(Input::RuntimeEnded);
    }))
}
