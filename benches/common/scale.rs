//! The lab topologies verify is measured and tested on (benches/verify.rs,
//! tests/host/verify_scale.rs): `n` endpoints spread over `k` networks on
//! one trunk behind the lab router (with `vlan`, each network on its own
//! 802.1Q VLAN 10, 11, …), IPv4, named after `p`: `p-e0` … `p-e{n-1}`,
//! router `p-rtr`, host `p-host`.

/// The topology file.
pub fn scale_yaml(p: &str, n: usize, k: usize, vlan: bool) -> String {
    let mut y = format!("name: {p}\nnamespace: {p}-host\nlab: {{ trunk: eth0, router: {p}-rtr }}\nnetworks:\n");
    for net in 0..k {
        let v = if vlan { format!("    vlan: {}\n", 10 + net) } else { String::new() };
        y.push_str(&format!(
            "  n{net}:\n    parent: eth0\n{v}    subnets: [ {{ subnet: 10.{}.0.0/16, gateway: 10.{}.0.1 }} ]\n",
            90 + net,
            90 + net
        ));
    }
    y.push_str("endpoints:\n");
    for i in 0..n {
        y.push_str(&format!("  {p}-e{i}: {{ attach: [ {{ network: n{}, ipv4: {} }} ] }}\n", i % k, scale_addr(i, k)));
    }
    y
}

/// The address of endpoint `i` of [`scale_yaml`].
pub fn scale_addr(i: usize, k: usize) -> String {
    let j = i / k + 2;
    format!("10.{}.{}.{}", 90 + i % k, j / 250, j % 250 + 1)
}
