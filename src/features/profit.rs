//! The `profit` family: what each customer earned the seller, as of a date, once the goods,
//! returns, handling and contacts are paid for.
//!
//! Revenue is what the customer paid, net of refunds (the sum of amounts, returns negative). The
//! goods of a purchase line cost quantity × `unit_cost` when the transactions map a `unit_cost`,
//! else quantity × its product's cost in the `[profit] product_costs` table (a line without a
//! quantity is one unit), else the amount × (1 − margin), the margin of the line's category from `[profit] margin` (its
//! `default` for a category not listed, a line without one, or transactions without
//! `category`). A return refunds its amount and its goods are not resold: the goods' cost stays
//! counted, so a bought-and-returned item loses its cost, and a customer whose returns exceed
//! their margin loses money. Gross profit = revenue − cost of the goods bought.
//!
//! Net profit takes off the handling: `order_cost` per order (a day with a purchase, as `rfm`
//! counts orders) and `return_cost` per return (a day with a return line), and the contacts: per
//! contact its `cost` column when the contacts table has one, else `[profit] contact_cost` of its
//! channel. The 12-month columns count the lines and contacts of the 365 days ending on the
//! as-of day, as `spend_365d` does.
//!
//! Point in time like every family: no line or contact after the as-of day counts. Opt-in (a job
//! with `[profit]` builds it): it needs the seller's margins, which no data file holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::*;

use super::catalog::{doc, Doc, ProfitForm, SqlForm::Profit as P};
use super::family::{Columns, Customer, Definition, LineColumns, Prepared, Source};
use super::lines::{from_fixed, Codes, Lines, MISSING, NO_COST};
use super::{FeatureError, FeatureParams};
use crate::ids::canonical_channel;

/// The column whose margin a line gets.
pub const CATEGORY: &str = "category";
/// The column a line's product cost is looked up by.
pub const PRODUCT: &str = "product_id";
/// What one unit of a line cost the seller.
pub const UNIT_COST: &str = "unit_cost";
/// The contacts' column of a contact's own cost.
pub const CONTACT_COST: &str = "cost";

/// Days of the `_12m` columns (the as-of day and the 364 before it).
pub const YEAR_DAYS: i32 = 365;

/// Net profit over the history: the column the whale curve ranks customers by.
pub const NET_PROFIT: &str = "net_profit";
/// The cost components a loss is put down to, with the reason each names.
pub const COST_COMPONENTS: [(&str, &str); 3] = [
    ("returns_cost", "returns"),
    ("order_costs", "small orders"),
    ("contact_costs", "contact costs"),
];

/// The `profit` family.
pub(super) struct Profit;

#[rustfmt::skip]
const DOCS: &[Doc] = &[
    doc("profit_revenue", "currency", "sum of amounts, refunds subtracted").sql(P(ProfitForm::Revenue)),
    doc("cost_of_goods", "currency", "cost of the goods bought (lines above zero): quantity × unit_cost, else amount × (1 − the category's margin)").sql(P(ProfitForm::CostOfGoods)),
    doc("gross_profit", "currency", "profit_revenue − cost_of_goods (returned goods are not resold)").sql(P(ProfitForm::Gross { year: false })),
    doc("returns_cost", "currency", "what returns lost: the returned goods' cost + return_cost per return day").sql(P(ProfitForm::ReturnsCost)),
    doc("order_costs", "currency", "order_cost × orders (days with a purchase)").sql(P(ProfitForm::OrderCosts)),
    doc("contact_costs", "currency", "sum of the contacts' costs (the contacts' cost column, else contact_cost of the channel)").sql(P(ProfitForm::ContactCosts { year: false })),
    doc("net_profit", "currency", "gross_profit − order_costs − return_cost per return day − contact_costs").sql(P(ProfitForm::Net { year: false })),
    doc("gross_profit_12m", "currency", "gross_profit of the lines of the last 365 days").sql(P(ProfitForm::Gross { year: true })),
    doc("contact_costs_12m", "currency", "contact_costs of the contacts of the last 365 days").sql(P(ProfitForm::ContactCosts { year: true })),
    doc("net_profit_12m", "currency", "net_profit of the lines and contacts of the last 365 days").sql(P(ProfitForm::Net { year: true })),
];

