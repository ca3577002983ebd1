//! Probing in waves that fit the kernel's neighbour table.
//!
//! Every probe to a new neighbour adds an entry to the source's neighbour
//! table (ARP for IPv4, NDP for IPv6), and the target adds one for the
//! source when it answers. The kernel keeps the entries of *every*
//! namespace in one table per family, capped at `gc_thresh3` (1,024 by
//! default, `net.ipv4.neigh.default.gc_thresh3`), and frees an entry only
//! when it is older than five seconds: past the cap, new entries are
//! refused ("neighbor table overflow!" in the kernel log, `table_fulls` in
//! `/proc/net/stat/arp_cache`), the probe's packet is dropped, and so is
//! every other packet on the machine that needs a new neighbour. A full
//! mesh of 50 endpoints needs 2,450 entries.
//!
//! So `verify` sends its probes in waves of at most half the room left in
//! the table (counting two entries per target), and between two waves
//! deletes the entries its own probes added — those that were not there
//! when it began — in the namespaces the wave touched. The last wave's
//! entries stay, as a `ping`'s would.

use std::{collections::BTreeSet, net::IpAddr, ops::Range};

use vlanmac_core::{netlink::Netlink, readback::NeighbourState, Result};

/// Fewest and most neighbour entries one wave may add.
const MIN_ROOM: usize = 32;
const MAX_ROOM: usize = 4096;

/// A piece of one source's targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Index of the source.
    pub source: usize,
    /// Its targets in this wave.
    pub targets: Range<usize>,
}

/// How many neighbour entries one wave may add: half of what is left below
/// `gc_thresh3` in the fuller of the two tables (IPv4, IPv6), when the
/// kernel shows them (its initial namespace does); else a quarter of the
/// default cap.
pub(crate) fn room() -> usize {
    let family = |sysctl: &str, stat: &str| -> Option<usize> {
        let cap: usize = std::fs::read_to_string(format!("/proc/sys/net/{sysctl}/neigh/default/gc_thresh3"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let text = std::fs::read_to_string(format!("/proc/net/stat/{stat}")).ok()?;
        let entries = usize::from_str_radix(text.lines().nth(1)?.split_whitespace().next()?, 16).ok()?;
        Some(cap.saturating_sub(entries) / 2)
    };
    let v4 = family("ipv4", "arp_cache");
    let v6 = family("ipv6", "ndisc_cache");
    match (v4, v6) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 1024 / 4,
    }
    .clamp(MIN_ROOM, MAX_ROOM)
}

/// Splits the targets of every source (`sizes[i]` targets for source `i`)
/// into waves that each add at most `room` neighbour entries (two per
/// target), keeping sources whole where they fit and in order.
pub(crate) fn split(sizes: &[usize], room: usize) -> Vec<Vec<Chunk>> {
    let per_wave = (room / 2).max(1);
    let mut waves: Vec<Vec<Chunk>> = Vec::new();
    let mut wave = Vec::new();
    let mut used = 0;
    for (source, &n) in sizes.iter().enumerate() {
        let mut start = 0;
        while start < n {
            if used == per_wave {
                waves.push(std::mem::take(&mut wave));
                used = 0;
            }
            let take = (n - start).min(per_wave - used);
            wave.push(Chunk { source, targets: start..start + take });
            used += take;
            start += take;
        }
    }
    if !wave.is_empty() {
        waves.push(wave);
    }
    waves
}

/// The neighbour entries of one namespace: `(link index, address)`.
pub(crate) type Entries = BTreeSet<(u32, IpAddr)>;

/// The entries `nl`'s namespace holds now (permanent and static ones
/// aside: verify never adds those).
pub(crate) async fn entries(nl: &Netlink) -> Result<Entries> {
    Ok(nl
        .neighbours(None)
        .await?
        .into_iter()
        .filter(|n| !matches!(n.state, NeighbourState::Permanent | NeighbourState::Noarp))
        .map(|n| (n.index, n.ip))
        .collect())
}

/// Deletes the entries of `nl`'s namespace that are not in `before`.
pub(crate) async fn forget_added(nl: &Netlink, before: &Entries) -> Result<()> {
    let now = entries(nl).await?;
    let added: Vec<(u32, IpAddr)> = now.difference(before).copied().collect();
    if !added.is_empty() {
        nl.del_neighbours(&added).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_plans_are_one_wave() {
        assert_eq!(
            split(&[3, 4], 512),
            vec![vec![Chunk { source: 0, targets: 0..3 }, Chunk { source: 1, targets: 0..4 }]]
        );
        assert!(split(&[], 512).is_empty());
        assert_eq!(split(&[0, 2], 512), vec![vec![Chunk { source: 1, targets: 0..2 }]]);
    }

    #[test]
    fn waves_respect_room_and_cover_every_target() {
        // A mesh of 200 endpoints: 199 targets each, room for 250 targets.
        let sizes = vec![199; 200];
        let waves = split(&sizes, 500);
        for w in &waves {
            assert!(w.iter().map(|c| c.targets.len()).sum::<usize>() <= 250);
        }
        for (s, n) in sizes.iter().enumerate() {
            let mut covered: Vec<usize> =
                waves.iter().flatten().filter(|c| c.source == s).flat_map(|c| c.targets.clone()).collect();
            covered.sort_unstable();
            assert_eq!(covered, (0..*n).collect::<Vec<_>>());
        }
        assert_eq!(waves.len(), (200 * 199usize).div_ceil(250));
        // One source bigger than a wave is cut into pieces.
        assert_eq!(split(&[5], 4).len(), 3);
    }

    #[test]
    fn room_is_bounded() {
        let r = room();
        assert!((MIN_ROOM..=MAX_ROOM).contains(&r), "{r}");
    }
}
