//! Campaign configuration: the TOML a planner writes, and its validation.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::select::SelectError;

/// A whole campaign file. Unknown keys anywhere are an error, so typos do not silently fall back
/// to defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignConfig {
    /// `[campaign]`: budget, objective, value, limits, control group.
    pub campaign: Campaign,
    /// `[[channel]]`: one or more contact channels; candidate vectors are aligned with this order.
    #[serde(rename = "channel")]
    pub channels: Vec<ChannelConfig>,
    /// `[eligibility]`: optional segment filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<Eligibility>,
    /// `[suppression]`: optional suppression files (resolved by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<SuppressionConfig>,
    /// `[contact_policy]`: optional cooldown and frequency cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_policy: Option<ContactPolicy>,
    /// `[export]`: optional activation files (see [`crate::export`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<crate::export::ExportConfig>,
}

/// What the selection maximizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Score is a response probability; profit = score × value − cost; maximize total profit.
    Profit,
    /// Score is a response probability; maximize expected responders (Σ score); profit is
    /// still computed, reported and subject to `min_expected_profit`.
    Responses,
    /// Score is an uplift (incremental response probability); profit = uplift × value − cost.
    UpliftProfit,
}

impl Objective {
    /// The name used in the TOML file.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Profit => "profit",
            Objective::Responses => "responses",
            Objective::UpliftProfit => "uplift_profit",
        }
    }
}

/// The `[campaign]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign name, reported in the summary.
    pub name: String,
    /// Spend limit of the target (contacted) group; the control group costs nothing.
    pub budget: f64,
    /// What to maximize.
    pub objective: Objective,
    /// Value of one response, same for every customer. Exactly one of this and `value_column`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_per_response: Option<f64>,
    /// Column of the scores table holding a per-customer value (e.g. CLV); the caller resolves it
    /// into [`crate::select::Candidate::value`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_column: Option<String>,
    /// Customers whose best expected profit is below this are not contacted. Default 0.
    #[serde(default)]
    pub min_expected_profit: f64,
    /// At most this many customers are contacted (target group; control is not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_audience: Option<usize>,
    /// Share of the audience held out as a never-contacted control group, in `[0, 0.5]`. Default 0.
    #[serde(default)]
    pub control_fraction: f64,
    /// Seed of the control draw. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Day the campaign goes out, `YYYY-MM-DD` (recorded in the ledger; responses are counted
    /// after it). Default: the run's as-of date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_date: Option<String>,
    /// Days after the send date in which a purchase counts as a response. Default 14.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_window_days: Option<u32>,
}

/// Days after the send date in which a purchase counts as a response, by default.
pub const RESPONSE_WINDOW_DAYS_DEFAULT: u32 = 14;

impl Campaign {
    /// The parsed `send_date`, if given.
    pub fn send_date(&self) -> Result<Option<NaiveDate>, SelectError> {
        self.send_date
            .as_deref()
            .map(|t| parse_date("campaign.send_date", t))
            .transpose()
    }

    /// `response_window_days` or its default.
    pub fn response_window_days(&self) -> u32 {
        self.response_window_days
            .unwrap_or(RESPONSE_WINDOW_DAYS_DEFAULT)
    }
}

fn parse_date(key: &str, text: &str) -> Result<NaiveDate, SelectError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| invalid(key, "a date formatted YYYY-MM-DD", format!("{text:?}")))
}

fn default_score_column() -> String {
    "score".to_string()
}

fn default_segment_column() -> String {
    "segment".to_string()
}

/// One `[[channel]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Channel name, unique, used in the audience file.
    pub name: String,
    /// Cost of one contact on this channel.
    pub cost: f64,
    /// Column of the scores table with this channel's score. Default `"score"`.
    #[serde(default = "default_score_column")]
    pub score_column: String,
    /// Column holding the consent flag; omitted means no consent check for this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_column: Option<String>,
    /// At most this many target contacts on this channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<usize>,
}

