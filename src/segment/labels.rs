//! Per-customer labels drawn from a few names (segment names, RFM cells).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One label per customer out of a few distinct names, kept as an index per customer into
/// `names`. Why: a million customers' segment names and RFM cells as strings were two million
/// allocations (and as many frees) for at most 125 distinct values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Labels {
    /// The distinct names.
    pub names: Vec<String>,
    /// Per customer, the position of its name in `names`.
    pub codes: Vec<u32>,
}

impl Labels {
    /// Labels from one key per customer: `name(key)` is called once per distinct key, and the
    /// names are in the order their keys first appear.
    pub fn from_keys<K: Copy + Eq + std::hash::Hash>(
        keys: impl IntoIterator<Item = K>,
        mut name: impl FnMut(K) -> String,
    ) -> Labels {
        let mut seen: HashMap<K, u32> = HashMap::new();
        let mut names = Vec::new();
        let codes = keys
            .into_iter()
            .map(|k| {
                *seen.entry(k).or_insert_with(|| {
                    names.push(name(k));
                    (names.len() - 1) as u32
                })
            })
            .collect();
        Labels { names, codes }
    }

    /// Number of customers labelled.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether no customer is labelled.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The label of customer `i`.
    pub fn get(&self, i: usize) -> &str {
        &self.names[self.codes[i] as usize]
    }

    /// Every customer's label, in row order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.codes.iter().map(|&c| self.names[c as usize].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_names_once_in_first_use_order() {
        let mut calls = 0;
        let l = Labels::from_keys([3, 1, 3, 2, 1], |k| {
            calls += 1;
            format!("k{k}")
        });
        assert_eq!(calls, 3);
        assert_eq!(l.names, ["k3", "k1", "k2"]);
        assert_eq!(l.iter().collect::<Vec<_>>(), ["k3", "k1", "k3", "k2", "k1"]);
        assert_eq!((l.len(), l.get(3)), (5, "k2"));
    }
}
