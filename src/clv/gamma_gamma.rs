//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005b; lifetimes' `GammaGammaFitter`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::error::ClvError;
use super::fit_params::FitParams;
use super::optim::{minimize, natural_std_errors, Objective, OptimSettings};
use super::parallel::{chunked_sum, map_rows};
use super::special::{digamma, ln_gamma};
use super::summary::CustomerSummaries;

/// Standard errors of the Gamma-Gamma parameters (natural scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaStdErrors {
    /// s.e. of `p`.
    pub p: f64,
    /// s.e. of `q`.
    pub q: f64,
    /// s.e. of `v`.
    pub v: f64,
}

/// Fitted (or given) Gamma-Gamma parameters with fit diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaParams {
    /// Shape of the per-transaction spend gamma.
    pub p: f64,
    /// Shape of the gamma heterogeneity of the spend scale.
    pub q: f64,
    /// Scale of the gamma heterogeneity of the spend scale (currency units).
    pub v: f64,
    /// Sum of the (unpenalised) log-likelihood over the fitted customers (NaN when the parameters
    /// were given rather than fitted).
    pub log_likelihood: f64,
    /// From the inverse numerical Hessian; `None` if not positive definite or not fitted.
    pub std_errors: Option<GammaGammaStdErrors>,
    /// True when the gradient tolerance was met.
    pub converged: bool,
    /// Max-norm of the gradient of the mean penalised objective w.r.t. log-parameters.
    pub grad_norm: f64,
    /// Optimizer iterations along the winning path.
    pub iterations: usize,
    /// Customers used (frequency > 0 and monetary_value > 0).
    pub n_customers: usize,
    /// Pearson correlation of frequency and monetary value over the fitted customers. The model
    /// assumes independence; values far from 0 (say |ρ| > 0.3) make its predictions doubtful.
    /// `None` when undefined (constant frequency or spend) or when the parameters were given.
    pub spend_frequency_correlation: Option<f64>,
    /// Penalizer used in the fit.
    pub penalizer: f64,
}

impl GammaGammaParams {
    /// Parameters given from outside; requires `q > 1` so the population mean exists.
    pub fn from_values(p: f64, q: f64, v: f64) -> Result<Self, ClvError> {
        for (name, value) in [("p", p), ("v", v)] {
            if !value.is_finite() || value <= 0.0 {
                return Err(ClvError::InvalidParameter {
                    name,
                    rule: "a finite value > 0",
                    value,
                });
            }
        }
        if !q.is_finite() || q <= 1.0 {
            return Err(ClvError::InvalidParameter {
                name: "q",
                rule: "a finite value > 1",
                value: q,
            });
        }
        Ok(GammaGammaParams {
            p,
            q,
            v,
            log_likelihood: f64::NAN,
            std_errors: None,
            converged: true,
            grad_norm: 0.0,
            iterations: 0,
            n_customers: 0,
            spend_frequency_correlation: None,
            penalizer: 0.0,
        })
    }

    /// E[mean spend | x, m̄] = p (v + x m̄) / (p x + q − 1); the population mean p v / (q − 1)
    /// for customers without repeat purchases (or without a monetary value).
    pub fn conditional_expected_average_value(
        &self,
        s: &CustomerSummaries,
    ) -> Result<Vec<f64>, ClvError> {
        s.check()?;
        if !s.has_monetary() {
            return Err(ClvError::LengthMismatch {
                column: "monetary_value",
                expected: s.len(),
                found: 0,
            });
        }
        if self.q <= 1.0 {
            return Err(ClvError::InvalidParameter {
                name: "q",
                rule: "a value > 1 for a finite expected spend",
                value: self.q,
            });
        }
        let (p, q, v) = (self.p, self.q, self.v);
        map_rows(s.len(), |i| {
            let (x, m) = (s.frequency[i], s.monetary_value[i]);
            Ok(if x > 0.0 && m > 0.0 {
                p * (v + x * m) / (p * x + q - 1.0)
            } else {
                p * v / (q - 1.0)
            })
        })
    }
}

/// Unique (x, m̄) pairs of the customers the model is fitted on, with counts.
struct SpendData {
    x: Vec<f64>,
    m: Vec<f64>,
    w: Vec<f64>,
}

/// Per-row logs that do not depend on the parameters, and each row's index into the distinct
/// frequencies: the Γ and ψ terms depend on the row only through `x`, and repeat frequencies
/// take few distinct values, so each evaluation computes them once per distinct `x` instead of
/// once per row (656k rows, ~100 frequencies on 1M customers).
struct SpendCache {
    ln_m: Vec<f64>,
    ln_x: Vec<f64>,
    x_code: Vec<u32>,
    x_levels: Vec<f64>,
}