/// The `[eligibility]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// If non-empty, only customers whose segment is listed are eligible (a missing segment is
    /// then not eligible). Empty means every segment.
    #[serde(default)]
    pub include_segments: Vec<String>,
    /// Customers whose segment is listed are not eligible.
    #[serde(default)]
    pub exclude_segments: Vec<String>,
    /// Column holding the segment label. Default `"segment"`.
    #[serde(default = "default_segment_column")]
    pub segment_column: String,
}

/// The `[suppression]` table; files are read by the caller (`customer_id[, channel][, reason]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionConfig {
    /// Suppression list files.
    pub files: Vec<String>,
}

/// The `[contact_policy]` table. Contacts on any channel count for both rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPolicy {
    /// Contact history file, read by the caller. Optional: the ledger's contacts count too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Reference date, `YYYY-MM-DD`; contacts dated after it are ignored. Default: the
    /// campaign's `send_date`, else the run's as-of date (`bullseye run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// No contact if a past contact has `date > as_of − cooldown_days` (and `date ≤ as_of`).
    /// Omitted or 0: no cooldown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_days: Option<u32>,
    /// No contact if the customer already has this many contacts with
    /// `as_of − window_days < date ≤ as_of`. Omitted: no cap. Requires `window_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_contacts: Option<u32>,
    /// Length of the frequency-cap window in days, counting `as_of` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

impl ContactPolicy {
    /// The parsed `as_of` date.
    pub fn as_of_date(&self) -> Result<NaiveDate, SelectError> {
        match &self.as_of {
            Some(t) => parse_date("contact_policy.as_of", t),
            None => Err(invalid(
                "contact_policy.as_of",
                "a date formatted YYYY-MM-DD (or `campaign.send_date`, or a run's as-of date)",
                "none",
            )),
        }
    }
}

fn invalid(
    key: impl Into<String>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> SelectError {
    SelectError::InvalidConfig {
        key: key.into(),
        expected: expected.into(),
        found: found.into(),
    }
}

fn finite_non_negative(key: &str, v: f64) -> Result<(), SelectError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(invalid(key, "a finite number ≥ 0", v.to_string()))
    }
}

impl CampaignConfig {
    /// Fills the dates the file leaves to the run: `send_date` (default `as_of`) and the contact
    /// policy's `as_of` (default the send date).
    pub fn default_dates(&mut self, as_of: NaiveDate) -> Result<NaiveDate, SelectError> {
        let send = self.campaign.send_date()?.unwrap_or(as_of);
        self.campaign.send_date = Some(send.format("%Y-%m-%d").to_string());
        if let Some(p) = &mut self.contact_policy {
            p.as_of
                .get_or_insert_with(|| send.format("%Y-%m-%d").to_string());
        }
        Ok(send)
    }

