use std::sync::atomic::{AtomicU32, Ordering};

use crate::spec::IfName;

/// Prefix of the temporary names links get while they are created in one
/// namespace and renamed in another: `vmtmp` + the creating process's PID
/// (6 hex digits) + a counter (4 hex digits).
///
/// A link with this prefix whose creator is no longer running was left by a
/// run that died between creating and renaming it; any later apply or down
/// that looks at its namespace removes it (see [`temp_link_left_behind`]).
pub const TEMP_PREFIX: &str = "vmtmp";

/// A fresh temporary interface name: `vmtmp`, this process's PID as 6 hex
/// digits, a per-process counter as 4 (15 bytes in all).
pub(crate) fn temp_ifname() -> IfName {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff;
    // Linux PIDs are below 2^22 (PID_MAX_LIMIT): 6 hex digits hold any.
    let pid = std::process::id() & 0xff_ffff;
    // 5 + 6 + 4 ASCII bytes: always a valid name.
    IfName::from_trusted(format!("{TEMP_PREFIX}{pid:06x}{n:04x}"))
}

/// The PID of the process that made a temporary-named link, or `None` if
/// `name` is not a temporary name.
pub fn temp_link_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    if rest.len() != 10 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(rest.get(..6)?, 16).ok()
}

/// Whether `name` is a temporary name whose creator is gone: the link was
/// left by a run that died half-way, and nobody will rename it.
pub fn temp_link_left_behind(name: &str) -> bool {
    temp_link_owner(name).is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_valid_distinct_and_carry_the_pid() {
        let a = temp_ifname();
        let b = temp_ifname();
        assert_eq!(a.as_str().len(), 15);
        assert!(a.as_str().starts_with(TEMP_PREFIX));
        assert_ne!(a, b);
        assert_eq!(temp_link_owner(a.as_str()), Some(std::process::id()));
        assert!(!temp_link_left_behind(a.as_str()), "this process is alive");
    }

    #[test]
    fn only_temp_names_have_owners() {
        assert_eq!(temp_link_owner("eth0"), None);
        assert_eq!(temp_link_owner("vmtmp"), None);
        assert_eq!(temp_link_owner("vmtmp00012zzzzz"), None);
        assert_eq!(temp_link_owner("vmtmp0000ff0001"), Some(0xff));
        // PID 0x3fffff (above pid_max) is never a running process.
        assert!(temp_link_left_behind("vmtmp3fffff0001"));
        assert!(!temp_link_left_behind("eth0"));
    }
}
