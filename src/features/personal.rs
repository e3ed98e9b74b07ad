//! Personal data never becomes a model input: customer columns that hold names, e-mail
//! addresses, phone numbers, street addresses or free text are left out of the `attributes`
//! family before any level is counted (a one-hot level of an e-mail column would put the address
//! itself into the model file). Found by the column's name and by its values (a sample), plus the
//! columns the user names (`exclude`). Only the names of the columns left out and why are ever
//! reported, never a value.

use std::collections::HashSet;
use std::fmt;

use polars::prelude::*;
use serde::Serialize;

/// Why a customer column is left out of the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    Name,
    Email,
    Phone,
    Address,
    FreeText,
    /// Named in `exclude` (`--exclude`).
    Requested,
}

impl PersonalData {
    fn describe(self) -> &'static str {
        match self {
            PersonalData::Name => "names",
            PersonalData::Email => "e-mail addresses",
            PersonalData::Phone => "phone numbers",
            PersonalData::Address => "street addresses",
            PersonalData::FreeText => "free text",
            PersonalData::Requested => "excluded by request",
        }
    }
}

impl fmt::Display for PersonalData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A customer column left out of the features.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcludedColumn {
    pub column: String,
    pub reason: PersonalData,
}

/// One line for a person: `personal data left out of the features: `email` (e-mail addresses), …`.
pub fn excluded_note(excluded: &[ExcludedColumn]) -> Option<String> {
    (!excluded.is_empty()).then(|| {
        let list: Vec<String> = excluded
            .iter()
            .map(|e| format!("`{}` ({})", e.column, e.reason))
            .collect();
        format!(
            "note: customer columns left out of the features (personal data): {}",
            list.join(", ")
        )
    })
}

/// Words of a column name (split on `_`, `-`, spaces and case changes are not split: names
/// are compared lower-cased) that mark its kind.
const NAME_WORDS: &[(&[&str], PersonalData)] = &[
    (
        &[
            "name",
            "firstname",
            "lastname",
            "surname",
            "fullname",
            "forename",
            "givenname",
        ],
        PersonalData::Name,
    ),
    (
        &["email", "e-mail", "mail_address", "emailaddress"],
        PersonalData::Email,
    ),
    (
        &["phone", "telephone", "mobile", "tel", "cell", "msisdn"],
        PersonalData::Phone,
    ),
    (
        &["address", "street", "addr", "address1", "address2"],
        PersonalData::Address,
    ),
    (
        &[
            "comment",
            "comments",
            "note",
            "notes",
            "remark",
            "remarks",
            "description",
            "message",
        ],
        PersonalData::FreeText,
    ),
];

/// Values sampled per column to judge its content.
const SAMPLE: usize = 1_000;
/// Share of sampled values that must look like e-mails/phones/addresses.
const MOST: f64 = 0.5;
/// High-cardinality text: at least this many distinct values, most of them distinct.
const MANY_DISTINCT: usize = 20;

/// The customer columns (other than the id) left out of the features, in column order: the
/// `requested` ones, then the columns [`personal_input`] marks. A numeric column is left out
/// only as a phone number read as a number (`email_opt_in` is a flag, not an address): a CSV
/// column of bare phone digits is typed numeric, and would otherwise be a model input.
pub fn personal_columns(customers: &DataFrame, requested: &[String]) -> Vec<ExcludedColumn> {
    customers
        .columns()
        .iter()
        .filter(|c| c.name().as_str() != "customer_id")
        .filter_map(|c| {
            let column = c.name().to_string();
            let reason = if requested.contains(&column) {
                Some(PersonalData::Requested)
            } else {
                personal_input(c)
            };
            reason.map(|reason| ExcludedColumn { column, reason })
        })
        .collect()
}

