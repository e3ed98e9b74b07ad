//! BG/NBD (Fader, Hardie & Lee 2005) likelihood and maximum-likelihood fit.

use serde::{Deserialize, Serialize};

use super::error::ClvError;
use super::fit_params::FitParams;
use super::optim::{minimize, natural_std_errors, Objective, OptimSettings};
use super::parallel::chunked_sum;
use super::special::{digamma, ln_gamma};
use super::summary::{CompressedSummaries, CustomerSummaries};

/// Standard errors of the BG/NBD parameters (natural scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdStdErrors {
    /// s.e. of `r`.
    pub r: f64,
    /// s.e. of `alpha`.
    pub alpha: f64,
    /// s.e. of `a`.
    pub a: f64,
    /// s.e. of `b`.
    pub b: f64,
}

/// Fitted (or given) BG/NBD parameters with fit diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BgNbdParams {
    /// Shape of the gamma heterogeneity of purchase rates.
    pub r: f64,
    /// Scale of the gamma heterogeneity of purchase rates (in the time unit).
    pub alpha: f64,
    /// Beta shape a of the dropout probability.
    pub a: f64,
    /// Beta shape b of the dropout probability.
    pub b: f64,
    /// Sum over customers of the (unpenalised) log-likelihood at the estimate (NaN when the
    /// parameters were given rather than fitted).
    pub log_likelihood: f64,
    /// From the inverse numerical Hessian of the negative log-likelihood; `None` when the
    /// Hessian is not positive definite (or the parameters were given, not fitted).
    pub std_errors: Option<BgNbdStdErrors>,
    /// True when the gradient tolerance was met (fits that miss it return an error instead).
    pub converged: bool,
    /// Max-norm of the gradient of the mean penalised objective w.r.t. log-parameters.
    pub grad_norm: f64,
    /// Optimizer iterations along the winning path.
    pub iterations: usize,
    /// Customers used in the fit.
    pub n_customers: usize,
    /// Penalizer used in the fit.
    pub penalizer: f64,
}

impl BgNbdParams {
    /// Parameters given from outside (e.g. published values); no fit diagnostics.
    pub fn from_values(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ClvError> {
        for (name, value) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !value.is_finite() || value <= 0.0 {
                return Err(ClvError::InvalidParameter {
                    name,
                    rule: "a finite value > 0",
                    value,
                });
            }
        }
        Ok(BgNbdParams {
            r,
            alpha,
            a,
            b,
            log_likelihood: f64::NAN,
            std_errors: None,
            converged: true,
            grad_norm: 0.0,
            iterations: 0,
            n_customers: 0,
            penalizer: 0.0,
        })
    }

    /// `[r, alpha, a, b]`.
    pub fn theta(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }
}

/// The x-dependent part of one customer's log-likelihood and gradient: A1 + A2 and the
/// derivatives of A1 + A2 w.r.t. (r, a, b) (alpha's is r/alpha for everyone).
#[derive(Clone, Copy)]
struct XTerms {
    a12: f64,
    d_r: f64,
    d_a: f64,
    d_b: f64,
    /// ln(b + x − 1) (unused for x = 0).
    ln_bx1: f64,
}

/// Per-evaluation constants. Frequencies are integers and few distinct values occur, so the
/// ln Γ / ψ terms of each x are tabulated once per evaluation instead of once per row.
struct Consts {
    lg_r: f64,
    lg_b: f64,
    lg_ab: f64,
    dg_r: f64,
    dg_b: f64,
    dg_ab: f64,
    ln_alpha: f64,
    ln_a: f64,
    table: Vec<XTerms>,
}

/// Frequencies are tabulated up to max(this, number of rows); beyond, terms are computed per row.
const MIN_TABLE: usize = 1_000;

impl Consts {
    fn new(th: &[f64; 4], max_x: f64, n_rows: usize) -> Self {
        let [r, _, a, b] = *th;
        let mut c = Consts {
            lg_r: ln_gamma(r),
            lg_b: ln_gamma(b),
            lg_ab: ln_gamma(a + b),
            dg_r: digamma(r),
            dg_b: digamma(b),
            dg_ab: digamma(a + b),
            ln_alpha: th[1].ln(),
            ln_a: a.ln(),
            table: Vec::new(),
        };
        if max_x <= MIN_TABLE.max(n_rows) as f64 {
            c.table = (0..=max_x as usize)
                .map(|x| c.direct(th, x as f64))
                .collect();
        }
        c
    }

