//! The plugin's one error type: the CNI spec's error object
//! (`cniVersion`, `code`, `msg`, `details`) with its well-known codes.

use serde::Serialize;

/// The spec's well-known error codes (CNI 1.1, "Error").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 1: the requested `cniVersion` is not supported.
    IncompatibleVersion = 1,
    /// 2: a field of the network configuration is not supported.
    UnsupportedField = 2,
    /// 3: the container is unknown or does not exist.
    UnknownContainer = 3,
    /// 4: a `CNI_*` environment variable is missing or invalid.
    InvalidEnvironment = 4,
    /// 5: an I/O failure (a file, a namespace, an IPAM plugin to run).
    Io = 5,
    /// 6: the input could not be decoded (not JSON).
    Decode = 6,
    /// 7: the network configuration is invalid (the field is named).
    InvalidConfig = 7,
    /// 11: a transient condition; the runtime should retry later.
    TryAgainLater = 11,
    /// 50 (STATUS): the plugin cannot serve ADD now.
    NotAvailable = 50,
    /// 51 (STATUS): not available, and existing attachments may have
    /// limited connectivity.
    LimitedConnectivity = 51,
    /// 999: anything else (the kernel refused, a delegated plugin failed).
    Internal = 999,
}

/// A failure, as the runtime receives it on stdout (and the exit status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniError {
    /// The well-known code.
    pub code: Code,
    /// A short message; for configuration errors `field: value rule`.
    pub msg: String,
    /// More detail, when there is any.
    pub details: Option<String>,
}

/// Short name for the plugin's results.
pub type Result<T, E = CniError> = std::result::Result<T, E>;

impl CniError {
    /// An error with `code` and `msg`.
    pub fn new(code: Code, msg: impl Into<String>) -> Self {
        CniError { code, msg: msg.into(), details: None }
    }

    /// Adds details.
    #[must_use]
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// The JSON error object for `cni_version` (the version the runtime asked
    /// for, or the plugin's newest when the input could not be read).
    pub fn to_json(&self, cni_version: &str) -> String {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "cniVersion")]
            cni_version: &'a str,
            code: u32,
            msg: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            details: Option<&'a str>,
        }
        let wire = Wire { cni_version, code: self.code as u32, msg: &self.msg, details: self.details.as_deref() };
        serde_json::to_string(&wire).unwrap_or_else(|_| format!("{{\"code\":{},\"msg\":\"error\"}}", self.code as u32))
    }
}

impl std::fmt::Display for CniError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.msg, self.code as u32)?;
        if let Some(d) = &self.details {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CniError {}

impl From<vlanmac_core::spec::SpecError> for CniError {
    fn from(e: vlanmac_core::spec::SpecError) -> Self {
        CniError::new(Code::InvalidConfig, e.to_string())
    }
}

/// A kernel or namespace failure from vlanmac-core: invalid values are
/// configuration errors (7), a namespace that cannot be opened is an
/// unknown container (3), I/O is 5, the rest internal (999).
pub fn from_core(e: vlanmac_core::Error) -> CniError {
    use vlanmac_core::Error as E;
    let code = match &e {
        E::InvalidSpec(_) => Code::InvalidConfig,
        E::Io { .. } => Code::Io,
        E::Busy(_) | E::DumpInterrupted { .. } => Code::TryAgainLater,
        _ => Code::Internal,
    };
    CniError::new(code, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_objects_follow_the_spec() {
        let e = CniError::new(Code::InvalidConfig, "vlan: 5000 is outside 1-4094");
        assert_eq!(e.to_json("1.1.0"), r#"{"cniVersion":"1.1.0","code":7,"msg":"vlan: 5000 is outside 1-4094"}"#);
        let e = CniError::new(Code::NotAvailable, "master eth9 not found").details("ip link: no such device");
        assert_eq!(
            e.to_json("1.0.0"),
            r#"{"cniVersion":"1.0.0","code":50,"msg":"master eth9 not found","details":"ip link: no such device"}"#
        );
    }
}
