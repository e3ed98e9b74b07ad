//! The merge map: customer records that are one person (same normalised e-mail or phone, or
//! the same name and postcode) are joined by union-find over the customers table; each group
//! keeps one surviving id and every other id of the group maps to it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Deserialize;

use super::normalise;
use crate::ids::canonical_id;

/// `[identity]` of an ingest config or job: which customer values make two records one person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// Keys that make one person: `email`, `phone` (the customers columns of those names, after
    /// the mapping, e.g. `[sources.customers.columns] email = "Email"`).
    #[serde(default, rename = "match")]
    pub match_on: Vec<MatchKey>,
    /// Three customers columns (e.g. `["first_name", "last_name", "postcode"]`) whose values,
    /// all non-empty and equal (case and spacing aside), make one person.
    pub name_postcode: Option<Vec<String>>,
    /// Country code (digits, e.g. `"49"`) of phone numbers written nationally (`030 …`).
    pub default_country_code: Option<String>,
}

/// A key of `[identity] match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKey {
    Email,
    Phone,
}

impl MatchKey {
    /// The customers column holding the key.
    pub fn column(self) -> &'static str {
        match self {
            MatchKey::Email => "email",
            MatchKey::Phone => "phone",
        }
    }

    /// A value as matched under this key.
    pub fn normalise(self, raw: &str, default_country_code: Option<&str>) -> Option<String> {
        match self {
            MatchKey::Email => normalise::email(raw),
            MatchKey::Phone => normalise::phone(raw, default_country_code),
        }
    }
}

impl IdentitySettings {
    /// Whether any rule is configured (no rule: no record is merged).
    pub fn is_active(&self) -> bool {
        !self.match_on.is_empty() || self.name_postcode.is_some()
    }

    /// The rule a config breaks, as a message naming the key.
    pub fn problem(&self) -> Option<String> {
        if let Some(cols) = &self.name_postcode {
            if cols.len() != 3 || cols.iter().any(|c| c.trim().is_empty()) {
                return Some(format!(
                    "`identity.name_postcode`: expected three customers columns such as [\"first_name\", \"last_name\", \"postcode\"], found {cols:?}"
                ));
            }
        }
        if let Some(cc) = &self.default_country_code {
            let digits = !cc.is_empty() && cc.len() <= 3 && cc.bytes().all(|b| b.is_ascii_digit());
            if !digits || cc.starts_with('0') {
                return Some(format!(
                    "`identity.default_country_code`: expected a country code of 1 to 3 digits such as \"49\", found `{cc}`"
                ));
            }
        }
        None
    }

    /// The customers columns the rules read.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.match_on.iter().map(|k| k.column()).collect();
        out.extend(self.name_postcode.iter().flatten().map(String::as_str));
        out
    }
}

/// Why a record was merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MergeRule {
    Email,
    Phone,
    NamePostcode,
}

impl MergeRule {
    pub fn name(self) -> &'static str {
        match self {
            MergeRule::Email => "email",
            MergeRule::Phone => "phone",
            MergeRule::NamePostcode => "name_postcode",
        }
    }
}

/// One customer record's matching values, as read from the customers table.
#[derive(Debug, Clone, Default)]
pub struct CustomerKeys<'a> {
    pub id: &'a str,
    pub signup: Option<NaiveDate>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// The `name_postcode` columns' values, in the configured order.
    pub name_postcode: Vec<Option<&'a str>>,
}

/// Old id → surviving id and the rule that merged it; ids not in the map survive themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeMap {
    moves: BTreeMap<String, (String, MergeRule)>,
}

impl MergeMap {
    /// The id `id` is known by after the merge.
    pub fn survivor<'a>(&'a self, id: &'a str) -> &'a str {
        self.moves.get(id).map_or(id, |(s, _)| s.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    pub fn len(&self) -> usize {
        self.moves.len()
    }

    /// Merged records per rule name (every rule present, zero when unused).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut out: BTreeMap<&'static str, usize> =
            [MergeRule::Email, MergeRule::Phone, MergeRule::NamePostcode]
                .iter()
                .map(|r| (r.name(), 0))
                .collect();
        for (_, rule) in self.moves.values() {
            *out.entry(rule.name()).or_default() += 1;
        }
        out
    }

    /// `(old id, surviving id, rule)` in old-id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, MergeRule)> {
        self.moves
            .iter()
            .map(|(old, (s, r))| (old.as_str(), s.as_str(), *r))
    }

