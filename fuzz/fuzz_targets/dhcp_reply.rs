//! DHCP datagrams as a server (or anyone on the VLAN) could send them, but
//! arbitrary: decoded as an answer to a client. Anything that is not an
//! answer is `None`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vlanmac_core::spec::MacAddr;

fuzz_target!(|data: &[u8]| {
    // The transaction and MAC of the seeds (scripts/fuzz), so that the
    // fuzzer also reaches past the matching.
    let mac = MacAddr::new([0x02, 0x42, 0x0a, 0x00, 0x14, 0x39]).expect("a unicast MAC");
    let _ = vlanmac_topology::dhcp::message::reply(data, &mac, 0x0102_0304);
});
