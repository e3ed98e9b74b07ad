//! The plan policy: the rules that couple campaigns, written as `[policy]` in a TOML file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::PlanError;

/// A policy file: one `[policy]` table (the same table a job will hold). Unknown keys anywhere
/// are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// The policy.
    #[serde(default)]
    pub policy: PlanPolicy,
}

/// What the campaigns of one plan share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanPolicy {
    /// At most this many contacts per customer in this plan, over every campaign and channel.
    /// Default 1: nobody is contacted twice.
    #[serde(default = "one")]
    pub max_contacts: usize,
    /// `[policy.max_per_channel]`: at most this many contacts per customer on a channel (by the
    /// channel names of the campaign files), e.g. `email = 1`. Channels not listed: only
    /// `max_contacts` applies.
    #[serde(default)]
    pub max_per_channel: BTreeMap<String, usize>,
    /// Pairs of campaign names never sent to the same customer, e.g.
    /// `conflicts = [["spring-email", "summer-sale"]]`.
    #[serde(default)]
    pub conflicts: Vec<[String; 2]>,
    /// `[[policy.shared]]`: limits shared by a group of campaigns, on top of each campaign's own.
    #[serde(default)]
    pub shared: Vec<SharedLimit>,
    /// At least this many days between two contacts of a customer, counting the past contacts
    /// (each campaign's `[contact_policy] history`) and this plan's sends (on each campaign's
    /// `send_date`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_days: Option<u32>,
    /// `[[policy.frequency]]`: at most `max_contacts` contacts of a customer in any
    /// `window_days` days, past contacts and this plan's sends together.
    #[serde(default)]
    pub frequency: Vec<FrequencyCap>,
    /// `[[policy.conflict]]`: conflict rules on a campaign or one of its channels, with an
    /// optional lag (the table form of `conflicts`).
    #[serde(default)]
    pub conflict: Vec<ConflictRule>,
    /// `[policy.volume]`: per campaign name, `{ min = …, max = … }` target contacts.
    #[serde(default)]
    pub volume: BTreeMap<String, Volume>,
}

/// One `[[policy.frequency]]` cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// Contacts allowed in the window (past and planned).
    pub max_contacts: usize,
    /// Window length in days.
    pub window_days: u32,
}

/// One `[[policy.conflict]]` rule: a customer contacted by `a` (on `a_channel`, if given) is not
/// contacted by `b` (on `b_channel`, if given); with `lag_days`, only when the two campaigns'
/// send dates are less than `lag_days` apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictRule {
    pub a: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_channel: Option<String>,
    pub b: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_days: Option<u32>,
}

/// A campaign's volume bounds (target contacts), on top of its own `max_audience`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// At least this many target contacts; a plan that cannot reach it is an error.
    #[serde(default)]
    pub min: usize,
    /// At most this many target contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

fn one() -> usize {
    1
}

impl Default for PlanPolicy {
    fn default() -> PlanPolicy {
        PlanPolicy {
            max_contacts: one(),
            max_per_channel: BTreeMap::new(),
            conflicts: Vec::new(),
            shared: Vec::new(),
            cooldown_days: None,
            frequency: Vec::new(),
            conflict: Vec::new(),
            volume: BTreeMap::new(),
        }
    }
}

/// One `[[policy.shared]]` entry: a budget and/or per-channel capacities over a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedLimit {
    /// Name, reported with the limit's shadow price.
    pub name: String,
    /// Names of the campaigns the limit covers.
    pub campaigns: Vec<String>,
    /// Spend limit of the group's target contacts together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    /// `[policy.shared.capacity]`: at most this many target contacts of the group on a channel
    /// (by name), e.g. `call = 2000`.
    #[serde(default)]
    pub capacity: BTreeMap<String, usize>,
}

