//! The identity rules ([`crate::identity`]) applied to the tables as read: the merge map of the
//! customers table, the other tables' ids moved to the surviving ids, the merged records' consent
//! made the most restrictive of the group, and the directory a do-not-contact list keyed by
//! e-mail or phone is matched through (README "Identities").

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::polars_failure;
use crate::identity::{
    merge_map, ContactValues, CustomerKeys, Directory, IdentitySettings, MatchKey, MergeMap,
};
use crate::run::RunError;
use crate::Error;

const ID: &str = "customer_id";

/// A text column, or `None` when the table has no such column.
fn text_column(df: &DataFrame, name: &str) -> Result<Option<Vec<Option<String>>>, Error> {
    let Ok(column) = df.column(name) else {
        return Ok(None);
    };
    let what = format!("customers column `{name}`");
    let cast = column
        .cast(&DataType::String)
        .map_err(polars_failure(what.clone()))?;
    let values = cast.str().map_err(polars_failure(what))?;
    Ok(Some(values.iter().map(|v| v.map(str::to_string)).collect()))
}

/// The signup dates (`None` where absent or not a date column).
fn signup_dates(df: &DataFrame) -> Result<Vec<Option<NaiveDate>>, Error> {
    let Ok(column) = df.column("signup_date") else {
        return Ok(vec![None; df.height()]);
    };
    if column.dtype() != &DataType::Date {
        return Ok(vec![None; df.height()]);
    }
    let days = column
        .cast(&DataType::Int32)
        .map_err(polars_failure("customers column `signup_date`"))?;
    let days = days
        .i32()
        .map_err(polars_failure("customers column `signup_date`"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    Ok(days
        .iter()
        .map(|d| d.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d.into()))))
        .collect())
}

/// The customers' values the rules read, checked to be there.
struct Columns {
    ids: Vec<Option<String>>,
    email: Option<Vec<Option<String>>>,
    phone: Option<Vec<Option<String>>>,
    name_postcode: Vec<Vec<Option<String>>>,
    signup: Vec<Option<NaiveDate>>,
}

fn columns(customers: &DataFrame, settings: &IdentitySettings) -> Result<Columns, Error> {
    let missing = |name: &str| {
        Error::from(RunError::MissingColumn {
            table: "the customers table".into(),
            columns: format!("`{name}`, which `[identity]` matches on"),
            hint: format!(
                "; map it, e.g. `[sources.customers.columns] {name} = \"…\"` (found columns: {})",
                super::select::column_names(customers)
            ),
        })
    };
    for name in settings.columns() {
        if customers.column(name).is_err() {
            return Err(missing(name));
        }
    }
    let ids = text_column(customers, ID)?.ok_or_else(|| missing(ID))?;
    let name_postcode = settings
        .name_postcode
        .iter()
        .flatten()
        .map(|c| text_column(customers, c).map(Option::unwrap_or_default))
        .collect::<Result<_, _>>()?;
    Ok(Columns {
        ids,
        email: text_column(customers, MatchKey::Email.column())?,
        phone: text_column(customers, MatchKey::Phone.column())?,
        name_postcode,
        signup: signup_dates(customers)?,
    })
}

fn at(values: &Option<Vec<Option<String>>>, row: usize) -> Option<&str> {
    values.as_ref().and_then(|v| v[row].as_deref())
}

/// The merge map of a customers table (empty when `[identity]` names no rule) and the
/// directory of its e-mail and phone values, filed under the surviving ids.
pub fn identities(
    customers: &DataFrame,
    settings: &IdentitySettings,
) -> Result<(MergeMap, Directory), Error> {
    let c = columns(customers, settings)?;
    let rows = 0..c.ids.len();
    let map = if settings.is_active() {
        let keys: Vec<CustomerKeys> = rows
            .clone()
            .filter_map(|r| {
                Some(CustomerKeys {
                    id: c.ids[r].as_deref()?,
                    signup: c.signup[r],
                    email: settings
                        .match_on
                        .contains(&MatchKey::Email)
                        .then(|| at(&c.email, r))
                        .flatten(),
                    phone: settings
                        .match_on
                        .contains(&MatchKey::Phone)
                        .then(|| at(&c.phone, r))
                        .flatten(),
                    name_postcode: c.name_postcode.iter().map(|v| v[r].as_deref()).collect(),
                })
            })
            .collect();
        merge_map(&keys, settings)
    } else {
        MergeMap::default()
    };
    let values = rows.filter_map(|r| {
        Some(ContactValues {
            id: c.ids[r].as_deref()?,
            email: at(&c.email, r),
            phone: at(&c.phone, r),
        })
    });
    let directory = Directory::new(values, settings.default_country_code.as_deref(), &map);
    Ok((map, directory))
}