impl SpendCache {
    fn new(d: &SpendData) -> SpendCache {
        let mut levels: Vec<f64> = d.x.clone();
        levels.sort_by(f64::total_cmp);
        levels.dedup();
        let code = |x: f64| levels.partition_point(|l| *l < x) as u32;
        SpendCache {
            ln_m: d.m.iter().map(|m| m.ln()).collect(),
            ln_x: d.x.iter().map(|x| x.ln()).collect(),
            x_code: d.x.iter().map(|x| code(*x)).collect(),
            x_levels: levels,
        }
    }
}

/// One customer's log-likelihood and gradient, written plainly (the reference for the cached
/// evaluation in tests).
#[cfg(test)]
fn ll_one(th: &[f64; 3], x: f64, m: f64, w: f64, g: &mut [f64; 3]) -> f64 {
    let [p, q, v] = *th;
    let px = p * x;
    let ln_xmv = (x * m + v).ln();
    let dg_pxq = digamma(px + q);
    let ll = ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
        + q * v.ln()
        + (px - 1.0) * m.ln()
        + px * x.ln()
        - (px + q) * ln_xmv;
    g[0] += w * x * (dg_pxq - digamma(px) + m.ln() + x.ln() - ln_xmv);
    g[1] += w * (dg_pxq - digamma(q) + v.ln() - ln_xmv);
    g[2] += w * (q / v - (px + q) / (x * m + v));
    w * ll
}

#[cfg(test)]
fn weighted_ll(th: &[f64; 3], d: &SpendData) -> (f64, [f64; 3]) {
    weighted_ll_cached(th, d, &SpendCache::new(d))
}

fn weighted_ll_cached(th: &[f64; 3], d: &SpendData, c: &SpendCache) -> (f64, [f64; 3]) {
    let [p, q, v] = *th;
    // Per distinct x: lnΓ(px+q) − lnΓ(px), ψ(px+q), ψ(px).
    let per_x: Vec<[f64; 3]> = c
        .x_levels
        .iter()
        .map(|x| {
            let px = p * x;
            [
                ln_gamma(px + q) - ln_gamma(px),
                digamma(px + q),
                digamma(px),
            ]
        })
        .collect();
    let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
    chunked_sum(d.w.len(), |i, g| {
        let (x, m, w) = (d.x[i], d.m[i], d.w[i]);
        let [lg, dg_pxq, dg_px] = per_x[c.x_code[i] as usize];
        let px = p * x;
        let ln_xmv = (x * m + v).ln();
        let (ln_m, ln_x) = (c.ln_m[i], c.ln_x[i]);
        let ll = lg - lg_q + q * ln_v + (px - 1.0) * ln_m + px * ln_x - (px + q) * ln_xmv;
        g[0] += w * x * (dg_pxq - dg_px + ln_m + ln_x - ln_xmv);
        g[1] += w * (dg_pxq - dg_q + ln_v - ln_xmv);
        g[2] += w * (q / v - (px + q) / (x * m + v));
        w * ll
    })
}

struct GgObjective<'a> {
    data: &'a SpendData,
    cache: SpendCache,
    penalizer: f64,
    n_total: f64,
}

