//! Who an e-mail address or phone number names: the customer ids (after the merge) whose
//! normalised value it is, so a do-not-contact list keyed by address reaches every record of
//! the person, including records merged into another id.

use std::collections::{BTreeSet, HashMap};

use super::merge::{MatchKey, MergeMap};

/// One customer record's id and contact values as written in the customers table.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactValues<'a> {
    pub id: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// Normalised e-mail and phone → surviving customer ids.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    by_key: HashMap<(MatchKey, String), BTreeSet<String>>,
    default_country_code: Option<String>,
}

impl Directory {
    /// The directory of a customers table (all records, before the merge): each id is filed
    /// under its surviving id in `map`.
    pub fn new<'a>(
        records: impl IntoIterator<Item = ContactValues<'a>>,
        default_country_code: Option<&str>,
        map: &MergeMap,
    ) -> Directory {
        let mut by_key: HashMap<(MatchKey, String), BTreeSet<String>> = HashMap::new();
        for r in records {
            for (key, raw) in [(MatchKey::Email, r.email), (MatchKey::Phone, r.phone)] {
                let Some(value) = raw.and_then(|v| key.normalise(v, default_country_code)) else {
                    continue;
                };
                by_key
                    .entry((key, value))
                    .or_default()
                    .insert(map.survivor(r.id).to_string());
            }
        }
        Directory {
            by_key,
            default_country_code: default_country_code.map(str::to_string),
        }
    }

    /// The surviving ids a list entry names (none when its value matches nobody or is no
    /// address or number at all).
    pub fn ids(&self, key: MatchKey, raw: &str) -> Vec<&str> {
        key.normalise(raw, self.default_country_code.as_deref())
            .and_then(|v| self.by_key.get(&(key, v)))
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::merge::{merge_map, CustomerKeys, IdentitySettings};

    #[test]
    fn an_address_names_every_record_of_the_person_under_its_surviving_id() {
        let rows = [
            ("a", Some("anna@example.com"), Some("030 1234567")),
            ("b", Some("anna.work@example.com"), Some("+49 30 1234567")),
            ("c", Some("carl@example.com"), None),
        ];
        let settings: IdentitySettings =
            toml::from_str("match = [\"phone\"]\ndefault_country_code = \"49\"").unwrap();
        let keys: Vec<CustomerKeys> = rows
            .iter()
            .map(|(id, email, phone)| CustomerKeys {
                id,
                email: *email,
                phone: *phone,
                ..CustomerKeys::default()
            })
            .collect();
        let map = merge_map(&keys, &settings);
        let values = rows.iter().map(|(id, email, phone)| ContactValues {
            id,
            email: *email,
            phone: *phone,
        });
        let dir = Directory::new(values, Some("49"), &map);
        // b was merged into a: b's work address suppresses a.
        assert_eq!(
            dir.ids(MatchKey::Email, " Anna.Work@EXAMPLE.com"),
            vec!["a"]
        );
        assert_eq!(dir.ids(MatchKey::Phone, "0049 30 1234567"), vec!["a"]);
        assert_eq!(dir.ids(MatchKey::Email, "CARL@example.com"), vec!["c"]);
        assert!(dir.ids(MatchKey::Email, "nobody@example.com").is_empty());
        assert!(dir.ids(MatchKey::Email, "").is_empty());
    }
}
