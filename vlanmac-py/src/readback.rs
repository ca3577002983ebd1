//! Read-back as Python objects with a useful `repr` and `to_dict()`.

use pyo3::{prelude::*, types::PyDict};
use vlanmac_core::readback;

/// A link (`ip -d addr show`): vlanmac-core's `LinkSummary`, the one place
/// that decides how a link reads (`vlanmac show` prints the same).
#[pyclass(module = "vlanmac", name = "Link", frozen)]
#[derive(Clone)]
pub struct PyLink(readback::LinkSummary);

impl From<&readback::Link> for PyLink {
    fn from(l: &readback::Link) -> Self {
        PyLink(readback::LinkSummary::from(l))
    }
}

/// The fields of `LinkSummary` Python sees, each a read-only attribute and
/// a key of `to_dict()`.
macro_rules! link_fields {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty),* $(,)?) => {
        #[pymethods]
        impl PyLink {
            $(
                $(#[doc = $doc])*
                #[getter]
                fn $field(&self) -> $ty {
                    self.0.$field.clone()
                }
            )*

            /// The fields as a dict.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $(d.set_item(stringify!($field), &self.0.$field)?;)*
                Ok(d)
            }
        }
    };
}

link_fields! {
    /// Interface index.
    index: u32,
    /// Interface name.
    name: String,
    /// `vlan`, `macvlan`, `ipvlan`, `veth`, `loopback`, `device`, or another kind.
    kind: String,
    /// VLAN id (VLANs).
    vlan_id: Option<u16>,
    /// `802.1Q` or `802.1ad` (VLANs).
    vlan_protocol: Option<String>,
    /// macvlan/ipvlan mode.
    mode: Option<String>,
    /// The lower device's name (or `ifN` when it is in another namespace).
    parent: Option<String>,
    /// MAC address.
    mac: Option<String>,
    /// MTU.
    mtu: Option<u32>,
    /// Administratively up.
    up: bool,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`, ...).
    state: String,
    /// Interface alias.
    alias: Option<String>,
    /// Addresses as `addr/prefix`.
    addresses: Vec<String>,
}

#[pymethods]
impl PyLink {
    fn __repr__(&self) -> String {
        let l = &self.0;
        let mut s = format!("Link({:?}, kind={:?}", l.name, l.kind);
        if let Some(v) = l.vlan_id {
            s.push_str(&format!(", vlan_id={v}"));
        }
        if let Some(m) = &l.mode {
            s.push_str(&format!(", mode={m:?}"));
        }
        if let Some(p) = &l.parent {
            s.push_str(&format!(", parent={p:?}"));
        }
        if let Some(m) = &l.mac {
            s.push_str(&format!(", mac={m:?}"));
        }
        s.push_str(&format!(
            ", mtu={}, up={}, addresses={:?})",
            l.mtu.map(|m| m.to_string()).unwrap_or_else(|| "None".into()),
            if l.up { "True" } else { "False" },
            l.addresses
        ));
        s
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
