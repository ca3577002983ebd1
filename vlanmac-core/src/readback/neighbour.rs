use std::net::IpAddr;

use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState as S};

use crate::spec::MacAddr;

/// A neighbour (ARP / NDP) entry (`ip neigh show`): what the seed reads
/// with `show ip arp` on the router.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Neighbour {
    /// Index of the link the entry is on.
    pub index: u32,
    /// The neighbour's IP address.
    pub ip: IpAddr,
    /// Its MAC address, once resolved.
    pub mac: Option<MacAddr>,
    /// Entry state.
    pub state: NeighbourState,
}

/// Neighbour entry state (`REACHABLE`, `STALE`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NeighbourState {
    /// `INCOMPLETE`: resolution in progress.
    Incomplete,
    /// `REACHABLE`
    Reachable,
    /// `STALE`
    Stale,
    /// `DELAY`
    Delay,
    /// `PROBE`
    Probe,
    /// `FAILED`
    Failed,
    /// `NOARP`
    Noarp,
    /// `PERMANENT`
    Permanent,
    /// Anything else.
    Other,
}

impl NeighbourState {
    /// Whether the entry holds a usable MAC.
    pub fn is_resolved(self) -> bool {
        matches!(
            self,
            NeighbourState::Reachable
                | NeighbourState::Stale
                | NeighbourState::Delay
                | NeighbourState::Probe
                | NeighbourState::Permanent
        )
    }
}

impl Neighbour {
    /// Decodes an `RTM_NEWNEIGH` reply; `None` without an IP destination.
    pub fn from_message(m: &NeighbourMessage) -> Option<Neighbour> {
        let mut ip = None;
        let mut mac = None;
        for a in &m.attributes {
            match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => ip = Some(IpAddr::V4(*v4)),
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => ip = Some(IpAddr::V6(*v6)),
                NeighbourAttribute::LinkLayerAddress(b) => mac = MacAddr::from_slice(b).ok(),
                _ => {}
            }
        }
        let state = match m.header.state {
            S::Incomplete => NeighbourState::Incomplete,
            S::Reachable => NeighbourState::Reachable,
            S::Stale => NeighbourState::Stale,
            S::Delay => NeighbourState::Delay,
            S::Probe => NeighbourState::Probe,
            S::Failed => NeighbourState::Failed,
            S::Noarp => NeighbourState::Noarp,
            S::Permanent => NeighbourState::Permanent,
            _ => NeighbourState::Other,
        };
        Some(Neighbour { index: m.header.ifindex, ip: ip?, mac, state })
    }
}
