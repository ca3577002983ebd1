use netlink_packet_route::link::{
    InfoData, InfoIpVlan, InfoKind, InfoMacVlan, InfoVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State,
};

use super::Address;
use crate::spec::{IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, VlanFlags, VlanId, VlanProtocol};

/// A link as the kernel reports it (`ip -d link show`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Kind with its kind-specific settings.
    pub kind: LinkKind,
    /// The lower device (`eth0.10@eth0`), for kinds that have one.
    pub parent: Option<Parent>,
    /// MAC address, when the link has a valid unicast one.
    pub mac: Option<MacAddr>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// Operational state (`state UP` in `ip link`).
    pub oper_state: OperState,
    /// Interface alias (vlanmac marks what it creates here).
    pub alias: Option<String>,
    /// Link group.
    pub group: u32,
    /// Addresses, when read with [`crate::Netlink::links`].
    pub addresses: Vec<Address>,
}

/// The lower device of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// Its index, in its own namespace.
    pub index: u32,
    /// Its name, when it is in the same namespace as the link.
    pub name: Option<String>,
    /// The kernel's id for the parent's namespace when it is another one
    /// (`link-netnsid`).
    pub netnsid: Option<i32>,
}

/// What kind of link, with the settings vlanmac understands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkKind {
    /// An 802.1Q / 802.1ad VLAN (`vlan protocol 802.1Q id 10`).
    Vlan {
        /// VLAN id (`None` if the kernel sent an out-of-range one).
        id: Option<VlanId>,
        /// Tag protocol (`None` if unknown).
        protocol: Option<VlanProtocol>,
        /// Flags.
        flags: VlanFlags,
    },
    /// A macvlan (`macvlan mode bridge`).
    Macvlan {
        /// Mode (`None` if unknown).
        mode: Option<MacvlanMode>,
        /// Source-mode allowed MACs.
        source_macs: Vec<MacAddr>,
    },
    /// An ipvlan (`ipvlan mode l2 bridge`).
    Ipvlan {
        /// Mode (`None` if unknown).
        mode: Option<IpvlanMode>,
        /// Port flag.
        flags: IpvlanFlags,
    },
    /// A veth.
    Veth,
    /// The loopback device.
    Loopback,
    /// A device with no `IFLA_INFO_KIND` (physical NIC).
    Device,
    /// Any other kind, by the kernel's name (`bridge`, `vxlan`, …).
    Other(String),
}

impl LinkKind {
    /// The VLAN id, for VLANs.
    pub fn vlan_id(&self) -> Option<u16> {
        match self {
            LinkKind::Vlan { id, .. } => id.map(|i| i.get()),
            _ => None,
        }
    }

    /// `802.1Q` or `802.1ad`, for VLANs.
    pub fn vlan_protocol(&self) -> Option<String> {
        match self {
            LinkKind::Vlan { protocol, .. } => protocol.map(|p| p.to_string()),
            _ => None,
        }
    }

    /// The macvlan or ipvlan mode (`bridge`, `l2`, …).
    pub fn mode_name(&self) -> Option<String> {
        match self {
            LinkKind::Macvlan { mode, .. } => mode.map(|m| m.to_string()),
            LinkKind::Ipvlan { mode, .. } => mode.map(|m| m.to_string()),
            _ => None,
        }
    }

    /// The kernel's kind name (`vlan`, `macvlan`, …).
    pub fn name(&self) -> &str {
        match self {
            LinkKind::Vlan { .. } => "vlan",
            LinkKind::Macvlan { .. } => "macvlan",
            LinkKind::Ipvlan { .. } => "ipvlan",
            LinkKind::Veth => "veth",
            LinkKind::Loopback => "loopback",
            LinkKind::Device => "device",
            LinkKind::Other(s) => s,
        }
    }
}

/// RFC 2863 operational state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperState {
    /// `UP`
    Up,
    /// `DOWN`
    Down,
    /// `LOWERLAYERDOWN`
    LowerLayerDown,
    /// `DORMANT`
    Dormant,
    /// `UNKNOWN` (loopback, macvlans without carrier tracking, …)
    Unknown,
    /// Anything else.
    Other,
}

impl From<&State> for OperState {
    fn from(s: &State) -> Self {
        match s {
            State::Up => OperState::Up,
            State::Down => OperState::Down,
            State::LowerLayerDown => OperState::LowerLayerDown,
            State::Dormant => OperState::Dormant,
            State::Unknown => OperState::Unknown,
            _ => OperState::Other,
        }
    }
}

