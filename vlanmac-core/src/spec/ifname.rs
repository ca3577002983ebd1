use std::{fmt, str::FromStr};

use super::SpecError;

/// Longest interface name the kernel accepts, in bytes (`IFNAMSIZ - 1`).
pub const IFNAME_MAX_BYTES: usize = 15;

/// A Linux interface name, validated as the kernel's `dev_valid_name()` and
/// iproute2's `check_ifname()` do: 1–15 **bytes** (not characters), not `.`
/// or `..`, and no `/`, `:` or whitespace.
///
/// ```
/// use vlanmac_core::spec::IfName;
/// assert!(IfName::new("eth0.10").is_ok());
/// assert!(IfName::new("a-very-long-name").is_err()); // 16 bytes
/// assert!(IfName::new("éééééééé").is_err());         // 8 characters, 16 bytes
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(String);

impl IfName {
    /// Validates `name`. The error's field is `ifname`; callers rename it
    /// with [`SpecError::named`].
    pub fn new(name: impl Into<String>) -> Result<Self, SpecError> {
        let name = name.into();
        let bad = |rule: &str| Err(SpecError::new("ifname", &name, rule));
        if name.is_empty() {
            return bad("is empty (an interface name needs 1-15 bytes)");
        }
        if name.len() > IFNAME_MAX_BYTES {
            return Err(SpecError::new(
                "ifname",
                &name,
                format!("is {} bytes long (an interface name has at most {IFNAME_MAX_BYTES} bytes)", name.len()),
            ));
        }
        if name == "." || name == ".." {
            return bad("is not allowed (`.` and `..` are reserved)");
        }
        if let Some(c) = name.chars().find(|c| *c == '/' || *c == ':' || c.is_whitespace() || *c == '\0') {
            return Err(SpecError::new(
                "ifname",
                &name,
                format!("contains {c:?} (not allowed: '/', ':', whitespace, NUL)"),
            ));
        }
        Ok(IfName(name))
    }

    /// `lo`, the loopback interface every namespace has.
    pub fn loopback() -> Self {
        IfName::from_trusted("lo".into())
    }

    /// For names vlanmac builds itself from ASCII parts known to fit.
    pub(crate) fn from_trusted(name: String) -> Self {
        debug_assert!(IfName::new(name.as_str()).is_ok(), "{name}");
        IfName(name)
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conventional name of VLAN `id` on this parent, `eth0` → `eth0.10`,
    /// as `ip link add link eth0 name eth0.10 type vlan id 10` would choose.
    /// Fails when the result exceeds 15 bytes.
    pub fn vlan_child(&self, id: super::VlanId) -> Result<IfName, SpecError> {
        IfName::new(format!("{}.{}", self.0, id.get()))
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IfName {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IfName::new(s)
    }
}

impl TryFrom<&str> for IfName {
    type Error = SpecError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        IfName::new(s)
    }
}

impl TryFrom<String> for IfName {
    type Error = SpecError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IfName::new(s)
    }
}

impl AsRef<str> for IfName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in ["eth0", "eth0.10", "mv10", "a", "abcdefghijklmno", "veth-x_y@z"] {
            assert_eq!(IfName::new(n).unwrap().as_str(), n);
        }
    }

    #[test]
    fn rejects_empty_and_long_counting_bytes() {
        let e = IfName::new("").unwrap_err();
        assert_eq!(e.field, "ifname");
        assert!(e.rule.contains("empty"), "{e}");
        let e = IfName::new("abcdefghijklmnop").unwrap_err();
        assert!(e.rule.contains("16 bytes"), "{e}");
        // 15 characters but 30 bytes: the kernel counts bytes.
        let fifteen_chars = "ééééééééééééééé";
        assert_eq!(fifteen_chars.chars().count(), 15);
        let e = IfName::new(fifteen_chars).unwrap_err();
        assert!(e.rule.contains("30 bytes"), "{e}");
        // 7 two-byte chars + 1 = 15 bytes: fine.
        assert!(IfName::new("éééééééa").is_ok());
    }

    #[test]
    fn rejects_dots_and_forbidden_characters() {
        for n in [".", ".."] {
            assert!(IfName::new(n).unwrap_err().rule.contains("reserved"));
        }
        for n in ["a/b", "a:1", "a b", "a\tb", "a\nb", "a\0b"] {
            let e = IfName::new(n).unwrap_err();
            assert!(e.rule.contains("contains"), "{n:?}: {e}");
        }
        // Dots inside a name are fine (eth0.10).
        assert!(IfName::new("...").is_ok());
    }

    #[test]
    fn vlan_child_name() {
        let p = IfName::new("eth0").unwrap();
        let id = crate::spec::VlanId::new(10).unwrap();
        assert_eq!(p.vlan_child(id).unwrap().as_str(), "eth0.10");
        let long = IfName::new("abcdefghijklm").unwrap();
        assert!(long.vlan_child(id).is_err());
    }
}
