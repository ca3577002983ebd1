//! Plugins run as processes, the way container runtimes and netavark run
//! them (shared by vlanmac-cni's tests and vlanmac-netavark's): what one
//! invocation printed, a deadline for hangs, and the runtime namespace with
//! its trunk (`trunk0` here, its veth peer `trunk1` in a "far" namespace).

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use serde_json::Value;

use crate::common::*;

/// What a plugin printed and how it exited.
#[derive(Debug, Clone)]
pub struct Out {
    pub status: i32,
    pub json: Value,
    pub text: String,
}

impl Out {
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 0, "plugin failed: {}", self.text);
        &self.json
    }

    /// The netavark plugin's `{"error": ...}` message (it must have failed
    /// with status 1).
    pub fn error(&self) -> String {
        assert_eq!(self.status, 1, "did not fail with status 1: {}", self.text);
        self.json["error"].as_str().unwrap_or_else(|| panic!("no error object: {}", self.text)).to_string()
    }

    /// The CNI error object's code (the plugin must have failed).
    pub fn code(&self) -> u64 {
        assert_ne!(self.status, 0, "plugin succeeded: {}", self.text);
        self.json["code"].as_u64().unwrap_or_else(|| panic!("no error object: {}", self.text))
    }

    pub fn msg(&self) -> String {
        self.json["msg"].as_str().unwrap_or_default().to_string()
    }
}

/// How long one plugin invocation may run before the tests call it hung:
/// longer than the plugin's own lock wait (60 s), so a slow invocation
/// answers for itself. In the emulated kernel VM, sixteen ADDs started at
/// once (each a fresh process delegating to host-local) outran 30 s.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(90);

/// Feeds `stdin` to `child` and collects what it printed; kills it after
/// `deadline` (status -2, "killed after" in the text).
pub fn finish(mut child: std::process::Child, stdin: &[u8], deadline: std::time::Duration) -> Out {
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // A plugin that never reads its stdin must not block the test.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let start = std::time::Instant::now();
    let mut killed = false;
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            let _ = child.kill();
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_micros(500));
    }
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    if killed {
        text.push_str(&format!("killed after {deadline:?}"));
    }
    Out {
        status: if killed { -2 } else { out.status.code().unwrap_or(-1) },
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        text,
    }
}

/// A fresh runtime namespace (`lo` up) holding `trunk0`, its veth peer
/// `trunk1` in a fresh "far" namespace, both up.
pub fn runtime_with_trunk(tag: &str) -> (TestNs, TestNs) {
    let ns = TestNs::new(&format!("{tag}rt"));
    let far = TestNs::new(&format!("{tag}far"));
    let far_path = format!("/run/netns/{}", far.name);
    ns.ip(&["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk1", "netns", &far_path]);
    ns.ip(&["link", "set", "trunk0", "up"]);
    ns.ip(&["link", "set", "lo", "up"]);
    far.ip(&["link", "set", "trunk1", "up"]);
    (ns, far)
}

/// A fresh scratch directory `PREFIX-PID-SEQ` with a `state` folder in it
/// (the caller removes it).
pub fn scratch_dir(prefix: &str) -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir =
        std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(dir.join("state")).unwrap();
    dir
}

pub fn ip_path() -> &'static str {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].into_iter().find(|p| Path::new(p).exists()).unwrap_or("ip")
}

pub fn link_names(ns: &str) -> Vec<String> {
    let mut v: Vec<String> = ip_json(Some(ns), &["link", "show"])
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["ifname"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}