impl Link {
    /// Decodes an `RTM_NEWLINK` reply. Returns `None` for a message without
    /// a name (never sent by the kernel for a real link).
    pub fn from_message(m: &LinkMessage) -> Option<Link> {
        let mut name = None;
        let mut mac = None;
        let mut mtu = None;
        let mut alias = None;
        let mut group = 0;
        let mut parent_index = None;
        let mut netnsid = None;
        let mut oper = OperState::Unknown;
        let mut kind_name: Option<InfoKind> = None;
        let mut data: Option<&InfoData> = None;
        for a in &m.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n.clone()),
                LinkAttribute::Address(b) => mac = MacAddr::from_slice(b).ok(),
                LinkAttribute::Mtu(v) => mtu = Some(*v),
                LinkAttribute::IfAlias(s) => alias = Some(s.clone()),
                LinkAttribute::Group(g) => group = *g,
                LinkAttribute::Link(i) => parent_index = Some(*i),
                LinkAttribute::LinkNetNsId(i) => netnsid = Some(*i),
                LinkAttribute::OperState(s) => oper = OperState::from(s),
                LinkAttribute::LinkInfo(infos) => {
                    for i in infos {
                        match i {
                            LinkInfo::Kind(k) => kind_name = Some(k.clone()),
                            LinkInfo::Data(d) => data = Some(d),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let is_loopback = m.header.flags.contains(LinkFlags::Loopback);
        let kind = decode_kind(kind_name.as_ref(), data, is_loopback);
        // veth peers report IFLA_LINK too, but they are not parents.
        let parent = match kind {
            LinkKind::Vlan { .. } | LinkKind::Macvlan { .. } | LinkKind::Ipvlan { .. } => {
                parent_index.filter(|i| *i != 0).map(|index| Parent { index, name: None, netnsid })
            }
            _ => None,
        };
        Some(Link {
            index: m.header.index,
            name: name?,
            kind,
            parent,
            mac,
            mtu,
            admin_up: m.header.flags.contains(LinkFlags::Up),
            oper_state: oper,
            alias,
            group,
            addresses: Vec::new(),
        })
    }
}

/// A link flattened to display values (`vlanmac show`, Python's `Link`):
/// one place that decides how a link reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LinkSummary {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Kind name (`vlan`, `macvlan`, …).
    pub kind: String,
    /// VLAN id, for VLANs.
    pub vlan_id: Option<u16>,
    /// `802.1Q` / `802.1ad`, for VLANs.
    pub vlan_protocol: Option<String>,
    /// macvlan/ipvlan mode.
    pub mode: Option<String>,
    /// The lower device's name, or `ifN` when it is in another namespace.
    pub parent: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Administratively up.
    pub up: bool,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`, …).
    pub state: String,
    /// Interface alias.
    pub alias: Option<String>,
    /// Addresses as `addr/prefix`.
    pub addresses: Vec<String>,
}

impl From<&Link> for LinkSummary {
    fn from(l: &Link) -> Self {
        LinkSummary {
            index: l.index,
            name: l.name.clone(),
            kind: l.kind.name().to_string(),
            vlan_id: l.kind.vlan_id(),
            vlan_protocol: l.kind.vlan_protocol(),
            mode: l.kind.mode_name(),
            parent: l.parent.as_ref().map(|p| p.name.clone().unwrap_or_else(|| format!("if{}", p.index))),
            mac: l.mac.map(|m| m.to_string()),
            mtu: l.mtu,
            up: l.admin_up,
            state: format!("{:?}", l.oper_state).to_uppercase(),
            alias: l.alias.clone(),
            addresses: l.addresses.iter().map(|a| a.net.to_string()).collect(),
        }
    }
}

fn decode_kind(kind: Option<&InfoKind>, data: Option<&InfoData>, loopback: bool) -> LinkKind {
    match (kind, data) {
        (Some(InfoKind::Vlan), d) => {
            let (mut id, mut protocol, mut flags) = (None, None, VlanFlags::default());
            if let Some(InfoData::Vlan(v)) = d {
                for x in v {
                    match x {
                        InfoVlan::Id(i) => id = VlanId::new(u32::from(*i)).ok(),
                        InfoVlan::Protocol(p) => protocol = VlanProtocol::from_ethertype(u16::from(*p)),
                        InfoVlan::Flags((f, _)) => flags = VlanFlags::from_bits(f.bits()),
                        _ => {}
                    }
                }
            }
            LinkKind::Vlan { id, protocol, flags }
        }
        (Some(InfoKind::MacVlan), d) => {
            let (mut mode, mut source_macs) = (None, Vec::new());
            if let Some(InfoData::MacVlan(v)) = d {
                for x in v {
                    match x {
                        InfoMacVlan::Mode(m) => mode = decode_macvlan_mode(u32::from(*m)),
                        InfoMacVlan::MacAddrData(list) => {
                            source_macs = list
                                .iter()
                                .filter_map(|e| match e {
                                    InfoMacVlan::MacAddr(b) => MacAddr::new(*b).ok(),
                                    _ => None,
                                })
                                .collect()
                        }
                        _ => {}
                    }
                }
            }
            LinkKind::Macvlan { mode, source_macs }
        }
        (Some(InfoKind::IpVlan), d) => {
            let (mut mode, mut flags) = (None, IpvlanFlags::Bridge);
            if let Some(InfoData::IpVlan(v)) = d {
                for x in v {
                    match x {
                        InfoIpVlan::Mode(m) => {
                            mode = match u16::from(*m) {
                                0 => Some(IpvlanMode::L2),
                                1 => Some(IpvlanMode::L3),
                                2 => Some(IpvlanMode::L3s),
                                _ => None,
                            }
                        }
                        InfoIpVlan::Flags(f) => flags = IpvlanFlags::from_bits(f.bits()),
                        _ => {}
                    }
                }
            }
            LinkKind::Ipvlan { mode, flags }
        }
        (Some(InfoKind::Veth), _) => LinkKind::Veth,
        (Some(other), _) => LinkKind::Other(other.to_string()),
        (None, _) if loopback => LinkKind::Loopback,
        (None, _) => LinkKind::Device,
    }
}

fn decode_macvlan_mode(bits: u32) -> Option<MacvlanMode> {
    Some(match bits {
        1 => MacvlanMode::Private,
        2 => MacvlanMode::Vepa,
        4 => MacvlanMode::Bridge,
        8 => MacvlanMode::Passthru,
        16 => MacvlanMode::Source,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_vlan() {
        let mut m = LinkMessage::default();
        m.header.index = 29;
        m.header.flags = LinkFlags::Up;
        m.attributes = vec![
            LinkAttribute::IfName("eth0.10".into()),
            LinkAttribute::Link(4),
            LinkAttribute::Mtu(1500),
            LinkAttribute::Address(vec![2, 0x42, 0, 0, 0, 1]),
            LinkAttribute::OperState(State::Up),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Vlan),
                LinkInfo::Data(InfoData::Vlan(vec![
                    InfoVlan::Id(10),
                    InfoVlan::Protocol(netlink_packet_route::link::VlanProtocol::Ieee8021Q),
                ])),
            ]),
        ];
        let l = Link::from_message(&m).unwrap();
        assert_eq!(l.name, "eth0.10");
        assert_eq!(l.parent.as_ref().unwrap().index, 4);
        assert!(l.admin_up);
        assert_eq!(l.oper_state, OperState::Up);
        assert_eq!(
            l.kind,
            LinkKind::Vlan {
                id: Some(VlanId::new(10).unwrap()),
                protocol: Some(VlanProtocol::Ieee8021Q),
                flags: VlanFlags::default()
            }
        );
    }

    #[test]
    fn odd_replies_do_not_panic() {
        assert!(Link::from_message(&LinkMessage::default()).is_none());
        let mut m = LinkMessage::default();
        m.attributes = vec![
            LinkAttribute::IfName("x".into()),
            LinkAttribute::Address(vec![1, 2, 3]),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Vlan)]),
        ];
        let l = Link::from_message(&m).unwrap();
        assert_eq!(l.mac, None);
        assert!(matches!(l.kind, LinkKind::Vlan { id: None, .. }));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(netlink_packet_route::link::MacVlanMode::Other(
                99,
            ))])),
        ]));
        let l = Link::from_message(&m).unwrap();
        assert!(matches!(l.kind, LinkKind::Macvlan { mode: None, .. }));
    }
}
