//! Reading back the kernel state of every place a topology involves.

use std::collections::HashMap;

use super::places::Place;
use crate::{
    error::{Error, Result},
    netlink::{Netlink, Shared},
    netns::{self, sysctl, NetnsRef},
    readback::{Link, Route},
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

/// Reads every place; `sysctls` lists (place, key) pairs to read.
pub async fn observe(places: &[Place], shared: &Shared, sysctls: &[(usize, String)]) -> Result<Vec<Seen>> {
    let mut out = Vec::with_capacity(places.len());
    for (i, p) in places.iter().enumerate() {
        if !exists(p) {
            out.push(Seen::default());
            continue;
        }
        let nl = Netlink::open_shared(p.nsref.clone(), shared).await?;
        let mut seen =
            Seen { exists: true, links: nl.links().await?, routes: nl.routes().await?, sysctls: HashMap::new() };
        for (_, key) in sysctls.iter().filter(|(pl, _)| *pl == i) {
            match sysctl::read(&p.nsref, key).await {
                Ok(v) => {
                    seen.sysctls.insert(key.clone(), v);
                }
                // The interface it belongs to does not exist yet.
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.push(seen);
    }
    Ok(out)
}

/// Opens handles to places lazily and keeps them for a whole operation.
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
            return Err(Error::Conflict(format!("no place #{place}")));
        };
        if slot.is_none() {
            *slot = Some(Netlink::open_shared(self.refs[place].clone(), &self.shared).await?);
        }
        Ok(())
    }

    /// The open handle for `place` (call [`Handles::ensure`] first).
    pub(crate) fn get(&self, place: usize) -> Result<&Netlink> {
        self.open.get(place).and_then(Option::as_ref).ok_or(Error::Closed)
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
