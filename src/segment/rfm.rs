//! RFM quintile scores.
//!
//! Tie rule ("competition" or min-rank quintiles): sort the values from worst to best, give
//! every tie block the 1-based position `p` of its *first* member, and score it
//! `1 + floor(5 × (p − 1) / n)`. Equal values therefore always share a score, the worst value
//! always scores 1, a unique best value scores 5, and the result depends only on the multiset of
//! values (row order is irrelevant). A constant column scores 1 everywhere.
//!
//! Balance: a tie block is never split, so the score-`s` bucket holds every block *starting* in
//! positions `[(s−1)·n/5, s·n/5)`; a bucket can exceed n/5 by the size of the block straddling its
//! upper edge, and the following buckets are empty when one block spans them. On CDNOW's
//! frequency (12,054 of 23,570 customers, 51 %, bought on a single occasion) the measured sizes
//! of F = 1…5 are 12,054 / 0 / 4,040 / 3,641 / 3,835: F = 1 is exactly the single-occasion
//! block and F = 2 is empty. That is deliberate: splitting identical customers between two
//! scores by row order would make the score meaningless. An average-rank rule was rejected because
//! it puts a large worst block at its midpoint (51 % ties → score 2), leaving score 1 empty and
//! the worst customers labelled as second-worst.

use crate::segment::error::Result;
use crate::segment::input::finite_column;
use crate::segment::labels::Labels;
use crate::types::FeatureMatrix;

/// Number of score levels.
pub const LEVELS: u8 = 5;

/// Per-customer RFM scores, aligned with the feature matrix rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RfmScores {
    /// Recency score: 5 = smallest `recency_days`.
    pub r: Vec<u8>,
    /// Frequency score: 5 = largest `frequency`.
    pub f: Vec<u8>,
    /// Monetary score: 5 = largest `monetary_total`.
    pub m: Vec<u8>,
}

impl RfmScores {
    /// The three digits of row `i`, e.g. `"545"`.
    pub fn cell(&self, i: usize) -> String {
        cell_of([self.r[i], self.f[i], self.m[i]])
    }

    /// All cells, aligned with the rows.
    pub fn cells(&self) -> Labels {
        let digits = self.r.iter().zip(&self.f).zip(&self.m);
        Labels::from_keys(digits.map(|((&r, &f), &m)| [r, f, m]), cell_of)
    }
}

/// The cell of three scores, e.g. `"545"`.
fn cell_of(digits: [u8; 3]) -> String {
    format!("{}{}{}", digits[0], digits[1], digits[2])
}

/// Column names the RFM step reads.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RfmColumns {
    /// Days since last purchase (smaller is better). Default `recency_days`.
    pub recency: String,
    /// Purchase occasions (larger is better). Default `frequency`.
    pub frequency: String,
    /// Total spend (larger is better). Default `monetary_total`.
    pub monetary: String,
}

impl Default for RfmColumns {
    fn default() -> Self {
        Self {
            recency: "recency_days".into(),
            frequency: "frequency".into(),
            monetary: "monetary_total".into(),
        }
    }
}

/// Quintile scores (1–5) of `values` under the min-rank rule in the module docs.
/// `higher_is_better` flips the direction (false for recency).
pub fn quintile_scores(values: &[f64], higher_is_better: bool) -> Vec<u8> {
    if values.iter().all(|v| v.is_finite()) {
        return quintile_scores_by_thresholds(values, higher_is_better);
    }
    quintile_scores_sorted(values, higher_is_better)
}

