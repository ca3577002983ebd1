//! CNI spec versions: which the plugin speaks. A configuration runs at its
//! `cniVersion`, which must be one of them: under CNI 1.1 the runtime picks
//! a version from `cniVersions` and sets `cniVersion` to it.

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

/// The reply to `VERSION`: the versions this plugin speaks, under its own
/// newest version (as the reference plugins answer, whatever was asked).
pub fn version_reply() -> String {
    serde_json::json!({ "cniVersion": NEWEST, "supportedVersions": SUPPORTED }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(Version::parse("1.0.0"), Some(Version::V100));
        assert_eq!(Version::parse("9.9.9"), None);
        let v: serde_json::Value = serde_json::from_str(&version_reply()).unwrap();
        assert_eq!(v["cniVersion"], NEWEST);
        assert_eq!(v["supportedVersions"], serde_json::json!(SUPPORTED));
    }
}
