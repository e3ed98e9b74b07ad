//! Association rules from frequent itemsets: every split of an itemset into antecedent ⇒
//! consequent (mlxtend's `association_rules`), with exact count thresholds and the metrics of
//! mlxtend's formulas (so its figures and ours agree to rounding).

use std::collections::HashMap;

use super::fpgrowth::Itemset;
use super::threshold::Threshold;
use crate::clv::special::ln_gamma;

/// One rule with its counts; the metrics are computed from the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Item codes, ascending.
    pub antecedent: Vec<u32>,
    pub consequent: Vec<u32>,
    /// Baskets holding antecedent and consequent.
    pub count: u64,
    pub antecedent_count: u64,
    pub consequent_count: u64,
    /// Baskets in all.
    pub baskets: u64,
    /// Fisher's exact test (one-sided: more baskets hold both than independence gives), and
    /// the p-value after the multiple-testing correction; `None` without `--significance`.
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
}

impl Rule {
    fn share(&self, count: u64) -> f64 {
        count as f64 / self.baskets as f64
    }
    pub fn support(&self) -> f64 {
        self.share(self.count)
    }
    pub fn antecedent_support(&self) -> f64 {
        self.share(self.antecedent_count)
    }
    pub fn consequent_support(&self) -> f64 {
        self.share(self.consequent_count)
    }
    pub fn confidence(&self) -> f64 {
        self.support() / self.antecedent_support()
    }
    pub fn lift(&self) -> f64 {
        self.confidence() / self.consequent_support()
    }
    pub fn leverage(&self) -> f64 {
        self.support() - self.antecedent_support() * self.consequent_support()
    }
    /// Infinite for a rule that always holds (confidence 1), as in mlxtend.
    pub fn conviction(&self) -> f64 {
        let c = self.confidence();
        if c >= 1.0 {
            f64::INFINITY
        } else {
            (1.0 - self.consequent_support()) / (1.0 - c)
        }
    }
}

/// The thresholds a rule must meet, compared on exact counts (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct RuleFilter {
    pub min_confidence: Threshold,
    pub min_lift: Threshold,
    /// Most items on the right (arules' rules have one; mlxtend's any number).
    pub max_consequent: usize,
}

/// Every rule of the itemsets (each of at least two items, split every way) that passes the
/// filter. Itemsets larger than 24 items are split no further than 24 (2^24 splits).
pub fn rules(itemsets: &[Itemset], baskets: u64, filter: &RuleFilter) -> Vec<Rule> {
    let count_of: HashMap<&[u32], u64> = itemsets
        .iter()
        .map(|s| (s.items.as_slice(), s.count))
        .collect();
    let mut out = Vec::new();
    let mut antecedent = Vec::new();
    let mut consequent = Vec::new();
    for set in itemsets
        .iter()
        .filter(|s| s.items.len() >= 2 && s.items.len() <= 24)
    {
        let n = set.items.len();
        for mask in 1u32..(1u32 << n) - 1 {
            antecedent.clear();
            consequent.clear();
            for (i, &item) in set.items.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    antecedent.push(item);
                } else {
                    consequent.push(item);
                }
            }
            if consequent.len() > filter.max_consequent {
                continue;
            }
            // Subsets of a frequent itemset are frequent: both counts are there.
            let (Some(&a), Some(&c)) = (
                count_of.get(antecedent.as_slice()),
                count_of.get(consequent.as_slice()),
            ) else {
                continue;
            };
            if !filter.min_confidence.admits(set.count, a)
                || !filter.min_lift.admits_product(set.count, baskets, a, c)
            {
                continue;
            }
            out.push(Rule {
                antecedent: antecedent.clone(),
                consequent: consequent.clone(),
                count: set.count,
                antecedent_count: a,
                consequent_count: c,
                baskets,
                p_value: None,
                p_adjusted: None,
            });
        }
    }
    out
}

/// How p-values of many rules are corrected for testing them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Correction {
    /// Holm's step-down (family-wise error; never less powerful than Bonferroni).
    #[default]
    Holm,
    Bonferroni,
    /// Benjamini–Hochberg (false discovery rate).
    Fdr,
    None,
}