/// [`quintile_scores`] of finite values without sorting them. A value's tie block starts at
/// position `start` = the number of values strictly below it, so its score
/// `1 + floor(5 · start / n)` reaches `s + 1` exactly when `start ≥ c = ⌈s · n / 5⌉`, that is when
/// the value is above the `c`-th smallest value. Four order statistics (found by selection, not
/// by a sort of all the values) give every score. Keys are compared in `total_cmp` order with
/// `-0.0` read as `0.0`, as the sorted rule's `==` groups them.
fn quintile_scores_by_thresholds(values: &[f64], higher_is_better: bool) -> Vec<u8> {
    let n = values.len();
    let key = |x: f64| {
        let k = if higher_is_better { x } else { -x };
        total_order_key(if k == 0.0 { 0.0 } else { k })
    };
    let keys: Vec<u64> = values.iter().map(|&x| key(x)).collect();
    if n == 0 {
        return Vec::new();
    }
    let levels = LEVELS as usize;
    let mut work = keys.clone();
    // Threshold s − 1: the c-th smallest key for c = ⌈s · n / 5⌉, s = 1 … 4; found from the
    // highest down, each within the part of `work` the previous selection left below it.
    let mut thresholds = [0u64; LEVELS as usize - 1];
    let mut below = n;
    for s in (1..levels).rev() {
        let c = (s * n).div_ceil(levels);
        let at = c - 1;
        let (_, t, _) = work[..below].select_nth_unstable(at);
        thresholds[s - 1] = *t;
        below = at + 1;
    }
    keys.iter()
        .map(|&k| 1 + thresholds.iter().filter(|&&t| k > t).count() as u8)
        .collect()
}

/// [`quintile_scores`] by sorting the values (any values: a non-finite one is its own block).
fn quintile_scores_sorted(values: &[f64], higher_is_better: bool) -> Vec<u8> {
    let n = values.len();
    let key = |i: usize| {
        if higher_is_better {
            values[i]
        } else {
            -values[i]
        }
    };
    // Worst first, in `total_cmp` order (inputs are checked finite upstream). Sorting
    // (order key, row) pairs reads memory in sequence; an index sort that looks each value up
    // was most of the RFM scoring at a million customers. Ties may come in any order: they
    // share a score.
    let mut keyed: Vec<(u64, usize)> = (0..n).map(|i| (total_order_key(key(i)), i)).collect();
    keyed.sort_unstable();
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let mut scores = vec![1u8; n];
    let mut start = 0;
    while start < n {
        let v = key(order[start]);
        let mut end = start + 1;
        while end < n && key(order[end]) == v {
            end += 1;
        }
        // p - 1 = start (0-based position of the block's first member).
        let score = 1 + ((LEVELS as usize * start) / n) as u8;
        for &i in &order[start..end] {
            scores[i] = score;
        }
        start = end;
    }
    scores
}

/// Scores every customer of `fm` on recency, frequency and monetary value.
/// A `u64` whose unsigned order is `f64::total_cmp`'s order of `x`.
pub(crate) fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

