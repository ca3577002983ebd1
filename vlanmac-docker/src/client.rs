//! The connection to a Docker daemon: a Unix socket, plain `tcp://`, or
//! TLS (`tcp://` with the daemon's certificate verified against a CA, and
//! optionally a client certificate), as `docker --host ... --tlsverify`.

use std::path::{Path, PathBuf};

use bollard::{Docker, API_DEFAULT_VERSION};
use vlanmac_core::spec::SpecError;

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
    /// API 1.41). As the docker CLI, `DOCKER_TLS_VERIFY` (non-empty) turns
    /// on TLS with `ca.pem`, `cert.pem` and `key.pem` from
    /// `$DOCKER_CERT_PATH` (default `~/.docker`).
    pub async fn open() -> Result<Self> {
        let host = DockerAdapter::default_host();
        if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
            let dir = std::env::var_os("DOCKER_CERT_PATH")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
                .unwrap_or_else(|| PathBuf::from(".docker"));
            let tls = TlsFiles::new(dir.join("ca.pem")).client(dir.join("cert.pem"), dir.join("key.pem"));
            return DockerAdapter::open_tls(&host, &tls).await;
        }
        DockerAdapter::open_at(&host).await
    }

    /// The daemon [`DockerAdapter::open`] connects to: `$DOCKER_HOST`, or
    /// [`DEFAULT_SOCKET`] when it is unset or empty.
    pub fn default_host() -> String {
        std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| DEFAULT_SOCKET.into())
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
        DockerAdapter::finish(docker, host).await
    }

    /// Connects to `host` (`tcp://HOST:PORT`, `https://...`) over TLS:
    /// `docker --host HOST --tlsverify --tlscacert CA [--tlscert C --tlskey K]`.
    /// The daemon's certificate is always verified (against `tls.ca` and
    /// the system's roots); the files are checked before connecting and a
    /// bad one is an [`Error::InvalidSpec`] naming its field (`ca_path`,
    /// `client_cert`, `client_key`).
    pub async fn open_tls(host: &str, tls: &TlsFiles) -> Result<Self> {
        let unreachable = |detail: String| Error::Unreachable { socket: host.to_string(), detail };
        if !(host.starts_with("tcp://") || host.starts_with("https://")) {
            return Err(SpecError::new("docker_host", host, "must be tcp:// or https:// for TLS").into());
        }
        tls.check()?;
        // Without a client certificate, a path that cannot be opened: bollard
        // then offers none when the daemon asks.
        let none = Path::new("");
        let cert = tls.cert.as_deref().unwrap_or(none);
        let key = tls.key.as_deref().unwrap_or(none);
        let docker = Docker::connect_with_ssl(host, key, cert, &tls.ca, TIMEOUT_SECS, API_DEFAULT_VERSION)
            .map_err(|e| unreachable(e.to_string()))?;
        DockerAdapter::finish(docker, host).await
    }

    /// Negotiates the API version and checks the daemon answers.
    async fn finish(docker: Docker, host: &str) -> Result<Self> {
        let unreachable = |detail: String| Error::Unreachable { socket: host.to_string(), detail };
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

/// The files of a TLS connection to a Docker daemon
/// ([`DockerAdapter::open_tls`]); the field names in errors are those of
/// the Ansible module's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate(s) the daemon's certificate must chain to
    /// (`--tlscacert`; `ca_path`).
    pub ca: PathBuf,
    /// The client certificate (`--tlscert`; `client_cert`).
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (`--tlskey`; `client_key`).
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// Verifies the daemon against `ca`; no client certificate.
    pub fn new(ca: impl Into<PathBuf>) -> TlsFiles {
        TlsFiles { ca: ca.into(), cert: None, key: None }
    }

    /// Adds a client certificate and its key.
    pub fn client(self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> TlsFiles {
        TlsFiles { cert: Some(cert.into()), key: Some(key.into()), ..self }
    }

    /// Each named file is readable PEM, and the certificate comes with its key.
    fn check(&self) -> std::result::Result<(), SpecError> {
        let pem = |field: &str, path: &Path| -> std::result::Result<(), SpecError> {
            let shown = path.display().to_string();
            let text =
                std::fs::read(path).map_err(|e| SpecError::new(field, &shown, format!("cannot be read: {e}")))?;
            if !text.windows(11).any(|w| w == b"-----BEGIN ") {
                return Err(SpecError::new(field, &shown, "is not a PEM file"));
            }
            Ok(())
        };
        pem("ca_path", &self.ca)?;
        match (&self.cert, &self.key) {
            (Some(c), Some(k)) => {
                pem("client_cert", c)?;
                pem("client_key", k)
            }
            (None, None) => Ok(()),
            (Some(_), None) => Err(SpecError::new("client_key", "", "is required with client_cert")),
            (None, Some(_)) => Err(SpecError::new("client_cert", "", "is required with client_key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_files_are_checked_naming_the_field() {
        let dir = std::env::temp_dir().join(format!("vlanmac-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("ca.pem");
        std::fs::write(&good, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "not pem").unwrap();
        assert_eq!(TlsFiles::new(&good).check(), Ok(()));
        assert_eq!(TlsFiles::new(dir.join("none.pem")).check().unwrap_err().field, "ca_path");
        assert_eq!(TlsFiles::new(&bad).check().unwrap_err().field, "ca_path");
        assert_eq!(TlsFiles::new(&good).client(&bad, &good).check().unwrap_err().field, "client_cert");
        assert_eq!(TlsFiles::new(&good).client(&good, &bad).check().unwrap_err().field, "client_key");
        let half = TlsFiles { cert: Some(good.clone()), ..TlsFiles::new(&good) };
        assert_eq!(half.check().unwrap_err().field, "client_key");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tls_needs_a_tcp_address() {
        let files = TlsFiles::new("/nonexistent");
        let err = futures::executor::block_on(DockerAdapter::open_tls("unix:///run/docker.sock", &files)).unwrap_err();
        assert!(matches!(err, Error::InvalidSpec(ref e) if e.field == "docker_host"), "{err}");
    }
}
