//! `vlanmac.DockerAdapter`: Docker networks and containers (bollard).

use pyo3::{prelude::*, types::PyDict};
use vlanmac_core::spec::{AddressSpec, IfName, MacvlanMode, SpecError, VlanId};
use vlanmac_docker::{DirectAttach, DockerAdapter, DockerNetworkSpec, EndpointRequest, NetworkOutcome, TlsFiles};
use vlanmac_topology::Topology;

use crate::{netlink::nsref, runtime::block, topology::PyTopology};

/// A connection to a Docker daemon (`$DOCKER_HOST` or the local socket).
#[pyclass(module = "vlanmac", name = "DockerAdapter", frozen)]
pub struct PyDocker {
    inner: DockerAdapter,
}

impl PyDocker {
    /// The adapter, for the topology verbs' `docker` argument.
    pub fn adapter(&self) -> &DockerAdapter {
        &self.inner
    }
}

fn ip(field: &str, s: Option<&str>) -> Result<Option<std::net::IpAddr>, SpecError> {
    s.map(|a| a.parse().map_err(|_| SpecError::new(field, a, "is not an IP address"))).transpose()
}

#[pymethods]
impl PyDocker {
    /// Connects to `host` (`unix:///path`, `tcp://...`), else `$DOCKER_HOST`,
    /// else the local socket. With `tls` or `tls_verify`, over TLS: the
    /// daemon's certificate is verified against `ca_path` (required), and
    /// `client_cert` with `client_key` are offered when given.
    #[new]
    #[pyo3(signature = (host=None, *, tls=false, tls_verify=false, ca_path=None, client_cert=None, client_key=None))]
    fn new(
        py: Python<'_>,
        host: Option<String>,
        tls: bool,
        tls_verify: bool,
        ca_path: Option<std::path::PathBuf>,
        client_cert: Option<std::path::PathBuf>,
        client_key: Option<std::path::PathBuf>,
    ) -> PyResult<Self> {
        let files = if tls || tls_verify {
            let Some(ca) = ca_path else {
                let rule = "is required with tls or tls_verify (vlanmac always verifies the daemon's certificate)";
                return Err(crate::errors::raise(SpecError::new("ca_path", "", rule)));
            };
            let mut files = TlsFiles::new(ca);
            files.cert = client_cert;
            files.key = client_key;
            Some(files)
        } else {
            None
        };
        let inner = block(py, async move {
            match (host, files) {
                (h, Some(files)) => {
                    let h = h.unwrap_or_else(DockerAdapter::default_host);
                    DockerAdapter::open_tls(&h, &files).await
                }
                (Some(h), None) => DockerAdapter::open_at(&h).await,
                (None, None) => DockerAdapter::open().await,
            }
        })?;
        Ok(PyDocker { inner })
    }

    /// `docker network create` for `network` of `topology`, unless it exists
    /// with this configuration. Returns `"created"` or `"unchanged"`;
    /// raises `ConflictError` listing the differences otherwise.
    fn ensure_network(&self, py: Python<'_>, topology: PyRef<'_, PyTopology>, network: &str) -> PyResult<String> {
        let t: Topology = topology.topology().clone();
        let Some(n) = t.network(network).cloned() else {
            return Err(crate::errors::raise(SpecError::new("network", network, "is not a network of this topology")));
        };
        let spec = DockerNetworkSpec::from_network(&n, &t.name);
        let d = self.inner.clone();
        let out = block(py, async move { d.ensure_network(&spec).await })?;
        Ok(match out {
            NetworkOutcome::Created(_) => "created".into(),
            NetworkOutcome::Unchanged(_) => "unchanged".into(),
        })
    }

    /// `docker network connect [--ip A] [--ip6 B] NETWORK CONTAINER`; `False` if already so.
    #[pyo3(signature = (network, container, ipv4=None, ipv6=None, mac=None))]
    fn connect(
        &self,
        py: Python<'_>,
        network: &str,
        container: &str,
        ipv4: Option<&str>,
        ipv6: Option<&str>,
        mac: Option<&str>,
    ) -> PyResult<bool> {
        let req = (|| -> Result<EndpointRequest, SpecError> {
            Ok(EndpointRequest {
                ipv4: ip("ipv4", ipv4)?,
                ipv6: ip("ipv6", ipv6)?,
                mac: mac.map(str::parse).transpose()?,
            })
        })()
        .map_err(crate::errors::raise)?;
        let (d, n, c) = (self.inner.clone(), network.to_string(), container.to_string());
        block(py, async move { d.connect(&n, &c, &req).await })
    }

