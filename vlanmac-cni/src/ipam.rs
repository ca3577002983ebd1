//! IPAM delegated through the CNI exec protocol: the plugin named by
//! `ipam.type` is looked up in `CNI_PATH` and run with the invocation's
//! `CNI_*` environment (but the verb given, and the container, interface
//! and namespace of the attachment concerned), the network configuration on
//! its stdin; its result (ADD) or error object comes back on its stdout.
//!
//! An IPAM plugin that does not finish within [`DEADLINE`] is killed and
//! reported. A call may hand the plugin the attachment's lock
//! ([`crate::state::lock_attachment`]): if this plugin is killed while the
//! IPAM plugin still runs, the lock stays held until the IPAM plugin is
//! done, so the runtime's DEL that follows waits for the lease it releases.

use std::{
    io::{Read, Write},
    os::{
        fd::{AsRawFd, OwnedFd},
        unix::{fs::PermissionsExt, process::CommandExt},
    },
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    error::{CniError, Code, Result},
    invocation::{Invocation, Verb},
};

/// How long an IPAM plugin may run.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The IPAM plugin `name`: the first executable of that name in `CNI_PATH`.
pub fn find(name: &str, path: &[PathBuf]) -> Result<PathBuf> {
    path.iter().map(|dir| dir.join(name)).find(|p| is_executable(p)).ok_or_else(|| {
        let dirs: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
        CniError::new(
            Code::InvalidConfig,
            format!(
                "ipam.type: no executable {name} in CNI_PATH ({})",
                if dirs.is_empty() { "empty".into() } else { dirs.join(":") }
            ),
        )
    })
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One IPAM call: the plugin, the verb, whose attachment, the
/// configuration, and the lock the plugin holds while it runs.
pub struct Call<'a> {
    /// `ipam.type`.
    pub plugin: &'a str,
    /// The verb.
    pub verb: Verb,
    /// Container, interface, namespace, `CNI_ARGS`, `CNI_PATH`.
    pub inv: &'a Invocation,
    /// The network configuration.
    pub netconf: &'a [u8],
    /// A duplicate of the attachment's lock file descriptor, if any.
    pub hold: Option<&'a OwnedFd>,
}

impl Call<'_> {
    /// Runs the call. Returns what the plugin printed on success (a result
    /// for ADD, nothing for the others); its error object as a
    /// [`CniError`] with its code otherwise.
    ///
    /// An IPAM plugin older than the configuration (Debian's host-local
    /// speaks up to 1.0.0; a configuration may be 1.1.0) refuses it with
    /// error 1: it is then asked for its versions and given the
    /// configuration again at the newest version both speak. Results of
    /// every version are read alike.
    pub fn run(&self) -> Result<Option<Value>> {
        match self.once(self.netconf) {
            Err(e) if e.code == Code::IncompatibleVersion => {
                let Some(older) = common_version(self.plugin, self.inv) else { return Err(e) };
                let mut conf: Value = serde_json::from_slice(self.netconf).map_err(|_| e.clone())?;
                if let Some(o) = conf.as_object_mut() {
                    o.insert("cniVersion".into(), Value::from(older));
                    o.remove("cniVersions");
                }
                self.once(conf.to_string().as_bytes())
            }
            other => other,
        }
    }

    fn once(&self, netconf: &[u8]) -> Result<Option<Value>> {
        let name = self.plugin;
        let plugin = find(name, &self.inv.path)?;
        let failed = |e: std::io::Error| CniError::new(Code::Io, format!("run IPAM plugin {}: {e}", plugin.display()));
        let mut cmd = Command::new(&plugin);
        cmd.env("CNI_COMMAND", self.verb.as_str())
            .env("CNI_CONTAINERID", &self.inv.container_id)
            .env("CNI_IFNAME", self.inv.ifname.as_ref().map(|i| i.as_str()).unwrap_or_default())
            .env("CNI_PATH", std::env::join_paths(&self.inv.path).unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match &self.inv.netns {
            Some(ns) => cmd.env("CNI_NETNS", ns),
            None => cmd.env_remove("CNI_NETNS"),
        };
        match &self.inv.raw_args {
            Some(a) => cmd.env("CNI_ARGS", a),
            None => cmd.env_remove("CNI_ARGS"),
        };
        if let Some(fd) = self.hold {
            let fd = fd.as_raw_fd();
            // SAFETY: fcntl is async-signal-safe; it clears FD_CLOEXEC on a
            // descriptor the parent keeps open until the child has exited.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let out = run_within(cmd, netconf, DEADLINE).map_err(failed)?;
        let Some((success, stdout, stderr)) = out else {
            return Err(CniError::new(
                Code::TryAgainLater,
                format!(
                    "IPAM plugin {name} ({}): no answer within {} s, killed",
                    self.verb.as_str(),
                    DEADLINE.as_secs()
                ),
            ));
        };
        let printed: Option<Value> = serde_json::from_slice(&stdout).ok();
        if success {
            return Ok(printed);
        }
        let (code, msg, details) = match &printed {
            Some(v) => (
                v.get("code").and_then(Value::as_u64).unwrap_or(999),
                v.get("msg").and_then(Value::as_str).unwrap_or("failed").to_string(),
                v.get("details").and_then(Value::as_str).map(str::to_string),
            ),
            None => (999, String::from_utf8_lossy(&stderr).trim().to_string(), None),
        };
        let code = match code {
            1 => Code::IncompatibleVersion,
            2 => Code::UnsupportedField,
            7 => Code::InvalidConfig,
            11 => Code::TryAgainLater,
            _ => Code::Internal,
        };
        let mut e = CniError::new(code, format!("IPAM plugin {name} ({}): {msg}", self.verb.as_str()));
        e.details = details;
        Err(e)
    }
}

/// What a child printed: exit success, stdout, stderr.
type Printed = (bool, Vec<u8>, Vec<u8>);

/// Runs `cmd` with `input` on its stdin; `None` if it had not finished
/// within `deadline` (it is then killed).
fn run_within(mut cmd: Command, input: &[u8], deadline: Duration) -> std::io::Result<Option<Printed>> {
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let (mut stdin, mut stdout, mut stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let input = input.to_vec();
    // A plugin that exits without reading its stdin is judged by its exit
    // status: a failed write is no error here.
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
    });
    let (tx, rx) = mpsc::channel();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    let left = |start: Instant| deadline.saturating_sub(start.elapsed());
    let printed = rx.recv_timeout(left(start)).ok();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if printed.is_none() || left(start).is_zero() {
            break None;
        }
        // Its stdout closed: it is exiting.
        std::thread::sleep(Duration::from_millis(1));
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(None);
    };
    // It exited as the deadline passed: its output is on the way.
    let printed = printed.or_else(|| rx.recv_timeout(Duration::from_millis(100)).ok());
    let _ = writer.join();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(printed.map(|out| (status.success(), out, stderr)))
}

