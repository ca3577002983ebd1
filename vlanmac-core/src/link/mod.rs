//! Link specifications, one module per kind, and the pure builders that turn
//! them into `RTM_NEWLINK` / `RTM_SETLINK` / `RTM_DELLINK` messages.

mod ipvlan;
mod macvlan;
mod message;
mod update;
mod veth;
mod vlan;

pub use ipvlan::Ipvlan;
pub use macvlan::Macvlan;
pub(crate) use message::{
    del_group, del_link_by_name, get_link_by_name, new_link, set_link, set_link_by_name, source_mac_change,
};
pub use update::LinkUpdate;
pub use veth::Veth;
pub use vlan::Vlan;

use crate::spec::{IfName, MacAddr, Mtu, SpecError};

/// An open network namespace a link can be created in or moved to
/// (`IFLA_NET_NS_FD`): a [`crate::Netlink`] handle is one.
pub trait NetnsTarget {
    /// The namespace's file descriptor, valid while the target lives.
    fn netns_raw_fd(&self) -> i32;
    /// The namespace's identity (device and inode of its nsfs file).
    fn netns_id(&self) -> (u64, u64);
}

/// Longest interface alias (`IFALIASZ - 1`).
pub const ALIAS_MAX_BYTES: usize = 255;

/// The kind-specific part of a new link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkKindSpec {
    /// An 802.1Q / 802.1ad VLAN subinterface.
    Vlan(Vlan),
    /// A macvlan.
    Macvlan(Macvlan),
    /// An ipvlan.
    Ipvlan(Ipvlan),
    /// A veth pair.
    Veth(Veth),
}

impl LinkKindSpec {
    /// The kernel's name for the kind (`IFLA_INFO_KIND`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            LinkKindSpec::Vlan(_) => "vlan",
            LinkKindSpec::Macvlan(_) => "macvlan",
            LinkKindSpec::Ipvlan(_) => "ipvlan",
            LinkKindSpec::Veth(_) => "veth",
        }
    }

    /// The lower device, for kinds that have one.
    pub fn parent(&self) -> Option<&IfName> {
        match self {
            LinkKindSpec::Vlan(v) => Some(&v.parent),
            LinkKindSpec::Macvlan(m) => Some(&m.parent),
            LinkKindSpec::Ipvlan(i) => Some(&i.parent),
            LinkKindSpec::Veth(_) => None,
        }
    }

    /// What the kernel needs for this kind, named when it says EOPNOTSUPP.
    pub(crate) fn feature(&self) -> &'static str {
        match self {
            LinkKindSpec::Vlan(_) => "802.1Q/802.1ad VLAN links (CONFIG_VLAN_8021Q, module 8021q)",
            LinkKindSpec::Macvlan(_) => "macvlan links (CONFIG_MACVLAN, module macvlan)",
            LinkKindSpec::Ipvlan(_) => "ipvlan links (CONFIG_IPVLAN, module ipvlan)",
            LinkKindSpec::Veth(_) => "veth links (CONFIG_VETH, module veth)",
        }
    }
}

impl From<Vlan> for LinkKindSpec {
    fn from(v: Vlan) -> Self {
        LinkKindSpec::Vlan(v)
    }
}
impl From<Macvlan> for LinkKindSpec {
    fn from(v: Macvlan) -> Self {
        LinkKindSpec::Macvlan(v)
    }
}
impl From<Ipvlan> for LinkKindSpec {
    fn from(v: Ipvlan) -> Self {
        LinkKindSpec::Ipvlan(v)
    }
}
impl From<Veth> for LinkKindSpec {
    fn from(v: Veth) -> Self {
        LinkKindSpec::Veth(v)
    }
}