/// The personal data a column of a flat training table holds, if any: a text column by its
/// name or values (as [`personal_columns`]); a numeric column only when its name marks phone
/// numbers and most values are integers of 6 digits or more (a phone number read as a number;
/// `mobile_opt_in` flags stay inputs).
pub fn personal_input(column: &Column) -> Option<PersonalData> {
    if column.dtype() == &DataType::String {
        return by_name(column.name()).or_else(|| by_content(column));
    }
    if by_name(column.name()) != Some(PersonalData::Phone) {
        return None;
    }
    let values = column.cast(&DataType::Float64).ok()?;
    let values = values.f64().ok()?;
    let sample: Vec<f64> = values.iter().flatten().take(SAMPLE).collect();
    let long = sample
        .iter()
        .filter(|v| v.fract() == 0.0 && v.abs() >= 100_000.0)
        .count();
    (!sample.is_empty() && long as f64 > MOST * sample.len() as f64).then_some(PersonalData::Phone)
}

/// The kind a column's name marks: one of its words (split on `_`, `-`, `.` and spaces) or the
/// whole name lower-cased is a marker word.
fn by_name(column: &str) -> Option<PersonalData> {
    let lower = column.to_lowercase();
    let words: HashSet<&str> = lower
        .split(['_', '-', '.', ' '])
        .chain(std::iter::once(lower.as_str()))
        .collect();
    NAME_WORDS
        .iter()
        .find(|(markers, _)| markers.iter().any(|m| words.contains(m)))
        .map(|(_, kind)| *kind)
}

/// The kind a text column's values show: most look like e-mails, phones or street addresses,
/// or the column is high-cardinality text (names, comments: no level of it generalises).
fn by_content(column: &Column) -> Option<PersonalData> {
    let values = text_sample(column, SAMPLE)?;
    if values.is_empty() {
        return None;
    }
    let share =
        |f: fn(&str) -> bool| values.iter().filter(|v| f(v)).count() as f64 / values.len() as f64;
    if share(looks_like_email) > MOST {
        return Some(PersonalData::Email);
    }
    if share(looks_like_phone) > MOST {
        return Some(PersonalData::Phone);
    }
    if share(looks_like_street) > MOST {
        return Some(PersonalData::Address);
    }
    let distinct = values.iter().collect::<HashSet<_>>().len();
    let has_words = share(|v| v.contains(' ') || v.chars().any(char::is_alphabetic));
    (distinct >= MANY_DISTINCT && distinct * 2 > values.len() && has_words > MOST)
        .then_some(PersonalData::FreeText)
}

/// The first `n` non-empty values of a text column, trimmed (`None`: not text).
pub fn text_sample(column: &Column, n: usize) -> Option<Vec<&str>> {
    Some(
        column
            .str()
            .ok()?
            .iter()
            .flatten()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .take(n)
            .collect(),
    )
}

fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && !v.contains(char::is_whitespace)
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// 7 to 15 digits with only phone punctuation between them.
fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && v.chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
}

