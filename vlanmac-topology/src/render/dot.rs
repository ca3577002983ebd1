use std::fmt::Write;

use crate::{EndpointNs, Topology};

fn q(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// A Graphviz diagram like the seed's figure: the router, the trunk, the
/// VLAN subinterfaces, the networks and the endpoints with their addresses.
pub fn dot(t: &Topology) -> String {
    let mut s = format!("graph {} {{\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n", q(&t.name));
    let router = t.lab.as_ref().map(|l| l.router.to_string()).unwrap_or_else(|| "router".into());
    let mut gw_lines = Vec::new();
    for n in &t.networks {
        for s in &n.subnets {
            if let Some(g) = s.gateway() {
                gw_lines.push(format!("{g}/{} ({})", s.prefix_len(), n.name));
            }
        }
    }
    let _ = writeln!(s, "  router [label={}, shape=ellipse];", q(&format!("{router}\n{}", gw_lines.join("\n"))));
    let mut trunks: Vec<String> = t.networks.iter().map(|n| n.parent.to_string()).collect();
    trunks.sort();
    trunks.dedup();
    let host = t.namespace.as_ref().map(|n| n.to_string()).unwrap_or_else(|| "host".into());
    for tr in &trunks {
        let id = format!("trunk:{tr}");
        let _ = writeln!(s, "  {} [label={}];", q(&id), q(&format!("{host}: {tr}\n802.1Q trunk")));
        let _ = writeln!(s, "  router -- {} [label=\"trunk\"];", q(&id));
    }
    for n in &t.networks {
        let lp = n.link_parent().to_string();
        let nid = format!("net:{}", n.name);
        let subnets: Vec<String> = n.subnets.iter().map(|x| x.subnet.net().to_string()).collect();
        let mode = n.driver.macvlan_mode().map(|m| m.to_string()).unwrap_or_else(|| n.driver.kind().to_string());
        let _ = writeln!(
            s,
            "  {} [label={}, shape=note];",
            q(&nid),
            q(&format!("{} ({} {mode})\n{lp}\n{}", n.name, n.driver.kind(), subnets.join("\n")))
        );
        let _ = writeln!(s, "  {} -- {};", q(&format!("trunk:{}", n.parent)), q(&nid));
    }
    for e in &t.endpoints {
        let eid = format!("ep:{}", e.name);
        let ns = match &e.netns {
            EndpointNs::Netns(n) => n.to_string(),
            EndpointNs::Pid(p) => format!("pid {p}"),
            EndpointNs::Container(c) => format!("container {c}"),
        };
        let mut lines = vec![format!("{} ({ns})", e.name)];
        for a in &e.attach {
            let mut l = format!("{}: {}", a.ifname, a.network);
            if let Some(v4) = a.ipv4 {
                l.push_str(&format!(" {v4}"));
            }
            if let Some(v6) = a.ipv6 {
                l.push_str(&format!(" {v6}"));
            }
            lines.push(l);
        }
        let _ = writeln!(s, "  {} [label={}, shape=component];", q(&eid), q(&lines.join("\n")));
        for a in &e.attach {
            let _ =
                writeln!(s, "  {} -- {} [label={}];", q(&format!("net:{}", a.network)), q(&eid), q(a.ifname.as_str()));
        }
    }
    s.push_str("}\n");
    s
}
