use std::{fmt, str::FromStr};

use super::{MacAddr, SpecError};

/// Macvlan mode (`ip link add ... type macvlan mode M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MacvlanMode {
    /// No traffic between macvlans of one parent.
    Private,
    /// Traffic between siblings goes out to the switch (hairpin needed).
    Vepa,
    /// Siblings talk directly (Docker's default, the seed's mode).
    #[default]
    Bridge,
    /// One macvlan takes over the parent (one per parent).
    Passthru,
    /// Accepts only frames from a list of source MACs.
    Source,
}

impl MacvlanMode {
    /// All five modes.
    pub const ALL: [MacvlanMode; 5] =
        [MacvlanMode::Private, MacvlanMode::Vepa, MacvlanMode::Bridge, MacvlanMode::Passthru, MacvlanMode::Source];

    /// The name `ip` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Passthru => "passthru",
            MacvlanMode::Source => "source",
        }
    }
}

impl fmt::Display for MacvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MacvlanMode {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MacvlanMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| SpecError::new("mode", s, "is not one of private, vepa, bridge, passthru, source"))
    }
}

/// A change to a source-mode macvlan's allowed-MAC list
/// (`ip link set DEV type macvlan macaddr add|del|set|flush ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceMacOp {
    /// `macaddr add MAC`
    Add(MacAddr),
    /// `macaddr del MAC`
    Del(MacAddr),
    /// `macaddr set MAC...`: replace the whole list.
    Set(Vec<MacAddr>),
    /// `macaddr flush`
    Flush,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_all_modes() {
        for m in MacvlanMode::ALL {
            assert_eq!(m.as_str().parse::<MacvlanMode>().unwrap(), m);
        }
        let e = "bridged".parse::<MacvlanMode>().unwrap_err();
        assert_eq!(e.field, "mode");
    }
}
