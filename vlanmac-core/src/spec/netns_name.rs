use std::{fmt, str::FromStr};

use super::SpecError;

/// Longest file name component (`NAME_MAX`).
pub const NETNS_NAME_MAX_BYTES: usize = 255;

/// A named network namespace (a file under `/run/netns`), validated as
/// iproute2's `invalid_name()` does: not empty, no `/`, not `.` or `..`, at
/// most 255 bytes. This is what keeps a name from escaping `/run/netns`
/// (rtnetlink's `NetworkNamespace` and vishvananda/netns do not check).
///
/// ```
/// use vlanmac_core::spec::NetnsName;
/// assert!(NetnsName::new("container0").is_ok());
/// assert!(NetnsName::new("../etc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetnsName(String);

impl NetnsName {
    /// Validates `name`; the error's field is `netns`.
    pub fn new(name: impl Into<String>) -> Result<Self, SpecError> {
        let name = name.into();
        let bad = |rule: &str| Err(SpecError::new("netns", &name, rule));
        if name.is_empty() {
            return bad("is empty");
        }
        if name.len() > NETNS_NAME_MAX_BYTES {
            return bad("is longer than 255 bytes");
        }
        if name == "." || name == ".." {
            return bad("is not allowed (`.` and `..` would escape /run/netns)");
        }
        if name.contains('/') {
            return bad("contains '/' (a namespace name is a single file name under /run/netns)");
        }
        if name.contains('\0') {
            return bad("contains NUL");
        }
        Ok(NetnsName(name))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NetnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NetnsName {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NetnsName::new(s)
    }
}

impl TryFrom<&str> for NetnsName {
    type Error = SpecError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        NetnsName::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in ["container0", "seed-host", "a.b", "...", "x".repeat(255).as_str()] {
            assert!(NetnsName::new(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn rejects_escapes() {
        for n in ["", ".", "..", "a/b", "../x", "/etc", "x/", "a\0b"] {
            let e = NetnsName::new(n).unwrap_err();
            assert_eq!(e.field, "netns", "{n:?}");
        }
        assert!(NetnsName::new("x".repeat(256)).is_err());
    }
}