/// `[profit]`: the seller's margins and costs, in the currency of the amounts.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfitParams {
    /// Share of a line's amount that is margin, by category (used where no `unit_cost` is mapped).
    pub margin: Margin,
    /// Handling cost of one order (a day with a purchase).
    #[serde(default)]
    pub order_cost: f64,
    /// Handling cost of one return (a day with a return line).
    #[serde(default)]
    pub return_cost: f64,
    /// Cost of one contact by channel (a contacts `cost` column wins where it has a value).
    #[serde(default)]
    pub contact_cost: BTreeMap<String, f64>,
    /// A CSV of `product_id, unit_cost` (relative to the config file): a line without a
    /// `unit_cost` of its own costs quantity × its product's cost before the margin is tried.
    #[serde(default)]
    pub product_costs: Option<PathBuf>,
    /// The table `product_costs` names, read by the caller (the features do no I/O).
    #[serde(skip)]
    pub product_cost_table: Option<Arc<ProductCosts>>,
}

/// What one unit of each product cost the seller (`[profit] product_costs`), by trimmed
/// `product_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductCosts {
    by_product: HashMap<String, f64>,
}

impl ProductCosts {
    pub fn new(by_product: HashMap<String, f64>) -> ProductCosts {
        ProductCosts { by_product }
    }

    pub fn len(&self) -> usize {
        self.by_product.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_product.is_empty()
    }

    /// `transactions` with `unit_cost` filled from the table where a line has none of its own
    /// (the column added when the transactions have none); `tally` counts the lines of
    /// products the table does not price, which the margin prices instead.
    pub(super) fn fill(
        &self,
        transactions: &DataFrame,
        tally: &mut CostTally,
    ) -> Result<DataFrame, FeatureError> {
        let Ok(products) = transactions.column(PRODUCT) else {
            tally.lines_without_product += transactions.height() as u64;
            return Ok(transactions.clone());
        };
        let products = products.cast(&DataType::String)?;
        let own = match transactions.column(UNIT_COST) {
            Ok(c) => Some(c.cast(&DataType::Float64)?),
            Err(_) => None,
        };
        let own = own.as_ref().map(|c| c.f64()).transpose()?;
        let filled: Vec<Option<f64>> = products
            .str()?
            .iter()
            .enumerate()
            .map(|(row, product)| {
                if let Some(c) = own.and_then(|c| c.get(row)) {
                    return Some(c);
                }
                let Some(product) = product.map(str::trim).filter(|p| !p.is_empty()) else {
                    tally.lines_without_product += 1;
                    return None;
                };
                let cost = self.by_product.get(product).copied();
                match cost {
                    Some(_) => tally.lines_priced += 1,
                    None => {
                        tally.lines_unpriced += 1;
                        tally.products_unpriced.insert(product.to_string());
                    }
                }
                cost
            })
            .collect();
        let mut out = transactions.clone();
        out.with_column(Column::new(UNIT_COST.into(), filled))?;
        Ok(out)
    }
}

/// How the product cost table priced the lines without a `unit_cost` of their own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostTally {
    /// Lines priced by the table.
    pub lines_priced: u64,
    /// Lines of a product the table does not list (priced by the margin).
    pub lines_unpriced: u64,
    /// Lines without a `product_id` (priced by the margin).
    pub lines_without_product: u64,
    /// The products the table does not list.
    pub products_unpriced: BTreeSet<String>,
}

impl CostTally {
    /// One line for the user when some lines fell back to the margin, naming a few products.
    pub fn note(&self) -> Option<String> {
        let by_margin = self.lines_unpriced + self.lines_without_product;
        (by_margin > 0).then(|| {
            let shown: Vec<String> = self
                .products_unpriced
                .iter()
                .take(5)
                .map(|p| format!("`{p}`"))
                .collect();
            let more = self.products_unpriced.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "note: `[profit] product_costs` priced {} lines; {by_margin} lines were priced by the margin instead ({} of {} products the table does not list{}{more}; {} without a `product_id`)",
                self.lines_priced,
                self.lines_unpriced,
                self.products_unpriced.len(),
                if shown.is_empty() { String::new() } else { format!(": {}", shown.join(", ")) },
                self.lines_without_product,
            )
        })
    }
}

