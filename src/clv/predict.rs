//! BG/NBD predictions per customer and lifetimes' discounted CLV.

use serde::{Deserialize, Serialize};

use super::bgnbd::BgNbdParams;
use super::error::ClvError;
use super::gamma_gamma::GammaGammaParams;
use super::parallel::map_rows;
use super::special::ln_hyp2f1;
use super::summary::CustomerSummaries;

fn check_time(name: &'static str, value: f64) -> Result<(), ClvError> {
    if !value.is_finite() || value < 0.0 {
        return Err(ClvError::InvalidParameter {
            name,
            rule: "a finite time >= 0",
            value,
        });
    }
    Ok(())
}

/// P(alive | x, tx, T) = 1 / (1 + δ(x>0) a/(b+x−1) ((α+T)/(α+tx))^(r+x)).
pub fn p_alive_one(p: &BgNbdParams, x: f64, tx: f64, t: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let log_div = (p.r + x) * ((p.alpha + t) / (p.alpha + tx)).ln() + (p.a / (p.b + x - 1.0)).ln();
    // 1/(1+e^d) computed without overflow for large d.
    if log_div > 0.0 {
        let e = (-log_div).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + log_div.exp())
    }
}

/// E[X(T, T+horizon] | x, tx, T], lifetimes' `conditional_expected_number_of_purchases_up_to_time`.
pub fn expected_purchases_one(
    p: &BgNbdParams,
    x: f64,
    tx: f64,
    t: f64,
    horizon: f64,
) -> Result<f64, ClvError> {
    if horizon == 0.0 {
        return Ok(0.0);
    }
    let (r, alpha, a, b) = (p.r, p.alpha, p.a, p.b);
    let z = horizon / (alpha + t + horizon);
    let ln_hyp = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
    let first = (a + b + x - 1.0) / (a - 1.0);
    let second = -(ln_hyp + (r + x) * ((alpha + t) / (alpha + t + horizon)).ln()).exp_m1();
    let denom = if x > 0.0 {
        1.0 + (a / (b + x - 1.0)) * ((r + x) * ((alpha + t) / (alpha + tx)).ln()).exp()
    } else {
        1.0
    };
    let v = first * second / denom;
    if !v.is_finite() {
        return Err(ClvError::Numerical {
            what: "expected_purchases",
            detail: format!("non-finite result for x={x}, tx={tx}, T={t}, horizon={horizon}"),
        });
    }
    Ok(v)
}

fn check_a(p: &BgNbdParams) -> Result<(), ClvError> {
    // (a+b+x−1)/(a−1) is singular at a = 1 (the limit exists but is not implemented).
    if (p.a - 1.0).abs() < 1e-9 || p.a + p.b <= 1.0 {
        return Err(ClvError::InvalidParameter {
            name: "a",
            rule: "a != 1 and a + b > 1 for expected purchase counts",
            value: p.a,
        });
    }
    Ok(())
}

impl BgNbdParams {
    /// Probability that each customer is still alive at T.
    pub fn p_alive(&self, s: &CustomerSummaries) -> Result<Vec<f64>, ClvError> {
        s.check()?;
        map_rows(s.len(), |i| {
            Ok(p_alive_one(self, s.frequency[i], s.recency[i], s.t[i]))
        })
    }

    /// Conditional expected number of purchases of each customer in (T, T + horizon].
    pub fn expected_purchases(
        &self,
        s: &CustomerSummaries,
        horizon: f64,
    ) -> Result<Vec<f64>, ClvError> {
        s.check()?;
        check_time("horizon", horizon)?;
        check_a(self)?;
        map_rows(s.len(), |i| {
            expected_purchases_one(self, s.frequency[i], s.recency[i], s.t[i], horizon)
        })
    }

    /// Unconditional E[X(t)] for a customer just acquired:
    /// (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))].
    pub fn expected_purchases_new_customer(&self, t: f64) -> Result<f64, ClvError> {
        check_time("t", t)?;
        check_a(self)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let ln_hyp = ln_hyp2f1(r, b, a + b - 1.0, t / (alpha + t))?;
        Ok((a + b - 1.0) / (a - 1.0) * -(ln_hyp + r * (alpha / (alpha + t)).ln()).exp_m1())
    }

    /// Expected time to the next purchase, 1 / E[λ | x, T] = (α + T) / (r + x) in the model's time
    /// unit, for customers with P(alive) ≥ `alive_threshold`; `None` for the others (they are
    /// more likely gone than due).
    pub fn expected_next_purchase_time(
        &self,
        s: &CustomerSummaries,
        alive_threshold: f64,
    ) -> Result<Vec<Option<f64>>, ClvError> {
        s.check()?;
        if !(0.0..=1.0).contains(&alive_threshold) {
            return Err(ClvError::InvalidParameter {
                name: "alive_threshold",
                rule: "a probability in [0, 1]",
                value: alive_threshold,
            });
        }
        map_rows(s.len(), |i| {
            let (x, tx, t) = (s.frequency[i], s.recency[i], s.t[i]);
            Ok((p_alive_one(self, x, tx, t) >= alive_threshold)
                .then(|| (self.alpha + t) / (self.r + x)))
        })
    }
}

