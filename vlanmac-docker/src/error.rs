use vlanmac_core::spec::SpecError;

/// Every way a vlanmac-docker call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Docker daemon could not be reached at `socket`.
    #[error("cannot reach the Docker daemon at {socket}: {detail}")]
    Unreachable {
        /// The socket or address tried (`unix:///var/run/docker.sock`, `$DOCKER_HOST`).
        socket: String,
        /// Why.
        detail: String,
    },
    /// The daemon answered an API request with an error.
    #[error("docker {op}: {message} (HTTP {status})")]
    Docker {
        /// What was asked, e.g. `create network macvlan10`.
        op: String,
        /// The daemon's HTTP status.
        status: u16,
        /// The daemon's message.
        message: String,
    },
    /// A network of that name exists with another configuration; nothing
    /// is recreated silently.
    #[error("docker network {network} exists with another configuration: {}", differences.join("; "))]
    Conflict {
        /// The network's name.
        network: String,
        /// Each difference, `field: existing X, wanted Y`.
        differences: Vec<String>,
    },
    /// A container or network does not exist.
    #[error("docker {what} not found")]
    NotFound {
        /// `container web1`, `network macvlan10`.
        what: String,
    },
    /// A value broke a rule before anything was sent.
    #[error("invalid input: {0}")]
    InvalidSpec(#[from] SpecError),
    /// A kernel operation of the direct (pipework-style) attachment failed.
    #[error(transparent)]
    Core(#[from] vlanmac_core::Error),
}

/// Short name for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps a bollard error for operation `op` against daemon `socket`.
    pub(crate) fn from_bollard(op: &str, socket: &str, e: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        match e {
            B::DockerResponseServerError { status_code: 404, message } => {
                Error::NotFound { what: format!("{op}: {message}") }
            }
            B::DockerResponseServerError { status_code, message } => {
                Error::Docker { op: op.to_string(), status: status_code, message }
            }
            B::SocketNotFoundError(path) => {
                Error::Unreachable { socket: socket.to_string(), detail: format!("no socket at {path}") }
            }
            B::HyperResponseError { .. } | B::IOError { .. } | B::RequestTimeoutError => {
                Error::Unreachable { socket: socket.to_string(), detail: e.to_string() }
            }
            other => Error::Docker { op: op.to_string(), status: 0, message: other.to_string() },
        }
    }
}