impl Correction {
    pub fn parse(name: &str) -> Option<Correction> {
        match name {
            "holm" => Some(Correction::Holm),
            "bonferroni" => Some(Correction::Bonferroni),
            "fdr" | "bh" => Some(Correction::Fdr),
            "none" => Some(Correction::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Correction::Holm => "holm",
            Correction::Bonferroni => "bonferroni",
            Correction::Fdr => "fdr",
            Correction::None => "none",
        }
    }

    /// The corrected p-values, in the order of `p`.
    pub fn adjust(self, p: &[f64]) -> Vec<f64> {
        let m = p.len() as f64;
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
        let mut out = vec![0.0; p.len()];
        match self {
            Correction::None => out.copy_from_slice(p),
            Correction::Bonferroni => {
                for (o, v) in out.iter_mut().zip(p) {
                    *o = (v * m).min(1.0);
                }
            }
            Correction::Holm => {
                let mut running: f64 = 0.0;
                for (k, &i) in order.iter().enumerate() {
                    running = running.max(((m - k as f64) * p[i]).min(1.0));
                    out[i] = running;
                }
            }
            Correction::Fdr => {
                let mut running: f64 = 1.0;
                for (k, &i) in order.iter().enumerate().rev() {
                    running = running.min((m / (k + 1) as f64 * p[i]).min(1.0));
                    out[i] = running;
                }
            }
        }
        out
    }
}

/// Keeps the rules whose corrected Fisher p-value is at most `alpha` (the family: every rule
/// given), recording both p-values on each.
pub fn significant(mut rules: Vec<Rule>, alpha: f64, correction: Correction) -> Vec<Rule> {
    let p: Vec<f64> = rules.iter().map(fisher_p).collect();
    let adjusted = correction.adjust(&p);
    for ((rule, p), q) in rules.iter_mut().zip(p).zip(adjusted) {
        rule.p_value = Some(p);
        rule.p_adjusted = Some(q);
    }
    rules.retain(|r| r.p_adjusted.is_some_and(|q| q <= alpha));
    rules
}

/// Fisher's exact test, one-sided: the probability, with antecedent and consequent independent
/// (a hypergeometric draw), of at least `count` baskets holding both.
pub fn fisher_p(rule: &Rule) -> f64 {
    let (n, a, c, k) = (
        rule.baskets,
        rule.antecedent_count,
        rule.consequent_count,
        rule.count,
    );
    let ln_choose = |n: u64, k: u64| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
    };
    let (low, top) = ((a + c).saturating_sub(n), a.min(c));
    // At or below the smallest possible count the tail is everything (summing it would only
    // add rounding); above the largest it is empty.
    if k <= low {
        return 1.0;
    }
    if k > top {
        return 0.0;
    }
    let ln_pmf = |x: u64| ln_choose(a, x) + ln_choose(n - a, c - x) - ln_choose(n, c);
    // Terms fall away fast past the observed count: sum them by the pmf's ratio recurrence.
    let mut term = ln_pmf(k).exp();
    let mut sum = term;
    for x in k..top {
        let ratio = ((a - x) * (c - x)) as f64 / ((x + 1) as f64 * (n + x + 1 - a - c) as f64);
        term *= ratio;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(n: u64, a: u64, c: u64, k: u64) -> Rule {
        Rule {
            antecedent: vec![0],
            consequent: vec![1],
            count: k,
            antecedent_count: a,
            consequent_count: c,
            baskets: n,
            p_value: None,
            p_adjusted: None,
        }
    }

    /// scipy.stats.fisher_exact([[k, a-k], [c-k, n-a-c+k]], alternative="greater").
    #[test]
    fn fisher_matches_scipy() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 + 1e-9 * b;
        // Lady tasting tea: [[3, 1], [1, 3]] → 0.24285714285714283.
        assert!(close(fisher_p(&rule(8, 4, 4, 3)), 0.242_857_142_857_142_83));
        // [[8, 2], [1, 5]] → 0.024475524475524483.
        assert!(close(
            fisher_p(&rule(16, 10, 9, 8)),
            0.024_475_524_475_524_483
        ));
        assert_eq!(fisher_p(&rule(10, 5, 5, 0)), 1.0);
        assert_eq!(fisher_p(&rule(10, 8, 8, 6)), 1.0);
        assert_eq!(fisher_p(&rule(10, 5, 5, 6)), 0.0);
    }

    #[test]
    fn corrections_match_their_definitions() {
        let p = [0.01, 0.04, 0.03, 0.005];
        let check = |c: Correction, expect: [f64; 4]| {
            let got = c.adjust(&p);
            assert!(
                got.iter().zip(expect).all(|(a, b)| (a - b).abs() < 1e-15),
                "{c:?}: {got:?}"
            );
        };
        check(Correction::Holm, [0.03, 0.06, 0.06, 0.02]);
        check(Correction::Fdr, [0.02, 0.04, 0.04, 0.02]);
        check(Correction::Bonferroni, [0.04, 0.16, 0.12, 0.02]);
        check(Correction::None, p);
    }

    #[test]
    fn confidence_is_inclusive_on_exact_counts() {
        let sets = [
            Itemset {
                items: vec![0],
                count: 5,
            },
            Itemset {
                items: vec![1],
                count: 8,
            },
            Itemset {
                items: vec![0, 1],
                count: 4,
            },
        ];
        let filter = |conf: &str| RuleFilter {
            min_confidence: conf.parse().unwrap(),
            min_lift: Threshold::ZERO,
            max_consequent: 1,
        };
        let found = rules(&sets, 10, &filter("0.8"));
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].antecedent.as_slice(), found[0].confidence()),
            ([0u32].as_slice(), 0.8)
        );
        assert_eq!(rules(&sets, 10, &filter("0.8000001")).len(), 0);
        assert_eq!(rules(&sets, 10, &filter("0.5")).len(), 2);
    }
}
