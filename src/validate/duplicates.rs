//! Duplicate natural keys within one file, found in a first pass so that every row of a
//! duplicate group can be flagged, naming the others, even when the rows are far apart.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// How many other rows a duplicate message names; the rest are counted ("and 59,990
/// more"), so that 60,000 rows sharing one key cost 60,000 short messages, not 60,000²
/// row numbers.
pub const LISTED: usize = 10;

/// The other rows of one duplicate group, as seen from one of its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRows {
    /// The first [`LISTED`] other rows, in file order.
    listed: Vec<u32>,
    /// How many other rows hold the key, listed or not.
    total: usize,
}

impl OtherRows {
    /// The listed rows (at most [`LISTED`]), in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, u32> {
        self.listed.iter()
    }

    /// How many other rows hold the key in all, including those not listed.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether no other row holds the key (never, for a key found duplicated).
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Which values of a row are checked: two rows with the same natural key, or naming the
/// same id, would both change one record. The same text in the two is no duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// The natural key (`ext_cust_no`, or `--key`).
    Key,
    /// The remote id (`id`), as a whole number.
    Id,
}

/// Rows per key hash, kept only for keys seen more than once.
///
/// Keys are stored as 64-bit hashes so that a million-row file costs a few megabytes,
/// not a copy of every key. While the file is read they are only appended, (hash, row)
/// per row, and sorted once at the end: a hash map of every key, grown as the rows
/// came, spent most of the first pass rehashing (and faulting in) its table.
#[derive(Debug, Default)]
pub struct DuplicateIndex {
    state: std::collections::hash_map::RandomState,
    seen: Vec<(u64, u32)>,
    groups: HashMap<u64, Vec<u32>>,
}

impl DuplicateIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty index with room for `rows` keys: reserved, not touched, so it costs
    /// memory only as keys come, and the list is never copied to grow.
    pub fn with_capacity(rows: usize) -> Self {
        DuplicateIndex {
            seen: Vec::with_capacity(rows),
            ..Self::default()
        }
    }

    fn hash(&self, space: Space, key: &str) -> u64 {
        let mut h = self.state.build_hasher();
        if space == Space::Id {
            h.write_u8(1);
        }
        h.write(key.as_bytes());
        h.finish()
    }

    /// Record that row `row` holds `key` (already trimmed; empty keys are ignored).
    pub fn add(&mut self, key: &str, row: u32) {
        self.add_in(Space::Key, key, row);
    }

    /// Record that row `row` holds `key` among the values of `space`.
    pub fn add_in(&mut self, space: Space, key: &str, row: u32) {
        if key.is_empty() {
            return;
        }
        let h = self.hash(space, key);
        self.seen.push((h, row));
    }

    /// Group the keys once every one is in; only the groups are kept.
    pub fn finish(&mut self) {
        let mut seen = std::mem::take(&mut self.seen);
        // A million keys take a tenth of a second to sort on one core, at the end of the
        // pass when nothing else runs: every core sorts.
        rayon::slice::ParallelSliceMut::par_sort_unstable(&mut seen[..]);
        for run in seen.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            self.groups
                .insert(run[0].0, run.iter().map(|&(_, row)| row).collect());
        }
    }

    /// The other rows holding `key`, if it is duplicated: the first [`LISTED`] of them
    /// and how many in all, in constant time per row (rows of a group are in file order,
    /// so finding `row` among them is a binary search, not a scan of the group).
    pub fn others(&self, key: &str, row: u32) -> Option<OtherRows> {
        self.others_in(Space::Key, key, row)
    }

    /// [`Self::others`] among the values of `space`.
    pub fn others_in(&self, space: Space, key: &str, row: u32) -> Option<OtherRows> {
        let rows = self.groups.get(&self.hash(space, key))?;
        let own = usize::from(rows.binary_search(&row).is_ok());
        let listed = rows
            .iter()
            .copied()
            .filter(|&r| r != row)
            .take(LISTED)
            .collect();
        Some(OtherRows {
            listed,
            total: rows.len() - own,
        })
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
        let listed = |o: Option<OtherRows>| o.map(|o| o.iter().copied().collect::<Vec<_>>());
        assert_eq!(listed(d.others("C1", 2)), Some(vec![9, 12]));
        assert_eq!(listed(d.others("C1", 12)), Some(vec![2, 9]));
        assert_eq!(d.others("C1", 12).map(|o| o.len()), Some(2));
        assert_eq!(d.others("C2", 3), None);
        assert_eq!(d.duplicated_keys(), 1);
        assert_eq!(d.others_in(Space::Id, "C1", 2), None, "an id is not a key");
    }

    #[test]
    fn a_huge_group_lists_a_few_rows_and_counts_the_rest() {
        let mut d = DuplicateIndex::new();
        for row in 2..100_002 {
            d.add("C1", row);
        }
        d.finish();
        let o = d.others("C1", 50_000).unwrap();
        assert_eq!(o.len(), 99_999);
        assert_eq!(o.iter().count(), LISTED);
        assert_eq!(o.iter().next(), Some(&2));
        // A row that holds another spelling of the key is not one of the group.
        assert_eq!(d.others("C1", 1).unwrap().len(), 100_000);
    }
}