    /// The map as a table `old_id, surviving_id, rule`: ids only, never the matched values.
    pub fn frame(&self) -> PolarsResult<DataFrame> {
        let (mut old, mut survivor, mut rule) = (Vec::new(), Vec::new(), Vec::new());
        for (o, s, r) in self.iter() {
            old.push(o);
            survivor.push(s);
            rule.push(r.name());
        }
        let height = old.len();
        DataFrame::new(
            height,
            vec![
                Column::new("old_id".into(), old),
                Column::new("surviving_id".into(), survivor),
                Column::new("rule".into(), rule),
            ],
        )
    }
}

/// A rule's matching value of a record (`None`: the record cannot match by this rule).
type KeyOf = Box<dyn Fn(&CustomerKeys<'_>) -> Option<String>>;

/// Union-find with path halving; the parent of a root is itself.
struct Groups(Vec<usize>);

impl Groups {
    fn root(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

/// The merge map of a customers table. Values that normalise to nothing (empty, no address, too
/// few digits) never match. The survivor of a group is its earliest signup (records without one
/// last), ties to the smallest canonical id, so the map does not depend on row order. A merged
/// record's rule is the first of email, phone, name_postcode by which it shares a value with
/// another record of its group.
pub fn merge_map(records: &[CustomerKeys<'_>], settings: &IdentitySettings) -> MergeMap {
    let cc = settings.default_country_code.as_deref();
    let mut groups = Groups((0..records.len()).collect());
    let mut rule_of: Vec<Option<MergeRule>> = vec![None; records.len()];
    let mut rules: Vec<(MergeRule, KeyOf)> = Vec::new();
    for key in &settings.match_on {
        let key = *key;
        let (rule, raw): (MergeRule, fn(&CustomerKeys<'_>) -> Option<String>) = match key {
            MatchKey::Email => (MergeRule::Email, |r| r.email.map(str::to_string)),
            MatchKey::Phone => (MergeRule::Phone, |r| r.phone.map(str::to_string)),
        };
        let cc = cc.map(str::to_string);
        rules.push((
            rule,
            Box::new(move |r| raw(r).and_then(|v| key.normalise(&v, cc.as_deref()))),
        ));
    }
    if settings.name_postcode.is_some() {
        rules.push((
            MergeRule::NamePostcode,
            Box::new(|r| {
                let parts: Option<Vec<String>> = r
                    .name_postcode
                    .iter()
                    .map(|v| v.and_then(normalise::text))
                    .collect();
                // A unit separator cannot occur in a normalised part, so parts never run together.
                parts.filter(|p| !p.is_empty()).map(|p| p.join("\u{1f}"))
            }),
        ));
    }
    rules.sort_by_key(|(rule, _)| *rule);
    for (rule, value) in &rules {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, record) in records.iter().enumerate() {
            let Some(v) = value(record) else { continue };
            match first.get(&v) {
                Some(&j) => {
                    groups.join(i, j);
                    for k in [i, j] {
                        rule_of[k].get_or_insert(*rule);
                    }
                }
                None => {
                    first.insert(v, i);
                }
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..records.len() {
        members.entry(groups.root(i)).or_default().push(i);
    }
    let rank = |i: &usize| {
        let r = &records[*i];
        (r.signup.is_none(), r.signup, canonical_id(r.id), r.id)
    };
    let mut moves = BTreeMap::new();
    for group in members.values().filter(|g| g.len() > 1) {
        let Some(&survivor) = group.iter().min_by_key(|i| rank(i)) else {
            continue;
        };
        for &i in group.iter().filter(|&&i| i != survivor) {
            let rule = rule_of[i].unwrap_or(MergeRule::Email);
            moves.insert(
                records[i].id.to_string(),
                (records[survivor].id.to_string(), rule),
            );
        }
    }
    MergeMap { moves }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn settings(toml: &str) -> IdentitySettings {
        toml::from_str(toml).unwrap()
    }

    fn keys<'a>(id: &'a str, signup: &str, email: &'a str, phone: &'a str) -> CustomerKeys<'a> {
        CustomerKeys {
            id,
            signup: day(signup),
            email: Some(email),
            phone: Some(phone),
            name_postcode: Vec::new(),
        }
    }

    #[test]
    fn same_email_or_phone_is_one_person_kept_under_the_earliest_signup() {
        let records = [
            keys("c3", "2020-05-01", "Anna@Example.com ", ""),
            keys("c1", "2021-01-01", "anna@example.com", "030 1234567"),
            keys("c2", "2019-01-01", "other@example.com", "+49 30 1234567"),
            keys("c4", "2018-01-01", "", ""),
            keys("c5", "2018-01-01", "n/a", "-"),
            keys("c6", "2017-01-01", "n/a", "-"),
        ];
        let s = settings("match = [\"email\", \"phone\"]\ndefault_country_code = \"49\"");
        let map = merge_map(&records, &s);
        // c3 and c1 share an e-mail, c1 and c2 a phone: one person, c2 signed up first.
        let got: Vec<_> = map.iter().collect();
        assert_eq!(
            got,
            vec![
                ("c1", "c2", MergeRule::Email),
                ("c3", "c2", MergeRule::Email)
            ]
        );
        assert_eq!(map.survivor("c3"), "c2");
        assert_eq!(map.survivor("c4"), "c4");
        assert_eq!(map.counts()["email"], 2);
        assert_eq!(map.counts()["phone"], 0);
        // Only the phone rule: c1 and c2 only.
        let phone_only = merge_map(
            &records,
            &settings("match = [\"phone\"]\ndefault_country_code = \"49\""),
        );
        assert_eq!(
            phone_only.iter().collect::<Vec<_>>(),
            vec![("c1", "c2", MergeRule::Phone)]
        );
        // No rule: no merge.
        assert!(merge_map(&records, &IdentitySettings::default()).is_empty());
    }

    #[test]
    fn ties_go_to_the_smallest_canonical_id_whatever_the_row_order() {
        let a = keys("0010", "2020-01-01", "x@y.z", "");
        let b = keys("9", "2020-01-01", "X@Y.Z", "");
        let c = CustomerKeys {
            signup: None,
            ..keys("1", "", "x@y.z", "")
        };
        let s = settings("match = [\"email\"]");
        let one = merge_map(&[a.clone(), b.clone(), c.clone()], &s);
        let other = merge_map(&[c, b, a], &s);
        assert_eq!(one, other);
        assert_eq!(one.survivor("1"), "0010");
        assert_eq!(one.survivor("9"), "0010");
    }

    #[test]
    fn name_and_postcode_match_only_when_all_three_are_given() {
        let person = |id, first: Option<&'static str>, post| CustomerKeys {
            id,
            name_postcode: vec![first, Some("Berg"), Some(post)],
            ..CustomerKeys::default()
        };
        let records = [
            person("a", Some("Anna"), "10115"),
            person("b", Some(" anna "), "10115"),
            person("c", None, "10115"),
            person("d", None, "10115"),
            person("e", Some("Anna"), "20095"),
        ];
        let s = settings("name_postcode = [\"first_name\", \"last_name\", \"postcode\"]");
        let map = merge_map(&records, &s);
        assert_eq!(
            map.iter().collect::<Vec<_>>(),
            vec![("b", "a", MergeRule::NamePostcode)]
        );
        let frame = map.frame().unwrap();
        let names: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, ["old_id", "surviving_id", "rule"]);
    }

    #[test]
    fn settings_are_checked() {
        assert!(toml::from_str::<IdentitySettings>("match = [\"fax\"]").is_err());
        assert!(toml::from_str::<IdentitySettings>("matches = [\"email\"]").is_err());
        for (toml, message) in [
            (
                "name_postcode = [\"a\", \"b\"]",
                "expected three customers columns",
            ),
            ("default_country_code = \"+49\"", "expected a country code"),
            ("default_country_code = \"049\"", "expected a country code"),
        ] {
            let problem = settings(toml).problem().unwrap_or_default();
            assert!(problem.contains(message), "{toml}: {problem}");
        }
        assert_eq!(
            settings("match = [\"email\"]\ndefault_country_code = \"1\"").problem(),
            None
        );
    }
}
