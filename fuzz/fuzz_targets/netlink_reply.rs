//! Netlink replies as the kernel would send them, but arbitrary: split,
//! filed as replies (errors, extended acks, DONE) and decoded by the
//! read-back. A malformed reply gives an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vlanmac_core::netlink::fuzz_decode_replies(data);
});