    /// `docker network disconnect NETWORK CONTAINER`; `False` if it was not attached.
    fn disconnect(&self, py: Python<'_>, network: &str, container: &str) -> PyResult<bool> {
        let (d, n, c) = (self.inner.clone(), network.to_string(), container.to_string());
        block(py, async move { d.disconnect(&n, &c).await })
    }

    /// Pipework-style: a macvlan on `parent` (or `parent.vlan`, created when
    /// missing) straight into the container; returns its name (`eth1`, ...).
    #[pyo3(signature = (container, parent, vlan=None, addresses=None, gateways=None, parent_netns=None, mode="bridge", ifname=None))]
    #[allow(clippy::too_many_arguments)]
    fn attach(
        &self,
        py: Python<'_>,
        container: &str,
        parent: &str,
        vlan: Option<u32>,
        addresses: Option<Vec<String>>,
        gateways: Option<Vec<String>>,
        parent_netns: Option<&str>,
        mode: &str,
        ifname: Option<&str>,
    ) -> PyResult<String> {
        let a = (|| -> Result<DirectAttach, vlanmac_docker::Error> {
            let mut a = DirectAttach::new(IfName::new(parent).map_err(|e| e.named("parent"))?);
            a.parent_netns = nsref(parent_netns, None, None)?;
            a.vlan = vlan.map(VlanId::new).transpose()?;
            a.mode = mode.parse::<MacvlanMode>()?;
            a.ifname = ifname.map(|n| IfName::new(n).map_err(|e| e.named("ifname"))).transpose()?;
            a.addresses =
                addresses.unwrap_or_default().iter().map(|s| s.parse::<AddressSpec>()).collect::<Result<_, _>>()?;
            a.gateways = gateways
                .unwrap_or_default()
                .iter()
                .map(|g| g.parse().map_err(|_| SpecError::new("gateways", g, "is not an IP address")))
                .collect::<Result<_, _>>()?;
            Ok(a)
        })()
        .map_err(crate::errors::raise)?;
        let (d, c) = (self.inner.clone(), container.to_string());
        let n = block(py, async move { d.attach(&c, &a).await })?;
        Ok(n.to_string())
    }

    /// Removes a directly attached interface.
    fn detach(&self, py: Python<'_>, container: &str, ifname: &str) -> PyResult<()> {
        let dev = IfName::new(ifname).map_err(|e| crate::errors::raise(e.named("ifname")))?;
        let (d, c) = (self.inner.clone(), container.to_string());
        block(py, async move { d.detach(&c, &dev).await })
    }

    /// `docker inspect CONTAINER` → `{"name", "pid", "networks": {NAME: {"IPAddress", ...}}}`.
    fn inspect<'py>(&self, py: Python<'py>, container: &str) -> PyResult<Bound<'py, PyDict>> {
        let (d, c) = (self.inner.clone(), container.to_string());
        let v = block(py, async move { d.inspect(&c).await })?;
        let out = PyDict::new(py);
        out.set_item("name", &v.name)?;
        out.set_item("pid", v.pid)?;
        let nets = PyDict::new(py);
        for (k, e) in &v.networks {
            let n = PyDict::new(py);
            n.set_item("IPAddress", &e.ip_address)?;
            n.set_item("IPPrefixLen", e.ip_prefix_len)?;
            n.set_item("Gateway", &e.gateway)?;
            n.set_item("GlobalIPv6Address", &e.global_ipv6_address)?;
            n.set_item("GlobalIPv6PrefixLen", e.global_ipv6_prefix_len)?;
            n.set_item("IPv6Gateway", &e.ipv6_gateway)?;
            n.set_item("MacAddress", &e.mac_address)?;
            nets.set_item(k, n)?;
        }
        out.set_item("networks", nets)?;
        Ok(out)
    }
}
