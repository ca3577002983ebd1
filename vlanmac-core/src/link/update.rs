use crate::spec::{IfName, MacAddr, Mtu, SpecError};

/// Changes to an existing link, sent as one `RTM_SETLINK`
/// (`ip link set DEV [up|down] [mtu N] [address MAC] [name NEW] [alias A] [netns NS]`).
///
/// ```
/// use vlanmac_core::link::LinkUpdate;
/// let u = LinkUpdate::new().up(true).mtu(vlanmac_core::spec::Mtu::new(1400)?);
/// # Ok::<(), vlanmac_core::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkUpdate {
    /// `up` / `down`.
    pub up: Option<bool>,
    /// `mtu N`.
    pub mtu: Option<Mtu>,
    /// `address MAC`.
    pub mac: Option<MacAddr>,
    /// `name NEW`.
    pub name: Option<IfName>,
    /// `alias TEXT` (empty text clears it).
    pub alias: Option<String>,
    /// `group N`.
    pub group: Option<u32>,
    /// `netns NS`, as an open namespace fd (see [`super::NetnsTarget`]).
    pub(crate) netns_fd: Option<i32>,
    /// `addrgenmode eui64` (`true`) or `addrgenmode none` (`false`).
    pub ipv6_addrgen: Option<bool>,
}

impl LinkUpdate {
    /// No change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the administrative state.
    #[must_use]
    pub fn up(mut self, up: bool) -> Self {
        self.up = Some(up);
        self
    }

    /// Sets the MTU.
    #[must_use]
    pub fn mtu(mut self, mtu: Mtu) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Sets the MAC address.
    #[must_use]
    pub fn mac(mut self, mac: MacAddr) -> Self {
        self.mac = Some(mac);
        self
    }

    /// Renames the link (it should be down: the kernel refuses to rename a
    /// running link with EBUSY).
    #[must_use]
    pub fn name(mut self, name: IfName) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets the alias; fails if longer than 255 bytes.
    pub fn alias(mut self, alias: impl Into<String>) -> Result<Self, SpecError> {
        self.alias = Some(super::validate_alias(alias.into())?);
        Ok(self)
    }

    /// Sets the link group.
    #[must_use]
    pub fn group(mut self, group: u32) -> Self {
        self.group = Some(group);
        self
    }

    /// Moves the link into the namespace of `target`.
    #[must_use]
    pub fn netns(mut self, target: &impl super::NetnsTarget) -> Self {
        self.netns_fd = Some(target.netns_raw_fd());
        self
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `ip link set` arguments as text.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = self.up {
            parts.push(if u { "up".to_string() } else { "down".to_string() });
        }
        if let Some(m) = self.mtu {
            parts.push(format!("mtu {m}"));
        }
        if let Some(m) = self.mac {
            parts.push(format!("address {m}"));
        }
        if let Some(n) = &self.name {
            parts.push(format!("name {n}"));
        }
        if let Some(a) = &self.alias {
            parts.push(format!("alias {a:?}"));
        }
        if let Some(g) = self.group {
            parts.push(format!("group {g}"));
        }
        if self.netns_fd.is_some() {
            parts.push("netns (fd)".to_string());
        }
        if let Some(on) = self.ipv6_addrgen {
            parts.push(if on { "addrgenmode eui64".into() } else { "addrgenmode none".into() });
        }
        parts.join(" ")
    }
}
