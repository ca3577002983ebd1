//! Network sysctls of a namespace (`ip netns exec NS sysctl KEY[=VALUE]`),
//! read and written through `/proc/sys/net` on a short-lived thread that
//! entered the namespace: `/proc/sys/net` shows the namespace of the thread
//! that opens it.

use super::{thread, NetnsRef};
use crate::error::{Error, Result};

/// Validates a dotted key (`net.ipv4.conf.all.forwarding`): only `net.`
/// keys, no path tricks. Returns the `/proc/sys` path.
fn path_of(key: &str) -> Result<String> {
    let ok = key.starts_with("net.")
        && key
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')));
    if !ok {
        return Err(crate::spec::SpecError::new("sysctl", key, "is not a net.* sysctl key").into());
    }
    Ok(format!("/proc/sys/{}", key.replace('.', "/")))
}

fn enter(ns: &NetnsRef) -> Result<Option<std::os::fd::OwnedFd>> {
    match ns {
        NetnsRef::Current => Ok(None),
        other => other.open().map(Some),
    }
}

/// Reads a network sysctl inside `ns`, trimmed.
pub async fn read(ns: &NetnsRef, key: &str) -> Result<String> {
    let path = path_of(key)?;
    let what = format!("read sysctl {key} in netns {ns}");
    thread::run_in(enter(ns)?, what.clone(), move || {
        std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| Error::io(what, e))
    })
    .await
}

/// Writes a network sysctl inside `ns`.
pub async fn write(ns: &NetnsRef, key: &str, value: &str) -> Result<()> {
    let path = path_of(key)?;
    let what = format!("set sysctl {key}={value} in netns {ns}");
    let value = value.to_string();
    thread::run_in(enter(ns)?, what.clone(), move || std::fs::write(&path, value).map_err(|e| Error::io(what, e))).await
}

/// Writes per-interface sysctls of `dev` inside `ns`, each given as
/// (family, leaf, value): `("ipv4", "arp_notify", "1")` is
/// `net.ipv4.conf.DEV.arp_notify`. The interface name goes into the path as
/// it is (dots included, which the dotted key form cannot express). One
/// thread enters the namespace for all of them.
///
/// A family the link has no configuration of is skipped: below an MTU of
/// 1280 (or with IPv6 disabled at boot) the kernel gives a link no IPv6,
/// and no `net.ipv6.conf.DEV` directory. A link that is not there at all
/// fails with [`Error::NotFound`].
pub async fn write_interface(ns: &NetnsRef, dev: &crate::spec::IfName, values: &[(&str, &str, &str)]) -> Result<()> {
    let mut writes = Vec::new();
    for (family, leaf, value) in values {
        let leaf_key = format!("net.{family}.conf.all.{leaf}");
        path_of(&leaf_key)?; // family and leaf are plain words
        let dir = format!("/proc/sys/net/{family}/conf/{dev}");
        writes.push((dir, format!("/proc/sys/net/{family}/conf/{dev}/{leaf}"), value.to_string()));
    }
    let what = format!("set sysctls of {dev} in netns {ns}");
    let dev = dev.to_string();
    thread::run_in(enter(ns)?, what.clone(), move || {
        for (dir, path, value) in &writes {
            match std::fs::write(path, value) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let link_there = ["ipv4", "ipv6"]
                        .iter()
                        .any(|f| std::path::Path::new(&format!("/proc/sys/net/{f}/conf/{dev}")).is_dir());
                    if std::path::Path::new(dir).is_dir() || !link_there {
                        return Err(Error::from_errno(format!("{what}: {path}"), libc::ENOENT, None, None));
                    }
                }
                Err(e) => return Err(Error::io(format!("{what}: {path}"), e)),
            }
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_checked() {
        assert_eq!(super::path_of("net.ipv4.conf.all.forwarding").unwrap(), "/proc/sys/net/ipv4/conf/all/forwarding");
        for bad in ["kernel.panic", "net..x", "net.ipv4/../../x", "net.a b", ""] {
            assert!(super::path_of(bad).is_err(), "{bad}");
        }
    }
}