pub(crate) fn invalid(
    key: impl Into<String>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> PlanError {
    PlanError::InvalidPolicy {
        key: key.into(),
        expected: expected.into(),
        found: found.into(),
    }
}

impl PlanPolicy {
    /// Parses a policy file (`[policy]`) and checks what can be checked without the campaigns.
    pub fn from_toml_str(text: &str) -> Result<PlanPolicy, PlanError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PlanError::Toml {
            message: e.to_string(),
        })?;
        file.policy.check(None)?;
        Ok(file.policy)
    }

    /// Checks the policy; with `campaigns` (their names), also that every name it uses is one.
    pub fn check(&self, campaigns: Option<&[&str]>) -> Result<(), PlanError> {
        if self.max_contacts == 0 {
            return Err(invalid("policy.max_contacts", "an integer ≥ 1", "0"));
        }
        let known = |key: String, name: &str| -> Result<(), PlanError> {
            match campaigns {
                Some(names) if !names.contains(&name) => Err(invalid(
                    key,
                    format!("the name of a campaign of the plan ({})", names.join(", ")),
                    format!("{name:?}"),
                )),
                _ => Ok(()),
            }
        };
        for (i, [a, b]) in self.conflicts.iter().enumerate() {
            let key = format!("policy.conflicts[{i}]");
            if a == b {
                return Err(invalid(
                    key,
                    "two different campaigns",
                    format!("{a:?} twice"),
                ));
            }
            known(key.clone(), a)?;
            known(key, b)?;
        }
        for (i, r) in self.conflict.iter().enumerate() {
            let key = format!("policy.conflict[{i}]");
            if r.a == r.b && (r.a_channel.is_none() || r.a_channel == r.b_channel) {
                return Err(invalid(
                    key,
                    "two different campaigns, or two channels of one",
                    format!("{:?} twice", r.a),
                ));
            }
            known(format!("{key}.a"), &r.a)?;
            known(format!("{key}.b"), &r.b)?;
        }
        if self.frequency.len() > crate::plan::timing::MAX_FREQUENCY {
            return Err(invalid(
                "policy.frequency",
                format!("at most {} caps", crate::plan::timing::MAX_FREQUENCY),
                self.frequency.len().to_string(),
            ));
        }
        for (i, f) in self.frequency.iter().enumerate() {
            if f.max_contacts == 0 || f.window_days == 0 {
                return Err(invalid(
                    format!("policy.frequency[{i}]"),
                    "`max_contacts` ≥ 1 and `window_days` ≥ 1",
                    format!("{} and {}", f.max_contacts, f.window_days),
                ));
            }
        }
        for (name, v) in &self.volume {
            let key = format!("policy.volume.{name}");
            known(key.clone(), name)?;
            if v.max.is_some_and(|m| m < v.min) {
                return Err(invalid(
                    key,
                    "`min` ≤ `max`",
                    format!("min {} and max {}", v.min, v.max.unwrap_or(0)),
                ));
            }
        }
        for (i, s) in self.shared.iter().enumerate() {
            let key = format!("policy.shared[{i}]");
            if s.campaigns.is_empty() {
                return Err(invalid(
                    format!("{key}.campaigns"),
                    "at least one campaign",
                    "[]",
                ));
            }
            for c in &s.campaigns {
                known(format!("{key}.campaigns"), c)?;
            }
            if let Some(b) = s.budget {
                if !(b.is_finite() && b >= 0.0) {
                    return Err(invalid(
                        format!("{key}.budget"),
                        "a finite number ≥ 0",
                        b.to_string(),
                    ));
                }
            }
            if s.budget.is_none() && s.capacity.is_empty() {
                return Err(invalid(key, "a `budget` or a `capacity` table", "neither"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key_and_defaults() {
        let p = PlanPolicy::from_toml_str(
            r#"
[policy]
max_contacts = 2
conflicts = [["a", "b"]]
[policy.max_per_channel]
email = 1
[[policy.shared]]
name = "calls"
campaigns = ["a", "b"]
budget = 100.0
[policy.shared.capacity]
call = 20
"#,
        )
        .unwrap();
        assert_eq!(p.max_contacts, 2);
        assert_eq!(p.max_per_channel["email"], 1);
        assert_eq!(p.shared[0].capacity["call"], 20);
        assert_eq!(
            PlanPolicy::from_toml_str("").unwrap(),
            PlanPolicy::default()
        );
        assert_eq!(PlanPolicy::default().max_contacts, 1);
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let e = PlanPolicy::from_toml_str("[policy]\nmax_contact = 2\n").unwrap_err();
        assert!(e.to_string().contains("max_contact"), "{e}");
        let e = PlanPolicy::from_toml_str("[policy]\nmax_contacts = 0\n").unwrap_err();
        assert!(e.to_string().contains("policy.max_contacts"), "{e}");
        let p = PlanPolicy {
            conflicts: vec![["a".into(), "c".into()]],
            ..PlanPolicy::default()
        };
        let e = p.check(Some(&["a", "b"])).unwrap_err().to_string();
        assert!(
            e.contains("policy.conflicts[0]") && e.contains("\"c\""),
            "{e}"
        );
    }

    #[test]
    fn parses_the_rules_over_time_and_volumes() {
        let p = PlanPolicy::from_toml_str(
            r#"
[policy]
cooldown_days = 7
[[policy.frequency]]
max_contacts = 3
window_days = 30
[[policy.conflict]]
a = "x"
b = "y"
b_channel = "mail"
lag_days = 14
[policy.volume]
x = { min = 10, max = 20 }
"#,
        )
        .unwrap();
        assert_eq!(p.cooldown_days, Some(7));
        assert_eq!(p.frequency[0].window_days, 30);
        assert_eq!(p.conflict[0].lag_days, Some(14));
        assert_eq!(p.conflict[0].b_channel.as_deref(), Some("mail"));
        assert_eq!(
            p.volume["x"],
            Volume {
                min: 10,
                max: Some(20)
            }
        );
        for (text, key) in [
            (
                "[[policy.conflict]]\na = \"x\"\nb = \"y\"\nlag = 3\n",
                "lag",
            ),
            (
                "[policy.volume]\nx = { min = 3, max = 2 }\n",
                "policy.volume.x",
            ),
            (
                "[[policy.frequency]]\nmax_contacts = 0\nwindow_days = 3\n",
                "policy.frequency[0]",
            ),
        ] {
            let e = PlanPolicy::from_toml_str(&format!("[policy]\n{text}")).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
    }
}
