//! A real runtime: Debian's podman with its CNI backend, running in the
//! runtime namespace (`nsenter --net`), the conflists of VLANs 10 and 20
//! rendered from a topology, a lab router on the far end of the trunk.
//! Containers on one VLAN ping each other, and across VLANs through the
//! router; `podman rm -f` takes their interfaces, and each VLAN goes with
//! its last container. Needs 802.1Q: runs in the kernel VM.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

use crate::{common::*, support::*};

const TOPOLOGY: &str = "name: podlab
networks:
  v10: { parent: trunk0, vlan: 10, subnets: [ { subnet: 10.0.10.0/24, gateway: 10.0.10.1 } ] }
  v20: { parent: trunk0, vlan: 20, subnets: [ { subnet: 10.0.20.0/24, gateway: 10.0.20.1 } ] }
endpoints: {}
";

/// podman with its own storage and configuration under `dir`, run inside
/// the runtime namespace.
struct Podman<'a> {
    rt: &'a Rt,
    dir: PathBuf,
}

impl Podman<'_> {
    fn cmd(&self, args: &[&str]) -> (bool, String) {
        let d = |p: &str| self.dir.join(p).display().to_string();
        // nsenter switches the network namespace only (`ip netns exec`
        // would remount /sys and hide the cgroup mount runc needs).
        let out = Command::new(nsenter())
            .arg(format!("--net=/run/netns/{}", self.rt.ns.name))
            .arg("podman")
            .args(["--root", &d("root"), "--runroot", &d("runroot"), "--storage-driver", "vfs"])
            .args(["--cni-config-dir", &d("cni"), "--runtime", "runc"])
            .args(args)
            .env("CONTAINERS_CONF", d("containers.conf"))
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .expect("run podman");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.cmd(args);
        assert!(ok, "podman {args:?}: {text}");
        text
    }

    fn run(&self, name: &str, network: &str) -> String {
        self.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            network,
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
            "vlanmac-busybox",
            "sleep",
            "600",
        ]);
        let inspect: Value = serde_json::from_str(&self.ok(&["inspect", name])).unwrap();
        let ip =
            inspect[0]["NetworkSettings"]["Networks"][network]["IPAddress"].as_str().unwrap_or_default().to_string();
        assert!(!ip.is_empty(), "{name} has no address on {network}: {inspect}");
        ip
    }

    fn ping(&self, from: &str, to: &str) {
        let (ok, text) = self.cmd(&["exec", from, "ping", "-c", "1", "-W", "3", to]);
        assert!(ok, "{from} cannot ping {to}: {text}");
    }
}

