//! The host-side renderings checked by the tools that consume them, from
//! Debian: `netplan generate` (netplan.io 0.106), `nmcli --offline`
//! (NetworkManager 1.42) and `systemd-analyze verify` (systemd 252) on the
//! shipped `dist/systemd/vlanmac@.service`; and `--format json` against what
//! `vlanmac apply` really assigns. Without a tool a test reports itself
//! skipped, unless `VLANMAC_REQUIRE_TOOLS=1` (scripts/test sets it).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use crate::{common::*, topo_common::*};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/seed.yaml");
const HOSTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/hosts.yaml");

/// Whether `tool` is installed; if not, the test is skipped or (with
/// `VLANMAC_REQUIRE_TOOLS=1`) fails.
fn have(tool: &str, test: &str) -> bool {
    if Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(std::env::var("VLANMAC_REQUIRE_TOOLS").as_deref() != Ok("1"), "{test}: {tool} is not installed");
    record_skip(test, &format!("{tool} is not installed"));
    false
}

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("vlanmac-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first line `tool args` prints (its version).
fn version(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines().find(|l| !l.trim().is_empty()).unwrap_or("?").trim().to_string()
}

fn render(file: &str, format: &str) -> String {
    let (code, out, err) = cli(&["render", file, "--format", format]);
    assert_eq!(code, 0, "render {file} --format {format}: {err}");
    out
}

/// The VLANs a set of systemd-networkd files describes: name -> (id,
/// protocol, the parent whose .network lists it).
fn networkd_vlans(files: &[(String, String)]) -> BTreeMap<String, (String, String, String)> {
    let key = |text: &str, k: &str| {
        text.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).map(|v| v.trim().to_lowercase()).unwrap_or_default()
    };
    let mut parents = BTreeMap::new();
    for (_, text) in files.iter().filter(|(p, _)| p.ends_with(".network")) {
        let name = key(text, "Name");
        for l in text.lines().filter_map(|l| l.strip_prefix("VLAN=")) {
            parents.insert(l.trim().to_string(), name.clone());
        }
    }
    files
        .iter()
        .filter(|(p, t)| p.ends_with(".netdev") && key(t, "Kind") == "vlan")
        .map(|(_, t)| {
            let name = key(t, "Name");
            let proto = match key(t, "Protocol").as_str() {
                "" => "802.1q".to_string(),
                p => p.to_string(),
            };
            let parent = parents.get(&name).cloned().unwrap_or_default();
            (name, (key(t, "Id"), proto, parent))
        })
        .collect()
}

#[test]
fn netplan_generate_accepts_the_rendering_and_makes_the_same_vlans() {
    if !have("netplan", "netplan_generate_accepts_the_rendering_and_makes_the_same_vlans") {
        return;
    }
    let mut vlans = 0;
    for file in [SEED, HOSTS] {
        let root = TempDir::new("netplan");
        let text = render(file, "netplan");
        let out = root.0.join("etc/netplan");
        std::fs::create_dir_all(&out).unwrap();
        let (code, _, err) = cli(&["render", file, "--format", "netplan", "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let gen = Command::new("netplan").args(["generate", "--root-dir"]).arg(&root.0).output().unwrap();
        assert!(gen.status.success(), "netplan generate {file}: {}", String::from_utf8_lossy(&gen.stderr));
        let dir = root.0.join("run/systemd/network");
        let generated: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        let from_netplan = networkd_vlans(&generated);
        // vlanmac's own systemd-networkd rendering, less what netplan
        // cannot express (listed in the netplan file's header).
        let mut ours = networkd_vlans(&vlanmac::render::files(&render(file, "systemd-networkd")));
        ours.retain(|name, _| !text.contains(&format!("802.1ad subinterface {name} ")));
        assert!(!ours.is_empty());
        assert_eq!(from_netplan, ours, "{file}: netplan's networkd output differs from vlanmac's");
        vlans += ours.len();
    }
    let netplan_version = version("sh", &["-c", "dpkg-query -W -f '${Version}' netplan.io"]);
    record_tool(&format!(
        "netplan generate --root-dir (netplan.io {netplan_version}): exit 0 on 2 rendered files; its systemd-networkd output describes the same {vlans} VLANs (name, id, parent) as vlanmac's own rendering"
    ));
    // What netplan cannot express is said, not dropped.
    let text = render(HOSTS, "netplan");
    assert!(
        text.contains("802.1ad subinterface eth1.40") && text.contains("host shim shim30 (macvlan on eth1.30)"),
        "{text}"
    );
    assert!(text.contains("host shim shim50 (ipvlan on eth1)"), "{text}");
}

/// The keyfile's (section, key) -> value pairs.
fn keyfile(text: &str) -> BTreeMap<(String, String), String> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(s) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, v)) = l.split_once('=') {
            out.insert((section.clone(), k.to_string()), v.to_string());
        }
    }
    out
}