    fn direct(&self, th: &[f64; 4], x: f64) -> XTerms {
        let [r, _, a, b] = *th;
        let dg_abx = digamma(a + b + x);
        XTerms {
            a12: ln_gamma(r + x) - self.lg_r + r * self.ln_alpha + self.lg_ab + ln_gamma(b + x)
                - self.lg_b
                - ln_gamma(a + b + x),
            d_r: digamma(r + x) - self.dg_r + self.ln_alpha,
            d_a: self.dg_ab - dg_abx,
            d_b: self.dg_ab + digamma(b + x) - self.dg_b - dg_abx,
            ln_bx1: (b + x - 1.0).ln(),
        }
    }

    fn terms(&self, th: &[f64; 4], x: f64) -> XTerms {
        match self.table.get(x as usize) {
            Some(t) if x == x.floor() => *t,
            _ => self.direct(th, x),
        }
    }
}

/// One customer (row) of the likelihood: x, tx, T and the precomputed ln(α + tx), ln(α + T).
struct Row {
    x: f64,
    tx: f64,
    t: f64,
    ln_atx: f64,
    ln_at: f64,
    weight: f64,
}

/// One customer's log-likelihood; adds `weight ×` its gradient w.r.t. (r, alpha, a, b) to `grad`.
///
/// ln L = A1 + A2 + ln(e^A3 + δ(x>0) e^A4) with lifetimes' A-terms; the two-term sum goes through
/// log-sum-exp because both terms underflow for heavy, long-tenured buyers.
fn customer_ll(th: &[f64; 4], c: &Consts, row: &Row, grad: &mut [f64; 4]) -> f64 {
    let [r, alpha, a, b] = *th;
    let Row {
        x,
        tx,
        t,
        ln_atx,
        ln_at,
        weight,
    } = *row;
    let xt = c.terms(th, x);
    let a3 = -(r + x) * ln_at;
    let mut d = [xt.d_r, r / alpha, xt.d_a, xt.d_b];
    let (lse, w3) = if x > 0.0 {
        let a4 = c.ln_a - xt.ln_bx1 - (r + x) * ln_atx;
        // Only the smaller term needs an exponential: e^(small − large) ∈ (0, 1].
        let e = (-(a3 - a4).abs()).exp();
        let (w3, lse) = if a3 >= a4 {
            (1.0 / (1.0 + e), a3 + e.ln_1p())
        } else {
            (e / (1.0 + e), a4 + e.ln_1p())
        };
        let w4 = 1.0 - w3;
        d[0] += -w4 * ln_atx;
        d[1] += -w4 * (r + x) / (alpha + tx);
        d[2] += w4 / a;
        d[3] += -w4 / (b + x - 1.0);
        (lse, w3)
    } else {
        (a3, 1.0)
    };
    d[0] += -w3 * ln_at;
    d[1] += -w3 * (r + x) / (alpha + t);
    for k in 0..4 {
        grad[k] += weight * d[k];
    }
    weight * (xt.a12 + lse)
}

fn max_of(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| m.max(*x))
}

/// Σ weight × log-likelihood over a compressed histogram, and its gradient in natural parameters.
pub(crate) fn weighted_ll(th: &[f64; 4], data: &CompressedSummaries) -> (f64, [f64; 4]) {
    let c = Consts::new(th, max_of(&data.frequency), data.len());
    let alpha = th[1];
    let ln_levels = |levels: &[f64]| {
        levels
            .iter()
            .map(|v| (alpha + v).ln())
            .collect::<Vec<f64>>()
    };
    let (ln_rec, ln_t) = (ln_levels(&data.recency_levels), ln_levels(&data.t_levels));
    chunked_sum(data.len(), |i, g| {
        let row = Row {
            x: data.frequency[i],
            tx: data.recency[i],
            t: data.t[i],
            ln_atx: ln_rec[data.recency_code[i] as usize],
            ln_at: ln_t[data.t_code[i] as usize],
            weight: data.weight[i],
        };
        customer_ll(th, &c, &row, g)
    })
}