/// A link to create: its name, kind, and the common attributes.
///
/// ```
/// use vlanmac_core::link::{NewLink, Vlan, Macvlan};
/// use vlanmac_core::spec::{MacvlanMode, VlanId};
/// // ip link add link eth0 name eth0.10 type vlan id 10
/// let vlan = NewLink::new("eth0.10".parse()?, Vlan::new("eth0".parse()?, VlanId::new(10)?));
/// // ip link add link eth0.10 name mv10 mtu 1400 up type macvlan mode bridge
/// let mv = NewLink::new("mv10".parse()?, Macvlan::new("eth0.10".parse()?, MacvlanMode::Bridge))
///     .mtu(vlanmac_core::spec::Mtu::new(1400)?)
///     .up();
/// # Ok::<(), vlanmac_core::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// Interface name.
    pub name: IfName,
    /// Kind and kind-specific settings.
    pub kind: LinkKindSpec,
    /// MTU; inherits the parent's when `None`.
    pub mtu: Option<Mtu>,
    /// MAC address; random when `None`.
    pub mac: Option<MacAddr>,
    /// Create it administratively up.
    pub up: bool,
    /// Interface alias (`ip link set DEV alias TEXT`), at most 255 bytes.
    pub alias: Option<String>,
    /// Link group (`ip link set DEV group N`); 0 is the default group.
    pub group: Option<u32>,
    /// `Some(false)`: no IPv6 address generation on this link
    /// (`ip link set DEV addrgenmode none`): no link-local address, no DAD or
    /// MLD traffic — what keeps per-link cost flat for links on IPv4-only
    /// networks. Applied before the link first goes up.
    pub ipv6_addrgen: Option<bool>,
}

impl NewLink {
    /// The `RTM_NEWLINK` body that creates this link, for a caller that
    /// sends it on a netlink connection of its own (an `rtnetlink::Handle`:
    /// `handle.link().add(msg).execute()`). `parent_index` is the index of
    /// the lower device (VLAN, macvlan, ipvlan) in the namespace the
    /// message is sent in; `None` for a veth pair.
    ///
    /// `ip link add link PARENT name NAME type KIND ...`
    pub fn to_message(&self, parent_index: Option<u32>) -> netlink_packet_route::link::LinkMessage {
        message::new_link(self, &self.name, parent_index, None)
    }

    /// A link called `name` of the given kind, everything else default.
    pub fn new(name: IfName, kind: impl Into<LinkKindSpec>) -> Self {
        NewLink {
            name,
            kind: kind.into(),
            mtu: None,
            mac: None,
            up: false,
            alias: None,
            group: None,
            ipv6_addrgen: None,
        }
    }

    /// Sets the MTU.
    #[must_use]
    pub fn mtu(mut self, mtu: Mtu) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Sets the MAC address.
    #[must_use]
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.mac = Some(mac);
        self
    }

    /// Creates the link administratively up.
    #[must_use]
    pub fn up(mut self) -> Self {
        self.up = true;
        self
    }

    /// Sets the alias; fails if longer than 255 bytes or containing NUL.
    pub fn alias(mut self, alias: impl Into<String>) -> Result<Self, SpecError> {
        self.alias = Some(validate_alias(alias.into())?);
        Ok(self)
    }

    /// Sets the link group.
    #[must_use]
    pub fn group(mut self, group: u32) -> Self {
        self.group = Some(group);
        self
    }

    /// Switches IPv6 address generation on (`true`) or off (`false`).
    #[must_use]
    pub fn ipv6_addrgen(mut self, on: bool) -> Self {
        self.ipv6_addrgen = Some(on);
        self
    }

    /// The settings the kernel ignores at creation, applied by the
    /// `RTM_SETLINK` that follows it (alias, IPv6 address generation).
    pub(crate) fn after_create(&self) -> LinkUpdate {
        LinkUpdate { alias: self.alias.clone(), ipv6_addrgen: self.ipv6_addrgen, ..LinkUpdate::default() }
    }

    /// `ip link add ...` as text, for messages and plans.
    pub fn describe(&self) -> String {
        let mut s = format!("add {} {}", self.kind.kind_name(), self.name);
        if let Some(p) = self.kind.parent() {
            s.push_str(&format!(" on {p}"));
        }
        s
    }
}

pub(crate) fn validate_alias(alias: String) -> Result<String, SpecError> {
    if alias.len() > ALIAS_MAX_BYTES {
        return Err(SpecError::new("alias", &alias, "is longer than 255 bytes"));
    }
    if alias.contains('\0') {
        return Err(SpecError::new("alias", &alias, "contains NUL"));
    }
    Ok(alias)
}
