//! vlanmac-cni end to end: the binary run the way a container runtime runs
//! it, inside namespaces these tests make (never the machine's own), side
//! by side with Debian's reference plugins (`containernetworking-plugins`,
//! in /usr/lib/cni), checked with iproute2. Tests that need 802.1Q report
//! themselves skipped on a kernel without it and fail inside the kernel VM.

#[allow(dead_code)]
#[path = "../../../tests/host/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../../tests/host/dnsmasq.rs"]
mod dnsmasq;
#[allow(dead_code)]
mod process;
mod support;

mod dhcp;
mod errors;
mod faults;
mod hostile;
mod model;
mod podman;
mod reference;
mod vlan;
