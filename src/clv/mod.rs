//! Customer-lifetime-value models: BG/NBD for purchase counts and dropout, Gamma-Gamma for spend,
//! their predictions, lifetimes-style discounted CLV and a holdout evaluation.
//!
//! The module is pure maths on per-customer summaries ([`CustomerSummaries`], lifetimes'
//! conventions) that the caller computes from transactions; it does no I/O. Fitting works on the
//! compressed histogram of unique `(frequency, recency, T)` triples because the BG/NBD likelihood
//! only depends on those, which makes million-customer fits sub-second. The optimizer (BFGS on
//! log-parameters with analytic gradients, Nelder–Mead fallback, several starts) and the special
//! functions (ln Γ, ψ, 2F1) are implemented here since the allowed dependencies carry none; both
//! are small and tested against closed forms. Parallel sums use fixed chunks so results are
//! bit-identical whatever the thread count.

mod bgnbd;
mod error;
mod evaluate;
mod fit_params;
mod gamma_gamma;
mod model;
mod optim;
mod parallel;
mod predict;
pub mod special;
mod summary;

#[cfg(test)]
mod reference_tests;

pub use bgnbd::{bgnbd_log_likelihood, fit_bgnbd, BgNbdParams, BgNbdStdErrors};
pub use error::ClvError;
pub use evaluate::{evaluate_holdout, AliveDecile, FrequencyBucket, HoldoutReport};
pub use fit_params::{CheckedFitParams, FitParams};
pub use gamma_gamma::{fit_gamma_gamma, GammaGammaParams, GammaGammaStdErrors};
pub use model::{ClvModel, CLV_SCHEMA_VERSION};
pub use predict::{
    customer_lifetime_value, expected_purchases_one, p_alive_one, periods_per_month_for,
    ClvSettings, DEFAULT_ALIVE_THRESHOLD,
};
pub use summary::{CompressedSummaries, CustomerSummaries};