/// `df` with its `customer_id` moved to the surviving ids (unchanged when nothing merged).
pub fn remap(df: DataFrame, map: &MergeMap) -> Result<DataFrame, Error> {
    if map.is_empty() || df.column(ID).is_err() {
        return Ok(df);
    }
    let ids = text_column(&df, ID)?.unwrap_or_default();
    let moved: Vec<Option<&str>> = ids
        .iter()
        .map(|id| id.as_deref().map(|id| map.survivor(id)))
        .collect();
    let mut df = df;
    df.with_column(Column::new(ID.into(), moved))
        .map_err(polars_failure("customer ids"))?;
    Ok(df)
}

/// Whether a column holds 0/1 flags (consent): only those take the group's most restrictive
/// value, other attributes are the survivor's.
fn is_flag(column: &Column) -> bool {
    column.dtype().is_primitive_numeric()
        && column
            .cast(&DataType::Float64)
            .ok()
            .and_then(|c| {
                c.f64()
                    .ok()
                    .map(|v| v.iter().flatten().all(|x| x == 0.0 || x == 1.0))
            })
            .unwrap_or(false)
}

/// The customers table after the merge: one row per surviving id, whose 0/1 flag columns
/// (consent) are the group's most restrictive: opted out (or unknown) anywhere is opted out.
pub fn merge_customers(customers: DataFrame, map: &MergeMap) -> Result<DataFrame, Error> {
    if map.is_empty() {
        return Ok(customers);
    }
    let ids = text_column(&customers, ID)?.unwrap_or_default();
    let survivors: Vec<Option<&str>> = ids
        .iter()
        .map(|id| id.as_deref().map(|id| map.survivor(id)))
        .collect();
    let mut df = customers.clone();
    for column in customers.columns().iter().filter(|c| is_flag(c)) {
        let name = column.name().to_string();
        let values = column
            .cast(&DataType::Float64)
            .map_err(polars_failure(format!("customers column `{name}`")))?;
        let values = values
            .f64()
            .map_err(polars_failure(format!("customers column `{name}`")))?;
        let mut least: HashMap<&str, f64> = HashMap::new();
        for (id, v) in survivors.iter().zip(values.iter()) {
            if let Some(id) = id {
                let v = v.unwrap_or(0.0);
                least.entry(id).and_modify(|m| *m = m.min(v)).or_insert(v);
            }
        }
        let merged: Vec<Option<f64>> = survivors
            .iter()
            .zip(values.iter())
            .map(|(id, v)| id.and_then(|id| least.get(id).copied()).or(v))
            .collect();
        let merged = Column::new(name.as_str().into(), merged)
            .cast(column.dtype())
            .map_err(polars_failure(format!("customers column `{name}`")))?;
        df.with_column(merged)
            .map_err(polars_failure(format!("customers column `{name}`")))?;
    }
    let keep: BooleanChunked = ids
        .iter()
        .map(|id| id.as_deref().is_none_or(|id| map.survivor(id) == id))
        .collect();
    df.filter(&keep)
        .map_err(polars_failure("the merged customers"))
}

