//! Encoded tiles kept in memory for the catalog's current data version, least recently used
//! dropped first, within a budget in bytes.
//!
//! Entries name the data version they were drawn from: when the catalog changes, the first
//! tile kept for the new version empties the cache, so a stale tile is never served and memory
//! is not held by tiles nobody can ask for again.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use flaneur_store::DataVersion;

use super::MapKind;
use super::geometry::TileId;

/// Default budget, in MiB: about 20,000 city tiles of a few kilobytes.
pub const DEFAULT_BUDGET_MIB: usize = 64;

/// Bookkeeping counted per entry on top of its bytes, so that many empty tiles still count.
const ENTRY_OVERHEAD_BYTES: usize = 128;

type Key = (MapKind, TileId);

/// A byte-bounded LRU of encoded tiles for one data version.
#[derive(Debug)]
pub struct TileCache {
    budget_bytes: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    version: Option<DataVersion>,
    used_bytes: usize,
    clock: u64,
    entries: HashMap<Key, (Bytes, u64)>,
    /// Entries by last use, oldest first.
    by_use: BTreeMap<u64, Key>,
}

impl TileCache {
    /// A cache holding at most `budget_bytes` of tiles; 0 disables it.
    pub fn new(budget_bytes: usize) -> TileCache {
        TileCache {
            budget_bytes,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether tiles are kept at all.
    pub fn is_enabled(&self) -> bool {
        self.budget_bytes > 0
    }

    /// Bytes held now, bookkeeping included.
    pub fn used_bytes(&self) -> usize {
        self.lock().used_bytes
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counts that are at worst slightly off.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The tile drawn for `version`, if kept; marks it as just used.
    pub fn get(&self, version: &DataVersion, kind: MapKind, tile: TileId) -> Option<Bytes> {
        if !self.is_enabled() {
            return None;
        }
        let mut state = self.lock();
        // A request that read the version just before a write may still ask: it misses, and
        // only the next `put` of the newer version empties the cache.
        if state.version.as_ref() != Some(version) {
            return None;
        }
        state.clock += 1;
        let now = state.clock;
        let (body, used) = state.entries.get_mut(&(kind, tile))?;
        let (body, before) = (body.clone(), std::mem::replace(used, now));
        state.by_use.remove(&before);
        state.by_use.insert(now, (kind, tile));
        Some(body)
    }

    /// Keeps a tile drawn for `version`, dropping the least recently used ones to make room.
    /// A tile larger than the whole budget is not kept, nor one of a version older than the
    /// cache's (a request that read the version before a write, finishing late).
    pub fn put(&self, version: &DataVersion, kind: MapKind, tile: TileId, body: Bytes) {
        let size = body.len() + ENTRY_OVERHEAD_BYTES;
        if size > self.budget_bytes {
            return;
        }
        let mut state = self.lock();
        if state.version.as_ref().is_some_and(|v| version.is_before(v)) {
            return;
        }
        state.switch_to(version);
        state.clock += 1;
        let now = state.clock;
        if let Some((old, used)) = state.entries.insert((kind, tile), (body, now)) {
            state.by_use.remove(&used);
            state.used_bytes -= old.len() + ENTRY_OVERHEAD_BYTES;
        }
        state.by_use.insert(now, (kind, tile));
        state.used_bytes += size;
        while state.used_bytes > self.budget_bytes {
            let Some((_, oldest)) = state.by_use.pop_first() else {
                break;
            };
            if let Some((old, _)) = state.entries.remove(&oldest) {
                state.used_bytes -= old.len() + ENTRY_OVERHEAD_BYTES;
            }
        }
    }
}

impl State {
    /// Empties the cache when the catalog moved to another version.
    fn switch_to(&mut self, version: &DataVersion) {
        if self.version.as_ref() != Some(version) {
            *self = State {
                version: Some(version.clone()),
                ..State::default()
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(x: u32) -> TileId {
        TileId::new(10, x, 0).expect("tile")
    }

    fn v(counter: i64) -> DataVersion {
        DataVersion {
            catalog: "c".to_owned(),
            counter,
        }
    }

    fn body(len: usize) -> Bytes {
        Bytes::from(vec![0; len])
    }

    #[test]
    fn least_recently_used_tiles_go_first_within_the_budget() {
        let cache = TileCache::new(3 * (100 + ENTRY_OVERHEAD_BYTES));
        for x in 0..3 {
            cache.put(&v(1), MapKind::General, tile(x), body(100));
        }
        assert!(cache.get(&v(1), MapKind::General, tile(0)).is_some());
        cache.put(&v(1), MapKind::General, tile(3), body(100));
        assert!(
            cache.get(&v(1), MapKind::General, tile(1)).is_none(),
            "oldest dropped"
        );
        assert!(
            cache.get(&v(1), MapKind::General, tile(0)).is_some(),
            "recently used kept"
        );
        assert_eq!(cache.used_bytes(), 3 * (100 + ENTRY_OVERHEAD_BYTES));
    }

    #[test]
    fn another_version_or_kind_misses() {
        let cache = TileCache::new(1 << 20);
        cache.put(&v(1), MapKind::General, tile(0), body(10));
        let user = MapKind::User(flaneur_model::AccountId::new());
        assert!(cache.get(&v(1), user, tile(0)).is_none());
        assert!(cache.get(&v(2), MapKind::General, tile(0)).is_none());
        cache.put(&v(2), MapKind::General, tile(1), body(10));
        assert!(
            cache.get(&v(1), MapKind::General, tile(0)).is_none(),
            "emptied on change"
        );
        assert_eq!(cache.used_bytes(), 10 + ENTRY_OVERHEAD_BYTES);
    }

    #[test]
    fn a_late_tile_of_an_older_version_leaves_the_newer_ones() {
        let cache = TileCache::new(1 << 20);
        cache.put(&v(2), MapKind::General, tile(0), body(10));
        cache.put(&v(1), MapKind::General, tile(1), body(10));
        assert!(cache.get(&v(2), MapKind::General, tile(0)).is_some());
        assert!(cache.get(&v(1), MapKind::General, tile(1)).is_none());
        let other = DataVersion {
            catalog: "d".to_owned(),
            counter: 1,
        };
        cache.put(&other, MapKind::General, tile(1), body(10));
        assert!(
            cache.get(&other, MapKind::General, tile(1)).is_some(),
            "another catalog takes over"
        );
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let cache = TileCache::new(0);
        cache.put(&v(1), MapKind::General, tile(0), body(10));
        assert!(cache.get(&v(1), MapKind::General, tile(0)).is_none());
        assert!(!cache.is_enabled());
    }
}
