use netlink_packet_route::link::{InfoData, InfoVlan, VlanFlags as NlVlanFlags, VlanProtocol as NlProto};

use crate::spec::{IfName, VlanFlags, VlanId, VlanProtocol};

/// An 802.1Q or 802.1ad VLAN subinterface of `parent`
/// (`ip link add link PARENT name NAME type vlan id ID [protocol P] [FLAGS]`).
///
/// The kernel allows one VLAN per (parent, protocol, id), whatever its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vlan {
    /// The trunk.
    pub parent: IfName,
    /// The VLAN id.
    pub id: VlanId,
    /// 802.1Q (default) or 802.1ad.
    pub protocol: VlanProtocol,
    /// Flags; kernel defaults when unset.
    pub flags: VlanFlags,
}

impl Vlan {
    /// VLAN `id` on `parent`, 802.1Q, default flags.
    pub fn new(parent: IfName, id: VlanId) -> Self {
        Vlan { parent, id, protocol: VlanProtocol::Ieee8021Q, flags: VlanFlags::default() }
    }

    /// Sets the tag protocol (`protocol 802.1ad` for QinQ).
    #[must_use]
    pub fn protocol(mut self, protocol: VlanProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets the flags.
    #[must_use]
    pub fn flags(mut self, flags: VlanFlags) -> Self {
        self.flags = flags;
        self
    }

    pub(crate) fn info_data(&self) -> InfoData {
        let mut v = vec![
            InfoVlan::Id(self.id.get()),
            InfoVlan::Protocol(match self.protocol {
                VlanProtocol::Ieee8021Q => NlProto::Ieee8021Q,
                VlanProtocol::Ieee8021Ad => NlProto::Ieee8021Ad,
            }),
        ];
        if let Some((flags, mask)) = self.flags.flags_and_mask() {
            v.push(InfoVlan::Flags((NlVlanFlags::from_bits_retain(flags), NlVlanFlags::from_bits_retain(mask))));
        }
        InfoData::Vlan(v)
    }
}