pub fn rfm_scores(fm: &FeatureMatrix, cols: &RfmColumns) -> Result<RfmScores> {
    let r = finite_column(fm, &cols.recency)?.to_vec();
    let f = finite_column(fm, &cols.frequency)?.to_vec();
    let m = finite_column(fm, &cols.monetary)?.to_vec();
    Ok(RfmScores {
        r: quintile_scores(&r, false),
        f: quintile_scores(&f, true),
        m: quintile_scores(&m, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The thresholds give the scores of the sorted rule, ties, zeros of both signs and
    /// duplicates included.
    #[test]
    fn thresholds_give_the_sorted_rule() {
        let cases: Vec<Vec<f64>> = vec![
            vec![],
            vec![3.0],
            vec![1.0, 1.0, 1.0],
            vec![0.0, -0.0, 0.0, 1.0, -1.0, -0.0],
            (0..97).map(|i| ((i * 31) % 13) as f64 - 6.0).collect(),
            (0..1000).map(|i| ((i * 7919) % 101) as f64 * 0.5).collect(),
            (0..10)
                .map(|i| if i < 6 { 1.0 } else { i as f64 })
                .collect(),
        ];
        for v in cases {
            for better in [true, false] {
                assert_eq!(
                    quintile_scores_by_thresholds(&v, better),
                    quintile_scores_sorted(&v, better),
                    "{v:?} {better}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn thresholds_match_sorting(v in proptest::collection::vec(-20i32..20, 0..300), better: bool) {
            let v: Vec<f64> = v.into_iter().map(|x| f64::from(x) * 0.25).collect();
            prop_assert_eq!(
                quintile_scores_by_thresholds(&v, better),
                quintile_scores_sorted(&v, better)
            );
        }
    }

    #[test]
    fn order_keys_sort_as_total_cmp() {
        let mut v = vec![
            3.5,
            -0.0,
            0.0,
            -2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            -1e-300,
            f64::MAX,
            -f64::MAX,
            42.0,
        ];
        let mut by_key = v.clone();
        by_key.sort_by_key(|&x| total_order_key(x));
        v.sort_by(f64::total_cmp);
        assert_eq!(
            by_key.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn distinct_values_split_evenly() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            quintile_scores(&v, true),
            vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        );
        // Recency direction: smallest days score 5.
        assert_eq!(
            quintile_scores(&v, false),
            vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
        );
    }

    #[test]
    fn heavy_ties_hand_computed() {
        // n = 10: six customers with frequency 1 (positions 0..6 → score 1),
        // 2 starts at position 6 → 1 + floor(30/10) = 4, 3 at 8 → 5, 7 at 9 → 5.
        let v = [1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 7.0, 1.0, 2.0, 1.0];
        assert_eq!(
            quintile_scores(&v, true),
            vec![1, 4, 1, 1, 5, 1, 5, 1, 4, 1]
        );
        // Balance as documented: score 1 holds the whole 60 % block, 2 and 3 are empty.
        let s = quintile_scores(&v, true);
        let count = |k| s.iter().filter(|&&x| x == k).count();
        assert_eq!(
            (count(1), count(2), count(3), count(4), count(5)),
            (6, 0, 0, 2, 2)
        );
    }

    #[test]
    fn constant_column_scores_one() {
        assert_eq!(quintile_scores(&[3.0; 4], true), vec![1; 4]);
        assert_eq!(quintile_scores(&[3.0; 4], false), vec![1; 4]);
    }

    #[test]
    fn cell_string() {
        let s = RfmScores {
            r: vec![5],
            f: vec![4],
            m: vec![5],
        };
        assert_eq!(s.cell(0), "545");
    }

    #[test]
    fn missing_and_non_finite_columns_are_named() {
        use crate::segment::error::SegmentError;
        let fm = FeatureMatrix {
            ids: vec!["a".into(), "b".into()],
            columns: vec![
                "recency_days".into(),
                "frequency".into(),
                "monetary_total".into(),
            ],
            values: ndarray::array![[1.0, 2.0, 3.0], [4.0, f64::NAN, 6.0]],
        };
        let err = rfm_scores(&fm, &RfmColumns::default()).unwrap_err();
        assert!(
            matches!(err, SegmentError::NonFinite { ref column, ref id, .. } if column == "frequency" && id == "b")
        );
        let cols = RfmColumns {
            monetary: "spend".into(),
            ..RfmColumns::default()
        };
        let mut ok = fm.clone();
        ok.values[[1, 1]] = 1.0;
        let err = rfm_scores(&ok, &cols).unwrap_err();
        assert!(err.to_string().contains("`spend`"));
        let s = rfm_scores(&ok, &RfmColumns::default()).unwrap();
        assert_eq!(
            (s.r.clone(), s.f.clone(), s.m.clone()),
            (vec![3, 1], vec![3, 1], vec![1, 3])
        );
    }

    proptest! {
        #[test]
        fn ties_share_scores_and_order_is_irrelevant(
            v in prop::collection::vec(0u8..6, 1..200),
            rot in 0usize..200,
        ) {
            let vals: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
            let s = quintile_scores(&vals, true);
            prop_assert_eq!(&s, &quintile_scores(&vals, true));
            for i in 0..vals.len() {
                for j in 0..vals.len() {
                    if vals[i] == vals[j] { prop_assert_eq!(s[i], s[j]); }
                    if vals[i] < vals[j] { prop_assert!(s[i] <= s[j]); }
                }
            }
            let k = rot % vals.len();
            let mut rotated = vals.clone();
            rotated.rotate_left(k);
            let mut expect = s.clone();
            expect.rotate_left(k);
            prop_assert_eq!(quintile_scores(&rotated, true), expect);
            // Documented balance: bucket s holds the blocks starting in [(s-1)n/5, s n/5).
            let n = vals.len();
            let mut sorted = vals.clone();
            sorted.sort_by(f64::total_cmp);
            for score in 1..=5u8 {
                let lo = (score as usize - 1) * n;
                let hi = score as usize * n;
                let expected = sorted.iter().filter(|&&x| {
                    let first = sorted.iter().position(|&y| y == x).unwrap();
                    5 * first >= lo && 5 * first < hi
                }).count();
                prop_assert_eq!(s.iter().filter(|&&x| x == score).count(), expected);
            }
        }
    }
}