#[test]
fn nmcli_offline_reads_each_keyfile_back_field_for_field() {
    if !have("nmcli", "nmcli_offline_reads_each_keyfile_back_field_for_field") {
        return;
    }
    let mut kinds = BTreeSet::new();
    let (mut files, mut fields) = (0, 0);
    for file in [SEED, HOSTS] {
        let dir = TempDir::new("nm");
        let (code, listed, err) =
            cli(&["render", file, "--format", "networkmanager", "--out", dir.0.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        for path in listed.lines() {
            let meta = std::fs::metadata(path).unwrap();
            assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777, 0o600, "{path}");
            let text = std::fs::read_to_string(path).unwrap();
            let ours = keyfile(&text);
            let id = &ours[&("connection".to_string(), "id".to_string())];
            // Offline, nmcli reads a keyfile on stdin, applies the change
            // (here: none) and writes the normalized keyfile out.
            let mut child = Command::new("nmcli")
                .args(["--offline", "connection", "modify", "connection.id", id])
                .stdin(std::fs::File::open(path).unwrap())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let _ = child.stdin.take();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "nmcli --offline on {path}: {}", String::from_utf8_lossy(&out.stderr));
            let back = keyfile(&String::from_utf8_lossy(&out.stdout));
            for ((section, key), value) in &ours {
                // NetworkManager leaves out a property at its default.
                let default = (section.as_str(), key.as_str(), value.as_str()) == ("vlan", "protocol", "802.1Q");
                match back.get(&(section.clone(), key.clone())) {
                    Some(v) => assert_eq!(v, value, "{path}: [{section}] {key}"),
                    None => assert!(default, "{path}: [{section}] {key}={value} did not round-trip: {back:?}"),
                }
            }
            kinds.insert(ours[&("connection".to_string(), "type".to_string())].clone());
            files += 1;
            fields += ours.len();
        }
    }
    record_tool(&format!(
        "nmcli --offline connection modify ({}): read back {files} rendered keyfiles without error; all {fields} fields round-trip",
        version("nmcli", &["--version"])
    ));
    assert_eq!(kinds, BTreeSet::from(["vlan".to_string(), "macvlan".to_string()]));
    let text = render(HOSTS, "networkmanager");
    assert!(text.contains("protocol=802.1ad") && text.contains("not expressible: host shim shim50 (ipvlan"), "{text}");
}

/// A root for `systemd-analyze verify --root`: the system's own units, the
/// CLI where a unit's ExecStart names it, and `files` (from, to).
struct UnitRoot {
    root: TempDir,
    exec: String,
}

impl UnitRoot {
    /// `unit` (a file of dist/systemd) installed as `/etc/systemd/system/NAME`.
    fn new(unit: &str, name: &str, files: &[(PathBuf, &str)]) -> (UnitRoot, String) {
        let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/systemd").join(unit);
        let text = std::fs::read_to_string(&unit).unwrap();
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let u = UnitRoot { root: TempDir::new(&format!("systemd-{}", name.replace('@', "-"))), exec };
        std::fs::create_dir_all(u.path("/usr/lib/systemd")).unwrap();
        let status =
            Command::new("cp").arg("-r").arg("/usr/lib/systemd/system").arg(u.path("/usr/lib/systemd/")).status();
        assert!(status.is_ok_and(|s| s.success()));
        u.copy(&unit, &format!("/etc/systemd/system/{name}"));
        u.copy(Path::new(env!("CARGO_BIN_EXE_vlanmac")), &u.exec.clone());
        for (from, to) in files {
            u.copy(from, to);
        }
        (u, text)
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.0.join(p.trim_start_matches('/'))
    }

