use netlink_packet_route::{
    route::{RouteMessage, RouteType},
    AddressFamily, RouteNetlinkMessage as M,
};

use super::batch::Batch;
use crate::{
    error::Result,
    netlink::{Netlink, Op},
    readback::Route,
    spec::RouteSpec,
};

impl Netlink {
    /// `ip route add DST [via GW] [dev DEV] [metric N] [table T]`.
    /// AlreadyExists if an equal route is present.
    pub async fn add_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.add_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route replace DST ...`: adds, or replaces the route to the same
    /// destination and metric.
    pub async fn replace_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.replace_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route del DST [via GW] [dev DEV] [metric N]`.
    pub async fn delete_route(&self, route: &RouteSpec) -> Result<()> {
        let mut batch = Batch::new();
        batch.delete_route(self, route.clone());
        batch.run().await.into_result()
    }

    /// `ip route show` and `ip -6 route show`: the main table's routes.
    pub async fn routes(&self) -> Result<Vec<Route>> {
        let mut out = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut req = RouteMessage::default();
            req.header.address_family = family;
            let op = Op::new(format!("dump {family:?} routes in netns {}", self.netns()));
            for r in self.dump(M::GetRoute(req), &op).await? {
                if let M::NewRoute(m) = r {
                    if m.header.kind == RouteType::Unicast {
                        out.extend(Route::from_message(&m).filter(|r| r.table == crate::spec::RT_TABLE_MAIN));
                    }
                }
            }
        }
        Ok(out)
    }
}
