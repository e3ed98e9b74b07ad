//! Hyperparameters of the maximum-likelihood fits.

use serde::{Deserialize, Serialize};

use super::error::ClvError;

/// Fit settings shared by BG/NBD and Gamma-Gamma.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitParams {
    /// L2 penalty `c · Σ θ²` on the natural parameters added to the mean negative log-likelihood,
    /// as in lifetimes' `penalizer_coef`. Default 0 (plain maximum likelihood).
    pub penalizer: f64,
    /// Iteration cap per BFGS pass (Nelder–Mead gets 20× this many). Default 1000.
    pub max_iterations: usize,
    /// Convergence threshold on the max-norm of the gradient of the mean penalised negative
    /// log-likelihood with respect to the log-parameters. Default 1e-6: the mean log-likelihood
    /// is of order 1–10, so its gradient cannot be computed much finer than ~1e-8, and a 1e-7
    /// threshold made a fit's success depend on the order customers were summed in (the CDNOW
    /// sample's Gamma-Gamma stalled at 1.18e-7 when customers came sorted by id).
    pub gradient_tolerance: f64,
}

impl Default for FitParams {
    fn default() -> Self {
        FitParams {
            penalizer: 0.0,
            max_iterations: 1000,
            gradient_tolerance: 1e-6,
        }
    }
}

/// [`FitParams`] that passed [`FitParams::check`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedFitParams(FitParams);

impl CheckedFitParams {
    /// The validated settings.
    pub fn get(&self) -> &FitParams {
        &self.0
    }
}

impl FitParams {
    /// Validates: `penalizer` finite and ≥ 0, `max_iterations` ≥ 1, `gradient_tolerance` finite and > 0.
    pub fn check(&self) -> Result<CheckedFitParams, ClvError> {
        if !self.penalizer.is_finite() || self.penalizer < 0.0 {
            return Err(ClvError::InvalidParameter {
                name: "penalizer",
                rule: "a finite value >= 0",
                value: self.penalizer,
            });
        }
        if self.max_iterations == 0 {
            return Err(ClvError::InvalidParameter {
                name: "max_iterations",
                rule: "at least 1",
                value: 0.0,
            });
        }
        if !self.gradient_tolerance.is_finite() || self.gradient_tolerance <= 0.0 {
            return Err(ClvError::InvalidParameter {
                name: "gradient_tolerance",
                rule: "a finite value > 0",
                value: self.gradient_tolerance,
            });
        }
        Ok(CheckedFitParams(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_violated_rule() {
        assert!(FitParams::default().check().is_ok());
        let e = FitParams {
            penalizer: -1.0,
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidParameter {
                name: "penalizer",
                ..
            }
        ));
        let e = FitParams {
            max_iterations: 0,
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidParameter {
                name: "max_iterations",
                ..
            }
        ));
        let e = FitParams {
            gradient_tolerance: 0.0,
            ..Default::default()
        }
        .check()
        .unwrap_err();
        assert!(matches!(
            e,
            ClvError::InvalidParameter {
                name: "gradient_tolerance",
                ..
            }
        ));
    }
}
