//! Reading back the kernel state of every place a topology involves.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};

use super::places::Place;
use vlanmac_core::{
    netlink::{Netlink, Shared},
    netns::{self, sysctl, NetnsRef},
    readback::{Link, Route},
    Error, Result,
};

/// What one place holds now.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Whether the namespace exists.
    pub exists: bool,
    /// Its links, with addresses.
    pub links: Vec<Link>,
    /// Its main-table routes.
    pub routes: Vec<Route>,
    /// Sysctls read (those the topology cares about).
    pub sysctls: HashMap<String, String>,
    /// Temporary-named links whose creator is gone (a run that died between
    /// creating and renaming them); not in `links`.
    pub left_behind: Vec<Link>,
}

impl Seen {
    /// A link by name.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The name of the link with `index`.
    pub fn name_of(&self, index: u32) -> Option<&str> {
        self.links.iter().find(|l| l.index == index).map(|l| l.name.as_str())
    }
}

/// Whether a place's namespace exists (named ones are checked by file;
/// others by opening them).
pub fn exists(p: &Place) -> bool {
    match (&p.named, &p.nsref) {
        (Some(n), _) => netns::exists(n),
        (None, NetnsRef::Current) => true,
        (None, r) => r.open().is_ok(),
    }
}

/// Reads every place that exists (links with addresses, routes, the
/// sysctls asked for), all places at once; the handles opened stay in
/// `handles` for the apply that follows.
pub(crate) async fn observe(places: &[Place], handles: &mut Handles, sysctls: &[(usize, String)]) -> Result<Vec<Seen>> {
    let present: Vec<usize> = (0..places.len()).filter(|i| exists(&places[*i])).collect();
    handles.ensure_all(&present).await?;
    let handles = &*handles;
    let reads = present.iter().map(|&i| async move {
        let nl = handles.get(i)?;
        let (links, routes) = futures::future::try_join(nl.links(), nl.routes()).await?;
        let (left_behind, links) = links.into_iter().partition(|l| vlanmac_core::temp_link_left_behind(&l.name));
        let mut seen = Seen { exists: true, links, routes, sysctls: HashMap::new(), left_behind };
        for (_, key) in sysctls.iter().filter(|(pl, _)| *pl == i) {
            match sysctl::read(&places[i].nsref, key).await {
                Ok(v) => {
                    seen.sysctls.insert(key.clone(), v);
                }
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok::<_, Error>((i, seen))
    });
    let mut out = vec![Seen::default(); places.len()];
    for (i, seen) in futures::future::try_join_all(reads).await? {
        out[i] = seen;
    }
    Ok(out)
}

/// Opens handles to places lazily and keeps them for a whole operation.
/// How many namespaces are entered (or made) at the same time.
pub(crate) const OPEN_AT_ONCE: usize = 32;

pub(crate) struct Handles {
    refs: Vec<NetnsRef>,
    open: Vec<Option<Netlink>>,
    pub(crate) shared: Shared,
}

impl Handles {
    pub(crate) fn new(places: &[Place], shared: Shared) -> Self {
        Handles {
            refs: places.iter().map(|p| p.nsref.clone()).collect(),
            open: places.iter().map(|_| None).collect(),
            shared,
        }
    }

    /// Opens the handle for `place` if it is not open yet.
    pub(crate) async fn ensure(&mut self, place: usize) -> Result<()> {
        let Some(slot) = self.open.get_mut(place) else {
            return Err(Error::Internal(format!("no place #{place}")));
        };
        if slot.is_none() {
            *slot = Some(Netlink::open_shared(self.refs[place].clone(), &self.shared).await?);
        }
        Ok(())
    }

    /// The open handle for `place` (call [`Handles::ensure`] first).
    /// Opens the handles of `places` not open yet, all at once (each open
    /// is a short-lived thread entering the namespace).
    pub(crate) async fn ensure_all(&mut self, places: &[usize]) -> Result<()> {
        let missing: Vec<usize> = places
            .iter()
            .copied()
            .filter(|p| self.open.get(*p).is_some_and(Option::is_none))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let shared = &self.shared;
        let refs = &self.refs;
        // Each open is a short-lived thread: at most OPEN_AT_ONCE at a time,
        // so a 1000-namespace topology does not start 1000 threads at once.
        let opened: Vec<Netlink> =
            futures::stream::iter(missing.clone().into_iter().map(|p| Netlink::open_shared(refs[p].clone(), shared)))
                .buffered(OPEN_AT_ONCE)
                .try_collect()
                .await?;
        for (p, nl) in missing.into_iter().zip(opened) {
            self.open[p] = Some(nl);
        }
        Ok(())
    }

    /// Keeps `nl` as the handle of `place`.
    pub(crate) fn insert(&mut self, place: usize, nl: Netlink) {
        if let Some(slot) = self.open.get_mut(place) {
            *slot = Some(nl);
        }
    }

    pub(crate) fn get(&self, place: usize) -> Result<&Netlink> {
        self.open
            .get(place)
            .and_then(Option::as_ref)
            .ok_or_else(|| Error::Internal(format!("the handle of place #{place} is not open")))
    }

    /// Opens and returns the handle for `place`.
    pub(crate) async fn nl(&mut self, place: usize) -> Result<&Netlink> {
        self.ensure(place).await?;
        self.get(place)
    }

    /// Forgets the handle for `place` (its namespace is going away).
    pub(crate) fn drop_handle(&mut self, place: usize) {
        if let Some(slot) = self.open.get_mut(place) {
            *slot = None;
        }
    }
}