/// Default P(alive) threshold of [`BgNbdParams::expected_next_purchase_time`].
pub const DEFAULT_ALIVE_THRESHOLD: f64 = 0.5;

/// Settings of lifetimes' `_customer_lifetime_value`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClvSettings {
    /// Months summed, 1..=horizon_months. Default 12.
    pub horizon_months: u32,
    /// Discount rate per month. Default 0.01.
    pub monthly_discount_rate: f64,
    /// Model time units per month: 4.345 for weeks, 30 for days, 1 for months. Default 4.345.
    pub periods_per_month: f64,
}

impl Default for ClvSettings {
    fn default() -> Self {
        ClvSettings {
            horizon_months: 12,
            monthly_discount_rate: 0.01,
            periods_per_month: 4.345,
        }
    }
}

/// lifetimes' month length for a time unit name (`weeks`/`W`, `days`/`D`, `months`/`M`, `hours`/`H`).
pub fn periods_per_month_for(time_unit: &str) -> Option<f64> {
    match time_unit.to_ascii_lowercase().as_str() {
        "w" | "week" | "weeks" => Some(4.345),
        "d" | "day" | "days" => Some(30.0),
        "m" | "month" | "months" => Some(1.0),
        "h" | "hour" | "hours" => Some(720.0),
        _ => None,
    }
}

impl ClvSettings {
    /// Validates: `horizon_months` ≥ 1, discount rate finite and > −1, `periods_per_month` > 0.
    pub fn check(&self) -> Result<(), ClvError> {
        if self.horizon_months == 0 {
            return Err(ClvError::InvalidParameter {
                name: "horizon_months",
                rule: "at least 1",
                value: 0.0,
            });
        }
        if !self.monthly_discount_rate.is_finite() || self.monthly_discount_rate <= -1.0 {
            return Err(ClvError::InvalidParameter {
                name: "monthly_discount_rate",
                rule: "a finite value > -1",
                value: self.monthly_discount_rate,
            });
        }
        if !self.periods_per_month.is_finite() || self.periods_per_month <= 0.0 {
            return Err(ClvError::InvalidParameter {
                name: "periods_per_month",
                rule: "a finite value > 0",
                value: self.periods_per_month,
            });
        }
        Ok(())
    }
}

