//! The one error type of the CLV module.

use thiserror::Error;

/// Everything that can go wrong while validating summaries, fitting or predicting.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClvError {
    /// The parallel summary columns do not all have the same length.
    #[error("summary column `{column}` must have {expected} values, found {found}")]
    LengthMismatch {
        /// Offending column.
        column: &'static str,
        /// Length of `frequency`.
        expected: usize,
        /// Length of the offending column.
        found: usize,
    },
    /// A summary value breaks one of the BTYD conventions.
    #[error("invalid `{column}` at row {row}: expected {rule}, found {value}")]
    InvalidValue {
        /// Offending column.
        column: &'static str,
        /// Row index (customer position).
        row: usize,
        /// The rule that was violated.
        rule: &'static str,
        /// The value found.
        value: f64,
    },
    /// Not enough usable customers to fit a model.
    #[error("{model} needs at least {expected} usable customers, found {found}")]
    TooFewCustomers {
        /// Model being fitted.
        model: &'static str,
        /// Minimum required.
        expected: usize,
        /// Number available.
        found: usize,
    },
    /// A hyperparameter, model parameter or prediction argument is out of range.
    #[error("invalid parameter `{name}`: expected {rule}, found {value}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The rule that was violated.
        rule: &'static str,
        /// The value found.
        value: f64,
    },
    /// The optimizer did not reach the gradient tolerance.
    #[error("{model} fit did not converge: expected gradient norm <= {tolerance:e}, found {grad_norm:e} after {iterations} iterations")]
    NotConverged {
        /// Model being fitted.
        model: &'static str,
        /// Final max-norm of the gradient (mean objective, log-parameters).
        grad_norm: f64,
        /// Iterations spent over all optimizer passes of the best path.
        iterations: usize,
        /// Required tolerance.
        tolerance: f64,
    },
    /// A special function or prediction could not be evaluated to full precision.
    #[error("numerical failure in {what}: {detail}")]
    Numerical {
        /// What was being computed.
        what: &'static str,
        /// Details (arguments, reason).
        detail: String,
    },
}

impl ClvError {
    /// Whether the error is about the caller's data, settings or model file (exit code 2)
    /// rather than a failure of the fit or of the code (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ClvError::InvalidParameter { .. }
                | ClvError::InvalidValue { .. }
                | ClvError::TooFewCustomers { .. }
        )
    }
}
