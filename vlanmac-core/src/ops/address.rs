use netlink_packet_route::{
    address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope},
    AddressFamily, RouteNetlinkMessage as M,
};

use super::batch::Batch;
use crate::{
    error::Result,
    netlink::{Netlink, Op},
    readback::Address,
    spec::{AddressSpec, IfName},
};

/// `RTM_NEWADDR` / `RTM_DELADDR` body for `addr` on link `index`.
pub(crate) fn address_message(index: u32, addr: &AddressSpec) -> AddressMessage {
    let mut m = AddressMessage::default();
    let ip = addr.addr();
    m.header.family = if ip.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    m.header.prefix_len = addr.prefix_len();
    m.header.index = index;
    m.header.scope = AddressScope::Universe;
    m.attributes.push(AddressAttribute::Local(ip));
    m.attributes.push(AddressAttribute::Address(ip));
    if addr.nodad && ip.is_ipv6() {
        m.header.flags = AddressHeaderFlags::Nodad;
        m.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    m
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v6_nodad_message() {
        let a: AddressSpec = "2001:db8:babe:10::3/64".parse().unwrap();
        let m = address_message(4, &a);
        assert_eq!(m.header.family, AddressFamily::Inet6);
        assert_eq!(m.header.prefix_len, 64);
        assert!(m.attributes.contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        let v4: AddressSpec = "10.0.10.3/24".parse().unwrap();
        let m = address_message(4, &v4);
        assert_eq!(m.header.family, AddressFamily::Inet);
        assert!(!m.attributes.iter().any(|a| matches!(a, AddressAttribute::Flags(_))));
    }
}