    fn copy(&self, from: &Path, to: &str) {
        let to = self.path(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    }

    /// `systemd-analyze verify --root=ROOT --man=no UNIT`: success and stderr.
    fn verify(&self, unit: &str) -> (bool, String) {
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", self.root.0.display()))
            .arg("--man=no")
            .arg(unit)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Verified without a message (recorded with `what`); and it does
    /// check: without the binary the same unit fails.
    fn verify_and_check_it_checks(&self, unit: &str, what: &str) {
        let (ok, err) = self.verify(unit);
        assert!(ok && err.trim().is_empty(), "systemd-analyze verify {unit}: {err}");
        record_tool(&format!(
            "systemd-analyze verify {unit} ({}): exit 0, no message ({what})",
            version("systemd-analyze", &["--version"])
        ));
        std::fs::remove_file(self.path(&self.exec)).unwrap();
        let (ok, err) = self.verify(unit);
        assert!(!ok && err.contains("is not executable"), "{err}");
    }
}

#[test]
fn systemd_analyze_verifies_the_unit_template() {
    if !have("systemd-analyze", "systemd_analyze_verifies_the_unit_template") {
        return;
    }
    // The unit, its Docker drop-in for one instance, and a topology.
    let dropin = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/systemd/docker.conf");
    let (root, text) = UnitRoot::new(
        "vlanmac@.service",
        "vlanmac@.service",
        &[
            (dropin, "/etc/systemd/system/vlanmac@seed.service.d/docker.conf"),
            (PathBuf::from(SEED), "/etc/vlanmac/seed.yaml"),
        ],
    );
    root.verify_and_check_it_checks(
        "vlanmac@seed.service",
        "dist/systemd/vlanmac@.service with the docker.conf drop-in",
    );
    // Oneshot, apply on start, down on stop, the topology from /etc/vlanmac.
    has_lines(
        &text,
        &[
            "Type=oneshot",
            "RemainAfterExit=yes",
            "ExecStart=/usr/local/bin/vlanmac apply /etc/vlanmac/%i.yaml",
            "ExecStop=/usr/local/bin/vlanmac down /etc/vlanmac/%i.yaml",
            "After=network-online.target docker.service",
        ],
    );
}

/// Every line of `lines` is a line of the unit `text`.
fn has_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "{line}");
    }
}

/// dist/systemd/vlanmac-agent.service: a notify service with a watchdog,
/// reloaded with SIGHUP, never taking anything down on stop.
#[test]
fn systemd_analyze_verifies_the_agent_unit() {
    if !have("systemd-analyze", "systemd_analyze_verifies_the_agent_unit") {
        return;
    }
    let (root, text) = UnitRoot::new(
        "vlanmac-agent.service",
        "vlanmac-agent.service",
        &[(PathBuf::from(SEED), "/etc/vlanmac/topologies/seed.yaml"), (PathBuf::from("/bin/kill"), "/bin/kill")],
    );
    root.verify_and_check_it_checks("vlanmac-agent.service", "dist/systemd/vlanmac-agent.service, Type=notify");
    has_lines(
        &text,
        &[
            "Type=notify",
            "NotifyAccess=main",
            "ExecStart=/usr/local/bin/vlanmac agent /etc/vlanmac/topologies",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "WatchdogSec=30",
        ],
    );
    assert!(!text.lines().any(|l| l.starts_with("ExecStop")), "the agent never takes anything down");
}