/// Sum of the BG/NBD log-likelihood over all customers (one term per customer, no compression).
pub fn bgnbd_log_likelihood(params: &BgNbdParams, s: &CustomerSummaries) -> Result<f64, ClvError> {
    s.check()?;
    let th = params.theta();
    let c = Consts::new(&th, max_of(&s.frequency), s.len());
    let alpha = th[1];
    Ok(chunked_sum(s.len(), |i, g: &mut [f64; 4]| {
        let row = Row {
            x: s.frequency[i],
            tx: s.recency[i],
            t: s.t[i],
            ln_atx: (alpha + s.recency[i]).ln(),
            ln_at: (alpha + s.t[i]).ln(),
            weight: 1.0,
        };
        customer_ll(&th, &c, &row, g)
    })
    .0)
}

/// Mean penalised negative log-likelihood on log-parameters (what the optimizer sees).
pub(crate) struct BgNbdObjective<'a> {
    pub data: &'a CompressedSummaries,
    pub penalizer: f64,
    pub n_total: f64,
}

impl Objective for BgNbdObjective<'_> {
    fn dim(&self) -> usize {
        4
    }

    fn eval(&self, u: &[f64], grad: &mut [f64]) -> f64 {
        let th = [u[0].exp(), u[1].exp(), u[2].exp(), u[3].exp()];
        if th.iter().any(|v| !v.is_finite() || *v <= 0.0) {
            return f64::INFINITY;
        }
        let (ll, d) = weighted_ll(&th, self.data);
        let mut f = -ll / self.n_total;
        for k in 0..4 {
            f += self.penalizer * th[k] * th[k];
            grad[k] = th[k] * (-d[k] / self.n_total + 2.0 * self.penalizer * th[k]);
        }
        f
    }
}