/// `[profit] margin = { default = 0.35, categories = { grocery = 0.2 } }`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Margin {
    /// The margin of every category not listed (and of lines without a category).
    pub default: f64,
    #[serde(default)]
    pub categories: BTreeMap<String, f64>,
}

impl ProfitParams {
    /// The settings, or an error naming the key whose value cannot be a margin or a cost.
    pub fn check(&self) -> Result<(), FeatureError> {
        let margins = std::iter::once(("margin.default".to_string(), self.margin.default)).chain(
            self.margin
                .categories
                .iter()
                .map(|(c, m)| (format!("margin.categories.{c}"), *m)),
        );
        for (key, m) in margins {
            if !m.is_finite() || m > 1.0 {
                return Err(FeatureError::Profit(format!(
                    "`{key}` is {m}; expected the share of the price that is margin, at most 1 (0.35 = 35%)"
                )));
            }
        }
        let costs = [
            ("order_cost".to_string(), self.order_cost),
            ("return_cost".to_string(), self.return_cost),
        ]
        .into_iter()
        .chain(
            self.contact_cost
                .iter()
                .map(|(c, v)| (format!("contact_cost.{c}"), *v)),
        );
        for (key, v) in costs {
            if !v.is_finite() || v < 0.0 {
                return Err(FeatureError::Profit(format!(
                    "`{key}` is {v}; expected a cost of zero or more"
                )));
            }
        }
        Ok(())
    }

    /// The cost share (1 − margin) of every category code, and of lines without one.
    fn cost_rates(&self, codes: Option<&Codes>) -> (Vec<f64>, f64) {
        let by_code = codes.map_or_else(Vec::new, |c| {
            c.levels
                .iter()
                .map(|level| self.cost_rate(Some(level)))
                .collect()
        });
        (by_code, self.cost_rate(None))
    }

    /// The cost share (1 − margin) of a line's category (trimmed), or of a line without one.
    pub fn cost_rate(&self, category: Option<&str>) -> f64 {
        let margin = category
            .and_then(|c| self.margin.categories.get(c.trim()))
            .unwrap_or(&self.margin.default);
        1.0 - margin
    }

    /// The product cost table, when `product_costs` names one; an error when the caller did not
    /// read it.
    pub(super) fn product_cost_table(&self) -> Result<Option<&ProductCosts>, FeatureError> {
        match (&self.product_costs, &self.product_cost_table) {
            (_, Some(table)) => Ok(Some(table)),
            (None, None) => Ok(None),
            (Some(path), None) => Err(FeatureError::Profit(format!(
                "`product_costs` ({}) was not read before the features were built; this is a bug",
                path.display()
            ))),
        }
    }

    /// The configured cost of a channel (names compared as `canonical_channel` does).
    pub fn channel_cost(&self, channel: &str) -> Option<f64> {
        self.contact_cost
            .iter()
            .find(|(c, _)| canonical_channel(c) == channel)
            .map(|(_, v)| *v)
    }
}

impl Definition for Profit {
    fn name(&self) -> &'static str {
        "profit"
    }

    fn docs(&self) -> &'static [Doc] {
        DOCS
    }

    fn by_default(&self) -> bool {
        false
    }

    fn line_columns(&self, transactions: &DataFrame) -> LineColumns {
        LineColumns {
            categorical: match transactions.column(CATEGORY) {
                Ok(_) => vec![CATEGORY],
                Err(_) => Vec::new(),
            },
            discount: false,
            cost: transactions.column(UNIT_COST).is_ok(),
        }
    }

    fn prepare(&self, source: &Source<'_>) -> Result<Box<dyn Prepared>, FeatureError> {
        Ok(Box::new(Keyed::new(source.ids, source.contacts)))
    }
}

/// The contacts history as the family reads it (`HistoryBuilder::contacts`).
#[derive(Debug, Default)]
pub struct Contacts {
    ids: Vec<String>,
    day: Vec<i32>,
    /// `canonical_channel` of the channel.
    channel: Vec<String>,
    /// The `cost` column's value, when the table has one and the row a value.
    cost: Vec<Option<f64>>,
}

