//! Candidate records: what the caller resolves from the scores table, consent columns,
//! suppression files and contact history before calling the selector.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use smallvec::SmallVec;

/// A candidate's values per channel, aligned with `CampaignConfig::channels`: held inline for up
/// to two channels (a campaign rarely has more), so a million candidates are not two million
/// small allocations to make and free.
pub type PerChannel<T> = SmallVec<[T; 2]>;

/// Suppression state of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Suppression {
    /// Not on any suppression list.
    #[default]
    None,
    /// Suppressed on every channel (a suppression row without a channel).
    AllChannels,
    /// Suppressed on these channels only (indices into the config's channel list).
    Channels(BTreeSet<usize>),
}

/// One past contact from the history file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastContact {
    /// Day of the contact.
    pub date: NaiveDate,
    /// Channel index, if the history records one. Informational only: cooldown and frequency cap
    /// count contacts on every channel, because fatigue is per customer, not per channel.
    pub channel: Option<usize>,
}

/// One customer who might be contacted.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Unique customer id.
    pub customer_id: String,
    /// Score per configured channel, aligned with `CampaignConfig::channels`. `None` (or a
    /// non-finite value) means the score is missing and that channel cannot be used.
    pub scores: PerChannel<Option<f64>>,
    /// Per-customer response value from `value_column`; ignored when `value_per_response` is set.
    /// Missing or non-finite: no profit can be computed (the customer is `unprofitable`).
    pub value: Option<f64>,
    /// Segment label from `eligibility.segment_column`.
    pub segment: Option<String>,
    /// Consent per channel, aligned with the channels. `None`: the channel has no consent column
    /// (consent is assumed); `Some(false)`: the channel may not be used.
    pub consent: PerChannel<Option<bool>>,
    /// Suppression state.
    pub suppression: Suppression,
    /// Past contacts, on any channel.
    pub contacts: Vec<PastContact>,
    /// In the ledger's global control group: held out of every campaign, so that the lift of all
    /// marketing together can be measured against it (`bullseye readout --global`).
    pub global_control: bool,
}

impl Candidate {
    /// A candidate with the given scores, consent assumed everywhere, no suppression, no history.
    pub fn new(customer_id: impl Into<String>, scores: Vec<Option<f64>>) -> Candidate {
        let n = scores.len();
        Candidate {
            customer_id: customer_id.into(),
            scores: PerChannel::from_vec(scores),
            value: None,
            segment: None,
            consent: smallvec::smallvec![None; n],
            suppression: Suppression::None,
            contacts: Vec::new(),
            global_control: false,
        }
    }

    /// Whether channel `c` is suppressed for this customer.
    pub fn is_suppressed_on(&self, c: usize) -> bool {
        match &self.suppression {
            Suppression::None => false,
            Suppression::AllChannels => true,
            Suppression::Channels(set) => set.contains(&c),
        }
    }
}
