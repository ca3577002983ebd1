use std::net::IpAddr;

use netlink_packet_route::{
    neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage},
    AddressFamily, RouteNetlinkMessage as M,
};

use crate::{
    error::{Error, Result},
    netlink::{Call, Netlink, Op},
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

    /// `ip neigh del IP dev DEV` for each `(link index, IP)`, all in one
    /// exchange. An entry that is already gone is not an error (the kernel
    /// may have dropped it meanwhile).
    pub async fn del_neighbours(&self, entries: &[(u32, IpAddr)]) -> Result<()> {
        let calls = entries
            .iter()
            .map(|&(index, ip)| {
                let mut m = NeighbourMessage::default();
                m.header.ifindex = index;
                let dst = match ip {
                    IpAddr::V4(a) => {
                        m.header.family = AddressFamily::Inet;
                        NeighbourAddress::Inet(a)
                    }
                    IpAddr::V6(a) => {
                        m.header.family = AddressFamily::Inet6;
                        NeighbourAddress::Inet6(a)
                    }
                };
                m.attributes.push(NeighbourAttribute::Destination(dst));
                let op = Op::new(format!("delete neighbour {ip} (link #{index}) in netns {}", self.netns()));
                Call { msg: M::DelNeighbour(m), flags: 0, op }
            })
            .collect();
        for r in self.run(calls).await {
            match r {
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
