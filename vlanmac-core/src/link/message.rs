//! Pure builders: spec values in, netlink messages out. No I/O.

use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage,
};

use super::{macvlan, LinkKindSpec, LinkUpdate, NewLink};
use crate::spec::{IfName, SourceMacOp};

/// `RTM_NEWLINK` for `spec`. `parent_index` is the lower device's index in
/// the sending socket's namespace; `name` is the link's name; `netns_fd`
/// creates the link directly in another namespace.
pub(crate) fn new_link(spec: &NewLink, name: &IfName, parent_index: Option<u32>, netns_fd: Option<i32>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    if spec.up {
        msg.header.flags |= LinkFlags::Up;
        msg.header.change_mask |= LinkFlags::Up;
    }
    let a = &mut msg.attributes;
    a.push(LinkAttribute::IfName(name.to_string()));
    if let Some(i) = parent_index {
        a.push(LinkAttribute::Link(i));
    }
    if let Some(m) = spec.mtu {
        a.push(LinkAttribute::Mtu(m.get()));
    }
    if let Some(m) = spec.mac {
        a.push(LinkAttribute::Address(m.octets().to_vec()));
    }
    if let Some(al) = &spec.alias {
        a.push(LinkAttribute::IfAlias(al.clone()));
    }
    if let Some(g) = spec.group {
        a.push(LinkAttribute::Group(g));
    }
    if let Some(fd) = netns_fd {
        a.push(LinkAttribute::NetNsFd(fd));
    }
    let (kind, data) = match &spec.kind {
        LinkKindSpec::Vlan(v) => (InfoKind::Vlan, v.info_data()),
        LinkKindSpec::Macvlan(m) => (InfoKind::MacVlan, m.info_data()),
        LinkKindSpec::Ipvlan(i) => (InfoKind::IpVlan, i.info_data()),
        LinkKindSpec::Veth(v) => (InfoKind::Veth, v.info_data(spec.group)),
    };
    a.push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(kind), LinkInfo::Data(data)]));
    msg
}

/// `RTM_SETLINK` applying `update` to link `index`.
pub(crate) fn set_link(index: u32, update: &LinkUpdate) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    if let Some(up) = update.up {
        msg.header.change_mask |= LinkFlags::Up;
        if up {
            msg.header.flags |= LinkFlags::Up;
        }
    }
    let a = &mut msg.attributes;
    if let Some(m) = update.mtu {
        a.push(LinkAttribute::Mtu(m.get()));
    }
    if let Some(m) = update.mac {
        a.push(LinkAttribute::Address(m.octets().to_vec()));
    }
    if let Some(n) = &update.name {
        a.push(LinkAttribute::IfName(n.to_string()));
    }
    if let Some(al) = &update.alias {
        a.push(LinkAttribute::IfAlias(al.clone()));
    }
    if let Some(g) = update.group {
        a.push(LinkAttribute::Group(g));
    }
    if let Some(fd) = update.netns_fd {
        a.push(LinkAttribute::NetNsFd(fd));
    }
    if let Some(on) = update.ipv6_addrgen {
        let mode = if on { In6AddrGenMode::Eui64 } else { In6AddrGenMode::None };
        a.push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(vec![AfSpecInet6::AddrGenMode(mode)])]));
    }
    msg
}

/// `RTM_NEWLINK` (change, no CREATE) updating a source-mode macvlan's MAC list.
pub(crate) fn source_mac_change(index: u32, op: SourceMacOp) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    let data: Vec<InfoMacVlan> = macvlan::source_list(op);
    msg.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        LinkInfo::Data(InfoData::MacVlan(data)),
    ]));
    msg
}

/// `RTM_DELLINK` for the link called `name` (looked up by `IFLA_IFNAME`).
pub(crate) fn del_link_by_name(name: &IfName) -> LinkMessage {
    get_link_by_name(name)
}

/// `RTM_DELLINK` for every link of `group` (index 0 + `IFLA_GROUP`).
pub(crate) fn del_group(group: u32) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::Group(group));
    msg
}

/// `RTM_SETLINK` applying `update` (which must not rename) to the link
/// called `name`: the kernel looks it up by `IFLA_IFNAME`.
pub(crate) fn set_link_by_name(name: &IfName, update: &LinkUpdate) -> LinkMessage {
    let mut msg = set_link(0, update);
    msg.attributes.retain(|a| !matches!(a, LinkAttribute::IfName(_)));
    msg.attributes.insert(0, LinkAttribute::IfName(name.to_string()));
    msg
}