impl Drop for Podman<'_> {
    fn drop(&mut self) {
        let _ = self.cmd(&["rm", "-f", "-a"]);
        let _ = self.cmd(&["rmi", "-a", "-f"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nsenter() -> &'static str {
    ["/usr/bin/nsenter", "/bin/nsenter"].into_iter().find(|p| Path::new(p).exists()).unwrap_or("nsenter")
}

/// A busybox-static root filesystem as an image (`podman import`).
fn busybox_tar(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "ping", "ip", "cat"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    let tar = dir.join("busybox.tar");
    let st = Command::new("tar").arg("-C").arg(&root).arg("-cf").arg(&tar).arg(".").status().unwrap();
    assert!(st.success());
    tar
}

fn vlan_exists(rt: &Rt, name: &str) -> bool {
    rt.links().iter().any(|l| l == name)
}

#[test]
fn podman_containers_on_vlans_through_rendered_conflists() {
    let test = "podman_containers_on_vlans_through_rendered_conflists";
    let rt_probe = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    if !rt_probe.block_on(require(Feature::Vlan8021q, test)) {
        return;
    }
    let podman = ["/usr/bin/podman", "/usr/sbin/runc", "/bin/busybox", "/usr/lib/cni/host-local"];
    if let Some(missing) = podman.iter().find(|p| !Path::new(p).exists()) {
        assert!(
            !kernel_required(),
            "{test}: {missing} is not installed (podman, runc, busybox-static, containernetworking-plugins)"
        );
        record_skip(test, &format!("{missing} is not installed"));
        return;
    }
    let rt = Rt::new("pm");
    // The lab router on the far end: VLANs 10 and 20 with the gateways.
    for (id, gw) in [(10, "10.0.10.1/24"), (20, "10.0.20.1/24")] {
        let dev = format!("trunk1.{id}");
        rt.far.ip(&["link", "add", "link", "trunk1", "name", &dev, "type", "vlan", "id", &id.to_string()]);
        rt.far.ip(&["addr", "add", gw, "dev", &dev]);
        rt.far.ip(&["link", "set", &dev, "up"]);
    }
    run_ip(&["netns", "exec", rt.far.name.as_str(), "sysctl", "-qw", "net.ipv4.ip_forward=1"]);

    let dir = rt.dir.join("podman");
    for sub in ["cni", "bin", "root", "runroot"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::os::unix::fs::symlink(PLUGIN, dir.join("bin/vlanmac-cni")).unwrap();
    for p in ["host-local", "loopback"] {
        std::os::unix::fs::symlink(Path::new(REFERENCE_DIR).join(p), dir.join("bin").join(p)).unwrap();
    }
    std::fs::write(
        dir.join("containers.conf"),
        format!(
            "[network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"{cni}\"\ncni_plugin_dirs = [\"{bin}\"]\n\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"{events}\"\n",
            cni = dir.join("cni").display(),
            bin = dir.join("bin").display(),
            events = dir.join("events.log").display()
        ),
    )
    .unwrap();
    let topo = vlanmac::topology::from_yaml(TOPOLOGY, "podlab").unwrap();
    for (file, text) in vlanmac::render::cni_conflists(&topo) {
        // host-local's leases in this test's directory.
        let mut list: Value = serde_json::from_str(&text).unwrap();
        list["plugins"][0]["ipam"]["dataDir"] = Value::from(dir.join("leases").display().to_string());
        std::fs::write(dir.join("cni").join(file), list.to_string()).unwrap();
    }
    let pm = Podman { rt: &rt, dir: dir.clone() };
    pm.ok(&["import", busybox_tar(&dir).to_str().unwrap(), "vlanmac-busybox"]);

    let a1 = pm.run("a1", "v10");
    let a2 = pm.run("a2", "v10");
    let b1 = pm.run("b1", "v20");
    assert!(vlan_exists(&rt, "trunk0.10") && vlan_exists(&rt, "trunk0.20"), "{:?}", rt.links());
    pm.ping("a1", &a2); // same VLAN
    pm.ping("a2", "10.0.10.1"); // the gateway
    pm.ping("a1", &b1); // across VLANs, through the router
    pm.ping("b1", &a1);
    println!("cni/podman: a1 {a1} -> a2 {a2} (VLAN 10), a1 -> b1 {b1} (VLAN 20, via 10.0.10.1): replies");

    pm.ok(&["rm", "-f", "a1"]);
    assert!(vlan_exists(&rt, "trunk0.10"), "VLAN 10 went while a2 uses it");
    pm.ok(&["rm", "-f", "a2"]);
    assert!(!vlan_exists(&rt, "trunk0.10"), "VLAN 10 outlived its last container");
    assert!(vlan_exists(&rt, "trunk0.20"));
    pm.ok(&["rm", "-f", "b1"]);
    assert!(!vlan_exists(&rt, "trunk0.20"), "VLAN 20 outlived its last container");
    assert_eq!(rt.links(), ["lo", "trunk0"]);
    let leases: Vec<String> = ["v10", "v20"].iter().flat_map(|n| list_leases(&dir.join("leases").join(n))).collect();
    assert!(leases.is_empty(), "leases left: {leases:?}");
}

fn list_leases(d: &Path) -> Vec<String> {
    std::fs::read_dir(d)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.parse::<std::net::IpAddr>().is_ok())
        .collect()
}
