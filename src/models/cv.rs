//! Cross-validation folds and what a cross-validation and a sweep report (`metrics.json`'s `cv`
//! and `sweep` objects).
//!
//! Two ways to cut the rows into `k` folds, each returning, per fold, the positions of its
//! training and validation rows:
//! - [`time_folds`], for rows with dates of their own (contacts): the distinct dates, in order,
//!   are cut into `k + 1` consecutive blocks of about equal rows (whole dates, never split);
//!   fold `i` (1-based) trains on blocks `0..i` and validates on block `i`, so every validation
//!   row is later than every row its model learned from (an expanding window, as scikit-learn's
//!   `TimeSeriesSplit`). The first block is never validated.
//! - [`stratified_folds`], for rows without dates (flat tables, churn): each class is shuffled
//!   with the seed and dealt to the folds in turn (the negatives first, then the positives,
//!   continuing the count), so every fold holds about `n / k` rows and the same share of
//!   positives; fold `i` validates on its rows and trains on all the others.
//!
//! The spread of a metric over the folds is its mean, sample standard deviation (n − 1), minimum
//! and maximum ([`Spread`]).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use crate::models::error::{ModelsError, Result};

/// Folds when a sweep is asked for without `k`.
pub const DEFAULT_SWEEP_FOLDS: usize = 5;

/// One fold: positions (in the rows given to the splitter) of its training and validation rows,
/// both ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
}

fn check_k(k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n {
        return Err(ModelsError::InvalidParam {
            name: "cv",
            expected: "at least 2 folds and no more folds than rows",
            found: format!("{k} folds over {n} rows"),
        });
    }
    Ok(())
}

/// Time-ordered folds over rows dated `dates` (see the module doc).
pub fn time_folds<T: Ord + Copy>(dates: &[T], k: usize) -> Result<Vec<Fold>> {
    let n = dates.len();
    check_k(k, n)?;
    let mut sorted = dates.to_vec();
    sorted.sort_unstable();
    // Block of each distinct date: by the rows dated earlier, so a date never straddles blocks.
    let mut block_of: BTreeMap<T, usize> = BTreeMap::new();
    for (before, d) in sorted.iter().enumerate() {
        block_of.entry(*d).or_insert(before * (k + 1) / n);
    }
    let blocks: Vec<usize> = dates.iter().map(|d| block_of[d]).collect();
    let used: std::collections::BTreeSet<usize> = blocks.iter().copied().collect();
    if used.len() != k + 1 {
        return Err(ModelsError::InvalidParam {
            name: "cv",
            expected: "fewer time-ordered folds: each needs a block of whole dates of its own, after a first block it never validates",
            found: format!(
                "{k} folds, but the {} distinct date(s) of the training rows make only {} block(s) of about equal rows",
                block_of.len(),
                used.len()
            ),
        });
    }
    Ok((1..=k)
        .map(|i| Fold {
            train: (0..n).filter(|&r| blocks[r] < i).collect(),
            valid: (0..n).filter(|&r| blocks[r] == i).collect(),
        })
        .collect())
}

/// Stratified random folds over rows labelled `labels` (0/1), drawn with `seed` (see the module
/// doc). Each class needs at least `k` rows, so every fold validates on both.
pub fn stratified_folds(labels: &[f64], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let n = labels.len();
    check_k(k, n)?;
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut fold_of = vec![0usize; n];
    let mut dealt = 0;
    for class in [0.0, 1.0] {
        let mut rows: Vec<usize> = (0..n).filter(|&r| labels[r] == class).collect();
        if rows.len() < k {
            return Err(ModelsError::InvalidParam {
                name: "cv",
                expected: "no more folds than the rows of each class (each fold validates on both)",
                found: format!("{k} folds, {} row(s) labelled {class}", rows.len()),
            });
        }
        rows.shuffle(&mut rng);
        for r in rows {
            fold_of[r] = dealt % k;
            dealt += 1;
        }
    }
    Ok((0..k)
        .map(|i| Fold {
            train: (0..n).filter(|&r| fold_of[r] != i).collect(),
            valid: (0..n).filter(|&r| fold_of[r] == i).collect(),
        })
        .collect())
}

