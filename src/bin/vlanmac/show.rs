//! `vlanmac show`: links like `ip -d addr`.

use std::process::ExitCode;

use serde::Serialize;
use vlanmac::{readback::Link, Error, Netlink, NetnsRef};

#[derive(Serialize)]
struct Row {
    index: u32,
    name: String,
    kind: String,
    vlan: Option<u16>,
    protocol: Option<String>,
    mode: Option<String>,
    parent: Option<String>,
    mac: Option<String>,
    mtu: Option<u32>,
    up: bool,
    state: String,
    alias: Option<String>,
    addresses: Vec<String>,
}

fn row(l: &Link) -> Row {
    let (vlan, protocol, mode) = (l.kind.vlan_id(), l.kind.vlan_protocol(), l.kind.mode_name());
    let parent = l.parent.as_ref().map(|p| match (&p.name, p.netnsid) {
        (Some(n), _) => n.clone(),
        (None, Some(id)) => format!("if{} (netnsid {id})", p.index),
        (None, None) => format!("if{}", p.index),
    });
    Row {
        index: l.index,
        name: l.name.clone(),
        kind: l.kind.name().to_string(),
        vlan,
        protocol,
        mode,
        parent,
        mac: l.mac.map(|m| m.to_string()),
        mtu: l.mtu,
        up: l.admin_up,
        state: format!("{:?}", l.oper_state).to_uppercase(),
        alias: l.alias.clone(),
        addresses: l.addresses.iter().map(|a| a.net.to_string()).collect(),
    }
}

pub async fn show(netns: Option<&str>, json: bool) -> Result<ExitCode, Error> {
    let nsref = match netns {
        Some(n) => NetnsRef::named(n)?,
        None => NetnsRef::Current,
    };
    let nl = Netlink::open(nsref).await?;
    let rows: Vec<Row> = nl.links().await?.iter().map(row).collect();
    super::output::print(json, &rows, || {
        let mut s = String::new();
        for r in &rows {
            let at = r.parent.as_deref().map(|p| format!("@{p}")).unwrap_or_default();
            s.push_str(&format!(
                "{}: {}{at}: {} mtu {} state {}{}\n",
                r.index,
                r.name,
                r.kind,
                r.mtu.unwrap_or(0),
                r.state,
                if r.up { "" } else { " (admin down)" }
            ));
            if let Some(v) = r.vlan {
                s.push_str(&format!("    vlan protocol {} id {v}\n", r.protocol.as_deref().unwrap_or("?")));
            }
            if let Some(m) = &r.mode {
                s.push_str(&format!("    {} mode {m}\n", r.kind));
            }
            if let Some(m) = &r.mac {
                s.push_str(&format!("    link/ether {m}\n"));
            }
            if let Some(a) = &r.alias {
                s.push_str(&format!("    alias {a}\n"));
            }
            for a in &r.addresses {
                s.push_str(&format!("    inet{} {a}\n", if a.contains(':') { "6" } else { "" }));
            }
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
