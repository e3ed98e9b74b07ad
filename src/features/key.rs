//! Dense integer customer keys.
//!
//! Every family reads tens of millions of lines per customer. Grouping (and sorting) by the text
//! id hashes and compares strings on every row; an integer is far cheaper, and lets the lines be
//! sorted once by customer and day (`lines`). So the ids are encoded once: keys number the
//! distinct ids in order of first appearance (independent of the number of threads), and the
//! output rows are put in id order at the end.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use polars::prelude::*;

use crate::parallel;

type Fast = BuildHasherDefault<IdentityHasher>;

/// One partition of the hash space: its distinct ids with the row each first appears on, and
/// each of its rows' partition-local numbers.
type Partition<'a> = (Vec<(usize, &'a str)>, Vec<u32>);

/// Per row, the key of its id; and the distinct ids in key order (first appearance). The rows
/// are hashed in parallel slices; partition `p` of the hash space then numbers its distinct ids,
/// so both cores share the map work. A row with the same id as the partition's previous row
/// reuses its number without a lookup: files grouped by customer (most exports) cost one lookup
/// per customer, not per line.
pub(super) fn encode(ids: &StringChunked) -> PolarsResult<(Vec<u32>, Vec<String>)> {
    if ids.null_count() > 0 {
        return Err(polars_err!(ComputeError: "customer_id has missing values"));
    }
    let n = ids.len();
    let state = PlSeedableRandomStateQuality::seed_from_u64(0x006b_6579);
    let slices = parallel::per_slice(n, |start, len| -> PolarsResult<_> {
        let slice = ids.slice(start as i64, len);
        let mut hashes = Vec::with_capacity(len);
        slice.into_series().vec_hash(state.clone(), &mut hashes)?;
        Ok((hashes, values_in(ids, start, len)))
    });
    let mut hashes = Vec::with_capacity(n);
    let mut values = Vec::with_capacity(n);
    for s in slices {
        let (h, v) = s?;
        hashes.extend(h);
        values.extend(v);
    }

    let space = parallel::HashSpace::new();
    let partitions = space.partitions();
    let (hashes, values) = (&hashes, &values);
    let parts: Vec<Partition> = space.per_partition(|p| {
        let mut seen: HashMap<(u64, &str), u32, Fast> =
            HashMap::with_capacity_and_hasher(1024, Fast::default());
        let mut distinct = Vec::new();
        let mut local = Vec::with_capacity(n / partitions + 1);
        let mut previous: Option<(&str, u32)> = None;
        for (row, (&h, &v)) in hashes.iter().zip(values.iter()).enumerate() {
            if space.owner(h) != p {
                continue;
            }
            let code = match previous {
                Some((pv, code)) if pv == v => code,
                _ => {
                    let next = distinct.len() as u32;
                    *seen.entry((h, v)).or_insert_with(|| {
                        distinct.push((row, v));
                        next
                    })
                }
            };
            previous = Some((v, code));
            local.push(code);
        }
        (distinct, local)
    });

    // Keys in order of first appearance: independent of the partitioning, and rows grouped by
    // customer in the file stay grouped by key.
    let mut all: Vec<(usize, &str, usize, u32)> = parts
        .iter()
        .enumerate()
        .flat_map(|(p, (distinct, _))| {
            distinct
                .iter()
                .enumerate()
                .map(move |(i, (row, v))| (*row, *v, p, i as u32))
        })
        .collect();
    all.sort_unstable_by_key(|d| d.0);
    let mut key_of: Vec<Vec<u32>> = parts.iter().map(|(d, _)| vec![0; d.len()]).collect();
    for (k, (_, _, p, i)) in all.iter().enumerate() {
        key_of[*p][*i as usize] = k as u32;
    }
    let mut cursors = vec![0usize; partitions];
    let mut codes = Vec::with_capacity(n);
    for &h in hashes {
        let p = space.owner(h);
        codes.push(key_of[p][parts[p].1[cursors[p]] as usize]);
        cursors[p] += 1;
    }
    let ids_by_key = all.into_iter().map(|(_, v, _, _)| v.to_string()).collect();
    Ok((codes, ids_by_key))
}

/// The texts of rows `start .. start + len` of `ids` (no nulls), borrowed from its chunks.
fn values_in(ids: &StringChunked, start: usize, len: usize) -> Vec<&str> {
    let end = (start + len).min(ids.len());
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut offset = 0;
    for arr in ids.downcast_iter() {
        let (lo, hi) = (offset, offset + arr.len());
        offset = hi;
        if hi > start && lo < end {
            out.extend((start.max(lo) - lo..end.min(hi) - lo).map(|i| arr.value(i)));
        }
    }
    out
}

/// The map's keys carry their own well-mixed 64-bit hash: use it instead of hashing the text
/// again.
#[derive(Default, Clone, Copy)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _bytes: &[u8]) {
        // The text half of a `(hash, id)` key: already covered by the hash half.
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_number_the_ids_in_order_of_first_appearance() {
        let ids = StringChunked::new(
            "customer_id".into(),
            &["b", "a", "a", "c", "a", "b", "10", "10"],
        );
        let (codes, distinct) = encode(&ids).unwrap();
        assert_eq!(distinct, vec!["b", "a", "c", "10"]);
        assert_eq!(codes, vec![0, 1, 1, 2, 1, 0, 3, 3]);
    }

    #[test]
    fn rows_spread_over_several_chunks_are_read_in_order() {
        let mut ids = StringChunked::new("customer_id".into(), &["a", "b", "c"]);
        ids.append(&StringChunked::new("customer_id".into(), &["d", "e"]))
            .unwrap();
        assert_eq!(values_in(&ids, 2, 2), vec!["c", "d"]);
        assert_eq!(values_in(&ids, 3, 10), vec!["d", "e"]);
        let (codes, distinct) = encode(&ids).unwrap();
        assert_eq!(distinct, vec!["a", "b", "c", "d", "e"]);
        assert_eq!(codes, vec![0, 1, 2, 3, 4]);
    }
}