    /// Parse and [`check`](Self::check) a campaign TOML document.
    pub fn from_toml_str(text: &str) -> Result<CampaignConfig, SelectError> {
        let config: CampaignConfig = toml::from_str(text).map_err(|e| SelectError::Toml {
            message: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Validate every rule; the error names the first violated key.
    pub fn check(&self) -> Result<(), SelectError> {
        let c = &self.campaign;
        if c.name.trim().is_empty() {
            return Err(invalid("campaign.name", "a non-empty name", "\"\""));
        }
        finite_non_negative("campaign.budget", c.budget)?;
        match (&c.value_per_response, &c.value_column) {
            (Some(v), None) => finite_non_negative("campaign.value_per_response", *v)?,
            (None, Some(col)) if col.trim().is_empty() => {
                return Err(invalid(
                    "campaign.value_column",
                    "a non-empty column name",
                    "\"\"",
                ))
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "campaign.value_per_response",
                    "exactly one of value_per_response and value_column",
                    "both",
                ))
            }
            (None, None) => {
                return Err(invalid(
                    "campaign.value_per_response",
                    "exactly one of value_per_response and value_column",
                    "neither",
                ))
            }
        }
        if !c.min_expected_profit.is_finite() {
            return Err(invalid(
                "campaign.min_expected_profit",
                "a finite number",
                c.min_expected_profit.to_string(),
            ));
        }
        c.send_date()?;
        if c.response_window_days == Some(0) {
            return Err(invalid("campaign.response_window_days", "at least 1", "0"));
        }
        if c.max_audience == Some(0) {
            return Err(invalid("campaign.max_audience", "at least 1", "0"));
        }
        if !(c.control_fraction.is_finite() && (0.0..=0.5).contains(&c.control_fraction)) {
            return Err(invalid(
                "campaign.control_fraction",
                "a fraction in [0, 0.5]",
                c.control_fraction.to_string(),
            ));
        }
        if self.channels.is_empty() {
            return Err(invalid("channel", "at least one [[channel]]", "none"));
        }
        for (i, ch) in self.channels.iter().enumerate() {
            if ch.name.trim().is_empty() {
                return Err(invalid(
                    format!("channel[{i}].name"),
                    "a non-empty name",
                    "\"\"",
                ));
            }
            if self.channels[..i].iter().any(|o| o.name == ch.name) {
                return Err(invalid(
                    format!("channel[{i}].name"),
                    "a name not used by another channel",
                    format!("{:?}", ch.name),
                ));
            }
            finite_non_negative(&format!("channel[{i}].cost"), ch.cost)?;
            if ch.score_column.trim().is_empty() {
                return Err(invalid(
                    format!("channel[{i}].score_column"),
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        if let Some(e) = &self.eligibility {
            if e.segment_column.trim().is_empty() {
                return Err(invalid(
                    "eligibility.segment_column",
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        if let Some(e) = &self.export {
            e.check()?;
        }
        if let Some(p) = &self.contact_policy {
            if p.as_of.is_some() {
                p.as_of_date()?;
            }
            match (p.max_contacts, p.window_days) {
                (Some(0), _) => {
                    return Err(invalid("contact_policy.max_contacts", "at least 1", "0"));
                }
                (Some(_), None) => {
                    return Err(invalid(
                        "contact_policy.window_days",
                        "a window when max_contacts is set",
                        "none",
                    ));
                }
                (_, Some(0)) => {
                    return Err(invalid("contact_policy.window_days", "at least 1", "0"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Value of a response for a candidate: the campaign-wide `value_per_response`, or the
    /// candidate's own value when `value_column` is used (None if missing or not finite).
    pub fn response_value(&self, candidate_value: Option<f64>) -> Option<f64> {
        match self.campaign.value_per_response {
            Some(v) => Some(v),
            None => candidate_value.filter(|v| v.is_finite()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
[campaign]
name = "spring-email"
budget = 20000.0
objective = "profit"
value_per_response = 45.0
min_expected_profit = 0.0
max_audience = 100000
control_fraction = 0.10
seed = 7
[[channel]]
name = "email"
cost = 0.10
score_column = "score"
consent_column = "email_opt_in"
capacity = 500000
[eligibility]
include_segments = ["champions", "loyal"]
exclude_segments = []
segment_column = "rfm_segment"
[suppression]
files = ["suppressed.csv"]
[contact_policy]
history = "contacts.csv"
as_of = "2026-11-22"
cooldown_days = 14
max_contacts = 4
window_days = 30
"#;

    #[test]
    fn parses_the_documented_example() {
        let c = CampaignConfig::from_toml_str(EXAMPLE).unwrap();
        assert_eq!(c.campaign.budget, 20000.0);
        assert_eq!(c.campaign.objective, Objective::Profit);
        assert_eq!(c.campaign.max_audience, Some(100000));
        assert_eq!(c.channels.len(), 1);
        assert_eq!(c.channels[0].capacity, Some(500000));
        let p = c.contact_policy.as_ref().unwrap();
        assert_eq!(
            p.as_of_date().unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
        assert_eq!(c.eligibility.unwrap().segment_column, "rfm_segment");
    }

    #[test]
    fn defaults_apply() {
        let c = CampaignConfig::from_toml_str(
            "[campaign]\nname='x'\nbudget=1.0\nobjective='uplift_profit'\nvalue_column='clv'\n[[channel]]\nname='sms'\ncost=0.5\n",
        )
        .unwrap();
        assert_eq!(c.campaign.min_expected_profit, 0.0);
        assert_eq!(c.campaign.control_fraction, 0.0);
        assert_eq!(c.campaign.seed, 0);
        assert_eq!(c.channels[0].score_column, "score");
        assert_eq!(c.channels[0].consent_column, None);
        assert_eq!(c.campaign.objective, Objective::UpliftProfit);
    }

    #[test]
    fn send_date_and_the_policy_as_of_default_to_the_run_and_bad_dates_name_the_key() {
        let no_dates = EXAMPLE.replace("as_of = \"2026-11-22\"\n", "");
        let mut c = CampaignConfig::from_toml_str(&no_dates).unwrap();
        assert_eq!(c.campaign.response_window_days(), 14);
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(c.default_dates(d).unwrap(), d);
        let p = c.contact_policy.as_ref().unwrap();
        assert_eq!(p.as_of_date().unwrap(), d);
        let sent = EXAMPLE.replace("seed = 7", "seed = 7\nsend_date = \"2026-02-01\"");
        let mut c = CampaignConfig::from_toml_str(&sent).unwrap();
        // The file's dates win over the run's.
        assert_eq!(c.default_dates(d).unwrap().to_string(), "2026-02-01");
        assert_eq!(
            c.contact_policy.unwrap().as_of.as_deref(),
            Some("2026-11-22")
        );
        for (bad, key) in [
            ("send_date = \"01/02/2026\"", "campaign.send_date"),
            ("response_window_days = 0", "campaign.response_window_days"),
        ] {
            let text = EXAMPLE.replace("seed = 7", &format!("seed = 7\n{bad}"));
            match CampaignConfig::from_toml_str(&text) {
                Err(SelectError::InvalidConfig { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        let bad = EXAMPLE.replace("seed = 7", "seed = 7\nsede = 8");
        match CampaignConfig::from_toml_str(&bad) {
            Err(SelectError::Toml { message }) => assert!(message.contains("sede"), "{message}"),
            other => panic!("{other:?}"),
        }
        let bad = EXAMPLE.replace("cooldown_days = 14", "cooldown = 14");
        assert!(matches!(
            CampaignConfig::from_toml_str(&bad),
            Err(SelectError::Toml { .. })
        ));
        let bad = EXAMPLE.replace("[suppression]", "[supression]");
        assert!(matches!(
            CampaignConfig::from_toml_str(&bad),
            Err(SelectError::Toml { .. })
        ));
    }

    fn key_of(text: &str) -> String {
        match CampaignConfig::from_toml_str(text) {
            Err(SelectError::InvalidConfig { key, .. }) => key,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn check_names_the_key() {
        assert_eq!(
            key_of(&EXAMPLE.replace("budget = 20000.0", "budget = -1.0")),
            "campaign.budget"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace(
                "value_per_response = 45.0",
                "value_per_response = 45.0\nvalue_column = 'clv'"
            )),
            "campaign.value_per_response"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("value_per_response = 45.0", "")),
            "campaign.value_per_response"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("control_fraction = 0.10", "control_fraction = 0.9")),
            "campaign.control_fraction"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("cost = 0.10", "cost = -0.1")),
            "channel[0].cost"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("2026-11-22", "22/11/2026")),
            "contact_policy.as_of"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("window_days = 30", "")),
            "contact_policy.window_days"
        );
        assert_eq!(
            key_of(&EXAMPLE.replace("max_audience = 100000", "max_audience = 0")),
            "campaign.max_audience"
        );
        let two = EXAMPLE.replace(
            "[eligibility]",
            "[[channel]]\nname = \"email\"\ncost = 1.0\n[eligibility]",
        );
        assert_eq!(key_of(&two), "channel[1].name");
    }
}