/// An IPAM call running on a thread of its own while the caller does its
/// netlink work (the IPAM plugin is a process: its start-up and the
/// kernel's work then overlap).
pub struct Pending(Option<std::thread::JoinHandle<Result<Option<Value>>>>);

impl Pending {
    /// [`Call::run`] of `verb`, started now; `hold` is a duplicate of the
    /// attachment's lock for the IPAM plugin to hold while it runs.
    pub fn start(plugin: &str, verb: Verb, inv: &Invocation, netconf: &[u8], hold: Option<OwnedFd>) -> Pending {
        let (plugin, inv, netconf) = (plugin.to_string(), inv.clone(), netconf.to_vec());
        Pending(Some(std::thread::spawn(move || {
            Call { plugin: &plugin, verb, inv: &inv, netconf: &netconf, hold: hold.as_ref() }.run()
        })))
    }

    /// Its outcome, once the IPAM plugin has exited.
    pub fn wait(mut self) -> Result<Option<Value>> {
        self.join()
    }

    fn join(&mut self) -> Result<Option<Value>> {
        match self.0.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(CniError::new(Code::Internal, "the IPAM call's thread panicked")),
            None => Ok(None),
        }
    }
}

impl Drop for Pending {
    /// Never leaves the plugin running behind the caller's back: a lease
    /// it is still taking is taken before anything is undone.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// The spec versions IPAM plugin `name` says it speaks (asked with VERSION).
fn versions(name: &str, inv: &Invocation) -> Vec<String> {
    let probe = serde_json::json!({ "cniVersion": "0.4.0" }).to_string();
    let call = Call { plugin: name, verb: Verb::Version, inv, netconf: probe.as_bytes(), hold: None };
    call.once(probe.as_bytes())
        .ok()
        .flatten()
        .and_then(|v| v.get("supportedVersions").cloned())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The newest spec version this plugin and IPAM plugin `name` both speak.
fn common_version(name: &str, inv: &Invocation) -> Option<&'static str> {
    let theirs = versions(name, inv);
    crate::version::SUPPORTED.iter().rev().copied().find(|v| theirs.iter().any(|t| t == v))
}

/// Whether IPAM plugin `name` speaks spec `version`; GC and STATUS are only
/// passed on to plugins that know them.
pub fn supports(name: &str, inv: &Invocation, version: &str) -> bool {
    versions(name, inv).iter().any(|v| v == version)
}

/// `ipam.type` of a recorded network configuration (see
/// [`crate::state::Record::config`]), if it names a plugin.
/// Whether IPAM plugin `name` works on the pod's interface itself, so ADD
/// runs it once the interface exists and DEL before it goes (as the
/// reference macvlan plugin does for every plugin): the reference `dhcp`
/// plugin, whose daemon takes the lease on the interface inside the pod's
/// namespace and sends DHCPRELEASE from it. Others (host-local, static)
/// run while the link is made.
pub fn needs_interface(name: &str) -> bool {
    name == "dhcp"
}

pub fn type_of(config: &Value) -> Option<String> {
    let t = config.get("ipam")?.get("type")?.as_str()?;
    (!t.is_empty() && !t.contains('/') && t != "." && t != "..").then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    #[test]
    fn a_plugin_that_hangs_is_killed_at_the_deadline() {
        let start = Instant::now();
        let out = run_within(sh("exec sleep 30"), b"{}", Duration::from_millis(200)).unwrap();
        assert!(out.is_none(), "{out:?}");
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
        // One that closes its stdout but goes on running is killed too.
        let out = run_within(sh("exec >&-; sleep 30"), b"", Duration::from_millis(200)).unwrap();
        assert!(out.is_none());
    }

    #[test]
    fn a_plugin_that_answers_is_read_whole() {
        let big = vec![b'x'; 1 << 20];
        let (ok, stdout, stderr) =
            run_within(sh("wc -c; echo oops >&2; exit 3"), &big, Duration::from_secs(20)).unwrap().unwrap();
        assert!(!ok);
        assert_eq!(String::from_utf8_lossy(&stdout).trim(), "1048576");
        assert_eq!(stderr, b"oops\n");
    }
}
