use netlink_packet_route::link::{InfoData, InfoMacVlan, MacVlanMacAddressMode, MacVlanMode};

use crate::spec::{IfName, MacAddr, MacvlanMode, SourceMacOp};

/// A macvlan on `parent` (`ip link add link PARENT name NAME type macvlan
/// mode MODE [macaddr add MAC ...]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macvlan {
    /// The lower device (a macvlan given here attaches to *its* lower device).
    pub parent: IfName,
    /// The mode.
    pub mode: MacvlanMode,
    /// In `source` mode, the MACs whose frames this macvlan accepts.
    pub source_macs: Vec<MacAddr>,
}

impl Macvlan {
    /// A macvlan on `parent` in `mode`.
    pub fn new(parent: IfName, mode: MacvlanMode) -> Self {
        Macvlan { parent, mode, source_macs: Vec::new() }
    }

    /// Sets the source-mode allowed MAC list (mode must be `source`).
    #[must_use]
    pub fn source_macs(mut self, macs: Vec<MacAddr>) -> Self {
        self.source_macs = macs;
        self
    }

    pub(crate) fn info_data(&self) -> InfoData {
        let mut v = vec![InfoMacVlan::Mode(nl_mode(self.mode))];
        if !self.source_macs.is_empty() {
            v.extend(source_list(SourceMacOp::Set(self.source_macs.clone())));
        }
        InfoData::MacVlan(v)
    }
}

pub(crate) fn nl_mode(m: MacvlanMode) -> MacVlanMode {
    match m {
        MacvlanMode::Private => MacVlanMode::Private,
        MacvlanMode::Vepa => MacVlanMode::Vepa,
        MacvlanMode::Bridge => MacVlanMode::Bridge,
        MacvlanMode::Passthru => MacVlanMode::Passthrough,
        MacvlanMode::Source => MacVlanMode::Source,
    }
}

/// The IFLA_MACVLAN_MACADDR_* attributes for a change of the source list.
pub(crate) fn source_list(op: SourceMacOp) -> Vec<InfoMacVlan> {
    match op {
        SourceMacOp::Add(m) => {
            vec![InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Add), InfoMacVlan::MacAddr(m.octets())]
        }
        SourceMacOp::Del(m) => {
            vec![InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Del), InfoMacVlan::MacAddr(m.octets())]
        }
        SourceMacOp::Set(macs) => vec![
            InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Set),
            InfoMacVlan::MacAddrData(macs.into_iter().map(|m| InfoMacVlan::MacAddr(m.octets())).collect()),
        ],
        SourceMacOp::Flush => vec![InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Flush)],
    }
}
