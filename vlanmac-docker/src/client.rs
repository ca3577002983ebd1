//! The connection to a Docker daemon.

use bollard::{Docker, API_DEFAULT_VERSION};

use crate::error::{Error, Result};

/// The socket used when `DOCKER_HOST` is not set.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// Seconds before a Docker API request times out.
pub const TIMEOUT_SECS: u64 = 120;

/// A connection to one Docker daemon.
#[derive(Debug, Clone)]
pub struct DockerAdapter {
    pub(crate) docker: Docker,
    pub(crate) socket: String,
}

impl DockerAdapter {
    /// Connects to `$DOCKER_HOST`, or the local socket when unset, checks the
    /// daemon answers, and negotiates the API version (Debian's 20.10 speaks
    /// API 1.41).
    pub async fn open() -> Result<Self> {
        let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| DEFAULT_SOCKET.into());
        DockerAdapter::open_at(&host).await
    }

    /// Connects to `host`: `unix:///path`, a bare socket path, or `tcp://`/`http://` addresses.
    pub async fn open_at(host: &str) -> Result<Self> {
        let unreachable = |detail: String| Error::Unreachable { socket: host.to_string(), detail };
        let docker = if host.starts_with("unix://") || host.starts_with('/') {
            let path = host.trim_start_matches("unix://");
            if !std::path::Path::new(path).exists() {
                return Err(unreachable(format!("no socket at {path}")));
            }
            Docker::connect_with_unix(path, TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(host, TIMEOUT_SECS, API_DEFAULT_VERSION)
        } else {
            return Err(unreachable("is neither unix://, a path, tcp:// nor http://".into()));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let docker = docker.negotiate_version().await.map_err(|e| unreachable(e.to_string()))?;
        docker.ping().await.map_err(|e| unreachable(e.to_string()))?;
        Ok(DockerAdapter { docker, socket: host.to_string() })
    }

    /// The daemon's address, as given.
    pub fn socket(&self) -> &str {
        &self.socket
    }

    /// The raw bollard client, for calls vlanmac does not wrap.
    pub fn bollard(&self) -> &Docker {
        &self.docker
    }

    pub(crate) fn err(&self, op: &str, e: bollard::errors::Error) -> Error {
        Error::from_bollard(op, &self.socket, e)
    }
}