impl Contacts {
    /// Adds the dated rows of a canonical contacts table.
    pub(super) fn push(&mut self, contacts: &DataFrame) -> Result<(), FeatureError> {
        let ids = contacts.column("customer_id")?.cast(&DataType::String)?;
        let days = contacts
            .column("contact_date")?
            .cast(&DataType::Date)?
            .cast(&DataType::Int32)?;
        let channels = contacts.column("channel")?.cast(&DataType::String)?;
        let costs = match contacts.column(CONTACT_COST) {
            Ok(c) => Some(c.cast(&DataType::Float64)?),
            Err(_) => None,
        };
        let costs = costs.as_ref().map(|c| c.f64()).transpose()?;
        let out = self;
        for (row, ((id, day), channel)) in ids
            .str()?
            .iter()
            .zip(days.i32()?.iter())
            .zip(channels.str()?.iter())
            .enumerate()
        {
            let (Some(id), Some(day)) = (id, day) else {
                continue;
            };
            out.ids.push(id.to_string());
            out.day.push(day);
            out.channel
                .push(canonical_channel(channel.unwrap_or_default()));
            out.cost
                .push(costs.and_then(|c| c.get(row)).filter(|c| c.is_finite()));
        }
        Ok(())
    }
}

/// The contacts by customer key, each key's sorted by day (as the lines are).
struct Keyed {
    /// Contacts of key `k`: `starts[k] .. starts[k + 1]`.
    starts: Vec<usize>,
    day: Vec<i32>,
    /// Index into `channels`.
    channel: Vec<u32>,
    cost: Vec<Option<f64>>,
    channels: Vec<String>,
}

impl Keyed {
    /// The contacts of the customers with lines (others never have a feature row).
    fn new(ids: &[String], contacts: Option<&Contacts>) -> Keyed {
        let key_of: HashMap<&str, u32> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.as_str(), k as u32))
            .collect();
        let mut channels: Vec<String> = Vec::new();
        let mut rows: Vec<(u32, i32, u32, Option<f64>)> = Vec::new();
        for c in contacts.into_iter() {
            for i in 0..c.ids.len() {
                let Some(&k) = key_of.get(c.ids[i].as_str()) else {
                    continue;
                };
                let code = match channels.iter().position(|ch| *ch == c.channel[i]) {
                    Some(code) => code,
                    None => {
                        channels.push(c.channel[i].clone());
                        channels.len() - 1
                    }
                };
                rows.push((k, c.day[i], code as u32, c.cost[i]));
            }
        }
        // Stable: contacts of one day keep their file order.
        rows.sort_by_key(|(k, d, _, _)| (*k, *d));
        let mut starts = vec![0usize; ids.len() + 1];
        rows.iter().for_each(|(k, ..)| starts[*k as usize + 1] += 1);
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        Keyed {
            starts,
            day: rows.iter().map(|r| r.1).collect(),
            channel: rows.iter().map(|r| r.2).collect(),
            cost: rows.iter().map(|r| r.3).collect(),
            channels,
        }
    }

    /// The price of every channel code; an error for a channel with an unpriced contact when
    /// `contact_cost` prices some channels (a channel left out by mistake would cost nothing).
    fn prices(&self, params: &ProfitParams) -> Result<Vec<f64>, FeatureError> {
        let prices: Vec<Option<f64>> = self
            .channels
            .iter()
            .map(|c| params.channel_cost(c))
            .collect();
        if !params.contact_cost.is_empty() {
            if let Some(i) = (0..self.cost.len())
                .find(|&i| self.cost[i].is_none() && prices[self.channel[i] as usize].is_none())
            {
                let channel = &self.channels[self.channel[i] as usize];
                return Err(FeatureError::Profit(format!(
                    "contacts on channel `{channel}` have no cost; add `{channel} = …` to `contact_cost` (or a `cost` column to the contacts)"
                )));
            }
        }
        Ok(prices.into_iter().map(|p| p.unwrap_or(0.0)).collect())
    }
}

impl Prepared for Keyed {
    fn at<'h>(
        &'h self,
        lines: &'h Lines,
        _day: i32,
        _population: &[u32],
        params: &FeatureParams,
    ) -> Result<Box<dyn Columns + 'h>, FeatureError> {
        let profit = params
            .profit
            .as_ref()
            .ok_or(FeatureError::ProfitNotConfigured)?;
        profit.check()?;
        let codes = lines.codes.iter().find(|c| c.column == CATEGORY);
        let (rate_of_code, default_rate) = profit.cost_rates(codes);
        Ok(Box::new(Pricing {
            contacts: self,
            channel_price: self.prices(profit)?,
            rate_of_code,
            default_rate,
            codes,
            order_cost: profit.order_cost,
            return_cost: profit.return_cost,
        }))
    }
}

