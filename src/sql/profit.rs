//! The `profit` family in SQL: each purchase line priced as the Rust builder prices it (the
//! line's own `unit_cost`, then the `[profit] product_costs` table, then its category's margin),
//! summed per customer with the order and return days, and the contacts priced by their `cost`
//! column, else their channel's `contact_cost`.
//!
//! The prices come from the job's `[profit]` settings through the same methods the builder calls
//! (`cost_rate`, `channel_cost`); the figures are combined in the builder's order of operations.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::dialect::Dialect;
use super::SqlError;
use crate::features::profit::{
    ProfitParams, CATEGORY, CONTACT_COST, PRODUCT, UNIT_COST, YEAR_DAYS,
};
use crate::features::{ProfitForm, FIXED_POINT_SCALE};
use crate::ids::canonical_channel;

/// The optional canonical columns the query may read: `quantity`, `unit_cost`, `category` and
/// `product_id` of the transactions, `contacts.cost`. A column not named is not read (the query
/// prices as the builder does when the table lacks it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableColumns {
    names: BTreeSet<&'static str>,
}

/// The columns [`TableColumns`] knows, as the user names them.
const OPTIONAL: [&str; 5] = ["quantity", UNIT_COST, CATEGORY, PRODUCT, CONTACTS_COST];
const CONTACTS_COST: &str = "contacts.cost";

impl TableColumns {
    /// A comma-separated list of [`OPTIONAL`] names; an unknown name is an error naming the
    /// known ones.
    pub fn parse(list: &str) -> Result<TableColumns, SqlError> {
        let mut c = TableColumns::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            c.add(name)?;
        }
        Ok(c)
    }

    /// Adds one column by name.
    pub fn add(&mut self, name: &str) -> Result<(), SqlError> {
        let known =
            OPTIONAL
                .iter()
                .find(|&&k| k == name)
                .ok_or_else(|| SqlError::UnknownColumn {
                    name: name.to_string(),
                    known: OPTIONAL.join(", "),
                })?;
        self.names.insert(known);
        Ok(())
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// Every spelling `canonical_channel` folds into some channel (its aliases); a configured
/// channel's price matches the spellings that fold into the same canonical name.
const CHANNEL_SPELLINGS: &[&str] = &[
    "email",
    "emails",
    "post",
    "postal",
    "directmail",
    "dm",
    "mail",
    "letter",
    "sms",
    "text",
    "textmessage",
    "txt",
    "push",
    "pushnotification",
    "phone",
    "call",
    "telephone",
    "telemarketing",
];

/// The `profit` figures' inputs: the settings and the tables the query reads.
pub(super) struct ProfitSql<'a> {
    pub params: &'a ProfitParams,
    pub columns: &'a TableColumns,
    pub contacts: &'a str,
    pub product_costs: &'a str,
}

