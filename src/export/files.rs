//! The export files of one campaign, built from its final target group and the customers
//! table. Nothing here decides who is contacted: the rows are the target group of the
//! selection, in audience order, so a suppressed, unconsented or control customer cannot reach
//! an export.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use super::config::{ExportConfig, Platform};
use super::hash::sha256_hex;
use super::normalise;
use crate::ids::IdPolicy;
use crate::select::SelectError;

/// Id column of every export file but the ad platforms' (which hold hashes only).
const ID: &str = "customer_id";

/// The customers table as the exports read it: rows by id key, columns as text.
pub struct Contacts<'a> {
    table: &'a DataFrame,
    rows: HashMap<String, usize>,
    policy: IdPolicy,
}

/// One file of `export/`, named relative to that folder.
pub struct ExportFile {
    pub name: String,
    pub frame: DataFrame,
}

fn invalid(key: &str, expected: String, found: String) -> SelectError {
    SelectError::InvalidConfig {
        key: key.to_string(),
        expected,
        found,
    }
}

fn polars(what: &str) -> impl Fn(PolarsError) -> SelectError + '_ {
    move |e| invalid(what, "a text column".into(), e.to_string())
}

impl<'a> Contacts<'a> {
    /// Indexes the customers table by `customer_id` under `policy` (the first row of a key).
    pub fn new(table: &'a DataFrame, policy: IdPolicy) -> Result<Contacts<'a>, SelectError> {
        let ids = Self::text(table, ID, "export")?;
        let mut rows = HashMap::with_capacity(ids.len());
        for (r, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                rows.entry(policy.key(id).into_owned()).or_insert(r);
            }
        }
        Ok(Contacts {
            table,
            rows,
            policy,
        })
    }

    fn text(table: &DataFrame, name: &str, key: &str) -> Result<Vec<Option<String>>, SelectError> {
        let col = table.column(name).map_err(|_| {
            let names: Vec<String> = table
                .get_column_names()
                .iter()
                .map(|n| format!("`{n}`"))
                .collect();
            invalid(
                key,
                format!("a column of the customers table ({})", names.join(", ")),
                format!("{name:?}"),
            )
        })?;
        let cast = col.cast(&DataType::String).map_err(polars(key))?;
        let ca = cast.str().map_err(polars(key))?;
        Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
    }

