//! The one error type of the selector.

use thiserror::Error;

/// Everything that can go wrong while parsing a campaign or selecting an audience.
///
/// Messages are lowercase and name what was expected and what was found, so the CLI can print
/// them unchanged.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SelectError {
    /// The TOML text could not be parsed into the campaign shape (unknown key, wrong type…).
    #[error("invalid campaign toml: {message}")]
    Toml {
        /// Parser message, which names the offending key and line.
        message: String,
    },
    /// A configuration value broke a rule.
    #[error("invalid config `{key}`: expected {expected}, found {found}")]
    InvalidConfig {
        /// Dotted key, e.g. `campaign.budget` or `channel[1].cost`.
        key: String,
        /// The rule that was violated.
        expected: String,
        /// The offending value.
        found: String,
    },
    /// A candidate's per-channel vector does not have one entry per configured channel.
    #[error("candidate `{customer_id}`: expected {expected} {field} entries (one per channel), found {found}")]
    ChannelArity {
        /// Customer concerned.
        customer_id: String,
        /// `scores` or `consent`.
        field: &'static str,
        /// Number of configured channels.
        expected: usize,
        /// Length supplied.
        found: usize,
    },
    /// A candidate refers to a channel index that does not exist.
    #[error("candidate `{customer_id}`: expected a channel index below {n_channels} in {field}, found {found}")]
    ChannelIndex {
        /// Customer concerned.
        customer_id: String,
        /// `suppression` or `contacts`.
        field: &'static str,
        /// Number of configured channels.
        n_channels: usize,
        /// Index supplied.
        found: usize,
    },
    /// Two candidates share an id; every customer must appear once.
    #[error("expected unique customer ids, found `{customer_id}` more than once")]
    DuplicateCustomer {
        /// The repeated id.
        customer_id: String,
    },
    /// Invalid argument of the Hillstrom reference helper.
    #[error("realized incremental value: expected {expected}, found {found}")]
    Evaluation {
        /// What was required.
        expected: String,
        /// What was supplied.
        found: String,
    },
}
