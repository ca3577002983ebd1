//! vlanmac-netavark end to end: the plugin run the way netavark runs it
//! (and through netavark 2.1.0's own binary, and under netavark's own bats
//! tests), inside namespaces these tests make, checked with iproute2. Tests
//! that need 802.1Q, ipvlan or the dummy driver report themselves skipped
//! on a kernel without them and fail inside the kernel VM.

#[allow(dead_code)]
#[path = "../../../tests/host/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../../vlanmac-cni/tests/cni/process.rs"]
mod process;
mod support;

mod bats;
mod create;
mod faults;
mod setup;
mod vlan;
