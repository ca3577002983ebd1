use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
};

use crate::spec::IfName;

/// Prefix of the temporary names links get while they are created in one
/// namespace and renamed in another. A link with this prefix left behind is
/// a bug.
pub const TEMP_PREFIX: &str = "vmtmp";

/// A fresh temporary interface name, `vmtmp` + 10 hex digits (15 bytes).
pub(crate) fn temp_ifname() -> IfName {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let v = h.finish() & 0xff_ffff_ffff;
    // 5 + 10 ASCII bytes: always a valid name.
    IfName::from_trusted(format!("{TEMP_PREFIX}{v:010x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_valid_and_distinct() {
        let a = temp_ifname();
        let b = temp_ifname();
        assert_eq!(a.as_str().len(), 15);
        assert!(a.as_str().starts_with(TEMP_PREFIX));
        assert_ne!(a, b);
    }
}
