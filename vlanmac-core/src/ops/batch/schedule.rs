//! The wave scheduler of a [`super::Batch`]: which requests can go in the
//! next wave, and which wait for a link made in this one.

use std::collections::HashSet;

use super::{
    request::{Key, Micro},
    run::Runner,
};

impl Runner {
    /// The requests that can go now, and the rest (order kept).
    pub(super) fn split_wave<'a>(&self, micros: Vec<Micro<'a>>) -> (Vec<Micro<'a>>, Vec<Micro<'a>>) {
        let mut now = Vec::new();
        let mut later = Vec::new();
        // Links created in this wave.
        let mut created: HashSet<Key> = HashSet::new();
        let mut held: HashSet<Key> = HashSet::new();
        let mut hold_all = false;
        for m in micros {
            let ns = m.nl.netns_key();
            let target = m.target();
            // Whatever acts on a link created in this wave waits for the
            // next one: it is sent only if the creation succeeded.
            let waits = hold_all
                || target.as_ref().is_some_and(|t| held.contains(t) || created.contains(t))
                || m.needs_index().into_iter().any(|n| {
                    let key = (ns, n);
                    held.contains(&key) || created.contains(&key) || !self.known.contains_key(&key)
                });
            if waits {
                match &target {
                    Some(t) => {
                        held.insert(t.clone());
                    }
                    // A route without a device may depend on any address.
                    None => hold_all = true,
                }
                held.extend(m.creates());
                later.push(m);
                continue;
            }
            created.extend(m.creates());
            now.push(m);
        }
        (now, later)
    }
}