/// Mean, sample standard deviation (n − 1; 0 for one value), minimum and maximum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        Spread {
            mean,
            sd: if values.len() > 1 {
                (ss / (n - 1.0)).sqrt()
            } else {
                0.0
            },
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One fold's validation: its rows, positives and metrics (`auc`, `log_loss`, `brier`; for an
/// uplift model `qini_coefficient`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldReport {
    /// 1-based.
    pub fold: usize,
    pub train_rows: usize,
    pub rows: usize,
    pub positives: usize,
    pub metrics: BTreeMap<String, f64>,
}

/// `metrics.json`'s `cv`: an estimate of how the learner does on rows it has not seen, from the
/// training rows (the holdout rows stay out of every fold). The saved model is not one of the
/// fold models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub k: usize,
    /// How the folds were cut.
    pub rule: String,
    /// Rows cut into folds (the training rows, holdout left out).
    pub rows: usize,
    pub folds: Vec<FoldReport>,
    /// Each metric's spread over the folds.
    pub summary: BTreeMap<String, Spread>,
}

impl CvReport {
    /// The report of `folds`, their metrics summarised.
    pub fn new(k: usize, rule: String, rows: usize, folds: Vec<FoldReport>) -> CvReport {
        let mut summary = BTreeMap::new();
        if let Some(first) = folds.first() {
            for name in first.metrics.keys() {
                let v: Vec<f64> = folds
                    .iter()
                    .filter_map(|f| f.metrics.get(name))
                    .copied()
                    .collect();
                summary.insert(name.clone(), Spread::of(&v));
            }
        }
        CvReport {
            k,
            rule,
            rows,
            folds,
            summary,
        }
    }

    /// The table printed by `train` and `models show`.
    pub fn render(&self) -> String {
        let names: Vec<&String> = self.summary.keys().collect();
        let mut s = format!(
            "cross-validation: {} folds over {} training rows ({})\n  fold  train rows  rows  positives",
            self.k, self.rows, self.rule
        );
        for n in &names {
            s.push_str(&format!(" {n:>16}"));
        }
        s.push('\n');
        for f in &self.folds {
            s.push_str(&format!(
                "  {:>4} {:>11} {:>5} {:>10}",
                f.fold, f.train_rows, f.rows, f.positives
            ));
            for n in &names {
                s.push_str(&format!(
                    " {:>16.4}",
                    f.metrics.get(*n).copied().unwrap_or(f64::NAN)
                ));
            }
            s.push('\n');
        }
        for (label, get) in [
            ("mean", (|x: &Spread| x.mean) as fn(&Spread) -> f64),
            ("sd", |x| x.sd),
            ("min", |x| x.min),
            ("max", |x| x.max),
        ] {
            s.push_str(&format!("  {label:>33}"));
            for n in &names {
                s.push_str(&format!(" {:>16.4}", get(&self.summary[*n])));
            }
            s.push('\n');
        }
        s
    }
}

/// One point of a sweep: the settings tried and their cross-validated log loss and AUC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    pub settings: BTreeMap<String, f64>,
    pub log_loss: Spread,
    pub auc: Spread,
}

/// `metrics.json`'s `sweep`: the settings tried, in the order given, and the one chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub k: usize,
    /// The rule of the choice.
    pub chosen_by: String,
    pub chosen: BTreeMap<String, f64>,
    pub curve: Vec<SweepPoint>,
}

/// The rule of [`SweepReport::chosen_by`].
pub const SWEEP_RULE: &str =
    "lowest mean cross-validated log loss (the first point listed wins a tie)";