/// A house number and at least two words (`12 High Street`, `Hauptstraße 5` has the number
/// last): digits at one end, letters at the other.
fn looks_like_street(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    let number = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_digit());
    let word = |w: &str| w.chars().all(|c| c.is_alphabetic() || c == '.' || c == '-');
    words.len() >= 2
        && ((number(words[0]) && words[1..].iter().all(|w| word(w)))
            || (number(words[words.len() - 1]) && words[..words.len() - 1].iter().all(|w| word(w))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_read_as_a_number_is_personal_and_a_flag_is_not() {
        let phones = Column::new("phone".into(), vec![4_930_123_456i64, 4_930_123_457, 0]);
        assert_eq!(personal_input(&phones), Some(PersonalData::Phone));
        let flags = Column::new("phone_opt_in".into(), vec![1i64, 0, 1]);
        assert_eq!(personal_input(&flags), None);
        let spend = Column::new("spend".into(), vec![4_930_123_456i64, 1, 2]);
        assert_eq!(personal_input(&spend), None);
        let emails = Column::new("contact".into(), vec!["a@b.de", "c@d.de", "e@f.de"]);
        assert_eq!(personal_input(&emails), Some(PersonalData::Email));
    }

    #[test]
    fn a_numeric_phone_column_of_the_customers_table_is_left_out() {
        let customers = DataFrame::new(
            3,
            vec![
                Column::new("customer_id".into(), vec!["a", "b", "c"]),
                Column::new(
                    "phone".into(),
                    vec![4_930_123_456i64, 4_930_123_457, 49_301],
                ),
                Column::new("phone_opt_in".into(), vec![1i64, 0, 1]),
                Column::new("spend".into(), vec![4_930_123_456i64, 1, 2]),
            ],
        )
        .unwrap();
        let got: Vec<(String, PersonalData)> = personal_columns(&customers, &[])
            .into_iter()
            .map(|e| (e.column, e.reason))
            .collect();
        assert_eq!(got, vec![("phone".to_string(), PersonalData::Phone)]);
    }

    fn frame(columns: &[(&str, Vec<&str>)]) -> DataFrame {
        let n = columns[0].1.len();
        DataFrame::new(
            n,
            columns
                .iter()
                .map(|(name, values)| Column::new((*name).into(), values.clone()))
                .collect(),
        )
        .unwrap()
    }

    fn check(columns: &[(&str, Vec<&str>)], requested: &[&str], want: &[(&str, PersonalData)]) {
        let requested: Vec<String> = requested.iter().map(|s| s.to_string()).collect();
        let got: Vec<(String, PersonalData)> = personal_columns(&frame(columns), &requested)
            .into_iter()
            .map(|e| (e.column, e.reason))
            .collect();
        let want: Vec<(String, PersonalData)> =
            want.iter().map(|(c, r)| (c.to_string(), *r)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn columns_are_found_by_name() {
        let v = || vec!["a", "b"];
        check(
            &[
                ("customer_id", v()),
                ("First Name", v()),
                ("e-mail", v()),
                ("mobile_phone", v()),
                ("street", v()),
                ("notes", v()),
                ("region", v()),
                ("surname", v()),
            ],
            &[],
            &[
                ("First Name", PersonalData::Name),
                ("e-mail", PersonalData::Email),
                ("mobile_phone", PersonalData::Phone),
                ("street", PersonalData::Address),
                ("notes", PersonalData::FreeText),
                ("surname", PersonalData::Name),
            ],
        );
    }

    #[test]
    fn columns_are_found_by_content() {
        let ids: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
        let people: Vec<String> = (0..30).map(|i| format!("Person{i} Example")).collect();
        let regions: Vec<&str> = (0..30).map(|i| ["north", "south"][i % 2]).collect();
        check(
            &[
                ("customer_id", ids.iter().map(String::as_str).collect()),
                ("contact", (0..30).map(|_| "ann@example.org").collect()),
                ("reach", (0..30).map(|_| "+49 (30) 123-4567").collect()),
                ("home", (0..30).map(|_| "12 High Street").collect()),
                ("who", people.iter().map(String::as_str).collect()),
                ("region", regions),
            ],
            &["region"],
            &[
                ("contact", PersonalData::Email),
                ("reach", PersonalData::Phone),
                ("home", PersonalData::Address),
                ("who", PersonalData::FreeText),
                ("region", PersonalData::Requested),
            ],
        );
    }

    #[test]
    fn flags_codes_and_low_cardinality_text_stay() {
        let codes: Vec<String> = (0..30).map(|i| format!("{}", 10_000 + i)).collect();
        check(
            &[
                ("customer_id", codes.iter().map(String::as_str).collect()),
                ("gender", (0..30).map(|i| ["M", "F"][i % 2]).collect()),
                ("postcode_area", codes.iter().map(String::as_str).collect()),
            ],
            &[],
            &[],
        );
        let note = excluded_note(&[ExcludedColumn {
            column: "email".into(),
            reason: PersonalData::Email,
        }]);
        assert_eq!(
            note.as_deref(),
            Some("note: customer columns left out of the features (personal data): `email` (e-mail addresses)")
        );
    }
}
