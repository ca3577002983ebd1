//! The engine's one error type: what vlanmac-core reports (the topology's
//! own failures among them: invalid input naming the field, a conflict, an
//! apply stopped and rolled back), what the container runtime reports, and
//! a topology that needs a runtime the engine was not given, and an
//! interface that got no DHCP lease.

/// Every way an [`Engine`](crate::Engine) verb can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A failure of vlanmac-core, or of the topology in its terms: invalid
    /// input ([`vlanmac_core::Error::InvalidSpec`]), a conflict with what
    /// the kernel holds, an apply stopped at a step and rolled back, a
    /// kernel or namespace error.
    #[error(transparent)]
    Core(#[from] vlanmac_core::Error),
    /// The container runtime failed; `source` is the runtime's own error
    /// (`vlanmac_docker::Error` for Docker: downcast it to match on it).
    #[error("{source}")]
    Runtime {
        /// The runtime's name (`docker`).
        runtime: &'static str,
        /// Its error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A runtime network exists with another configuration; nothing is
    /// recreated silently.
    #[error("{runtime} network {network} exists with another configuration: {}", differences.join("; "))]
    NetworkConflict {
        /// The runtime's name (`docker`).
        runtime: &'static str,
        /// The network's name.
        network: String,
        /// Each difference, `field: existing X, wanted Y`.
        differences: Vec<String>,
    },
    /// A container the topology attaches does not run: it has no namespace
    /// to attach to.
    #[error("{runtime} container {container} is not running")]
    ContainerNotRunning {
        /// The runtime's name (`docker`).
        runtime: &'static str,
        /// The container, as the topology names it.
        container: String,
    },
    /// No DHCP lease for an interface: no server answered within the
    /// timeout, or the server refused (DHCPNAK) each time.
    #[error("DHCP on {interface}: {reason}")]
    Dhcp {
        /// The interface, as the caller labelled it (`endpoint c2 eth0 on
        /// network vlan20`).
        interface: String,
        /// What happened: what the client waited for and how often it asked,
        /// or what the server said.
        reason: String,
    },
    /// The topology has container endpoints or runtime networks, and the
    /// engine has no container runtime.
    #[error("topology {topology} has {needs}, but this engine has no container runtime (Engine::with_runtime)")]
    NoRuntime {
        /// The topology's name.
        topology: String,
        /// What needs one: `container endpoints`, `docker networks`.
        needs: String,
    },
}

impl From<vlanmac_core::spec::SpecError> for Error {
    fn from(e: vlanmac_core::spec::SpecError) -> Self {
        Error::Core(e.into())
    }
}

/// Why an apply's DHCP step failed, typed: inside an apply, where every
/// failure is a [`vlanmac_core::Error::Apply`] with the step and the
/// rollback, it is the [`std::io::Error`] (kind `TimedOut`) of the
/// [`vlanmac_core::Error::Io`] the step failed with; [`DhcpFailure::of`]
/// finds it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DhcpFailure {
    /// The interface, as [`Error::Dhcp`] names it.
    pub interface: String,
    /// What happened, as [`Error::Dhcp`] says it.
    pub reason: String,
}

impl DhcpFailure {
    /// The DHCP failure behind `e` (an apply's DHCP step), if that is what
    /// it is.
    pub fn of(e: &vlanmac_core::Error) -> Option<&DhcpFailure> {
        match e {
            vlanmac_core::Error::Apply { source, .. } => DhcpFailure::of(source),
            vlanmac_core::Error::Io { source, .. } => source.get_ref()?.downcast_ref::<DhcpFailure>(),
            _ => None,
        }
    }
}

impl Error {
    /// Whether the input was invalid (a field broke a rule; the CLI's exit
    /// code 2), as opposed to an operation that failed.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::Core(vlanmac_core::Error::InvalidSpec(_)))
    }
}

/// Short name for the engine's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