/// `RTM_GETLINK` for the link called `name`.
pub(crate) fn get_link_by_name(name: &IfName) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::{Emitable, Parseable};
    use netlink_packet_route::link::InfoVlan;

    use super::*;
    use crate::{
        link::{Ipvlan, Macvlan, Veth, Vlan},
        spec::{IpvlanFlags, IpvlanMode, MacAddr, MacvlanMode, Mtu, VlanId, VlanProtocol},
    };

    fn n(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    fn round_trip(m: &LinkMessage) -> LinkMessage {
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        LinkMessage::parse(buf.as_slice()).unwrap()
    }

    fn info(m: &LinkMessage) -> &Vec<LinkInfo> {
        m.attributes.iter().find_map(|a| if let LinkAttribute::LinkInfo(i) = a { Some(i) } else { None }).unwrap()
    }

    #[test]
    fn vlan_8021ad_message() {
        let spec = NewLink::new(
            n("eth0.20"),
            Vlan::new(n("eth0"), VlanId::new(20).unwrap()).protocol(VlanProtocol::Ieee8021Ad),
        )
        .mtu(Mtu::new(1496).unwrap())
        .up();
        let m = round_trip(&new_link(&spec, &spec.name, Some(7), None));
        assert!(m.header.flags.contains(LinkFlags::Up));
        assert!(m.attributes.contains(&LinkAttribute::Link(7)));
        assert!(m.attributes.contains(&LinkAttribute::Mtu(1496)));
        assert!(m.attributes.contains(&LinkAttribute::IfName("eth0.20".into())));
        let i = info(&m);
        assert_eq!(i[0], LinkInfo::Kind(InfoKind::Vlan));
        let LinkInfo::Data(InfoData::Vlan(v)) = &i[1] else { panic!("{i:?}") };
        assert!(v.contains(&InfoVlan::Id(20)));
        assert!(v.contains(&InfoVlan::Protocol(netlink_packet_route::link::VlanProtocol::Ieee8021Ad)));
    }

    #[test]
    fn macvlan_source_mode_message() {
        let macs = vec![MacAddr::new([2, 0, 0, 0, 0, 1]).unwrap(), MacAddr::new([2, 0, 0, 0, 0, 2]).unwrap()];
        let spec = NewLink::new(n("mvs"), Macvlan::new(n("eth0"), MacvlanMode::Source).source_macs(macs))
            .mac(MacAddr::new([2, 0x42, 10, 0, 10, 2]).unwrap());
        let m = round_trip(&new_link(&spec, &n("vmtmp1"), Some(3), Some(9)));
        assert!(m.attributes.contains(&LinkAttribute::IfName("vmtmp1".into())));
        assert!(m.attributes.contains(&LinkAttribute::Address(vec![2, 0x42, 10, 0, 10, 2])));
        let LinkInfo::Data(InfoData::MacVlan(d)) = &info(&m)[1] else { panic!() };
        assert!(d.contains(&InfoMacVlan::Mode(netlink_packet_route::link::MacVlanMode::Source)));
        assert!(d.iter().any(|x| matches!(x, InfoMacVlan::MacAddrData(l) if l.len() == 2)));
    }

    #[test]
    fn ipvlan_and_veth_messages() {
        let spec = NewLink::new(n("ipv"), Ipvlan::new(n("eth0"), IpvlanMode::L3s).flags(IpvlanFlags::Private));
        let m = round_trip(&new_link(&spec, &spec.name, Some(2), None));
        assert_eq!(info(&m)[0], LinkInfo::Kind(InfoKind::IpVlan));
        let spec = NewLink::new(n("v0"), Veth::new(n("v1"))).group(0x5600_0001);
        let m = new_link(&spec, &spec.name, None, None);
        assert_eq!(info(&m)[0], LinkInfo::Kind(InfoKind::Veth));
        assert!(m.attributes.contains(&LinkAttribute::Group(0x5600_0001)));
        // Both ends are created in the group: it is the creation-time mark.
        let LinkInfo::Data(InfoData::Veth(netlink_packet_route::link::InfoVeth::Peer(peer))) = &info(&m)[1] else {
            panic!("no veth peer in {m:?}");
        };
        assert!(peer.attributes.contains(&LinkAttribute::Group(0x5600_0001)), "{peer:?}");
    }

    #[test]
    fn set_link_message() {
        let u = LinkUpdate::new().up(false).name(n("eth1")).mtu(Mtu::new(1400).unwrap());
        let m = round_trip(&set_link(5, &u));
        assert_eq!(m.header.index, 5);
        assert!(m.header.change_mask.contains(LinkFlags::Up));
        assert!(!m.header.flags.contains(LinkFlags::Up));
        assert!(m.attributes.contains(&LinkAttribute::IfName("eth1".into())));
        assert_eq!(u.describe(), "down mtu 1400 name eth1");
    }
}