/// The columns as of one day: every price resolved.
struct Pricing<'h> {
    contacts: &'h Keyed,
    channel_price: Vec<f64>,
    /// Cost share (1 − margin) of each category code.
    rate_of_code: Vec<f64>,
    default_rate: f64,
    codes: Option<&'h Codes>,
    order_cost: f64,
    return_cost: f64,
}

/// One customer's figures over some of their lines and contacts.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Figures {
    revenue: i64,
    cost_of_goods: f64,
    returned_goods: f64,
    orders: u32,
    returns: u32,
    contacts: f64,
}

impl Pricing<'_> {
    /// What a line's goods cost the seller (positive, for a purchase or a return alike).
    fn line_cost(&self, lines: &Lines, i: usize) -> f64 {
        if let Some(cost) = lines.cost.as_ref().map(|c| c[i]).filter(|c| *c != NO_COST) {
            return from_fixed(cost).abs();
        }
        let rate = match self.codes.map(|c| c.codes.get(i)) {
            Some(code) if code != MISSING => self.rate_of_code[code as usize],
            _ => self.default_rate,
        };
        from_fixed(lines.amount[i]).abs() * rate
    }

    /// The figures of the lines in `range` and contacts of `key` dated `from ..= day`.
    fn figures(
        &self,
        lines: &Lines,
        key: u32,
        range: Range<usize>,
        from: i32,
        day: i32,
    ) -> Figures {
        let mut f = Figures::default();
        let (mut last_order, mut last_return) = (None, None);
        let start = range.start + lines.day[range.clone()].partition_point(|d| *d < from);
        for i in start..range.end {
            let (amount, d) = (lines.amount[i], lines.day[i]);
            f.revenue += amount;
            if amount > 0 {
                f.cost_of_goods += self.line_cost(lines, i);
                if last_order != Some(d) {
                    f.orders += 1;
                    last_order = Some(d);
                }
            } else if amount < 0 {
                f.returned_goods += self.line_cost(lines, i);
                if last_return != Some(d) {
                    f.returns += 1;
                    last_return = Some(d);
                }
            }
        }
        let c = self.contacts;
        let (lo, hi) = (c.starts[key as usize], c.starts[key as usize + 1]);
        for i in lo..hi {
            if (from..=day).contains(&c.day[i]) {
                f.contacts += c.cost[i].unwrap_or(self.channel_price[c.channel[i] as usize]);
            }
        }
        f
    }

    fn gross(&self, f: &Figures) -> f64 {
        from_fixed(f.revenue) - f.cost_of_goods
    }

    fn net(&self, f: &Figures) -> f64 {
        self.gross(f)
            - self.order_cost * f64::from(f.orders)
            - self.return_cost * f64::from(f.returns)
            - f.contacts
    }
}

