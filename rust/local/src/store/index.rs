//! The online store's index (record identifier -> value), split into shards that grow one at a time.
//!
//! A single hash map of millions of identifiers doubles its table in one step, under the table's lock: at
//! 3.7 M identifiers that step stopped every request to the store for 4.8 s on one core, a stall no service
//! shows. Each shard (chosen by the top bits of the identifier's hash) doubles on its own, so one growth step
//! moves 1/`SHARDS` of the identifiers. The hash is computed once per lookup and shared by shard and table.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

#[derive(Debug)]
pub struct Index<V> {
    shards: Vec<HashTable<(Box<str>, V)>>,
    /// ahash rather than SipHash: identifiers come from the store's own users, and hashing showed up at 5%
    /// of the write path.
    hasher: ahash::RandomState,
}

impl<V> Default for Index<V> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| HashTable::new()).collect(),
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
        Place {
            hash,
            shard: (hash >> (64 - SHARD_BITS)) as usize,
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
        match self.shards[shard].find_entry(hash, |(k, _)| k.as_ref() == key) {
            Ok(slot) => Some(slot.remove().0.1),
            Err(_) => None,
        }
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
        self.shards.iter().flat_map(|shard| shard.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_over_the_shards_and_are_found_updated_and_removed() {
        let mut index = Index::default();
        for i in 0..10_000u32 {
            assert_eq!(index.insert(&format!("id-{i}"), i), None);
        }
        assert_eq!(index.len(), 10_000);
        assert!(index.shards.iter().all(|shard| shard.len() > 50), "every shard holds a share");
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
        assert_eq!(index.len(), 1_000);
        assert!(index.iter().all(|(key, _)| key.ends_with('1')));
        index.clear();
        assert_eq!(index.len(), 0);
    }
}
