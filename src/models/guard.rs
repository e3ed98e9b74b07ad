//! Guard rails: when a model's own holdout does not show it worth using. A classifier whose
//! holdout AUC is not above 0.5 by more than its sampling error ranks customers no better than
//! chance; one trained on too few positives for its inputs has learned noise; an uplift model
//! whose Qini coefficient is not positive targets no better than random. Such a model is still
//! registered (its report says what went wrong), but the registry will not promote it and a job
//! will not use it unless the caller overrides.
//!
//! The rules live here, below the registry, the jobs and the report that all apply them, so the
//! report's warning and the registry's refusal can never disagree.

use super::TrainingReport;

/// How many standard errors above 0.5 a holdout AUC must be to count as better than random.
pub const AUC_STANDARD_ERRORS: f64 = 2.0;

/// Fewest training positives per model input (the design matrix's columns): the usual "ten
/// events per variable" rule for a logistic regression.
pub const MIN_POSITIVES_PER_INPUT: usize = 10;

/// Hanley & McNeil's (1982) standard error of an AUC from `positives` and `negatives`.
pub fn auc_standard_error(auc: f64, positives: f64, negatives: f64) -> f64 {
    let q1 = auc / (2.0 - auc);
    let q2 = 2.0 * auc * auc / (1.0 + auc);
    let var = (auc * (1.0 - auc)
        + (positives - 1.0) * (q1 - auc * auc)
        + (negatives - 1.0) * (q2 - auc * auc))
        / (positives * negatives);
    var.max(0.0).sqrt()
}

/// The margin a holdout AUC must clear above 0.5 ([`AUC_STANDARD_ERRORS`] standard errors), or
/// `None` when it clears it. Infinite when the holdout lacks a class.
pub fn auc_shortfall(auc: f64, holdout_rows: usize, base_rate: f64) -> Option<f64> {
    let rows = holdout_rows as f64;
    let (pos, neg) = (rows * base_rate, rows * (1.0 - base_rate));
    let se = if pos >= 1.0 && neg >= 1.0 {
        auc_standard_error(auc, pos, neg)
    } else {
        f64::INFINITY
    };
    let margin = AUC_STANDARD_ERRORS * se;
    (auc - 0.5 <= margin).then_some(margin)
}

/// Why a model should not be used, one sentence each (empty: none). `inputs`: the number of
/// columns of its design matrix.
pub fn weaknesses(report: &TrainingReport, inputs: usize) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &report.metrics.classification {
        if let Some(margin) = auc_shortfall(c.auc, c.n_rows, c.base_rate) {
            out.push(format!(
                "holdout AUC {:.3} is not better than random (0.5 ± {margin:.3}, {} holdout rows)",
                c.auc, c.n_rows
            ));
        }
    }
    if let Some(u) = &report.metrics.uplift {
        if u.qini_coefficient <= 0.0 {
            out.push(format!(
                "Qini coefficient {:.4} is not positive: targeting by its uplift does no better than random",
                u.qini_coefficient
            ));
        }
    }
    let needed = MIN_POSITIVES_PER_INPUT * inputs;
    if report.positives < needed {
        out.push(format!(
            "{} positive training rows for {inputs} inputs (fewer than {MIN_POSITIVES_PER_INPUT} per input: {needed})",
            report.positives
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_standard_error_matches_hanley_mcneil() {
        // Hanley & McNeil (1982), table 1 style check: A = 0.5, 100 + 100 cases: √((0.25 + 2·99·(1/3 − 1/4)) / 10⁴) = 0.040927.
        let se = auc_standard_error(0.5, 100.0, 100.0);
        assert!((se - 0.040927).abs() < 1e-6, "{se}");
        // A larger sample narrows it.
        assert!(auc_standard_error(0.5, 1000.0, 1000.0) < se);
    }

    #[test]
    fn an_auc_counts_only_past_twice_its_standard_error() {
        // 200 holdout rows at a base rate of 0.5: se(0.5) ≈ 0.0409, so 0.58 is not enough.
        assert!(auc_shortfall(0.58, 200, 0.5).is_some());
        assert!(auc_shortfall(0.31, 200, 0.5).is_some());
        assert!(auc_shortfall(0.70, 200, 0.5).is_none());
        // A holdout without a positive proves nothing.
        assert_eq!(auc_shortfall(0.99, 200, 0.0), Some(f64::INFINITY));
    }
}