/// `--format json` gives the addresses and MACs `vlanmac apply` makes,
/// read back with `ip -j` in each endpoint's namespace.
#[test]
fn render_json_matches_what_apply_assigns() {
    let yaml = flat_yaml("json");
    let t = topo(&yaml);
    let _g = TopoGuard(t.clone());
    let file = write_temp("json.yaml", &yaml);
    let f = file.to_str().unwrap();
    let (code, out, err) = cli(&["render", f, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, _, err) = cli(&["apply", f]);
    assert_eq!(code, 0, "{err}");
    let mut checked = 0;
    for e in j["endpoints"].as_array().unwrap() {
        let ns = e["netns"].as_str().unwrap();
        for i in e["interfaces"].as_array().unwrap() {
            let dev = i["ifname"].as_str().unwrap();
            let link = ip_json(Some(ns), &["addr", "show", "dev", dev]);
            let link = &link[0];
            assert_eq!(link["address"].as_str(), i["mac"].as_str(), "{ns}/{dev}");
            let have = global_addresses(link);
            let want: BTreeSet<String> =
                [&i["ipv4"], &i["ipv6"]].iter().filter_map(|v| v.as_str()).map(String::from).collect();
            assert_eq!(have, want, "{ns}/{dev}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
    let lan = &j["networks"][0];
    assert_eq!(
        (lan["link"].as_str(), lan["driver"].as_str(), lan["mode"].as_str()),
        (Some("eth0"), Some("macvlan"), Some("bridge"))
    );
}

/// Runs `shell -c script` and returns its stdout (asserting success).
fn shell(shell: &str, script: &str) -> String {
    let out = Command::new(shell).args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{shell} -c {script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `vlanmac completions bash|zsh|fish`: each script is valid for its shell,
/// and bash and fish complete the commands and `render --format` values from
/// the same definitions as `--help`.
#[test]
fn shell_completions_complete_commands_and_formats() {
    let dir = TempDir::new("completions");
    let script = |sh: &str| {
        let (code, out, err) = cli(&["completions", sh]);
        assert_eq!(code, 0, "{err}");
        let path = dir.0.join(sh);
        std::fs::write(&path, out).unwrap();
        path.display().to_string()
    };
    if have("bash", "shell_completions_complete_commands_and_formats") {
        let f = script("bash");
        let words = shell(
            "bash",
            &format!(
                "source {f}; COMP_WORDS=(vlanmac re); COMP_CWORD=1; _vlanmac vlanmac re vlanmac; echo \"${{COMPREPLY[@]}}\"; \
                 COMP_WORDS=(vlanmac render t.yaml --format ne); COMP_CWORD=4; _vlanmac vlanmac ne --format; echo \"${{COMPREPLY[@]}}\""
            ),
        );
        assert_eq!(words, "render\nnetplan networkmanager\n");
    }
    if have("fish", "shell_completions_complete_commands_and_formats") {
        let f = script("fish");
        shell("fish", &format!("fish --no-execute {f}"));
        let words = shell(
            "fish",
            &format!("source {f}; complete -C 'vlanmac do'; complete -C 'vlanmac render t.yaml --format sys'"),
        );
        let first: Vec<&str> = words.lines().map(|l| l.split('\t').next().unwrap_or_default()).collect();
        assert_eq!(first, ["down", "systemd-networkd"], "{words}");
    }
    if have("zsh", "shell_completions_complete_commands_and_formats") {
        let f = script("zsh");
        shell("zsh", &format!("zsh -n {f}"));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with("#compdef vlanmac") && text.contains("networkmanager") && text.contains("completions")
        );
    }
}

/// `vlanmac man --out DIR`: a page per command that man(1) formats without
/// a warning, with the commands, options and possible values of `--help`.
#[test]
fn man_pages_format_cleanly() {
    if !have("man", "man_pages_format_cleanly") {
        return;
    }
    let dir = TempDir::new("man");
    let (code, listed, err) = cli(&["man", "--out", dir.0.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pages: Vec<&str> = listed.lines().collect();
    for cmd in [
        "vlanmac",
        "vlanmac-plan",
        "vlanmac-apply",
        "vlanmac-down",
        "vlanmac-verify",
        "vlanmac-render",
        "vlanmac-completions",
    ] {
        assert!(pages.iter().any(|p| p.ends_with(&format!("/{cmd}.1"))), "{cmd}.1 missing: {pages:?}");
    }
    for page in &pages {
        let out = Command::new("man").args(["--warnings", "-l", page]).env("MANWIDTH", "80").output().unwrap();
        assert!(out.status.success(), "man -l {page}");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(warnings.trim().is_empty(), "{page}: {warnings}");
    }
    let main = shell("sh", &format!("MANWIDTH=80 man -l {}/vlanmac.1", dir.0.display()));
    for word in ["plan", "apply", "down", "verify", "render", "Exit codes"] {
        assert!(main.contains(word), "vlanmac(1) lacks {word}: {main}");
    }
    let down = shell("sh", &format!("MANWIDTH=80 man -l {}/vlanmac-down.1", dir.0.display()));
    assert!(down.contains("--check") && down.contains("change nothing"), "{down}");
}
