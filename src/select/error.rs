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
    /// Under the text id policy, do-not-contact entries match scored customers only when
    /// leading zeros, a `.0` suffix or letter case are ignored: most likely the same customers
    /// written by a spreadsheet, so nothing is published.
    #[error("refusing to select: {count} suppression entries match no scored customer exactly but match one when leading zeros, a `.0` suffix or letter case are ignored (e.g. {examples}); correct the list, or set `[ids] policy = \"numeric\"` if leading zeros are not significant in your ids")]
    SuppressionNearMatch {
        /// Entries concerned.
        count: usize,
        /// A few `entry ~ customer` pairs.
        examples: String,
    },
    /// A score outside the range the objective needs.
    #[error("score column `{column}`, data row {row}: expected a value in [{lo}, {hi}] for objective `{objective}`, found {value}")]
    ScoreOutOfRange {
        column: String,
        /// 1-based data row of the scores table.
        row: usize,
        value: f64,
        lo: f64,
        hi: f64,
        objective: &'static str,
    },
    /// Too many customers without a finite score.
    #[error("score column `{column}`: {missing} of {rows} rows are empty or not finite, above the reject threshold {max_rate}")]
    TooManyMissingScores {
        column: String,
        missing: usize,
        rows: usize,
        max_rate: f64,
    },
}
