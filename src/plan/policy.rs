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

fn invalid(
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
}
