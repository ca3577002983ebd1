//! `vlanmac show`: links like `ip -d addr`.

use std::process::ExitCode;

use vlanmac::{readback::LinkSummary, Error, Netlink, NetnsRef};

pub async fn show(netns: Option<&str>, json: bool) -> Result<ExitCode, Error> {
    let nsref = match netns {
        Some(n) => NetnsRef::named(n)?,
        None => NetnsRef::Current,
    };
    let nl = Netlink::open(nsref).await?;
    let rows: Vec<LinkSummary> = nl.links().await?.iter().map(LinkSummary::from).collect();
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
            if let Some(v) = r.vlan_id {
                s.push_str(&format!("    vlan protocol {} id {v}\n", r.vlan_protocol.as_deref().unwrap_or("?")));
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
