//! Frequent itemsets by FP-growth (Han, Pei & Yin 2000): the baskets compressed into a prefix
//! tree of items in descending frequency, mined by building, for each item, the tree of the
//! baskets that hold it (its conditional tree) and recursing. No candidate generation and one
//! pass over the baskets; memory is the tree, at most one node per (basket, item) pair.
//!
//! Our own rather than a crate: it is ~150 lines, checked against brute force here and against
//! mlxtend on Groceries to the exact itemset and count (`reference_tests`), and measured in
//! BENCHMARKS.md; no crate was measured against it yet (see BENCHMARKS.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::baskets::Baskets;

/// A frequent itemset: item codes ascending, and the number of baskets holding all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Itemset {
    pub items: Vec<u32>,
    pub count: u64,
}

/// Every itemset of at most `max_len` items held by at least `min_count` baskets (`min_count`
/// ≥ 1: an itemset no basket holds is not listed).
pub fn frequent_itemsets(baskets: &Baskets, min_count: u64, max_len: usize) -> Vec<Itemset> {
    let min_count = min_count.max(1);
    let counts = baskets.item_counts();
    // Ranks: frequent items by descending count (ties by code), so shared prefixes are long.
    let mut frequent: Vec<u32> = (0..counts.len() as u32)
        .filter(|&c| counts[c as usize] >= min_count)
        .collect();
    frequent.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    let mut rank = vec![u32::MAX; counts.len()];
    for (r, &c) in frequent.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    let mut tree = Tree::new(frequent.len());
    let mut path = Vec::new();
    for basket in baskets.iter() {
        path.clear();
        path.extend(
            basket
                .iter()
                .map(|&c| rank[c as usize])
                .filter(|&r| r != u32::MAX),
        );
        path.sort_unstable();
        tree.insert(&path, 1);
    }
    let mut found = Vec::new();
    if max_len > 0 {
        mine(&tree, &mut Vec::new(), min_count, max_len, &mut found);
    }
    for set in &mut found {
        for r in set.items.iter_mut() {
            *r = frequent[*r as usize];
        }
        set.items.sort_unstable();
    }
    found
}

/// An FP-tree over item ranks; node 0 is the root.
struct Tree {
    rank: Vec<u32>,
    count: Vec<u64>,
    parent: Vec<u32>,
    child: HashMap<(u32, u32), u32, BuildHasherDefault<PairHasher>>,
    /// Per rank: its nodes.
    header: Vec<Vec<u32>>,
}

impl Tree {
    fn new(ranks: usize) -> Tree {
        Tree {
            rank: vec![u32::MAX],
            count: vec![0],
            parent: vec![0],
            child: HashMap::default(),
            header: vec![Vec::new(); ranks],
        }
    }

    /// Adds a path of ascending ranks with a weight.
    fn insert(&mut self, path: &[u32], weight: u64) {
        let mut node = 0u32;
        for &r in path {
            let next = self.rank.len() as u32;
            let child = *self.child.entry((node, r)).or_insert(next);
            if child == next {
                self.rank.push(r);
                self.count.push(0);
                self.parent.push(node);
                self.header[r as usize].push(child);
            }
            self.count[child as usize] += weight;
            node = child;
        }
    }
}

/// Mines `tree` (the conditional tree of `suffix`), least frequent rank first.
fn mine(
    tree: &Tree,
    suffix: &mut Vec<u32>,
    min_count: u64,
    max_len: usize,
    out: &mut Vec<Itemset>,
) {
    for r in (0..tree.header.len()).rev() {
        let nodes = &tree.header[r];
        let support: u64 = nodes.iter().map(|&n| tree.count[n as usize]).sum();
        if support < min_count {
            continue;
        }
        suffix.push(r as u32);
        out.push(Itemset {
            items: suffix.clone(),
            count: support,
        });
        if suffix.len() < max_len {
            if let Some(conditional) = conditional_tree(tree, nodes, r, min_count) {
                mine(&conditional, suffix, min_count, max_len, out);
            }
        }
        suffix.pop();
    }
}

/// The tree of the paths above `nodes` (all of rank `r`), each weighted by its node's count,
/// keeping the ranks frequent among them; `None` when no rank is.
fn conditional_tree(tree: &Tree, nodes: &[u32], r: usize, min_count: u64) -> Option<Tree> {
    let mut weight = vec![0u64; r];
    let mut paths: Vec<(Vec<u32>, u64)> = Vec::with_capacity(nodes.len());
    for &n in nodes {
        let count = tree.count[n as usize];
        let mut path = Vec::new();
        let mut p = tree.parent[n as usize];
        while p != 0 {
            let pr = tree.rank[p as usize];
            weight[pr as usize] += count;
            path.push(pr);
            p = tree.parent[p as usize];
        }
        if !path.is_empty() {
            paths.push((path, count));
        }
    }
    if weight.iter().all(|&w| w < min_count) {
        return None;
    }
    let mut conditional = Tree::new(r);
    for (mut path, count) in paths {
        path.retain(|&pr| weight[pr as usize] >= min_count);
        path.reverse();
        conditional.insert(&path, count);
    }
    Some(conditional)
}

/// A multiplicative hash of a pair of `u32` (SipHash's DoS resistance buys nothing here: the
/// keys are our own node and rank numbers).
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    /// Every itemset and its count by brute force over all subsets of the items.
    fn brute_force(baskets: &Baskets, min_count: u64, max_len: usize) -> BTreeMap<Vec<u32>, u64> {
        let n = baskets.items.len();
        let mut out = BTreeMap::new();
        for mask in 1u32..(1 << n) {
            let set: Vec<u32> = (0..n as u32).filter(|i| mask & (1 << i) != 0).collect();
            if set.len() > max_len {
                continue;
            }
            let count = baskets
                .iter()
                .filter(|b| set.iter().all(|i| b.contains(i)))
                .count() as u64;
            if count >= min_count.max(1) {
                out.insert(set, count);
            }
        }
        out
    }

    fn check(text: &str, min_count: u64, max_len: usize) {
        let baskets = Baskets::from_text(text, &HashSet::new());
        let found: BTreeMap<Vec<u32>, u64> = frequent_itemsets(&baskets, min_count, max_len)
            .into_iter()
            .map(|s| (s.items, s.count))
            .collect();
        assert_eq!(
            found,
            brute_force(&baskets, min_count, max_len),
            "{text} {min_count} {max_len}"
        );
    }

    #[test]
    fn agrees_with_brute_force() {
        let text = "a,b,c\na,b\nb,c,d\na,c,d,e\nb,e\na,b,c,d\n\nc\na,b,c,d,e\nd,e";
        for min_count in 0..5 {
            for max_len in [0, 1, 2, 3, 5] {
                check(text, min_count, max_len);
            }
        }
    }

    #[test]
    fn agrees_with_brute_force_on_random_baskets() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for _ in 0..20 {
            let lines: Vec<String> = (0..40)
                .map(|_| {
                    let k = rng.gen_range(0..6);
                    (0..k)
                        .map(|_| names[rng.gen_range(0..names.len())])
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect();
            let text = lines.join("\n");
            check(&text, rng.gen_range(1..6), 9);
        }
    }
}
