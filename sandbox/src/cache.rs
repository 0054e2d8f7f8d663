//! What is expensive to derive is derived once: an activity's streams (thousands of
//! samples) and its detailed JSON (segment efforts, splits, laps, best efforts, the full
//! polyline). Both are pure functions of the world and the activity's fields, so a cached
//! answer is the answer: the same bytes whether it was cached or not.
//!
//! A detailed rendering is kept with the fields it was rendered from and used only while
//! they are equal, so an edit (`PUT /activities/{id}`) is visible at once: the next read
//! finds different fields and renders anew. Both caches are bounded; the oldest entry
//! leaves first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use std::any::Any;

/// How many activities' streams are kept (each up to about a megabyte).
const STREAMS: usize = 48;
/// How many detailed activities are kept (tens of kilobytes each).
const DETAILED: usize = 512;

/// A detailed activity, serialized.
#[derive(Debug)]
pub(crate) struct Detailed {
    /// `DetailedActivity`.
    pub(crate) activity: Bytes,
    /// Its `laps`, for `GET /activities/{id}/laps`.
    pub(crate) laps: Bytes,
}

/// A map of at most `capacity` entries that forgets the oldest first.
#[derive(Debug)]
struct Bounded<V> {
    capacity: usize,
    map: HashMap<u64, V>,
    order: VecDeque<u64>,
}

impl<V: Clone> Bounded<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get(&self, key: u64) -> Option<V> {
        self.map.get(&key).cloned()
    }

    fn insert(&mut self, key: u64, value: V) {
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// A cached value of any type (the cache is kept by the world, below the types it holds).
type Entry = Arc<dyn Any + Send + Sync>;

/// The caches of one sandbox: streams and detailed renderings by activity id.
pub(crate) struct Cache {
    streams: Mutex<Bounded<Entry>>,
    detailed: Mutex<Bounded<Entry>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            streams: Mutex::new(Bounded::new(STREAMS)),
            detailed: Mutex::new(Bounded::new(DETAILED)),
        }
    }
}

impl Cache {
    /// The streams of activity `id`, derived with `make` the first time.
    pub(crate) fn streams<S: Any + Send + Sync>(
        &self,
        id: u64,
        make: impl FnOnce() -> S,
    ) -> Arc<S> {
        if let Some(s) = lock(&self.streams)
            .get(id)
            .and_then(|e| e.downcast::<S>().ok())
        {
            return s;
        }
        // Derived outside the lock: other requests go on meanwhile.
        let s = Arc::new(make());
        lock(&self.streams).insert(id, s.clone() as Entry);
        s
    }

    /// The detailed rendering of the activity with these fields, made with `make` unless
    /// one of the same fields is kept.
    pub(crate) fn detailed<F, D>(
        &self,
        id: u64,
        fields: &F,
        make: impl FnOnce() -> D,
    ) -> Arc<(F, D)>
    where
        F: PartialEq + Clone + Send + Sync + 'static,
        D: Send + Sync + 'static,
    {
        if let Some(kept) = lock(&self.detailed)
            .get(id)
            .and_then(|e| e.downcast::<(F, D)>().ok())
            && kept.0 == *fields
        {
            return kept;
        }
        let made = Arc::new((fields.clone(), make()));
        lock(&self.detailed).insert(id, made.clone() as Entry);
        made
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn the_oldest_entry_leaves_first() {
        let mut b = Bounded::new(2);
        b.insert(1, "a");
        b.insert(2, "b");
        b.insert(1, "a2");
        assert_eq!(b.get(1), Some("a2"));
        b.insert(3, "c");
        assert_eq!(b.get(1), None);
        assert_eq!(b.get(2), Some("b"));
        assert_eq!(b.get(3), Some("c"));
        assert_eq!(b.map.len(), 2);
    }
}
