use std::fmt;

/// A value that failed validation, before anything reached the kernel.
///
/// `field` names what was being validated (`ifname`, `vlan`, `subnets[0].gateway`,
/// …); callers that know more context prepend it with [`SpecError::within`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Dotted path of the offending field, e.g. `networks.macvlan10.vlan`.
    pub field: String,
    /// The offending value, as given.
    pub value: String,
    /// The rule it broke, e.g. `is outside 1-4094`.
    pub rule: String,
}

impl SpecError {
    /// Builds an error for `field` whose `value` broke `rule`.
    pub fn new(field: impl Into<String>, value: impl fmt::Display, rule: impl Into<String>) -> Self {
        SpecError { field: field.into(), value: value.to_string(), rule: rule.into() }
    }

    /// Prefixes the field path with `outer` (`vlan` within `networks.a` →
    /// `networks.a.vlan`).
    #[must_use]
    pub fn within(mut self, outer: &str) -> Self {
        if outer.is_empty() {
            return self;
        }
        self.field = if self.field.is_empty() { outer.to_string() } else { format!("{outer}.{}", self.field) };
        self
    }

    /// Replaces the field name (used when a generic parser validated a value
    /// that the caller knows by a more specific name).
    #[must_use]
    pub fn named(mut self, field: &str) -> Self {
        self.field = field.to_string();
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.field, self.rule)
        } else if self.value.contains(char::is_whitespace) {
            write!(f, "{}: {:?} {}", self.field, self.value, self.rule)
        } else {
            write!(f, "{}: {} {}", self.field, self.value, self.rule)
        }
    }
}

impl std::error::Error for SpecError {}
