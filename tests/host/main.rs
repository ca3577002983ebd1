//! Privileged tests (tiers `host` and `kernel-VM`). Each test works in fresh
//! namespaces that a Drop guard removes; every result is cross-checked with
//! iproute2's `ip -j`. Tests that need 802.1Q or ipvlan report themselves
//! skipped on a kernel without them, and fail inside the kernel VM
//! (`VLANMAC_REQUIRE_KERNEL=1`).

mod agent_common;
mod common;
mod crash_common;
mod dnsmasq;
mod docker_common;
mod topo_common;

mod addresses;
mod agent;
mod agent_leases;
mod agent_vlan;
mod bad_input;
mod concurrency;
mod confirm;
mod confirm_vlans;
mod crash;
mod crash_seed;
mod dhcp_client;
mod dhcp_topology;
mod docker;
mod docker_dhcp;
mod docker_topology;
mod errors;
mod host_tools;
mod ipvlan;
mod leaks;
mod links;
mod macvlan;
mod monitor;
mod namespaces;
mod neighbours;
mod outside_faults;
mod routes;
mod rtnetlink_interop;
mod security;
mod seed;
mod seed_docker;
mod served_vlans;
mod topology;
mod verify_scale;
mod vlan;