impl Columns for Pricing<'_> {
    fn names(&self) -> Vec<String> {
        DOCS.iter().map(|d| d.name.to_string()).collect()
    }

    fn write(&self, c: &mut Customer<'_>, out: &mut Vec<f64>) {
        let all = self.figures(c.lines, c.key, c.range.clone(), i32::MIN, c.day);
        let year = self.figures(
            c.lines,
            c.key,
            c.range.clone(),
            c.day - (YEAR_DAYS - 1),
            c.day,
        );
        out.extend([
            from_fixed(all.revenue),
            all.cost_of_goods,
            self.gross(&all),
            all.returned_goods + self.return_cost * f64::from(all.returns),
            self.order_cost * f64::from(all.orders),
            all.contacts,
            self.net(&all),
            self.gross(&year),
            year.contacts,
            self.net(&year),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::NaiveDate;

    use super::*;
    use crate::features::{Family, HistoryBuilder};

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// (customer, date, amount, category) lines.
    type Line<'a> = (&'a str, &'a str, f64, &'a str);
    /// (customer, date, channel, cost) contacts.
    type Contact<'a> = (&'a str, &'a str, &'a str, Option<f64>);

    const AS_OF: &str = "2024-06-30";

    /// a: a book and groceries, the book returned, and a purchase after the as-of day; b: an old
    /// book (out of the last 365 days) and groceries.
    const LINES: &[Line] = &[
        ("a", "2024-01-10", 100.0, "books"),
        ("a", "2024-01-10", 50.0, "grocery"),
        ("a", "2024-03-01", -100.0, "books"),
        ("a", "2024-07-15", 500.0, "books"),
        ("b", "2023-05-01", 200.0, "books"),
        ("b", "2024-06-01", 20.0, "grocery"),
    ];

    const CONTACTS: &[Contact] = &[
        ("a", "2024-02-01", "email", None),
        ("a", "2024-08-01", "mail", None),
        ("b", "2023-06-01", "Mail", None),
        ("b", "2024-06-15", "email", None),
    ];

    fn frame(lines: &[Line]) -> DataFrame {
        let dates: Vec<NaiveDate> = lines.iter().map(|l| date(l.1)).collect();
        DataFrame::new_infer_height(vec![
            Column::new(
                "customer_id".into(),
                lines.iter().map(|l| l.0).collect::<Vec<_>>(),
            ),
            DateChunked::from_naive_date("order_date".into(), dates).into_column(),
            Column::new(
                "amount".into(),
                lines.iter().map(|l| l.2).collect::<Vec<_>>(),
            ),
            Column::new(
                "category".into(),
                lines.iter().map(|l| l.3).collect::<Vec<_>>(),
            ),
        ])
        .unwrap()
    }

    fn contacts_frame(contacts: &[Contact]) -> DataFrame {
        let dates: Vec<NaiveDate> = contacts.iter().map(|c| date(c.1)).collect();
        DataFrame::new_infer_height(vec![
            Column::new(
                "customer_id".into(),
                contacts.iter().map(|c| c.0).collect::<Vec<_>>(),
            ),
            DateChunked::from_naive_date("contact_date".into(), dates).into_column(),
            Column::new(
                "channel".into(),
                contacts.iter().map(|c| c.2).collect::<Vec<_>>(),
            ),
            Column::new(
                "cost".into(),
                contacts.iter().map(|c| c.3).collect::<Vec<_>>(),
            ),
        ])
        .unwrap()
    }

    fn settings() -> ProfitParams {
        ProfitParams {
            margin: Margin {
                default: 0.4,
                categories: BTreeMap::from([("grocery".to_string(), 0.2)]),
            },
            order_cost: 2.0,
            return_cost: 5.0,
            contact_cost: BTreeMap::from([("email".to_string(), 0.5), ("mail".to_string(), 1.0)]),
            product_costs: None,
            product_cost_table: None,
        }
    }

    fn params(profit: Option<ProfitParams>) -> FeatureParams {
        FeatureParams {
            families: Some(vec![Family::Profit]),
            profit,
            ..FeatureParams::default()
        }
    }

    fn build(
        tx: &DataFrame,
        contacts: &[Contact],
        profit: ProfitParams,
    ) -> Result<DataFrame, FeatureError> {
        build_in_parts(tx, &[contacts], profit)
    }

    /// Contacts from several tables (the contacts file, the ledger's sends).
    fn build_in_parts(
        tx: &DataFrame,
        contacts: &[&[Contact]],
        profit: ProfitParams,
    ) -> Result<DataFrame, FeatureError> {
        let params = params(Some(profit));
        let mut builder = HistoryBuilder::new(&params, false);
        builder.push(tx)?;
        for part in contacts {
            builder.contacts(&contacts_frame(part))?;
        }
        builder.finish(None)?.build(date(AS_OF), &params)
    }

    fn row(df: &DataFrame, id: &str) -> Vec<f64> {
        let ids = df.column("customer_id").unwrap().str().unwrap();
        let r = ids.iter().position(|v| v == Some(id)).unwrap();
        DOCS.iter()
            .map(|d| df.column(d.name).unwrap().f64().unwrap().get(r).unwrap())
            .collect()
    }

    fn assert_close(got: &[f64], expected: &[f64]) {
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!((g - e).abs() < 1e-9, "{}: {g} != {e}", DOCS[i].name);
        }
    }

    /// a: revenue 150 − 100; goods 60 (book, margin 0.4) + 40 (groceries, 0.2); the returned
    /// book's 60 is lost: gross −50, net −50 − 2 (one order) − 5 (one return) − 0.5 (an email).
    /// Their returns exceed their margin: unprofitable. b: goods 120 + 16; two orders, an
    /// e-mail and a letter; of the last 365 days only the groceries and the e-mail.
    #[test]
    fn profits_by_hand() {
        let f = build(&frame(LINES), CONTACTS, settings()).unwrap();
        assert_eq!(f.width(), 1 + DOCS.len());
        assert_close(
            &row(&f, "a"),
            &[50.0, 100.0, -50.0, 65.0, 2.0, 0.5, -57.5, -50.0, 0.5, -57.5],
        );
        assert_close(
            &row(&f, "b"),
            &[220.0, 136.0, 84.0, 0.0, 4.0, 1.5, 78.5, 4.0, 0.5, 1.5],
        );
    }

    /// The total of the per-customer net profits is the profit taken from the lines and
    /// contacts directly: revenue − goods bought − handling per (customer, day) − contacts.
    #[test]
    fn per_customer_profits_sum_to_the_profit_of_the_lines() {
        let p = settings();
        let f = build(&frame(LINES), CONTACTS, p.clone()).unwrap();
        let total: f64 = f.column(NET_PROFIT).unwrap().f64().unwrap().sum().unwrap();
        let as_of = date(AS_OF);
        let (mut direct, mut orders, mut returns) = (0.0, HashSet::new(), HashSet::new());
        for (id, day, amount, category) in LINES.iter().filter(|l| date(l.1) <= as_of) {
            let margin = p
                .margin
                .categories
                .get(*category)
                .unwrap_or(&p.margin.default);
            direct += amount;
            if *amount > 0.0 {
                direct -= amount * (1.0 - margin);
                orders.insert((id, day));
            } else {
                returns.insert((id, day));
            }
        }
        direct -= p.order_cost * orders.len() as f64 + p.return_cost * returns.len() as f64;
        for (_, _, channel, _) in CONTACTS.iter().filter(|c| date(c.1) <= as_of) {
            direct -= p.contact_cost[&channel.to_lowercase()];
        }
        assert!((total - direct).abs() < 1e-9, "{total} != {direct}");
    }

    /// Contacts handed over in two tables count as the same contacts in one.
    #[test]
    fn contacts_of_several_tables_add_up() {
        let tx = frame(LINES);
        let whole = build(&tx, CONTACTS, settings()).unwrap();
        let parts = build_in_parts(&tx, &[&CONTACTS[..1], &CONTACTS[1..]], settings()).unwrap();
        assert_eq!(parts, whole);
        let fewer = build(&tx, &CONTACTS[1..], settings()).unwrap();
        assert_ne!(fewer, whole);
    }

    /// A purchase and a contact after the as-of day change no figure.
    #[test]
    fn nothing_after_the_as_of_day_counts() {
        let before: Vec<Line> = LINES
            .iter()
            .copied()
            .filter(|l| date(l.1) <= date(AS_OF))
            .collect();
        let contacts: Vec<Contact> = CONTACTS
            .iter()
            .copied()
            .filter(|c| date(c.1) <= date(AS_OF))
            .collect();
        let all = build(&frame(LINES), CONTACTS, settings()).unwrap();
        let past = build(&frame(&before), &contacts, settings()).unwrap();
        assert_eq!(all, past);
    }

    /// `unit_cost` × quantity prices a line where it has a value (a return's cost is positive
    /// too); a line without one falls back to its margin. A contact's own cost wins over the
    /// channel's.
    #[test]
    fn unit_costs_and_contact_costs_win_over_the_rates() {
        let mut tx = frame(&LINES[..3]);
        tx.with_column(Column::new("quantity".into(), [2.0, 1.0, -2.0]))
            .unwrap();
        tx.with_column(Column::new(
            "unit_cost".into(),
            [Some(30.0), None, Some(30.0)],
        ))
        .unwrap();
        let contacts = [("a", "2024-02-01", "email", Some(3.0))];
        let f = build(&tx, &contacts, settings()).unwrap();
        // Goods 2 × 30 + 50 × 0.8; the return loses 2 × 30 + 5.
        assert_close(
            &row(&f, "a"),
            &[50.0, 100.0, -50.0, 65.0, 2.0, 3.0, -60.0, -50.0, 3.0, -60.0],
        );
    }

    /// A line without its own `unit_cost` costs quantity × its product's cost from the table;
    /// its own `unit_cost` wins; a product the table lacks falls back to its category's margin
    /// and is counted. a: 2 books at 30 (60) + groceries by margin (50 × 0.8); the returned 2
    /// books cost their own 10 each: returns cost 20 + 5.
    #[test]
    fn the_product_cost_table_prices_lines_without_their_own_cost() {
        let mut tx = frame(&LINES[..3]);
        tx.with_column(Column::new("quantity".into(), [2.0, 1.0, -2.0]))
            .unwrap();
        tx.with_column(Column::new("product_id".into(), ["bk", " gr ", "bk"]))
            .unwrap();
        tx.with_column(Column::new("unit_cost".into(), [None, None, Some(10.0)]))
            .unwrap();
        let table = ProductCosts::new(HashMap::from([("bk".to_string(), 30.0)]));
        let profit = ProfitParams {
            product_costs: Some("costs.csv".into()),
            product_cost_table: Some(Arc::new(table)),
            ..settings()
        };
        let params = params(Some(profit));
        let mut builder = HistoryBuilder::new(&params, false);
        builder.push(&tx).unwrap();
        builder
            .contacts(&contacts_frame(&[("a", "2024-02-01", "email", None)]))
            .unwrap();
        let history = builder.finish(None).unwrap();
        let tally = history.cost_tally().expect("tally").clone();
        assert_eq!((tally.lines_priced, tally.lines_unpriced), (1, 1));
        assert_eq!(tally.products_unpriced, BTreeSet::from(["gr".to_string()]));
        let note = tally.note().expect("note");
        assert!(
            note.contains("priced 1 lines; 1 lines were priced by the margin"),
            "{note}"
        );
        assert!(note.contains("`gr`"), "{note}");
        let f = history.build(date(AS_OF), &params).unwrap();
        assert_close(
            &row(&f, "a"),
            &[50.0, 100.0, -50.0, 25.0, 2.0, 0.5, -57.5, -50.0, 0.5, -57.5],
        );
        // Named but never read: the caller's bug, not a silent margin.
        let unread = ProfitParams {
            product_costs: Some("costs.csv".into()),
            ..settings()
        };
        let err = build(&tx, &[], unread).unwrap_err();
        assert!(err.to_string().contains("this is a bug"), "{err}");
    }

    #[test]
    fn settings_and_prices_are_checked() {
        let tx = frame(LINES);
        let err = build(&tx, &[("a", "2024-02-01", "sms", None)], settings()).unwrap_err();
        assert!(
            err.to_string().contains("channel `sms` have no cost"),
            "{err}"
        );
        // Without any contact_cost, unpriced contacts cost nothing.
        let free = ProfitParams {
            contact_cost: BTreeMap::new(),
            ..settings()
        };
        let f = build(&tx, CONTACTS, free).unwrap();
        assert_eq!(row(&f, "a")[5], 0.0);
        let mut bad = settings();
        bad.margin.categories.insert("toys".into(), 1.5);
        let err = build(&tx, CONTACTS, bad).unwrap_err();
        assert!(
            err.to_string().contains("`margin.categories.toys` is 1.5"),
            "{err}"
        );
        let bad = ProfitParams {
            order_cost: -1.0,
            ..settings()
        };
        assert!(bad
            .check()
            .unwrap_err()
            .to_string()
            .contains("`order_cost` is -1"));
        let err = crate::features::build(&tx, None, date(AS_OF), &params(None)).unwrap_err();
        assert!(matches!(err, FeatureError::ProfitNotConfigured), "{err}");
    }

    #[test]
    fn profit_is_opt_in_and_unknown_keys_are_errors() {
        assert!(!Family::Profit.by_default());
        let ok: ProfitParams = toml::from_str(
            "margin = { default = 0.35, categories = { grocery = 0.2 } }\norder_cost = 1.5",
        )
        .unwrap();
        assert_eq!(ok.margin.categories["grocery"], 0.2);
        assert_eq!(ok.return_cost, 0.0);
        let err = toml::from_str::<ProfitParams>("margin = { default = 0.35 }\nshipping = 1")
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `shipping`"),
            "{err}"
        );
    }
}