/// A do-not-contact table whose rows name people by `email` or `phone` with the rows of
/// `directory`'s customers in their place: one row per surviving id an address names, with
/// the row's channel and reason. A row whose address names nobody stays as it is (no id), so
/// the caller counts it. Unchanged when the table has no `email` or `phone` column.
pub fn resolve_keyed(df: &DataFrame, directory: &Directory) -> Result<DataFrame, Error> {
    let keys: Vec<(MatchKey, Vec<Option<String>>)> = [MatchKey::Email, MatchKey::Phone]
        .into_iter()
        .map(|k| Ok(text_column(df, k.column())?.map(|v| (k, v))))
        .collect::<Result<Vec<_>, Error>>()?
        .into_iter()
        .flatten()
        .collect();
    if keys.is_empty() {
        return Ok(df.clone());
    }
    let ids = text_column(df, ID)?.unwrap_or_else(|| vec![None; df.height()]);
    let mut take: Vec<IdxSize> = Vec::new();
    let mut new_ids: Vec<Option<String>> = Vec::new();
    let mut cleared: Vec<bool> = Vec::new();
    for (row, id) in ids.iter().enumerate() {
        let named: std::collections::BTreeSet<&str> = match id {
            Some(_) => Default::default(),
            None => keys
                .iter()
                .filter_map(|(k, values)| values[row].as_deref().map(|v| directory.ids(*k, v)))
                .flatten()
                .collect(),
        };
        if named.is_empty() {
            take.push(row as IdxSize);
            new_ids.push(id.clone());
            cleared.push(false);
        }
        for survivor in named {
            take.push(row as IdxSize);
            new_ids.push(Some(survivor.to_string()));
            cleared.push(true);
        }
    }
    let index = IdxCa::from_vec("rows".into(), take);
    let mut out = df
        .take(&index)
        .map_err(polars_failure("the do-not-contact rows"))?;
    out.with_column(Column::new(ID.into(), new_ids))
        .map_err(polars_failure("the do-not-contact rows"))?;
    // A row resolved to an id no longer needs its address (and carries none onward).
    for (key, _) in &keys {
        let values = text_column(&out, key.column())?.unwrap_or_default();
        let kept: Vec<Option<String>> = values
            .into_iter()
            .zip(&cleared)
            .map(|(v, &c)| if c { None } else { v })
            .collect();
        out.with_column(Column::new(key.column().into(), kept))
            .map_err(polars_failure("the do-not-contact rows"))?;
    }
    Ok(out)
}

/// Rows of a resolved do-not-contact table that name nobody: no id, an address.
pub fn unmatched_keyed(df: &DataFrame) -> Result<usize, Error> {
    let ids = text_column(df, ID)?.unwrap_or_else(|| vec![None; df.height()]);
    let mut keyed = vec![false; df.height()];
    for k in [MatchKey::Email, MatchKey::Phone] {
        for (row, v) in text_column(df, k.column())?
            .into_iter()
            .flatten()
            .enumerate()
        {
            keyed[row] |= v.is_some();
        }
    }
    Ok(ids
        .iter()
        .zip(keyed)
        .filter(|(id, k)| id.is_none() && *k)
        .count())
}

/// `bullseye customers dedupe`: the merge map of the config's customers table under its
/// `[identity]` rules.
pub fn dedupe(request: &crate::ingest::IngestRequest) -> Result<MergeMap, Error> {
    let settings = &request.config.identity;
    if !settings.is_active() {
        return Err(RunError::missing(
            "the config names no `[identity]` rule",
            "add `[identity] match = [\"email\"]` (or `phone`, `name_postcode`)",
        )
        .into());
    }
    let customers = request.load(crate::ingest::TableKind::Customers)?;
    Ok(identities(&customers.frame, settings)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_rows_become_the_rows_of_the_customers_they_name() {
        let customers = df!(
            "customer_id" => ["a", "b", "c"],
            "email" => [Some("Anna@Example.com"), Some("anna@example.com "), None],
            "phone" => [None, None, Some("030 1234567")],
            "email_opt_in" => [1i32, 0, 1],
        )
        .unwrap();
        let settings: IdentitySettings =
            toml::from_str("match = [\"email\"]\ndefault_country_code = \"49\"").unwrap();
        let (map, directory) = identities(&customers, &settings).unwrap();
        assert_eq!(map.survivor("b"), "a");
        let list = df!(
            "customer_id" => [None, None, None, Some("c")],
            "email" => [Some(" ANNA@example.com"), Some("nobody@example.com"), None, None],
            "phone" => [None, None, Some("+49 30 1234567"), None],
        )
        .unwrap();
        let resolved = resolve_keyed(&list, &directory).unwrap();
        let ids = text_column(&resolved, ID).unwrap().unwrap();
        assert_eq!(
            ids,
            [Some("a".into()), None, Some("c".into()), Some("c".into())]
        );
        assert_eq!(unmatched_keyed(&resolved).unwrap(), 1);
        // The merged customers: one row for a, opted out because b was.
        let merged = merge_customers(customers, &map).unwrap();
        assert_eq!(merged.height(), 2);
        let opt_in: Vec<Option<i32>> = merged
            .column("email_opt_in")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(opt_in, [Some(0), Some(1)]);
    }
}
