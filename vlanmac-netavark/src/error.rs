//! The plugin's one error type, printed as netavark plugins report errors:
//! `{"error": "MESSAGE"}` on stdout and exit status 1. netavark shows the
//! message to the podman user, so it names the option or field at fault.

use vlanmac_cni::error::CniError;

/// A failure of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The command line is not `create`, `setup NETNS`, `teardown NETNS`
    /// or `info`.
    Usage(String),
    /// Stdin is not the JSON the verb takes.
    Decode(String),
    /// An option or field of the network or of the container's request is
    /// invalid; the message starts with its name (`vlan: 5000 is outside
    /// 1-4094`).
    Invalid {
        /// The option or field (`vlan`, `subnets`, `network_interface`).
        field: String,
        /// The whole message.
        msg: String,
    },
    /// Making or removing the attachment failed (the kernel refused, the
    /// namespace is not one, ...); nothing is left half-made.
    Attach(String),
}

/// The plugin's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A bad option or field.
    pub fn option(field: &str, msg: impl Into<String>) -> Error {
        Error::Invalid { field: field.to_string(), msg: msg.into() }
    }

    /// `{"error": "MESSAGE"}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.to_string() }).to_string()
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(m) | Error::Decode(m) | Error::Attach(m) => f.write_str(m),
            Error::Invalid { msg, .. } => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// The shared attachment engine speaks CNI; its messages are put in
/// netavark's terms (`CNI_IFNAME` is the container's `interface_name`, the
/// CNI `master` is the network's `network_interface`).
impl From<CniError> for Error {
    fn from(e: CniError) -> Error {
        let mut msg = e.msg;
        for (cni, netavark) in [
            ("CNI_IFNAME", "interface_name"),
            ("CNI_NETNS", "the container's namespace"),
            ("CNI_CONTAINERID", "container_id"),
            ("master:", "network_interface:"),
        ] {
            msg = msg.replace(cni, netavark);
        }
        if let Some(d) = e.details {
            msg = format!("{msg} ({d})");
        }
        let field = msg.split_once(':').map(|(f, _)| f).filter(|f| !f.contains(' '));
        match field {
            Some(f) if e.code == vlanmac_cni::error::Code::InvalidConfig => Error::option(f, msg.clone()),
            _ => Error::Attach(msg),
        }
    }
}

impl From<vlanmac_core::spec::SpecError> for Error {
    fn from(e: vlanmac_core::spec::SpecError) -> Error {
        let msg = e.to_string();
        let field = msg.split_once(':').map(|(f, _)| f.to_string()).unwrap_or_default();
        Error::Invalid { field, msg }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vlanmac_cni::error::Code;

    #[test]
    fn errors_are_netavark_json_in_netavark_terms() {
        let e = Error::option("vlan", "vlan: 5000 is outside 1-4094");
        assert_eq!(e.to_json(), r#"{"error":"vlan: 5000 is outside 1-4094"}"#);
        let e: Error = CniError::new(Code::Internal, "CNI_IFNAME: eth0 already exists in /proc/1/ns/net").into();
        assert_eq!(e, Error::Attach("interface_name: eth0 already exists in /proc/1/ns/net".into()));
        let e: Error =
            CniError::new(Code::InvalidConfig, "master: eth9 does not exist in the runtime's namespace").into();
        assert!(matches!(&e, Error::Invalid { field, .. } if field == "network_interface"), "{e:?}");
    }
}
