use netlink_packet_route::link::{InfoData, InfoVeth, LinkAttribute, LinkMessage};

use crate::spec::IfName;

/// A veth pair (`ip link add NAME type veth peer name PEER [netns NS]`): the
/// lab's stand-in for a physical trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veth {
    /// The other end's name.
    pub peer: IfName,
    /// Put the other end in this namespace (`IFLA_NET_NS_FD`), given as an
    /// open namespace fd; `None` keeps it beside the first end.
    pub(crate) peer_netns_fd: Option<i32>,
    /// That namespace's identity (for ordering batched requests).
    pub(crate) peer_netns_key: Option<(u64, u64)>,
}

impl Veth {
    /// A pair whose other end is called `peer`.
    pub fn new(peer: IfName) -> Self {
        Veth { peer, peer_netns_fd: None, peer_netns_key: None }
    }

    /// Puts the peer in the namespace of `target` (`... peer name P netns NS`).
    #[must_use]
    pub fn peer_in(mut self, target: &impl super::NetnsTarget) -> Self {
        self.peer_netns_fd = Some(target.netns_raw_fd());
        self.peer_netns_key = Some(target.netns_id());
        self
    }

    /// The peer's part of `RTM_NEWLINK`; it joins link `group` as the first
    /// end does (the group is a creation-time ownership mark).
    pub(crate) fn info_data(&self, group: Option<u32>) -> InfoData {
        let mut peer = LinkMessage::default();
        peer.attributes.push(LinkAttribute::IfName(self.peer.to_string()));
        if let Some(g) = group {
            peer.attributes.push(LinkAttribute::Group(g));
        }
        if let Some(fd) = self.peer_netns_fd {
            peer.attributes.push(LinkAttribute::NetNsFd(fd));
        }
        InfoData::Veth(InfoVeth::Peer(peer))
    }
}
