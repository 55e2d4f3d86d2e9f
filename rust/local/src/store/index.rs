//! The online store's index (record identifier -> value), split into shards that grow at different times.
//!
//! A single hash map of millions of identifiers doubles its table in one step, under the table's lock: at
//! 3.7 M identifiers that step stopped every request to the store for 4.8 s on one core, a stall no service
//! shows. Shards of equal shares would all reach their doubling point within a few thousand writes of each
//! other, which is the same stall in 64 pieces; so shard `i` takes a share of the identifiers proportional to
//! 2^(i/64), and the shards' doubling points spread evenly over each doubling of the whole index: one growth
//! step moves about 1/64 of the identifiers, and the next comes 1/64 of a doubling later. The hash is computed
//! once per lookup and shared by shard choice and table.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

const SHARDS: usize = 64;
/// The range of the 32 hash bits that choose a shard.
const SHARD_KEYS: f64 = 4_294_967_296.0;

#[derive(Debug)]
pub struct Index<V> {
    shards: Vec<HashTable<(Box<str>, V)>>,
    /// Shard `i` holds the hashes whose bits 24..56 are below `bounds[i]` (and not below `bounds[i - 1]`).
    /// Those bits, not the top or bottom ones the tables use to place an entry, so that a shard's entries still
    /// spread over its table.
    bounds: Vec<u64>,
    /// ahash rather than SipHash: identifiers come from the store's own users, and hashing showed up at 5%
    /// of the write path.
    hasher: ahash::RandomState,
}

impl<V> Default for Index<V> {
    fn default() -> Self {
        let weights: Vec<f64> = (0..SHARDS).map(|i| (i as f64 / SHARDS as f64).exp2()).collect();
        let total: f64 = weights.iter().sum();
        let mut bounds: Vec<u64> = weights
            .iter()
            .scan(0.0, |sum, w| {
                *sum += w;
                Some((*sum / total * SHARD_KEYS) as u64)
            })
            .collect();
        bounds[SHARDS - 1] = SHARD_KEYS as u64;
        Self {
            shards: (0..SHARDS).map(|_| HashTable::new()).collect(),
            bounds,
            hasher: ahash::RandomState::new(),
        }
    }
}

/// Where a key is: its hash, and the shard that holds it.
struct Place {
    hash: u64,
    shard: usize,
}

impl<V> Index<V> {
    fn place(&self, key: &str) -> Place {
        let hash = self.hasher.hash_one(key);
        let bits = (hash >> 24) & 0xFFFF_FFFF;
        Place {
            hash,
            shard: self.bounds.partition_point(|&bound| bound <= bits),
        }
    }

    /// The slot of `key`, for one hash and probe per write; a vacant slot takes the key as `key.into()`.
    pub fn entry(&mut self, key: &str) -> Entry<'_, (Box<str>, V)> {
        let Place { hash, shard } = self.place(key);
        let hasher = &self.hasher;
        self.shards[shard].entry(
            hash,
            |(k, _)| k.as_ref() == key,
            |(k, _)| hasher.hash_one(k.as_ref()),
        )
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        let Place { hash, shard } = self.place(key);
        self.shards[shard]
            .find(hash, |(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let Place { hash, shard } = self.place(key);
        self.shards[shard]
            .find_mut(hash, |(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key`'s value; returns the value it replaced.
    pub fn insert(&mut self, key: &str, value: V) -> Option<V> {
        match self.entry(key) {
            Entry::Occupied(mut slot) => Some(std::mem::replace(&mut slot.get_mut().1, value)),
            Entry::Vacant(slot) => {
                slot.insert((key.into(), value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        let Place { hash, shard } = self.place(key);
        let slot = self.shards[shard]
            .find_entry(hash, |(k, _)| k.as_ref() == key)
            .ok()?;
        Some(slot.remove().0.1)
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(HashTable::len).sum()
    }

    pub fn clear(&mut self) {
        self.shards.iter_mut().for_each(HashTable::clear);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str, &V) -> bool) {
        for shard in &mut self.shards {
            shard.retain(|(k, v)| keep(k, v));
        }
    }

    /// Every (identifier, value), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Box<str>, &V)> {
        self.shards
            .iter()
            .flat_map(|shard| shard.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shards_double_at_different_times() {
        let mut index = Index::default();
        let capacities =
            |index: &Index<u32>| -> Vec<usize> { index.shards.iter().map(HashTable::capacity).collect() };
        let mut before = capacities(&index);
        // Over one doubling of the whole index, where each shard doubles once, count the shards that grew in
        // each sixteenth of it: equal shares would have them all grow in the same one.
        let (from, to) = (200_000u32, 400_000u32);
        let mut grown_per_slice = vec![0usize; 16];
        for i in 0..to {
            index.insert(&format!("id-{i}"), i);
            let now = capacities(&index);
            if i >= from {
                let slice = ((i - from) as usize * 16) / (to - from) as usize;
                grown_per_slice[slice] += before.iter().zip(&now).filter(|(b, n)| b != n).count();
            }
            before = now;
        }
        let total: usize = grown_per_slice.iter().sum();
        assert!(total >= SHARDS / 2, "{grown_per_slice:?}");
        assert!(grown_per_slice.iter().all(|&n| n <= 12), "{grown_per_slice:?}");
    }

    #[test]
    fn keys_spread_over_the_shards_and_are_found_updated_and_removed() {
        let mut index = Index::default();
        for i in 0..100_000u32 {
            assert_eq!(index.insert(&format!("id-{i}"), i), None);
        }
        assert_eq!(index.len(), 100_000);
        assert!(
            index.shards.iter().all(|shard| shard.len() > 500),
            "every shard holds a share"
        );
        // Shares run from 1 to ~2; the hash is seeded per process, so compare eight shards at each end (expected
        // ratio 2^(56/64) = 1.83, a few percent of noise) rather than two single ones.
        let keys_in =
            |shards: &[HashTable<(Box<str>, u32)>]| shards.iter().map(HashTable::len).sum::<usize>() as f64;
        let (first, last) = (keys_in(&index.shards[..8]), keys_in(&index.shards[SHARDS - 8..]));
        assert!(
            (1.65..2.0).contains(&(last / first)),
            "shares from 1 to ~2: {first} .. {last}"
        );
        assert_eq!(index.insert("id-7", 70), Some(7));
        assert_eq!(index.get("id-7"), Some(&70));
        *index.get_mut("id-8").unwrap() += 1;
        assert_eq!(index.get("id-8"), Some(&9));
        assert_eq!(index.remove("id-9"), Some(9));
        assert_eq!(index.remove("id-9"), None);
        assert_eq!(index.get("id-9"), None);
        match index.entry("new") {
            Entry::Vacant(slot) => {
                slot.insert(("new".into(), 1));
            }
            Entry::Occupied(_) => panic!("absent"),
        }
        assert_eq!(index.get("new"), Some(&1));
        index.retain(|key, _| key.ends_with('1'));
        assert_eq!(index.len(), 10_000);
        assert!(index.iter().all(|(key, _)| key.ends_with('1')));
        index.clear();
        assert_eq!(index.len(), 0);
    }
}
