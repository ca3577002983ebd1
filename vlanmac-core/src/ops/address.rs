use netlink_packet_route::{address::AddressMessage, RouteNetlinkMessage as M};

use super::batch::Batch;
use crate::{
    error::Result,
    netlink::{Netlink, Op},
    readback::Address,
    spec::{AddressSpec, IfName},
};

impl Netlink {
    /// `ip addr add ADDR/PREFIX dev DEV [nodad]`. AlreadyExists if present.
    pub async fn add_address(&self, dev: &IfName, addr: &AddressSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.add_address(self, dev, *addr);
        batch.run().await.into_result()
    }

    /// `ip addr replace ADDR/PREFIX dev DEV [nodad]`: adds, or updates the
    /// flags of an existing address.
    pub async fn replace_address(&self, dev: &IfName, addr: &AddressSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.replace_address(self, dev, *addr);
        batch.run().await.into_result()
    }

    /// `ip addr del ADDR/PREFIX dev DEV`.
    pub async fn delete_address(&self, dev: &IfName, addr: &AddressSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.delete_address(self, dev, *addr);
        batch.run().await.into_result()
    }

    /// `ip addr show [dev DEV]`: IPv4 and IPv6 addresses.
    pub async fn addresses(&self, dev: Option<&IfName>) -> Result<Vec<Address>> {
        let index = match dev {
            Some(d) => Some(self.link_index(d).await?),
            None => None,
        };
        let op = Op::new(format!("dump addresses in netns {}", self.netns()));
        let replies = self.dump(M::GetAddress(AddressMessage::default()), &op).await?;
        Ok(replies
            .iter()
            .filter_map(|r| if let M::NewAddress(m) = r { Address::from_message(m) } else { None })
            .filter(|a| index.is_none_or(|i| a.index == i))
            .collect())
    }
}