    /// A column's value for each of `ids` (empty when the customer has no row or no value).
    fn values(&self, name: &str, key: &str, ids: &[&str]) -> Result<Vec<String>, SelectError> {
        let column = Self::text(self.table, name, key)?;
        Ok(ids
            .iter()
            .map(|id| {
                self.rows
                    .get(self.policy.key(id).as_ref())
                    .and_then(|&r| column[r].clone())
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// A frame of text columns (header, values), all of one length.
fn frame(columns: Vec<(String, Vec<String>)>) -> Result<DataFrame, SelectError> {
    let height = columns.first().map_or(0, |c| c.1.len());
    let cols = columns
        .into_iter()
        .map(|(name, values)| Column::new(name.as_str().into(), values))
        .collect();
    DataFrame::new(height, cols).map_err(polars("export"))
}

/// `customer_id` and the e-mail platform's columns for `ids`.
fn contact_table(
    config: &ExportConfig,
    contacts: &Contacts,
    ids: &[&str],
) -> Result<DataFrame, SelectError> {
    let mut columns = vec![(ID.to_string(), ids.iter().map(|s| s.to_string()).collect())];
    if let Some(e) = &config.email_platform {
        for (i, name) in e.columns.iter().enumerate() {
            let key = format!("export.email_platform.columns[{i}]");
            columns.push((name.clone(), contacts.values(name, &key, ids)?));
        }
    }
    frame(columns)
}

/// One platform's audience: a row per target customer with at least one identifier that
/// normalises, each identifier hashed; customers with none are left out.
fn platform_table(
    platform: Platform,
    config: &ExportConfig,
    contacts: &Contacts,
    ids: &[&str],
) -> Result<DataFrame, SelectError> {
    let (email_header, phone_header) = platform.headers();
    let emails = match &config.identifiers.email {
        Some(c) => Some(contacts.values(c, "export.identifiers.email", ids)?),
        None => None,
    };
    let phones = match &config.identifiers.phone {
        Some(c) => Some(contacts.values(c, "export.identifiers.phone", ids)?),
        None => None,
    };
    let hash_email = |raw: &String| platform.email(raw).map(|e| sha256_hex(&e));
    let hash_phone = |raw: &String| {
        normalise::phone(raw, config.country_code()).map(|e| sha256_hex(&platform.phone(&e)))
    };
    let mut email_col = Vec::new();
    let mut phone_col = Vec::new();
    for r in 0..ids.len() {
        let e = emails.as_ref().and_then(|v| hash_email(&v[r]));
        let p = phones.as_ref().and_then(|v| hash_phone(&v[r]));
        if e.is_none() && p.is_none() {
            continue;
        }
        email_col.push(e.unwrap_or_default());
        phone_col.push(p.unwrap_or_default());
    }
    let mut columns = Vec::new();
    if emails.is_some() {
        columns.push((email_header.to_string(), email_col));
    }
    if phones.is_some() {
        columns.push((phone_header.to_string(), phone_col));
    }
    frame(columns)
}

/// The export files of a campaign: `targets` are the target group's ids in audience order,
/// `previous` the previous export's (None: this is the first export, everyone is an add).
pub fn build(
    config: &ExportConfig,
    contacts: &Contacts,
    targets: &[&str],
    previous: Option<&[String]>,
) -> Result<Vec<ExportFile>, SelectError> {
    let mut files = Vec::new();
    if config.email_platform.is_some() {
        files.push(ExportFile {
            name: "email_platform.csv".into(),
            frame: contact_table(config, contacts, targets)?,
        });
    }
    for platform in config.platforms() {
        files.push(ExportFile {
            name: format!("{}_audience.csv", platform.name()),
            frame: platform_table(platform, config, contacts, targets)?,
        });
    }
    let policy = contacts.policy;
    let previous = previous.unwrap_or_default();
    let before: HashSet<String> = previous
        .iter()
        .map(|id| policy.key(id).into_owned())
        .collect();
    let now: HashSet<String> = targets
        .iter()
        .map(|id| policy.key(id).into_owned())
        .collect();
    let adds: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|id| !before.contains(policy.key(id).as_ref()))
        .collect();
    let removes: Vec<&str> = previous
        .iter()
        .map(String::as_str)
        .filter(|id| !now.contains(policy.key(id).as_ref()))
        .collect();
    files.push(ExportFile {
        name: "adds.csv".into(),
        frame: contact_table(config, contacts, &adds)?,
    });
    files.push(ExportFile {
        name: "removes.csv".into(),
        frame: contact_table(config, contacts, &removes)?,
    });
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customers() -> DataFrame {
        df!(
            "customer_id" => ["001", "002", "003"],
            "email" => [Some(" Ann.Lee@Gmail.com"), None, Some("bo@example.com")],
            "phone" => [Some("0844 412 4653"), Some("+1 650 555 1212"), None],
            "first_name" => ["Ann", "Bo", "Cy"],
        )
        .unwrap()
    }

    fn config(text: &str) -> ExportConfig {
        let c: ExportConfig = toml::from_str(text).unwrap();
        c.check().unwrap();
        c
    }

    fn cells(df: &DataFrame, col: &str) -> Vec<String> {
        df.column(col)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn ad_platform_files_hash_each_identifier_by_the_platform_rules() {
        let table = customers();
        let contacts = Contacts::new(&table, IdPolicy::Text).unwrap();
        let cfg = config(
            "ad_platforms = ['meta', 'google']\nidentifiers = { email = 'email', phone = 'phone' }\n\
             default_country_code = '44'",
        );
        let files = build(&cfg, &contacts, &["002", "001", "009"], None).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "meta_audience.csv",
                "google_audience.csv",
                "adds.csv",
                "removes.csv"
            ]
        );
        let meta = &files[0].frame;
        assert_eq!(meta.get_column_names(), ["EMAIL", "PHONE"]);
        // 009 has no row: no identifier, no line.
        assert_eq!(meta.height(), 2);
        assert_eq!(cells(meta, "EMAIL")[0], "");
        assert_eq!(cells(meta, "PHONE")[0], sha256_hex("16505551212"));
        assert_eq!(cells(meta, "EMAIL")[1], sha256_hex("ann.lee@gmail.com"));
        assert_eq!(cells(meta, "PHONE")[1], sha256_hex("448444124653"));
        let google = &files[1].frame;
        assert_eq!(google.get_column_names(), ["Email", "Phone"]);
        assert_eq!(cells(google, "Email")[1], sha256_hex("annlee@gmail.com"));
        assert_eq!(cells(google, "Phone")[1], sha256_hex("+448444124653"));
    }

    #[test]
    fn adds_and_removes_compare_with_the_previous_export() {
        let table = customers();
        let contacts = Contacts::new(&table, IdPolicy::Text).unwrap();
        let cfg = config("email_platform = { columns = ['email', 'first_name'] }");
        let previous = vec!["001".to_string(), "003".to_string()];
        let files = build(&cfg, &contacts, &["002", "001"], Some(&previous)).unwrap();
        let email = &files[0].frame;
        assert_eq!(
            email.get_column_names(),
            ["customer_id", "email", "first_name"]
        );
        assert_eq!(cells(email, "customer_id"), ["002", "001"]);
        assert_eq!(cells(email, "first_name"), ["Bo", "Ann"]);
        assert_eq!(cells(&files[1].frame, "customer_id"), ["002"]);
        assert_eq!(cells(&files[2].frame, "customer_id"), ["003"]);
        assert_eq!(cells(&files[2].frame, "email"), ["bo@example.com"]);
        // The first export: everyone is an add.
        let first = build(&cfg, &contacts, &["002", "001"], None).unwrap();
        assert_eq!(first[1].frame.height(), 2);
        assert_eq!(first[2].frame.height(), 0);
        // A column the table lacks is named.
        let bad = config("email_platform = { columns = ['mail'] }");
        let err = build(&bad, &contacts, &["001"], None).err().unwrap();
        assert!(
            err.to_string().contains("export.email_platform.columns[0]"),
            "{err}"
        );
    }
}