impl ProfitSql<'_> {
    /// Whether the product cost table is read (configured, and the lines name products).
    fn reads_product_costs(&self) -> bool {
        self.params.product_costs.is_some() && self.columns.has(PRODUCT)
    }

    /// Whether the contacts table is read (a contact can cost something).
    fn reads_contacts(&self) -> bool {
        !self.params.contact_cost.is_empty() || self.columns.has(CONTACTS_COST)
    }

    /// The tables the query reads besides the transactions, for its header.
    pub fn reads(&self) -> Vec<String> {
        let mut tables = Vec::new();
        if self.reads_contacts() {
            let cost = if self.columns.has(CONTACTS_COST) {
                ", cost"
            } else {
                ""
            };
            tables.push(format!(
                "`{}` (customer_id, contact_date, channel{cost}: the canonical contacts table, with the ledger's sends when the job has a ledger)",
                self.contacts
            ));
        }
        if self.reads_product_costs() {
            tables.push(format!(
                "`{}` (product_id, unit_cost: the `[profit] product_costs` table)",
                self.product_costs
            ));
        }
        tables
    }

    /// The join `lines` adds for the product cost table (empty when it is not read).
    pub fn lines_join(&self, d: Dialect) -> String {
        if !self.reads_product_costs() {
            return String::new();
        }
        let key = |x: &str| format!("TRIM(CAST({x}.{} AS {}))", d.ident(PRODUCT), d.text());
        format!(
            "\n  LEFT JOIN {} AS pc ON {} = {}",
            self.product_costs,
            key("pc"),
            key("t")
        )
    }

    /// The columns `lines` adds: each line's unit cost (NULL: priced by the margin), units and
    /// cost share.
    pub fn lines_columns(&self, d: Dialect) -> String {
        let own = self
            .columns
            .has(UNIT_COST)
            .then(|| d.to_double(&format!("t.{}", d.ident(UNIT_COST))));
        let table = self
            .reads_product_costs()
            .then(|| d.to_double(&format!("pc.{}", d.ident(UNIT_COST))));
        let priced = own.is_some() || table.is_some();
        let unit = match (own, table) {
            (Some(o), Some(t)) => format!("COALESCE({o}, {t})"),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => format!("CAST(NULL AS {})", d.double()),
        };
        // Units count only for a line with a unit cost.
        let units = if priced && self.columns.has("quantity") {
            format!(
                "COALESCE({}, {})",
                d.to_double(&format!("t.{}", d.ident("quantity"))),
                d.constant(1.0)
            )
        } else {
            d.constant(1.0)
        };
        format!(
            ",\n    {unit} AS p_unit,\n    {units} AS p_units,\n    {} AS p_rate",
            self.rate(d)
        )
    }

    /// The line's cost share: its category's, else the default's.
    fn rate(&self, d: Dialect) -> String {
        let default = d.constant(self.params.cost_rate(None));
        if self.params.margin.categories.is_empty() || !self.columns.has(CATEGORY) {
            return default;
        }
        let mut s = format!("CASE TRIM(CAST(t.{} AS {}))", d.ident(CATEGORY), d.text());
        for category in self.params.margin.categories.keys() {
            let _ = write!(
                s,
                " WHEN '{}' THEN {}",
                category.replace('\'', "''"),
                d.constant(self.params.cost_rate(Some(category)))
            );
        }
        let _ = write!(s, " ELSE {default} END");
        s
    }

    /// `profit` (per customer: revenue, goods, orders and returns, all and in the last year)
    /// and `contacted` (the contacts' costs), then `agg`: `purchases` with both.
    pub fn ctes(&self, d: Dialect) -> String {
        let scale = d.constant(FIXED_POINT_SCALE);
        let fixed = |x: &str| d.round_half_even(&format!("{x} * {scale}"));
        // quantity × unit cost on fixed-point values, rounded half to even once (`line_amount`).
        let priced = format!(
            "ABS({}) / {scale}",
            d.round_half_even(&format!(
                "{} * {} / {scale}",
                fixed("p_units"),
                fixed("p_unit")
            )),
        );
        let by_margin = format!(
            "ABS({} / {}) * p_rate",
            d.to_double("fx"),
            d.constant(FIXED_POINT_SCALE)
        );
        let zero = d.constant(0.0);
        let year = format!("ago < {YEAR_DAYS}");
        let mut s = format!(
            "profit AS (
  SELECT customer_id,
    SUM(fx) AS p_rev_fx,
    SUM(CASE WHEN {year} THEN fx ELSE 0 END) AS p_rev12_fx,
    SUM(CASE WHEN fx > 0 THEN cost ELSE {zero} END) AS p_cog,
    SUM(CASE WHEN fx > 0 AND {year} THEN cost ELSE {zero} END) AS p_cog12,
    SUM(CASE WHEN fx < 0 THEN cost ELSE {zero} END) AS p_returned,
    COUNT(DISTINCT CASE WHEN fx > 0 THEN ago END) AS p_orders,
    COUNT(DISTINCT CASE WHEN fx > 0 AND {year} THEN ago END) AS p_orders12,
    COUNT(DISTINCT CASE WHEN fx < 0 THEN ago END) AS p_returns,
    COUNT(DISTINCT CASE WHEN fx < 0 AND {year} THEN ago END) AS p_returns12
  FROM (
    SELECT customer_id, ago, fx,
      CASE WHEN p_unit IS NOT NULL THEN {priced} ELSE {by_margin} END AS cost
    FROM lines
  ) AS priced
  GROUP BY customer_id
),
"
        );
        let contacts = if self.reads_contacts() {
            s.push_str(&self.contacted(d));
            "\n  LEFT JOIN contacted AS ct ON ct.customer_id = purchases.customer_id"
        } else {
            ""
        };
        let contact = |column: &str, empty: &str| {
            if contacts.is_empty() {
                format!("{empty} AS {column}")
            } else {
                format!("COALESCE(ct.{column}, {empty}) AS {column}")
            }
        };
        let _ = write!(
            s,
            "agg AS (
  SELECT purchases.*, pr.p_rev_fx, pr.p_rev12_fx, pr.p_cog, pr.p_cog12, pr.p_returned,
    pr.p_orders, pr.p_orders12, pr.p_returns, pr.p_returns12,
    {}, {}, {}
  FROM purchases JOIN profit AS pr ON pr.customer_id = purchases.customer_id{contacts}
),
",
            contact("p_contacts", &zero),
            contact("p_contacts12", &zero),
            contact("p_unpriced", "0"),
        );
        s
    }

    /// Per customer, the contacts up to the as-of day priced; `p_unpriced` counts those on a
    /// channel without a price (the builder refuses them: their figures come out NULL).
    fn contacted(&self, d: Dialect) -> String {
        let date = "CAST(c.contact_date AS DATE)";
        let by_channel = self.channel_price(d);
        let price = if self.columns.has(CONTACTS_COST) {
            format!(
                "COALESCE({}, {by_channel})",
                d.to_double(&format!("c.{}", d.ident(CONTACT_COST)))
            )
        } else {
            by_channel
        };
        format!(
            "contacted AS (
  SELECT customer_id,
    SUM(price) AS p_contacts,
    SUM(CASE WHEN ago < {YEAR_DAYS} THEN price ELSE {zero} END) AS p_contacts12,
    COUNT(*) - COUNT(price) AS p_unpriced
  FROM (
    SELECT CAST(c.customer_id AS {text}) AS customer_id, {ago} AS ago, {price} AS price
    FROM {table} AS c CROSS JOIN params AS p
    WHERE {date} <= p.as_of AND c.customer_id IS NOT NULL
  ) AS priced_contacts
  GROUP BY customer_id
),
",
            zero = d.constant(0.0),
            text = d.text(),
            ago = d.days_between(date, "p.as_of"),
            table = self.contacts,
        )
    }

    /// A contact's price by its channel, names folded as `canonical_channel` folds them
    /// (case, `-`, `_`, `.`, spaces, aliases); a channel without a price is NULL when some
    /// channel has one (the builder's error), else 0.
    fn channel_price(&self, d: Dialect) -> String {
        if self.params.contact_cost.is_empty() {
            return d.constant(0.0);
        }
        let mut folded = format!("LOWER(TRIM(CAST(c.channel AS {})))", d.text());
        for ch in ['-', '_', ' ', '.'] {
            folded = format!("REPLACE({folded}, '{ch}', '')");
        }
        let mut s = format!("CASE {folded}");
        let mut priced = BTreeSet::new();
        for channel in self.params.contact_cost.keys() {
            let canonical = canonical_channel(channel);
            let Some(price) = self.params.channel_cost(&canonical) else {
                continue;
            };
            let spellings: BTreeSet<String> = CHANNEL_SPELLINGS
                .iter()
                .filter(|s| canonical_channel(s) == canonical)
                .map(|s| s.to_string())
                .chain([canonical.clone()])
                .filter(|s| priced.insert(s.clone()))
                .collect();
            for spelling in spellings {
                let _ = write!(
                    s,
                    " WHEN '{}' THEN {}",
                    spelling.replace('\'', "''"),
                    d.constant(price)
                );
            }
        }
        s.push_str(" END");
        s
    }

    /// One figure over `agg`, in the builder's order of operations.
    pub fn expr(&self, d: Dialect, form: ProfitForm) -> String {
        let c = |x: f64| d.constant(x);
        let money = |fx: &str| format!("{} / {}", d.to_double(fx), c(FIXED_POINT_SCALE));
        let contacts = |year: bool| {
            let column = if year { "p_contacts12" } else { "p_contacts" };
            format!("CASE WHEN p_unpriced = 0 THEN {column} END")
        };
        let gross = |year: bool| {
            let (revenue, goods) = if year {
                ("p_rev12_fx", "p_cog12")
            } else {
                ("p_rev_fx", "p_cog")
            };
            format!("{} - {goods}", money(revenue))
        };
        let p = self.params;
        match form {
            ProfitForm::Revenue => money("p_rev_fx"),
            ProfitForm::CostOfGoods => "p_cog".into(),
            ProfitForm::Gross { year } => gross(year),
            ProfitForm::ReturnsCost => format!(
                "p_returned + {} * {}",
                c(p.return_cost),
                d.to_double("p_returns")
            ),
            ProfitForm::OrderCosts => format!("{} * {}", c(p.order_cost), d.to_double("p_orders")),
            ProfitForm::ContactCosts { year } => contacts(year),
            ProfitForm::Net { year } => {
                let (orders, returns) = if year {
                    ("p_orders12", "p_returns12")
                } else {
                    ("p_orders", "p_returns")
                };
                format!(
                    "{} - {} * {} - {} * {} - {}",
                    gross(year),
                    c(p.order_cost),
                    d.to_double(orders),
                    c(p.return_cost),
                    d.to_double(returns),
                    contacts(year)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::features::profit::Margin;

    fn params() -> ProfitParams {
        ProfitParams {
            margin: Margin {
                default: 0.25,
                categories: BTreeMap::from([("it's".to_string(), 0.5)]),
            },
            order_cost: 4.0,
            return_cost: 3.0,
            contact_cost: BTreeMap::from([("E-Mail".to_string(), 0.01), ("post".to_string(), 1.2)]),
            product_costs: Some("costs.csv".into()),
            product_cost_table: None,
        }
    }

    #[test]
    fn lines_are_priced_by_their_cost_then_the_table_then_the_margin() {
        let p = params();
        let all = TableColumns::parse("quantity, unit_cost,category,product_id").unwrap();
        let sql = ProfitSql {
            params: &p,
            columns: &all,
            contacts: "crm.contacts",
            product_costs: "costs",
        };
        let d = Dialect::DuckDb;
        let columns = sql.lines_columns(d);
        assert!(
            columns.contains("COALESCE(CAST(t.\"unit_cost\" AS DOUBLE), CAST(pc.\"unit_cost\" AS DOUBLE)) AS p_unit"),
            "{columns}"
        );
        assert!(
            columns.contains(
                "WHEN 'it''s' THEN CAST('0.5' AS DOUBLE) ELSE CAST('0.75' AS DOUBLE) END AS p_rate"
            ),
            "{columns}"
        );
        assert!(sql.lines_join(d).contains("LEFT JOIN costs AS pc ON TRIM("));
        // Without the columns: every line by the default margin, no join.
        let none = TableColumns::default();
        let bare = ProfitSql {
            columns: &none,
            ..sql
        };
        assert_eq!(bare.lines_join(d), "");
        assert!(bare
            .lines_columns(d)
            .contains("CAST(NULL AS DOUBLE) AS p_unit,\n    CAST('1.0' AS DOUBLE) AS p_units,\n    CAST('0.75' AS DOUBLE) AS p_rate"));
        // A quantity without a unit cost prices nothing: not read.
        let quantity = TableColumns::parse("quantity").unwrap();
        let by_margin = ProfitSql {
            columns: &quantity,
            ..sql
        };
        assert!(!by_margin.lines_columns(d).contains("quantity"));
        assert!(
            columns.contains(
                "COALESCE(CAST(t.\"quantity\" AS DOUBLE), CAST('1.0' AS DOUBLE)) AS p_units"
            ),
            "{columns}"
        );
        let e = TableColumns::parse("unit_cost,sku")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`sku`") && e.contains("quantity, unit_cost"),
            "{e}"
        );
    }

    #[test]
    fn contacts_are_priced_by_their_channel_spellings() {
        let p = params();
        let none = TableColumns::default();
        let sql = ProfitSql {
            params: &p,
            columns: &none,
            contacts: "crm.contacts",
            product_costs: "costs",
        };
        let price = sql.channel_price(Dialect::Postgres);
        for spelling in ["email", "emails", "mail", "letter", "dm", "post"] {
            assert!(
                price.contains(&format!("WHEN '{spelling}' THEN")),
                "{price}"
            );
        }
        // An unpriced channel is NULL (the builder refuses it), not free.
        assert!(
            price.ends_with(" END") && !price.contains("ELSE"),
            "{price}"
        );
        assert!(sql
            .ctes(Dialect::Postgres)
            .contains("FROM crm.contacts AS c"));
        let free = ProfitParams {
            contact_cost: BTreeMap::new(),
            ..params()
        };
        let sql = ProfitSql {
            params: &free,
            ..sql
        };
        assert!(!sql.ctes(Dialect::Postgres).contains("contacted"));
    }
}
