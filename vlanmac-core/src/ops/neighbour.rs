use netlink_packet_route::{neighbour::NeighbourMessage, RouteNetlinkMessage as M};

use crate::{
    error::Result,
    netlink::{Netlink, Op},
    readback::Neighbour,
    spec::IfName,
};

impl Netlink {
    /// `ip neigh show [dev DEV]`: ARP and NDP entries.
    pub async fn neighbours(&self, dev: Option<&IfName>) -> Result<Vec<Neighbour>> {
        let index = match dev {
            Some(d) => Some(self.link_index(d).await?),
            None => None,
        };
        let op = Op::new(format!("dump neighbours in netns {}", self.netns()));
        let replies = self.dump(M::GetNeighbour(NeighbourMessage::default()), &op).await?;
        Ok(replies
            .iter()
            .filter_map(|r| if let M::NewNeighbour(m) = r { Neighbour::from_message(m) } else { None })
            .filter(|n| index.is_none_or(|i| n.index == i))
            .collect())
    }
}
