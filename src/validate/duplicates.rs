//! Duplicate natural keys within one file, found in a first pass so that every row of a
//! duplicate group can be flagged, naming the others, even when the rows are far apart.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Rows per key hash, kept only for keys seen more than once.
///
/// Keys are stored as 64-bit hashes so that a million-row file costs a few megabytes,
/// not a copy of every key.
#[derive(Debug, Default)]
pub struct DuplicateIndex {
    state: std::collections::hash_map::RandomState,
    first: HashMap<u64, u32>,
    groups: HashMap<u64, Vec<u32>>,
}

impl DuplicateIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, key: &str) -> u64 {
        let mut h = self.state.build_hasher();
        h.write(key.as_bytes());
        h.finish()
    }

    /// Record that row `row` holds `key` (already trimmed; empty keys are ignored).
    pub fn add(&mut self, key: &str, row: u32) {
        if key.is_empty() {
            return;
        }
        let h = self.hash(key);
        match self.first.get(&h) {
            None => {
                self.first.insert(h, row);
            }
            Some(&first) => self
                .groups
                .entry(h)
                .or_insert_with(|| vec![first])
                .push(row),
        }
    }

    /// Drop the single-occurrence map once every key is in; only groups are needed later.
    pub fn finish(&mut self) {
        self.first = HashMap::new();
    }

    /// The other rows holding `key`, if it is duplicated.
    pub fn others(&self, key: &str, row: u32) -> Option<Vec<u32>> {
        let rows = self.groups.get(&self.hash(key))?;
        Some(rows.iter().copied().filter(|&r| r != row).collect())
    }

    /// How many keys occur more than once.
    pub fn duplicated_keys(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_every_row_of_a_group() {
        let mut d = DuplicateIndex::new();
        d.add("C1", 2);
        d.add("C2", 3);
        d.add("C1", 9);
        d.add("C1", 12);
        d.add("", 13);
        d.finish();
        assert_eq!(d.others("C1", 2), Some(vec![9, 12]));
        assert_eq!(d.others("C1", 12), Some(vec![2, 9]));
        assert_eq!(d.others("C2", 3), None);
        assert_eq!(d.duplicated_keys(), 1);
    }
}