impl Objective for GgObjective<'_> {
    fn dim(&self) -> usize {
        3
    }

    fn eval(&self, u: &[f64], grad: &mut [f64]) -> f64 {
        let th = [u[0].exp(), u[1].exp(), u[2].exp()];
        if th.iter().any(|v| !v.is_finite() || *v <= 0.0) {
            return f64::INFINITY;
        }
        let (ll, d) = weighted_ll_cached(&th, self.data, &self.cache);
        let mut f = -ll / self.n_total;
        for k in 0..3 {
            f += self.penalizer * th[k] * th[k];
            grad[k] = th[k] * (-d[k] / self.n_total + 2.0 * self.penalizer * th[k]);
        }
        f
    }
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Fits Gamma-Gamma on the customers with `frequency > 0` and `monetary_value > 0`.
pub fn fit_gamma_gamma(
    s: &CustomerSummaries,
    params: &FitParams,
) -> Result<GammaGammaParams, ClvError> {
    let checked = params.check()?;
    let pr = checked.get();
    s.check()?;
    if !s.has_monetary() {
        return Err(ClvError::LengthMismatch {
            column: "monetary_value",
            expected: s.len(),
            found: 0,
        });
    }
    let (mut xs, mut ms) = (Vec::new(), Vec::new());
    for i in 0..s.len() {
        if s.frequency[i] > 0.0 && s.monetary_value[i] > 0.0 {
            xs.push(s.frequency[i]);
            ms.push(s.monetary_value[i]);
        }
    }
    if xs.len() < 3 {
        return Err(ClvError::TooFewCustomers {
            model: "gamma-gamma (frequency > 0 and monetary_value > 0)",
            expected: 3,
            found: xs.len(),
        });
    }
    let mut index: HashMap<[u64; 2], usize> = HashMap::new();
    let mut data = SpendData {
        x: vec![],
        m: vec![],
        w: vec![],
    };
    for (&x, &m) in xs.iter().zip(&ms) {
        match index.get(&[x.to_bits(), m.to_bits()]) {
            Some(&k) => data.w[k] += 1.0,
            None => {
                index.insert([x.to_bits(), m.to_bits()], data.w.len());
                data.x.push(x);
                data.m.push(m);
                data.w.push(1.0);
            }
        }
    }
    let n_total = xs.len() as f64;
    let obj = GgObjective {
        data: &data,
        cache: SpendCache::new(&data),
        penalizer: pr.penalizer,
        n_total,
    };
    let mean_m = ms.iter().sum::<f64>() / n_total;
    let starts = vec![
        vec![0.0; 3],
        vec![2f64.ln(), 3f64.ln(), (mean_m).ln()],
        vec![6f64.ln(), 4f64.ln(), (mean_m / 2.0).ln()],
    ];
    let settings = OptimSettings {
        max_iterations: pr.max_iterations,
        gradient_tolerance: pr.gradient_tolerance,
    };
    let out = minimize(&obj, &starts, settings, "gamma-gamma")?;
    let th = [out.u[0].exp(), out.u[1].exp(), out.u[2].exp()];
    // The objective's cache serves the log-likelihood and the Hessian's gradient evaluations too.
    let (log_likelihood, _) = weighted_ll_cached(&th, &data, &obj.cache);
    let penalizer = pr.penalizer;
    let std_errors = natural_std_errors(&th, n_total, penalizer, |t| {
        weighted_ll_cached(t, &data, &obj.cache).1
    })
    .map(|se| GammaGammaStdErrors {
        p: se[0],
        q: se[1],
        v: se[2],
    });
    Ok(GammaGammaParams {
        p: th[0],
        q: th[1],
        v: th[2],
        log_likelihood,
        std_errors,
        converged: out.converged,
        grad_norm: out.grad_norm,
        iterations: out.iterations,
        n_customers: xs.len(),
        spend_frequency_correlation: pearson(&xs, &ms),
        penalizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let data = SpendData {
            x: vec![1.0, 2.0, 5.0, 3.0],
            m: vec![10.0, 25.5, 14.2, 40.0],
            w: vec![1.0, 2.0, 1.0, 3.0],
        };
        let obj = GgObjective {
            data: &data,
            cache: SpendCache::new(&data),
            penalizer: 0.001,
            n_total: 7.0,
        };
        let u = [6.25f64.ln(), 3.74f64.ln(), 15.44f64.ln()];
        // The cached evaluation equals the plain per-row sum.
        let th = [6.25, 3.74, 15.44];
        let mut plain_g = [0.0; 3];
        let plain: f64 = (0..4)
            .map(|i| ll_one(&th, data.x[i], data.m[i], data.w[i], &mut plain_g))
            .sum();
        let (cached, cached_g) = weighted_ll(&th, &data);
        assert!((plain - cached).abs() < 1e-9 * plain.abs());
        for k in 0..3 {
            assert!((plain_g[k] - cached_g[k]).abs() < 1e-9 * (1.0 + plain_g[k].abs()));
        }
        let mut g = [0.0; 3];
        obj.eval(&u, &mut g);
        let mut scratch = [0.0; 3];
        for k in 0..3 {
            let (mut up, mut dn) = (u, u);
            up[k] += 1e-6;
            dn[k] -= 1e-6;
            let fd = (obj.eval(&up, &mut scratch) - obj.eval(&dn, &mut scratch)) / 2e-6;
            assert!(
                (fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()),
                "k={k} fd={fd} g={}",
                g[k]
            );
        }
    }

    #[test]
    fn single_transaction_density_by_hand() {
        // x = 1: m ~ Gamma(p, nu), nu ~ Gamma(q, v) → Lomax-like density
        // f(m) = Γ(p+q)/(Γ(p)Γ(q)) v^q m^(p-1) / (v+m)^(p+q). With p = 1, q = 2: 2 v^2 / (v+m)^3.
        let mut g = [0.0; 3];
        let ll = ll_one(&[1.0, 2.0, 3.0], 1.0, 4.0, 1.0, &mut g);
        assert!((ll - (2.0 * 9.0 / 343.0f64).ln()).abs() < 1e-14);
    }

    #[test]
    fn expected_value_shrinks_towards_population_mean() {
        let gg = GammaGammaParams::from_values(6.25, 3.74, 15.44).unwrap();
        let s = CustomerSummaries {
            frequency: vec![0.0, 2.0],
            recency: vec![0.0, 10.0],
            t: vec![5.0, 20.0],
            monetary_value: vec![0.0, 50.0],
        };
        let e = gg.conditional_expected_average_value(&s).unwrap();
        let pop = 6.25 * 15.44 / 2.74;
        assert!((e[0] - pop).abs() < 1e-12);
        let want = 6.25 * (15.44 + 100.0) / (12.5 + 2.74);
        assert!((e[1] - want).abs() < 1e-12);
        assert!(pop < e[1] && e[1] < 50.0);
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-15);
        assert_eq!(pearson(&[1.0, 1.0], &[2.0, 4.0]), None);
    }
}