/// Fits BG/NBD by maximum likelihood on the compressed histogram of `(frequency, recency, t)`.
///
/// BFGS runs from lifetimes' start (all ones) and two data-scaled starts; the best path is
/// polished by Nelder–Mead + BFGS when needed; missing the gradient tolerance is an error.
pub fn fit_bgnbd(s: &CustomerSummaries, params: &FitParams) -> Result<BgNbdParams, ClvError> {
    let checked = params.check()?;
    let p = checked.get();
    s.check()?;
    let repeaters = s.frequency.iter().filter(|&&x| x > 0.0).count();
    if s.len() < 2 || repeaters == 0 {
        return Err(ClvError::TooFewCustomers {
            model: "bg/nbd (customers with frequency > 0)",
            expected: 1,
            found: repeaters,
        });
    }
    let data = CompressedSummaries::from_summaries(s);
    let n_total = s.len() as f64;
    let obj = BgNbdObjective {
        data: &data,
        penalizer: p.penalizer,
        n_total,
    };
    let mean_t = s.t.iter().sum::<f64>() / n_total;
    let mean_x = (s.frequency.iter().sum::<f64>() / n_total).max(0.1);
    let ln = |v: [f64; 4]| v.iter().map(|x| x.ln()).collect::<Vec<f64>>();
    let starts = vec![
        vec![0.0; 4],
        ln([0.5, 0.5 * mean_t / mean_x, 0.8, 2.5]),
        ln([2.0, 2.0 * mean_t / mean_x, 2.0, 5.0]),
    ];
    let settings = OptimSettings {
        max_iterations: p.max_iterations,
        gradient_tolerance: p.gradient_tolerance,
    };
    let out = minimize(&obj, &starts, settings, "bg/nbd")?;
    let th = [
        out.u[0].exp(),
        out.u[1].exp(),
        out.u[2].exp(),
        out.u[3].exp(),
    ];
    let (log_likelihood, _) = weighted_ll(&th, &data);
    let penalizer = p.penalizer;
    let std_errors =
        natural_std_errors(&th, n_total, penalizer, |t| weighted_ll(t, &data).1).map(|se| {
            BgNbdStdErrors {
                r: se[0],
                alpha: se[1],
                a: se[2],
                b: se[3],
            }
        });
    Ok(BgNbdParams {
        r: th[0],
        alpha: th[1],
        a: th[2],
        b: th[3],
        log_likelihood,
        std_errors,
        converged: out.converged,
        grad_norm: out.grad_norm,
        iterations: out.iterations,
        n_customers: s.len(),
        penalizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> CustomerSummaries {
        CustomerSummaries {
            frequency: vec![0.0, 2.0, 5.0, 1.0, 0.0, 2.0, 3.0, 2.0, 0.0, 7.0],
            recency: vec![0.0, 30.43, 20.0, 3.0, 0.0, 30.43, 35.0, 10.0, 0.0, 36.0],
            t: vec![
                38.86, 38.86, 37.0, 25.0, 30.0, 38.86, 36.0, 33.0, 20.0, 38.0,
            ],
            monetary_value: vec![],
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let data = CompressedSummaries::from_summaries(&toy());
        let obj = BgNbdObjective {
            data: &data,
            penalizer: 0.01,
            n_total: 10.0,
        };
        let u = [0.243f64.ln(), 4.414f64.ln(), 0.793f64.ln(), 2.426f64.ln()];
        let mut g = [0.0; 4];
        obj.eval(&u, &mut g);
        for k in 0..4 {
            let h = 1e-6;
            let (mut up, mut dn) = (u, u);
            up[k] += h;
            dn[k] -= h;
            let mut scratch = [0.0; 4];
            let fd = (obj.eval(&up, &mut scratch) - obj.eval(&dn, &mut scratch)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() < 1e-7 * (1.0 + fd.abs()),
                "k={k} fd={fd} g={}",
                g[k]
            );
        }
    }

    #[test]
    fn single_customer_likelihood_by_hand() {
        // x = 0: L = B(a, b)/B(a, b) · (alpha/(alpha+T))^r.
        let p = BgNbdParams::from_values(0.5, 2.0, 1.0, 3.0).unwrap();
        let one = |x: f64, tx: f64, t: f64| CustomerSummaries {
            frequency: vec![x],
            recency: vec![tx],
            t: vec![t],
            monetary_value: vec![],
        };
        let ll = bgnbd_log_likelihood(&p, &one(0.0, 0.0, 8.0)).unwrap();
        assert!((ll - 0.5 * (2.0f64 / 10.0).ln()).abs() < 1e-14);
        // x = 1, tx = 2, T = 8, a = 1, b = 3:
        // B(1,4)/B(1,3) = 3/4; B(2,3)/B(1,3) = (1/12)/(1/3) = 1/4; Γ(1.5)/Γ(0.5) = 0.5.
        let want = (0.5 * 2f64.sqrt() * (0.75 * 10f64.powf(-1.5) + 0.25 * 4f64.powf(-1.5))).ln();
        let ll = bgnbd_log_likelihood(&p, &one(1.0, 2.0, 8.0)).unwrap();
        assert!((ll - want).abs() < 1e-13, "{ll} vs {want}");
    }

    #[test]
    fn compressed_likelihood_equals_uncompressed_sum() {
        let s = toy();
        let p = BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap();
        let full = bgnbd_log_likelihood(&p, &s).unwrap();
        let data = CompressedSummaries::from_summaries(&s);
        assert!(data.len() < s.len());
        let (compressed, _) = weighted_ll(&p.theta(), &data);
        assert!(
            (full - compressed).abs() < 1e-10 * full.abs(),
            "{full} vs {compressed}"
        );
    }

    #[test]
    fn fit_rejects_data_without_repeat_buyers() {
        let s = CustomerSummaries {
            frequency: vec![0.0, 0.0],
            recency: vec![0.0, 0.0],
            t: vec![3.0, 4.0],
            monetary_value: vec![],
        };
        assert!(matches!(
            fit_bgnbd(&s, &FitParams::default()),
            Err(ClvError::TooFewCustomers { .. })
        ));
    }

    #[test]
    fn too_few_iterations_is_an_error() {
        let e = fit_bgnbd(
            &toy(),
            &FitParams {
                max_iterations: 1,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ClvError::NotConverged {
                    model: "bg/nbd",
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
