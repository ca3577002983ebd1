use std::net::IpAddr;

use ipnet::IpNet;

use super::SpecError;

/// Parses `ADDR/PREFIX` keeping the host bits, naming `field` on error and
/// saying which rule broke (bad address, missing or too long prefix).
pub(crate) fn parse_ip_with_prefix(field: &str, s: &str) -> Result<IpNet, SpecError> {
    let (addr, prefix) =
        s.split_once('/').ok_or_else(|| SpecError::new(field, s, "has no /PREFIX (e.g. 10.0.10.2/24)"))?;
    let addr: IpAddr =
        addr.parse().map_err(|_| SpecError::new(field, s, "does not start with an IPv4 or IPv6 address"))?;
    let prefix: u8 =
        prefix.parse().map_err(|_| SpecError::new(field, s, "has a prefix length that is not a number"))?;
    ip_net(field, addr, prefix)
}

/// Builds an [`IpNet`] after checking the prefix length against the family.
pub(crate) fn ip_net(field: &str, addr: IpAddr, prefix: u8) -> Result<IpNet, SpecError> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(SpecError::new(
            field,
            format!("{addr}/{prefix}"),
            format!("has prefix length {prefix}, longer than {max}"),
        ));
    }
    IpNet::new(addr, prefix).map_err(|_| SpecError::new(field, addr, "has an invalid prefix length"))
}
