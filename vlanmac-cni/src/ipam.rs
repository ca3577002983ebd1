//! IPAM delegated through the CNI exec protocol: the plugin named by
//! `ipam.type` is looked up in `CNI_PATH` and run with the same
//! environment (but the verb given), the network configuration on its
//! stdin; its result (ADD) or error object comes back on its stdout.

use std::{
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use serde_json::Value;

use crate::{
    error::{CniError, Code, Result},
    invocation::{Invocation, Verb},
};

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

/// Runs IPAM plugin `name` for `verb` with `netconf` on its stdin. Returns
/// what it printed on success (a result for ADD, the versions for VERSION,
/// nothing for the others); its error object as a [`CniError`] with its
/// code otherwise.
///
/// An IPAM plugin older than the configuration (Debian's host-local speaks
/// up to 1.0.0; a configuration may be 1.1.0) refuses it with error 1: it
/// is then asked for its versions and given the configuration again at the
/// newest version both speak. Results of every version are read alike.
pub fn exec(name: &str, verb: Verb, inv: &Invocation, netconf: &[u8]) -> Result<Option<Value>> {
    match exec_once(name, verb, inv, netconf) {
        Err(e) if e.code == Code::IncompatibleVersion && verb != Verb::Version => {
            let Some(older) = common_version(name, inv) else { return Err(e) };
            let mut conf: Value = serde_json::from_slice(netconf).map_err(|_| e.clone())?;
            if let Some(o) = conf.as_object_mut() {
                o.insert("cniVersion".into(), Value::from(older));
                o.remove("cniVersions");
            }
            exec_once(name, verb, inv, conf.to_string().as_bytes())
        }
        other => other,
    }
}

/// An IPAM call running on a thread of its own while the caller does its
/// netlink work (the IPAM plugin is a process: its start-up and the
/// kernel's work then overlap).
pub struct Pending(Option<std::thread::JoinHandle<Result<Option<Value>>>>);

impl Pending {
    /// [`exec`] of `verb`, started now.
    pub fn start(name: &str, verb: Verb, inv: &Invocation, netconf: &[u8]) -> Pending {
        let (name, inv, netconf) = (name.to_string(), inv.clone(), netconf.to_vec());
        Pending(Some(std::thread::spawn(move || exec(&name, verb, &inv, &netconf))))
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

/// The newest spec version this plugin and IPAM plugin `name` both speak.
fn common_version(name: &str, inv: &Invocation) -> Option<&'static str> {
    let probe = serde_json::json!({ "cniVersion": "0.4.0" }).to_string();
    let reply = exec_once(name, Verb::Version, inv, probe.as_bytes()).ok().flatten()?;
    let theirs: Vec<String> =
        reply.get("supportedVersions")?.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    crate::version::SUPPORTED.iter().rev().copied().find(|v| theirs.iter().any(|t| t == v))
}

fn exec_once(name: &str, verb: Verb, inv: &Invocation, netconf: &[u8]) -> Result<Option<Value>> {
    let plugin = find(name, &inv.path)?;
    let mut child = Command::new(&plugin)
        .env("CNI_COMMAND", verb.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CniError::new(Code::Io, format!("run IPAM plugin {}: {e}", plugin.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin that exits without reading is judged by its exit status.
        let _ = stdin.write_all(netconf);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| CniError::new(Code::Io, format!("run IPAM plugin {}: {e}", plugin.display())))?;
    let printed: Option<Value> = serde_json::from_slice(&out.stdout).ok();
    if out.status.success() {
        return Ok(printed);
    }
    let (code, msg, details) = match &printed {
        Some(v) => (
            v.get("code").and_then(Value::as_u64).unwrap_or(999),
            v.get("msg").and_then(Value::as_str).unwrap_or("failed").to_string(),
            v.get("details").and_then(Value::as_str).map(str::to_string),
        ),
        None => (999, String::from_utf8_lossy(&out.stderr).trim().to_string(), None),
    };
    let code = match code {
        1 => Code::IncompatibleVersion,
        2 => Code::UnsupportedField,
        7 => Code::InvalidConfig,
        11 => Code::TryAgainLater,
        _ => Code::Internal,
    };
    let mut e = CniError::new(code, format!("IPAM plugin {name} ({}): {msg}", verb.as_str()));
    e.details = details;
    Err(e)
}

/// Whether IPAM plugin `name` speaks spec `version` (asked with VERSION);
/// GC and STATUS are only passed on to plugins that know them.
pub fn supports(name: &str, inv: &Invocation, version: &str) -> bool {
    let probe = serde_json::json!({ "cniVersion": "0.4.0" }).to_string();
    exec_once(name, Verb::Version, inv, probe.as_bytes())
        .ok()
        .flatten()
        .and_then(|v| v.get("supportedVersions").cloned())
        .and_then(|v| v.as_array().cloned())
        .is_some_and(|list| list.iter().any(|x| x.as_str() == Some(version)))
}
