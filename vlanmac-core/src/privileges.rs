//! Whether the caller may change the network: checked before anything is
//! touched, so a user without privileges gets one plain message instead of
//! the first system call's errno halfway through.
//!
//! Everything vlanmac changes needs `CAP_NET_ADMIN` (links, addresses,
//! routes) and `CAP_SYS_ADMIN` (creating, entering and mounting network
//! namespaces), in the thread's effective set.

use crate::error::{Error, KernelError, Result};

/// The text every permission failure of vlanmac's own checks carries.
pub use crate::error::NEEDS_ROOT;

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// The effective capability set of the calling thread, from the `CapEff:`
/// line of `/proc/thread-self/status`; `None` when it cannot be read.
fn effective_caps() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    parse_cap_eff(&status)
}

fn parse_cap_eff(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
    u64::from_str_radix(hex, 16).ok()
}

/// Whether the calling thread holds CAP_NET_ADMIN and CAP_SYS_ADMIN. When
/// the set cannot be read (no `/proc`), the kernel is left to decide.
pub fn has_admin() -> bool {
    effective_caps().is_none_or(holds_admin)
}

fn holds_admin(caps: u64) -> bool {
    let need = (1u64 << CAP_NET_ADMIN) | (1u64 << CAP_SYS_ADMIN);
    caps & need == need
}

/// Fails with [`Error::PermissionDenied`] (`what`: needs root
/// (CAP_NET_ADMIN and CAP_SYS_ADMIN)) unless the caller holds both
/// capabilities. `what` says what was about to happen: `apply topology seed`.
pub fn require_admin(what: &str) -> Result<()> {
    if has_admin() {
        Ok(())
    } else {
        Err(denied(what))
    }
}

/// The error [`require_admin`] returns.
pub(crate) fn denied(what: &str) -> Error {
    Error::PermissionDenied(KernelError {
        op: what.to_string(),
        errno: libc::EPERM,
        extack: None,
        hint: Some(NEEDS_ROOT.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_effective_set() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_ffff_ffff));
        assert!(holds_admin(0x1ff_ffff_ffff));
        assert!(!holds_admin(1 << CAP_NET_ADMIN));
        assert!(!holds_admin(1 << CAP_SYS_ADMIN));
        assert_eq!(parse_cap_eff("Name:\tx\n"), None);
        assert_eq!(parse_cap_eff("CapEff:\tzz\n"), None);
    }

    #[test]
    fn the_message_names_root_and_both_capabilities() {
        let e = denied("apply topology seed").to_string();
        assert!(e.contains("apply topology seed") && e.contains(NEEDS_ROOT), "{e}");
    }
}