/// Discounted CLV per customer, as lifetimes: Σ_{i=1..H} value × (E[X(i·f)] − E[X((i−1)·f)]) / (1+d)^i
/// with value = Gamma-Gamma conditional expected average value and E\[X\] the conditional BG/NBD
/// expectation.
pub fn customer_lifetime_value(
    bg: &BgNbdParams,
    gg: &GammaGammaParams,
    s: &CustomerSummaries,
    settings: &ClvSettings,
) -> Result<Vec<f64>, ClvError> {
    settings.check()?;
    check_a(bg)?;
    let value = gg.conditional_expected_average_value(s)?;
    let f = settings.periods_per_month;
    map_rows(s.len(), |i| {
        let (x, tx, t) = (s.frequency[i], s.recency[i], s.t[i]);
        let mut clv = 0.0;
        let mut previous = 0.0;
        for month in 1..=settings.horizon_months {
            let cumulative = expected_purchases_one(bg, x, tx, t, month as f64 * f)?;
            clv += value[i] * (cumulative - previous)
                / (1.0 + settings.monthly_discount_rate).powi(month as i32);
            previous = cumulative;
        }
        Ok(clv)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published() -> BgNbdParams {
        BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap()
    }

    fn one(x: f64, tx: f64, t: f64) -> CustomerSummaries {
        CustomerSummaries {
            frequency: vec![x],
            recency: vec![tx],
            t: vec![t],
            monetary_value: vec![0.0],
        }
    }

    #[test]
    fn p_alive_is_one_without_repeats_and_matches_formula() {
        let p = published();
        assert_eq!(p.p_alive(&one(0.0, 0.0, 30.0)).unwrap(), vec![1.0]);
        let (x, tx, t): (f64, f64, f64) = (2.0, 30.43, 38.86);
        let want = 1.0 / (1.0 + 0.793 / (2.426 + 1.0) * ((4.414 + t) / (4.414 + tx)).powf(2.243));
        assert!((p_alive_one(&p, x, tx, t) - want).abs() < 1e-15);
        // Long silence after many purchases: nearly dead, no NaN.
        let v = p_alive_one(&p, 500.0, 1.0, 1000.0);
        assert!((0.0..1e-100).contains(&v));
    }

    #[test]
    fn point_prediction_from_the_paper() {
        // FHL 2005: x = 2, tx = 30.43, T = 38.86 → 1.226 purchases in the next 39 weeks.
        let v = expected_purchases_one(&published(), 2.0, 30.43, 38.86, 39.0).unwrap();
        assert!((v - 1.226).abs() < 5e-4, "{v}");
        // mpmath evaluations of lifetimes' closed form (heavy buyer; zero-repeat customer, long horizon).
        let v = expected_purchases_one(&published(), 2.0, 30.43, 38.86, 39.0).unwrap();
        assert!((v - 1.226_028_174_767_140_5).abs() < 1e-12, "{v}");
        let v = expected_purchases_one(&published(), 50.0, 38.0, 38.86, 52.0).unwrap();
        assert!((v - 41.719_422_742_771_36).abs() < 1e-10, "{v}");
        let v = expected_purchases_one(&published(), 0.0, 0.0, 10.0, 200.0).unwrap();
        assert!((v - 1.604_137_608_658_964_8).abs() < 1e-12, "{v}");
    }

    #[test]
    fn new_customer_expectation_matches_small_t_rate_and_is_increasing() {
        let p = published();
        // E[X(t)] ≈ t r/α for small t (everyone alive, mean rate r/α).
        let t = 1e-4;
        let v = p.expected_purchases_new_customer(t).unwrap();
        assert!((v / (t * 0.243 / 4.414) - 1.0).abs() < 1e-3, "{v}");
        let mut last = 0.0;
        for t in [1.0, 10.0, 39.0, 78.0, 520.0] {
            let v = p.expected_purchases_new_customer(t).unwrap();
            assert!(v > last);
            last = v;
        }
        // mpmath evaluation of the same closed form: E[X(78)] = 1.860519057942765..., E[X(520)] = 4.974617861849670...
        let v78 = p.expected_purchases_new_customer(78.0).unwrap();
        assert!((v78 - 1.860_519_057_942_765).abs() < 1e-12, "{v78}");
        let v520 = p.expected_purchases_new_customer(520.0).unwrap();
        assert!((v520 - 4.974_617_861_849_67).abs() < 1e-11, "{v520}");
        // mpmath: E[X(100000)] = 29.60786165454848... (z = 0.99996, connection formula).
        let far = p.expected_purchases_new_customer(100_000.0).unwrap();
        assert!((far - 29.607_861_654_548_48).abs() < 1e-9, "{far}");
    }

    #[test]
    fn next_purchase_time_respects_threshold() {
        let p = published();
        let s = CustomerSummaries {
            frequency: vec![0.0, 10.0],
            recency: vec![0.0, 1.0],
            t: vec![10.0, 38.0],
            monetary_value: vec![],
        };
        let v = p
            .expected_next_purchase_time(&s, DEFAULT_ALIVE_THRESHOLD)
            .unwrap();
        assert!((v[0].unwrap() - (4.414 + 10.0) / 0.243).abs() < 1e-12);
        assert_eq!(v[1], None);
        assert!(p.expected_next_purchase_time(&s, 1.5).is_err());
    }

    #[test]
    fn clv_sums_discounted_monthly_increments() {
        let bg = published();
        let gg = GammaGammaParams::from_values(6.25, 3.74, 15.44).unwrap();
        let s = CustomerSummaries {
            frequency: vec![2.0],
            recency: vec![30.43],
            t: vec![38.86],
            monetary_value: vec![30.0],
        };
        let settings = ClvSettings {
            horizon_months: 3,
            ..Default::default()
        };
        let clv = customer_lifetime_value(&bg, &gg, &s, &settings).unwrap();
        let value = gg.conditional_expected_average_value(&s).unwrap()[0];
        let e = |m: f64| expected_purchases_one(&bg, 2.0, 30.43, 38.86, m * 4.345).unwrap();
        let want = value
            * (e(1.0) / 1.01
                + (e(2.0) - e(1.0)) / 1.01f64.powi(2)
                + (e(3.0) - e(2.0)) / 1.01f64.powi(3));
        assert!((clv[0] - want).abs() < 1e-12);
        // Without discounting CLV is value × E[X(horizon)].
        let flat = ClvSettings {
            horizon_months: 3,
            monthly_discount_rate: 0.0,
            ..Default::default()
        };
        let clv0 = customer_lifetime_value(&bg, &gg, &s, &flat).unwrap();
        assert!((clv0[0] - value * e(3.0)).abs() < 1e-12);
        assert_eq!(periods_per_month_for("days"), Some(30.0));
    }
}
