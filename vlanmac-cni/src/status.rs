//! STATUS (CNI 1.1): whether ADD can work now. Code 50 when the master is
//! missing or the running kernel lacks 802.1Q (with `vlan`) or ipvlan
//! (with `driver: ipvlan`), or the IPAM plugin is not in `CNI_PATH`; the
//! IPAM plugin's own STATUS when it speaks 1.1.

use crate::{
    error::{CniError, Code, Result},
    handles,
    invocation::{Invocation, Verb},
    ipam,
    netconf::{Driver, NetConf},
    vlan,
};

/// Whether the running kernel has module `name`: loaded (or built in), or
/// listed among its modules, which the kernel loads on first use.
pub fn kernel_has(name: &str) -> bool {
    if std::path::Path::new("/sys/module").join(name).exists() {
        return true;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let dir = std::path::Path::new("/lib/modules").join(release.trim());
    let needle = format!("/{name}.ko");
    ["modules.builtin", "modules.dep"]
        .iter()
        .any(|f| std::fs::read_to_string(dir.join(f)).is_ok_and(|text| text.lines().any(|l| l.contains(&needle))))
}

/// STATUS.
pub fn status(inv: &Invocation, conf: &NetConf, raw: &[u8]) -> Result<()> {
    let host = handles::host()?;
    vlan::master(&host, conf).map_err(|e| CniError::new(Code::NotAvailable, e.msg))?;
    if conf.vlan.is_some() && !kernel_has("8021q") {
        return Err(CniError::new(Code::NotAvailable, "the running kernel has no 802.1Q VLAN support (module 8021q)"));
    }
    if matches!(conf.driver, Driver::Ipvlan(_)) && !kernel_has("ipvlan") {
        return Err(CniError::new(Code::NotAvailable, "the running kernel has no ipvlan support (module ipvlan)"));
    }
    if let Some(t) = &conf.ipam_type {
        ipam::find(t, &inv.path).map_err(|e| CniError::new(Code::NotAvailable, e.msg))?;
        if ipam::supports(t, inv, "1.1.0") {
            ipam::Call { plugin: t, verb: Verb::Status, inv, netconf: raw, hold: None }.run()?;
        }
    }
    Ok(())
}
