//! CNI spec versions: which the plugin speaks, and which one a
//! configuration gets (`cniVersion`, or the newest common one of
//! `cniVersions`, as CNI 1.1 negotiates).

use crate::error::{CniError, Code, Result};

/// The spec versions this plugin supports, oldest first.
pub const SUPPORTED: [&str; 3] = ["0.4.0", "1.0.0", "1.1.0"];

/// The newest supported version (for errors before the input is read).
pub const NEWEST: &str = "1.1.0";

/// A supported spec version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// 0.4.0: results carry `ips[].version`; CHECK exists.
    V040,
    /// 1.0.0.
    V100,
    /// 1.1.0: STATUS, GC, `cniVersions`, interface `mtu` in results.
    V110,
}

impl Version {
    /// Parses one of [`SUPPORTED`].
    pub fn parse(s: &str) -> Option<Version> {
        match s {
            "0.4.0" => Some(Version::V040),
            "1.0.0" => Some(Version::V100),
            "1.1.0" => Some(Version::V110),
            _ => None,
        }
    }

    /// As written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V040 => "0.4.0",
            Version::V100 => "1.0.0",
            Version::V110 => "1.1.0",
        }
    }
}

/// The version a configuration runs at: with `cniVersions`, the newest one
/// of them this plugin supports; else `cniVersion`, which must be supported.
pub fn negotiate(cni_version: &str, cni_versions: Option<&[String]>) -> Result<Version> {
    if let Some(list) = cni_versions {
        if let Some(v) = list.iter().filter_map(|s| Version::parse(s)).max() {
            return Ok(v);
        }
    }
    Version::parse(cni_version).ok_or_else(|| {
        CniError::new(
            Code::IncompatibleVersion,
            format!("cniVersion: {cni_version} is not supported (this plugin speaks {})", SUPPORTED.join(", ")),
        )
    })
}

/// The reply to `VERSION`.
pub fn version_reply(cni_version: &str) -> String {
    serde_json::json!({ "cniVersion": cni_version, "supportedVersions": SUPPORTED }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate("1.0.0", None).unwrap(), Version::V100);
        assert_eq!(negotiate("0.4.0", None).unwrap(), Version::V040);
        let list = ["1.0.0".to_string(), "1.1.0".to_string(), "2.0.0".to_string()];
        assert_eq!(negotiate("1.0.0", Some(&list)).unwrap(), Version::V110);
        let e = negotiate("0.3.1", None).unwrap_err();
        assert_eq!(e.code, Code::IncompatibleVersion);
        assert!(e.msg.starts_with("cniVersion: 0.3.1"), "{e}");
        assert_eq!(negotiate("0.3.1", Some(&["0.2.0".to_string()])).unwrap_err().code, Code::IncompatibleVersion);
    }
}
