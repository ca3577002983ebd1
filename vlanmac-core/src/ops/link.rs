use std::collections::HashMap;

use netlink_packet_route::{link::LinkMessage, RouteNetlinkMessage as M};

use super::batch::Batch;
use crate::{
    error::{Error, Result},
    link::{self, LinkUpdate, NewLink, Vlan},
    netlink::{Netlink, Op},
    readback::Link,
    spec::{IfName, SourceMacOp, VlanId},
    Address,
};

impl Netlink {
    /// `ip -d link show NAME`: one link, without addresses.
    pub async fn link(&self, name: &IfName) -> Result<Link> {
        let op = Op::new(format!("look up link {name} in netns {}", self.netns()));
        let mut link = self.get_link(link::get_link_by_name(name), op).await?;
        // Name the parent when it is in this namespace (`eth0.10@eth0`).
        if let Some(p) = &mut link.parent {
            if p.netnsid.is_none() {
                let op = Op::new(format!("look up link #{} in netns {}", p.index, self.netns()));
                let mut msg = LinkMessage::default();
                msg.header.index = p.index;
                p.name = self.get_link(msg, op).await.ok().map(|l| l.name);
            }
        }
        Ok(link)
    }

    async fn get_link(&self, msg: LinkMessage, op: Op) -> Result<Link> {
        let reply = self.get_one(M::GetLink(msg), &op).await?;
        match reply {
            M::NewLink(m) => Link::from_message(&m)
                .ok_or_else(|| Error::Decode { what: op.what, detail: "link without a name".into() }),
            other => Err(Error::Decode { what: op.what, detail: format!("expected a link, got {other:?}") }),
        }
    }

    /// The index of the link called `name` (NotFound if absent).
    pub async fn link_index(&self, name: &IfName) -> Result<u32> {
        Ok(self.link(name).await?.index)
    }

    /// Whether a link called `name` exists.
    pub async fn link_exists(&self, name: &IfName) -> Result<bool> {
        match self.link(name).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `ip -d addr show`: every link with its addresses, parents resolved to
    /// names when they are in this namespace. Dumps the kernel interrupts
    /// are retried.
    pub async fn links(&self) -> Result<Vec<Link>> {
        let op = Op::new(format!("dump links in netns {}", self.netns()));
        let replies = self.dump(M::GetLink(LinkMessage::default()), &op).await?;
        let mut links: Vec<Link> =
            replies.iter().filter_map(|r| if let M::NewLink(m) = r { Link::from_message(m) } else { None }).collect();
        let mut by_index: HashMap<u32, Vec<Address>> = HashMap::new();
        for a in self.addresses(None).await? {
            by_index.entry(a.index).or_default().push(a);
        }
        let names: HashMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
        for l in &mut links {
            l.addresses = by_index.remove(&l.index).unwrap_or_default();
            if let Some(p) = &mut l.parent {
                if p.netnsid.is_none() {
                    p.name = names.get(&p.index).cloned();
                }
            }
        }
        Ok(links)
    }

    /// Creates a link in this namespace
    /// (`ip link add [link PARENT] name NAME [mtu N] [address MAC] type KIND ...`).
    ///
    /// The parent is looked up here first (NotFound names it), and an MTU
    /// above the parent's is refused before the kernel sees it. Settings the
    /// kernel ignores at creation (alias, IPv6 address generation) follow in
    /// the same datagram as one `RTM_SETLINK`, before the link goes up; if
    /// that fails the link is deleted again.
    pub async fn add_link(&self, spec: &NewLink) -> Result<()> {
        let mut batch = Batch::new();
        batch.add_link(self, spec.clone());
        batch.run().await.into_result()
    }

    /// Creates a link whose parent is in this namespace inside the namespace
    /// of `target` (a container's): under a temporary name (some kernels make
    /// it here first, where a link of the final name may exist), renamed
    /// there in the request that also sets what creation ignores (alias, IPv6
    /// address generation), then up; if a step fails the link is deleted.
    /// Equivalent to `ip link add link P name TMP netns NS type ...;
    /// ip -n NS link set TMP name N; ip -n NS link set N up`.
    pub async fn add_link_into(&self, spec: &NewLink, target: &Netlink) -> Result<()> {
        let mut batch = Batch::new();
        batch.add_link_into(self, spec.clone(), target);
        batch.run().await.into_result()
    }

    /// `ip link add link PARENT name PARENT.ID type vlan id ID`: an 802.1Q
    /// VLAN with the conventional name, returned.
    pub async fn add_vlan(&self, parent: &IfName, id: VlanId) -> Result<IfName> {
        let name = parent.vlan_child(id)?;
        self.add_link(&NewLink::new(name.clone(), Vlan::new(parent.clone(), id))).await?;
        Ok(name)
    }

    /// `ip link set NAME [up|down] [mtu N] [address MAC] [name NEW] [alias A] [netns NS]`.
    pub async fn set_link(&self, name: &IfName, update: &LinkUpdate) -> Result<()> {
        if update.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::new();
        batch.set_link(self, name, update.clone());
        batch.run().await.into_result()
    }

    /// `ip link set NAME up` / `down`.
    pub async fn set_up(&self, name: &IfName, up: bool) -> Result<()> {
        self.set_link(name, &LinkUpdate::new().up(up)).await
    }

    /// `ip link del NAME`.
    pub async fn delete_link(&self, name: &IfName) -> Result<()> {
        let mut batch = Batch::new();
        batch.delete_link(self, name);
        batch.run().await.into_result()
    }

    /// Deletes every link of `group` in this namespace with one request
    /// (`ip link delete group N`): one RCU grace period for all of them
    /// instead of one per link.
    pub async fn delete_group(&self, group: u32) -> Result<()> {
        let op = Op::new(format!("delete link group {group} in netns {}", self.netns()));
        self.write(M::DelLink(link::del_group(group)), 0, &op).await
    }

    /// Changes a source-mode macvlan's allowed-MAC list
    /// (`ip link set NAME type macvlan macaddr add|del|set|flush [MAC...]`).
    pub async fn source_macs(&self, name: &IfName, change: SourceMacOp) -> Result<()> {
        let index = self.link_index(name).await?;
        let op = Op::new(format!("set source MACs of macvlan {name} ({change:?})"));
        self.write(M::NewLink(link::source_mac_change(index, change)), 0, &op).await
    }
}
