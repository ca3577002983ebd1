//! `ipam: {"type": "dhcp"}`: the reference dhcp plugin and its daemon
//! (`/usr/lib/cni/dhcp daemon`, Debian's containernetworking-plugins)
//! through vlanmac-cni, against Debian's dnsmasq on the far end of the
//! trunk: untagged here, on VLAN 30 made on demand in the kernel VM. The
//! server's lease file shows the lease taken on ADD and released on DEL.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::{common::*, dnsmasq::Dnsmasq, support::*};

const DHCP_PLUGIN: &str = "/usr/lib/cni/dhcp";

/// The reference dhcp daemon with its socket in `dir`; stopped by its PID
/// on drop.
struct DhcpDaemon {
    child: Child,
    socket: PathBuf,
}

impl DhcpDaemon {
    fn start(dir: &std::path::Path) -> DhcpDaemon {
        let socket = dir.join("dhcp.sock");
        let child = Command::new(DHCP_PLUGIN)
            .arg("daemon")
            .arg("-socketpath")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the dhcp daemon");
        let start = Instant::now();
        while !socket.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "the dhcp daemon made no socket");
            std::thread::sleep(Duration::from_millis(50));
        }
        DhcpDaemon { child, socket }
    }
}

impl Drop for DhcpDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ADD, CHECK, DEL of one pod with DHCP IPAM; `vlan` as the netconf's
/// (the server then sits on the far end's `trunk1.VLAN`).
fn add_check_del(test: &str, tag: &str, vlan: Option<u16>) {
    if !have_reference() || !std::path::Path::new(DHCP_PLUGIN).exists() {
        assert!(!kernel_required(), "{test}: the reference dhcp plugin is not installed");
        record_skip(test, "the reference dhcp plugin (containernetworking-plugins) is not installed");
        return;
    }
    let rt = Rt::new(tag);
    let far_if = match vlan {
        Some(v) => {
            let name = format!("trunk1.{v}");
            rt.far.ip(&["link", "add", "link", "trunk1", "name", &name, "type", "vlan", "id", &v.to_string()]);
            rt.far.ip(&["link", "set", &name, "up"]);
            name
        }
        None => "trunk1".to_string(),
    };
    rt.far.ip(&["addr", "add", "10.78.0.1/24", "dev", &far_if]);
    let Some(server) = Dnsmasq::start(test, rt.far.name.as_str(), &far_if, "10.78.0.100", "10.78.0.150", "10.78.0.1")
    else {
        return;
    };
    let daemon = DhcpDaemon::start(&rt.dir);
    let mut conf = rt.conf("dhnet", "10.78.0.0/24", json!({}));
    conf["ipam"] = json!({ "type": "dhcp", "daemonSocketPath": daemon.socket.display().to_string() });
    if let Some(v) = vlan {
        conf["vlan"] = json!(v);
    }
    let pod = TestNs::new(&format!("{tag}pod"));
    let r = rt.exec(PLUGIN, "ADD", &conf, "dhcp-c1", Some(pod.name.as_str()), "net1");
    let result = r.ok().clone();
    let addr = result["ips"][0]["address"].as_str().unwrap_or_else(|| panic!("no address: {result}")).to_string();
    let ip: std::net::Ipv4Addr = addr.split('/').next().unwrap().parse().unwrap();
    assert!((100..=150).contains(&ip.octets()[3]) && addr.ends_with("/24"), "{addr}");
    assert_eq!(result["ips"][0]["gateway"], "10.78.0.1", "{result}");
    // What the pod has (ip -j), and what the server says it leased to
    // the pod's MAC.
    assert!(pod.addrs("net1").contains(&addr), "{:?}", pod.addrs("net1"));
    let mac = pod.link_json("net1")["address"].as_str().unwrap().to_string();
    server.wait_leases("the pod's lease", |l| l.iter().any(|x| x.mac == mac && x.addr == ip));
    if let Some(v) = vlan {
        let made = format!("trunk0.{v}");
        assert!(rt.links().contains(&made), "the VLAN {made} was not made: {:?}", rt.links());
    }
    // The pod reaches the server's side.
    let p = Command::new(ip_path())
        .args(["netns", "exec", pod.name.as_str(), "ping", "-c1", "-W2", "10.78.0.1"])
        .output()
        .unwrap();
    assert!(p.status.success(), "ping the gateway: {}", String::from_utf8_lossy(&p.stdout));

    let mut check = conf.clone();
    check["prevResult"] = result.clone();
    rt.exec(PLUGIN, "CHECK", &check, "dhcp-c1", Some(pod.name.as_str()), "net1").ok();

    // DEL: the daemon releases the lease (DHCPRELEASE) before the
    // interface goes; the server forgets it.
    rt.exec(PLUGIN, "DEL", &conf, "dhcp-c1", Some(pod.name.as_str()), "net1").ok();
    server.wait_leases("the lease released", |l| !l.iter().any(|x| x.mac == mac));
    assert!(server.log().contains("DHCPRELEASE"), "{}", server.log());
    assert!(!pod.has_link("net1"));
    if let Some(v) = vlan {
        assert!(!rt.links().contains(&format!("trunk0.{v}")), "the VLAN stayed: {:?}", rt.links());
    }
    assert!(rt.records().is_empty(), "{:?}", rt.records());
}

#[test]
fn dhcp_ipam_through_the_reference_daemon_add_check_del() {
    add_check_del("dhcp::dhcp_ipam_through_the_reference_daemon_add_check_del", "dh", None);
}

#[test]
fn dhcp_ipam_on_vlan_30_made_on_demand() {
    let test = "dhcp::dhcp_ipam_on_vlan_30_made_on_demand";
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    if !rt.block_on(require(Feature::Vlan8021q, test)) {
        return;
    }
    add_check_del(test, "dv", Some(30));
}

#[test]
fn mac_from_ip_with_dhcp_ipam_is_refused_naming_the_field() {
    let rt = Rt::new("dm");
    let mut conf = rt.conf("dhnet", "10.78.0.0/24", json!({ "macFromIP": true }));
    conf["ipam"] = json!({ "type": "dhcp" });
    let pod = TestNs::new("dmpod");
    let r = rt.exec(PLUGIN, "ADD", &conf, "dhcp-m1", Some(pod.name.as_str()), "net1");
    assert_eq!(r.code(), 7, "{}", r.text);
    assert!(r.msg().starts_with("macFromIP: "), "{}", r.msg());
    assert!(!pod.has_link("net1"));
    assert!(rt.records().is_empty());
}