impl SweepReport {
    /// The point of lowest mean log loss (the first on a tie).
    pub fn new(k: usize, curve: Vec<SweepPoint>) -> Option<SweepReport> {
        let best = curve.iter().reduce(|a, b| {
            if b.log_loss.mean < a.log_loss.mean {
                b
            } else {
                a
            }
        })?;
        Some(SweepReport {
            k,
            chosen_by: SWEEP_RULE.to_string(),
            chosen: best.settings.clone(),
            curve,
        })
    }

    /// The curve printed by `train` and `models show`.
    pub fn render(&self) -> String {
        let label = |m: &BTreeMap<String, f64>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut s = format!(
            "sweep ({} folds; chosen by {}):\n  {:<20} {:>14} {:>9} {:>9} {:>9}\n",
            self.k, self.chosen_by, "settings", "log loss mean", "sd", "AUC mean", "sd"
        );
        for p in &self.curve {
            s.push_str(&format!(
                "  {:<20} {:>14.5} {:>9.5} {:>9.4} {:>9.4}{}\n",
                label(&p.settings),
                p.log_loss.mean,
                p.log_loss.sd,
                p.auc.mean,
                p.auc.sd,
                if p.settings == self.chosen {
                    "  <- chosen"
                } else {
                    ""
                }
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every validation row is later than every training row of its fold, dates are never
    /// split, and each later fold learns from more.
    #[test]
    fn time_folds_validate_after_their_training_window() {
        let dates = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 3, 1];
        let folds = time_folds(&dates, 3).unwrap();
        assert_eq!(folds.len(), 3);
        for f in &folds {
            let last_train = f.train.iter().map(|&r| dates[r]).max().unwrap();
            let first_valid = f.valid.iter().map(|&r| dates[r]).min().unwrap();
            assert!(last_train < first_valid, "{f:?}");
        }
        assert!(folds
            .windows(2)
            .all(|w| w[0].train.len() < w[1].train.len()));
        // Every row but the first block's is validated exactly once.
        let mut seen: Vec<usize> = folds.iter().flat_map(|f| f.valid.clone()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen.len(),
            folds.iter().map(|f| f.valid.len()).sum::<usize>()
        );
        assert!(time_folds(&[1, 1, 1, 2, 2], 3).is_err());
        assert!(time_folds(&[1, 2, 3], 1).is_err());
    }

    #[test]
    fn stratified_folds_are_seeded_balanced_and_partition_the_rows() {
        let labels: Vec<f64> = (0..103).map(|i| f64::from(u8::from(i % 4 == 0))).collect();
        let folds = stratified_folds(&labels, 5, 7).unwrap();
        assert_eq!(folds, stratified_folds(&labels, 5, 7).unwrap());
        assert_ne!(folds, stratified_folds(&labels, 5, 8).unwrap());
        let mut all: Vec<usize> = folds.iter().flat_map(|f| f.valid.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for f in &folds {
            assert_eq!(f.train.len() + f.valid.len(), 103);
            assert!((20..=21).contains(&f.valid.len()), "{}", f.valid.len());
            let pos = f.valid.iter().filter(|&&r| labels[r] == 1.0).count();
            assert!((5..=6).contains(&pos), "{pos}");
        }
        assert!(stratified_folds(&[0.0, 0.0, 1.0], 2, 1).is_err());
    }

    #[test]
    fn spread_uses_the_sample_sd_and_the_sweep_picks_the_lowest_log_loss() {
        let s = Spread::of(&[1.0, 2.0, 3.0]);
        assert_eq!((s.mean, s.sd, s.min, s.max), (2.0, 1.0, 1.0, 3.0));
        let point = |l2: f64, loss: f64| SweepPoint {
            settings: BTreeMap::from([("l2".to_string(), l2)]),
            log_loss: Spread::of(&[loss]),
            auc: Spread::of(&[0.6]),
        };
        let r =
            SweepReport::new(5, vec![point(0.1, 0.5), point(1.0, 0.4), point(10.0, 0.4)]).unwrap();
        assert_eq!(r.chosen["l2"], 1.0);
        assert!(r.render().contains("l2=1  "), "{}", r.render());
        assert!(SweepReport::new(5, vec![]).is_none());
    }
}
