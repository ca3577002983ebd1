use netlink_packet_route::link::{InfoData, InfoIpVlan, IpVlanFlags, IpVlanMode};

use crate::spec::{IfName, IpvlanFlags, IpvlanMode};

/// An ipvlan on `parent` (`ip link add link PARENT name NAME type ipvlan mode
/// l2|l3|l3s [bridge|private|vepa]`). A parent cannot carry both macvlans and
/// ipvlans (EBUSY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipvlan {
    /// The lower device.
    pub parent: IfName,
    /// The mode.
    pub mode: IpvlanMode,
    /// The port flag.
    pub flags: IpvlanFlags,
}

impl Ipvlan {
    /// An ipvlan on `parent` in `mode`, flag `bridge`.
    pub fn new(parent: IfName, mode: IpvlanMode) -> Self {
        Ipvlan { parent, mode, flags: IpvlanFlags::Bridge }
    }

    /// Sets the port flag.
    #[must_use]
    pub fn flags(mut self, flags: IpvlanFlags) -> Self {
        self.flags = flags;
        self
    }

    pub(crate) fn info_data(&self) -> InfoData {
        let mode = match self.mode {
            IpvlanMode::L2 => IpVlanMode::L2,
            IpvlanMode::L3 => IpVlanMode::L3,
            IpvlanMode::L3s => IpVlanMode::L3S,
        };
        InfoData::IpVlan(vec![
            InfoIpVlan::Mode(mode),
            InfoIpVlan::Flags(IpVlanFlags::from_bits_retain(self.flags.bits())),
        ])
    }
}
