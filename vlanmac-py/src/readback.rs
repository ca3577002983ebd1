//! Read-back as Python objects with a useful `repr` and `to_dict()`.

use pyo3::{prelude::*, types::PyDict};
use vlanmac_core::readback;

/// A link (`ip -d addr show`).
#[pyclass(module = "vlanmac", name = "Link", frozen, get_all)]
#[derive(Clone)]
pub struct PyLink {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `vlan`, `macvlan`, `ipvlan`, `veth`, `loopback`, `device`, or another kind.
    pub kind: String,
    /// VLAN id (VLANs).
    pub vlan_id: Option<u16>,
    /// `802.1Q` or `802.1ad` (VLANs).
    pub vlan_protocol: Option<String>,
    /// macvlan/ipvlan mode.
    pub mode: Option<String>,
    /// The lower device's name (or `ifN` when it is in another namespace).
    pub parent: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Administratively up.
    pub up: bool,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`, ...).
    pub state: String,
    /// Interface alias.
    pub alias: Option<String>,
    /// Addresses as `addr/prefix`.
    pub addresses: Vec<String>,
}

impl From<&readback::Link> for PyLink {
    fn from(l: &readback::Link) -> Self {
        let s = readback::LinkSummary::from(l);
        PyLink {
            index: s.index,
            name: s.name,
            kind: s.kind,
            vlan_id: s.vlan_id,
            vlan_protocol: s.vlan_protocol,
            mode: s.mode,
            parent: s.parent,
            mac: s.mac,
            mtu: s.mtu,
            up: s.up,
            state: s.state,
            alias: s.alias,
            addresses: s.addresses,
        }
    }
}

#[pymethods]
impl PyLink {
    fn __repr__(&self) -> String {
        let mut s = format!("Link({:?}, kind={:?}", self.name, self.kind);
        if let Some(v) = self.vlan_id {
            s.push_str(&format!(", vlan_id={v}"));
        }
        if let Some(m) = &self.mode {
            s.push_str(&format!(", mode={m:?}"));
        }
        if let Some(p) = &self.parent {
            s.push_str(&format!(", parent={p:?}"));
        }
        if let Some(m) = &self.mac {
            s.push_str(&format!(", mac={m:?}"));
        }
        s.push_str(&format!(
            ", mtu={}, up={}, addresses={:?})",
            self.mtu.map(|m| m.to_string()).unwrap_or_else(|| "None".into()),
            if self.up { "True" } else { "False" },
            self.addresses
        ));
        s
    }

    /// The fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("index", self.index)?;
        d.set_item("name", &self.name)?;
        d.set_item("kind", &self.kind)?;
        d.set_item("vlan_id", self.vlan_id)?;
        d.set_item("vlan_protocol", &self.vlan_protocol)?;
        d.set_item("mode", &self.mode)?;
        d.set_item("parent", &self.parent)?;
        d.set_item("mac", &self.mac)?;
        d.set_item("mtu", self.mtu)?;
        d.set_item("up", self.up)?;
        d.set_item("state", &self.state)?;
        d.set_item("alias", &self.alias)?;
        d.set_item("addresses", &self.addresses)?;
        Ok(d)
    }
}

/// A route (`ip route show`).
#[pyclass(module = "vlanmac", name = "Route", frozen, get_all)]
#[derive(Clone)]
pub struct PyRoute {
    /// Destination (`0.0.0.0/0` for default).
    pub dst: String,
    /// Next hop.
    pub gateway: Option<String>,
    /// Output device name.
    pub dev: Option<String>,
    /// Metric.
    pub metric: Option<u32>,
    /// Routing table.
    pub table: u32,
}

#[pymethods]
impl PyRoute {
    fn __repr__(&self) -> String {
        format!("Route({:?}, gateway={:?}, dev={:?}, metric={:?})", self.dst, self.gateway, self.dev, self.metric)
    }
}

/// A neighbour (ARP/NDP) entry.
#[pyclass(module = "vlanmac", name = "Neighbour", frozen, get_all)]
#[derive(Clone)]
pub struct PyNeighbour {
    /// IP address.
    pub ip: String,
    /// MAC address once resolved.
    pub mac: Option<String>,
    /// Device name.
    pub dev: Option<String>,
    /// `REACHABLE`, `STALE`, `PERMANENT`, ...
    pub state: String,
}

#[pymethods]
impl PyNeighbour {
    fn __repr__(&self) -> String {
        format!("Neighbour({:?}, mac={:?}, dev={:?}, state={:?})", self.ip, self.mac, self.dev, self.state)
    }
}
