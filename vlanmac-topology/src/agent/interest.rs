//! What a topology watches: in each namespace it makes (the router's, its
//! endpoints'), every change; in the namespace of its parents, only the
//! links it makes or hangs off there (the host's other links are none of
//! its business); the named namespaces whose files appear and disappear;
//! the containers it names. Containers' own namespaces are not watched
//! (a socket in one would keep it alive after the container is gone): the
//! runtime's events and the resync cover them.

use std::collections::BTreeSet;

use vlanmac_core::{netns::NetnsRef, spec::NetnsName};

use crate::{
    desired::DesiredKind,
    model::{EndpointNs, Topology},
    places::{places_allowing_absent, Role, HOST},
    reading::unobserved,
};

/// What a topology watches in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsInterest {
    /// The namespace.
    pub(crate) nsref: NetnsRef,
    /// Every change counts (a namespace the topology makes), or only those
    /// of the links in `names`.
    pub(crate) whole: bool,
    /// The links it cares about there.
    pub(crate) names: BTreeSet<String>,
}

/// What topology `t` watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Interest {
    /// By namespace.
    pub(crate) namespaces: Vec<NsInterest>,
    /// Named namespaces (entries of `/run/netns`) it makes or uses.
    pub(crate) netns_names: BTreeSet<NetnsName>,
    /// The containers it names.
    pub(crate) containers: BTreeSet<String>,
    /// Its networks that are runtime networks too.
    pub(crate) runtime_networks: BTreeSet<String>,
}

impl Interest {
    /// What `t` watches.
    pub(crate) fn of(t: &Topology) -> Interest {
        let places = places_allowing_absent(t);
        let mut out = Interest::default();
        for e in &t.endpoints {
            if let EndpointNs::Container(c) = &e.netns {
                out.containers.insert(c.clone());
            }
        }
        out.runtime_networks = t.networks.iter().filter(|n| n.docker).map(|n| n.name.clone()).collect();
        out.netns_names = places.iter().filter_map(|p| p.named.clone()).collect();
        // The links the topology makes, by place, and the parents they hang
        // off in the host's namespace.
        let links = unobserved(t).map(|o| o.desired.links).unwrap_or_default();
        let mut host_names: BTreeSet<String> = BTreeSet::new();
        for l in &links {
            if l.place == HOST {
                host_names.insert(l.name.to_string());
            }
            let parent = match &l.kind {
                DesiredKind::Vlan { parent, .. } if l.place == HOST => Some(parent),
                DesiredKind::Macvlan { parent, parent_place, .. }
                | DesiredKind::Ipvlan { parent, parent_place, .. }
                    if *parent_place == HOST =>
                {
                    Some(parent)
                }
                _ => None,
            };
            host_names.extend(parent.map(|p| p.to_string()));
        }
        for (i, p) in places.iter().enumerate() {
            let ours = match &p.role {
                Role::Host => false,
                Role::Router => true,
                Role::Endpoint(_) => p.named.is_some(),
            };
            if i == HOST {
                out.namespaces.push(NsInterest { nsref: p.nsref.clone(), whole: false, names: host_names.clone() });
            } else if ours {
                out.namespaces.push(NsInterest { nsref: p.nsref.clone(), whole: true, names: BTreeSet::new() });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_watches_its_namespaces_whole_and_the_host_by_name() {
        let t = crate::from_yaml(include_str!("../../../examples/seed.yaml"), "seed").unwrap();
        let i = Interest::of(&t);
        let host = &i.namespaces[0];
        assert!(!host.whole);
        for n in ["eth0", "eth0.10", "eth0.20"] {
            assert!(host.names.contains(n), "{n} in {:?}", host.names);
        }
        // The router and container0..2 are the topology's own namespaces.
        assert_eq!(i.namespaces.iter().filter(|n| n.whole).count(), 4, "{:?}", i.namespaces);
        assert!(i.netns_names.iter().any(|n| n.as_str() == "seed-router"));
        assert!(i.containers.is_empty());
    }
}
