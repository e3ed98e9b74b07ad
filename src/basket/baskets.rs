//! Baskets in compressed sparse rows: per basket, its distinct item codes. Memory is one `u32`
//! per (basket, item) pair — never a basket × item matrix, which at a million orders and ten
//! thousand products would be ten billion cells.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;

use super::BasketError;
use crate::types::Codebook;

/// What an item is: a product (`product_id`, else `product_name`) or its category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    #[default]
    Product,
    Category,
}

impl Level {
    pub fn parse(name: &str) -> Result<Level, BasketError> {
        match name {
            "product" => Ok(Level::Product),
            "category" => Ok(Level::Category),
            other => Err(BasketError::UnknownLevel {
                found: other.to_string(),
            }),
        }
    }

    /// The transaction columns naming the item, first present wins.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Level::Product => &["product_id", "product_name"],
            Level::Category => &["category"],
        }
    }
}

/// Who bought a basket and when (baskets from transactions; none from a basket-per-line file).
#[derive(Debug, Clone, Default)]
pub struct Owners {
    /// Customer ids by index.
    pub ids: Vec<String>,
    /// Per basket: its customer's index.
    pub customer: Vec<u32>,
    /// Per basket: its day (days since 1970-01-01).
    pub day: Vec<i32>,
}

/// Every basket's distinct items.
#[derive(Debug, Clone, Default)]
pub struct Baskets {
    /// Item names by code.
    pub items: Vec<String>,
    /// Items of basket `b`: `codes[offsets[b] .. offsets[b + 1]]`, ascending.
    offsets: Vec<usize>,
    codes: Vec<u32>,
    pub owners: Option<Owners>,
}

/// Numbers names in order of first appearance.
impl Baskets {
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items of basket `b`, ascending codes.
    pub fn basket(&self, b: usize) -> &[u32] {
        &self.codes[self.offsets[b]..self.offsets[b + 1]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.len()).map(|b| self.basket(b))
    }

    /// Item → number of baskets holding it.
    pub fn item_counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.items.len()];
        for &c in &self.codes {
            counts[c as usize] += 1;
        }
        counts
    }

    /// Baskets from lists of item names (duplicates in a basket count once; `exclude`d names
    /// and empty names are dropped; a basket left empty is kept: it counts in the support's
    /// denominator, as in arules and mlxtend).
    pub fn from_lists<'a, B, I>(baskets: B, exclude: &HashSet<String>) -> Baskets
    where
        B: IntoIterator<Item = I>,
        I: IntoIterator<Item = &'a str>,
    {
        let mut names = Codebook::default();
        let mut out = Baskets {
            offsets: vec![0],
            ..Baskets::default()
        };
        for basket in baskets {
            let start = out.codes.len();
            for item in basket {
                if !item.is_empty() && !exclude.contains(item) {
                    out.codes.push(names.code(item));
                }
            }
            let mine = &mut out.codes[start..];
            mine.sort_unstable();
            let kept = dedup_sorted(mine);
            out.codes.truncate(start + kept);
            out.offsets.push(out.codes.len());
        }
        out.items = names.into_texts();
        out
    }

    /// One basket a line, items separated by commas (the arules/Lantz `groceries.csv` layout:
    /// no header, no quoting; names kept exactly, trailing spaces included).
    pub fn from_text(text: &str, exclude: &HashSet<String>) -> Baskets {
        let lines = text.lines().filter(|l| !l.is_empty());
        Baskets::from_lists(lines.map(|l| l.split(',')), exclude)
    }

    /// Baskets of validated transactions: one per `order_id` (rows without one: one per
    /// customer and day). Returns (a negative quantity or amount) are not purchases and are left
    /// out, as are rows without an item at `level` and `exclude`d items.
    pub fn from_transactions(
        tx: &DataFrame,
        level: Level,
        exclude: &HashSet<String>,
    ) -> Result<Baskets, BasketError> {
        let mut builder = BasketBuilder::new(level, exclude.clone(), None);
        builder.push(tx)?;
        Ok(builder.finish())
    }

    /// The baskets whose index passes `keep` (owners kept along).
    pub fn filter(&self, keep: impl Fn(usize) -> bool) -> Baskets {
        let mut out = Baskets {
            items: self.items.clone(),
            offsets: vec![0],
            codes: Vec::new(),
            owners: self.owners.as_ref().map(|o| Owners {
                ids: o.ids.clone(),
                ..Owners::default()
            }),
        };
        for b in (0..self.len()).filter(|b| keep(*b)) {
            out.codes.extend_from_slice(self.basket(b));
            out.offsets.push(out.codes.len());
            if let (Some(all), Some(kept)) = (&self.owners, out.owners.as_mut()) {
                kept.customer.push(all.customer[b]);
                kept.day.push(all.day[b]);
            }
        }
        out
    }
}

/// Baskets built from validated transactions piece by piece (a job streams its transactions):
/// an order split across two pieces is still one basket.
pub struct BasketBuilder {
    level: Level,
    exclude: HashSet<String>,
    /// Rows dated after this day (days since 1970-01-01) are left out: no future baskets.
    until: Option<i32>,
    item_names: Codebook,
    customer_names: Codebook,
    basket_of: HashMap<(u32, String, i32), u32>,
    lines: Vec<(u32, u32)>,
    owners: Owners,
}

impl BasketBuilder {
    pub fn new(level: Level, exclude: HashSet<String>, until: Option<i32>) -> BasketBuilder {
        BasketBuilder {
            level,
            exclude,
            until,
            item_names: Codebook::default(),
            customer_names: Codebook::default(),
            basket_of: HashMap::new(),
            lines: Vec::new(),
            owners: Owners::default(),
        }
    }

    /// Adds the purchase lines of one piece of validated transactions.
    pub fn push(&mut self, tx: &DataFrame) -> Result<(), BasketError> {
        let level = self.level;
        let item_column = level
            .columns()
            .iter()
            .find(|c| tx.column(c).is_ok())
            .ok_or_else(|| BasketError::NoItemColumn {
                expected: level.columns().join("` or `"),
            })?;
        let text = |name: &str| -> PolarsResult<Option<StringChunked>> {
            match tx.column(name) {
                Ok(c) => Ok(Some(c.cast(&DataType::String)?.str()?.clone())),
                Err(_) => Ok(None),
            }
        };
        let number = |name: &str| -> PolarsResult<Option<Float64Chunked>> {
            match tx.column(name) {
                Ok(c) => Ok(Some(c.cast(&DataType::Float64)?.f64()?.clone())),
                Err(_) => Ok(None),
            }
        };
        let items = text(item_column)?.ok_or_else(|| BasketError::bug("item column vanished"))?;
        let customers = text("customer_id")?.ok_or_else(|| BasketError::NoItemColumn {
            expected: "customer_id".to_string(),
        })?;
        let orders = text("order_id")?;
        let days = tx
            .column("order_date")?
            .cast(&DataType::Date)?
            .cast(&DataType::Int32)?;
        let days = days.i32()?;
        let (quantity, amount) = (number("quantity")?, number("amount")?);
        let is_return = |row: usize| {
            let below = |c: &Option<Float64Chunked>| {
                c.as_ref().and_then(|c| c.get(row)).is_some_and(|v| v < 0.0)
            };
            below(&quantity) || below(&amount)
        };
        let until = self.until.unwrap_or(i32::MAX);
        for row in 0..tx.height() {
            let (Some(item), Some(customer), Some(day)) =
                (items.get(row), customers.get(row), days.get(row))
            else {
                continue;
            };
            if item.is_empty() || day > until || self.exclude.contains(item) || is_return(row) {
                continue;
            }
            let customer = self.customer_names.code(customer);
            // An order id names the basket; without one, the customer's day does.
            let key = match orders.as_ref().and_then(|o| o.get(row)) {
                Some(order) => (u32::MAX, order.to_string(), 0),
                None => (customer, String::new(), day),
            };
            let next = self.basket_of.len() as u32;
            let owners = &mut self.owners;
            let basket = *self.basket_of.entry(key).or_insert_with(|| {
                owners.customer.push(customer);
                owners.day.push(day);
                next
            });
            self.lines.push((basket, self.item_names.code(item)));
        }
        Ok(())
    }

    pub fn finish(self) -> Baskets {
        let mut lines = self.lines;
        lines.sort_unstable();
        lines.dedup();
        let mut offsets = vec![0usize; self.basket_of.len() + 1];
        for (b, _) in &lines {
            offsets[*b as usize + 1] += 1;
        }
        for b in 1..offsets.len() {
            offsets[b] += offsets[b - 1];
        }
        let mut owners = self.owners;
        owners.ids = self.customer_names.into_texts();
        Baskets {
            items: self.item_names.into_texts(),
            offsets,
            codes: lines.into_iter().map(|(_, i)| i).collect(),
            owners: Some(owners),
        }
    }
}

/// Removes adjacent repeats in place; returns the length kept.
fn dedup_sorted(v: &mut [u32]) -> usize {
    if v.is_empty() {
        return 0;
    }
    let mut kept = 1;
    for i in 1..v.len() {
        if v[i] != v[kept - 1] {
            v[kept] = v[i];
            kept += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_distinct_items_and_empty_baskets() {
        let exclude: HashSet<String> = ["postage".to_string()].into();
        let b = Baskets::from_text("a,b,a\npostage\nb,c ,postage\n", &exclude);
        assert_eq!(b.len(), 3);
        assert_eq!(b.items, ["a", "b", "c "]);
        assert_eq!(b.basket(0), [0, 1]);
        assert!(b.basket(1).is_empty());
        assert_eq!(b.basket(2), [1, 2]);
        assert_eq!(b.item_counts(), [1, 2, 1]);
    }

    #[test]
    fn transactions_group_by_order_else_customer_day_and_skip_returns() {
        let tx = df!(
            "customer_id" => ["1", "1", "1", "2", "2", "2"],
            "order_date" => [0i32, 0, 1, 0, 0, 0],
            "order_id" => [Some("o1"), Some("o1"), Some("o2"), None, None, None],
            "quantity" => [1.0, 2.0, 1.0, 1.0, 1.0, -1.0],
            "product_id" => ["tea", "milk", "tea", "tea", "jam", "milk"],
        )
        .unwrap()
        .lazy()
        .with_column(col("order_date").cast(DataType::Date))
        .collect()
        .unwrap();
        let b = Baskets::from_transactions(&tx, Level::Product, &HashSet::new()).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b.items, ["tea", "milk", "jam"]);
        assert_eq!(b.basket(0), [0, 1]);
        assert_eq!(b.basket(1), [0]);
        assert_eq!(b.basket(2), [0, 2]);
        let owners = b.owners.unwrap();
        assert_eq!(owners.customer, [0, 0, 1]);
        assert_eq!(owners.day, [0, 1, 0]);
        let err = Baskets::from_transactions(&tx, Level::Category, &HashSet::new()).unwrap_err();
        assert!(err.to_string().contains("`category`"), "{err}");
    }

    #[test]
    fn pieces_join_split_orders_and_leave_out_future_days() {
        let piece = |customers: [&str; 2], days: [i32; 2], orders: [&str; 2], items: [&str; 2]| {
            df!(
                "customer_id" => customers,
                "order_date" => days,
                "order_id" => orders,
                "product_id" => items,
            )
            .unwrap()
            .lazy()
            .with_column(col("order_date").cast(DataType::Date))
            .collect()
            .unwrap()
        };
        let mut b = BasketBuilder::new(Level::Product, HashSet::new(), Some(5));
        b.push(&piece(["1", "2"], [0, 3], ["o1", "o2"], ["tea", "jam"]))
            .unwrap();
        // o1 goes on in the second piece; o3 is after day 5.
        b.push(&piece(["1", "2"], [0, 6], ["o1", "o3"], ["milk", "bread"]))
            .unwrap();
        let b = b.finish();
        assert_eq!(b.len(), 2);
        assert_eq!(b.items, ["tea", "jam", "milk"]);
        assert_eq!(b.basket(0), [0, 2]);
        assert_eq!(b.basket(1), [1]);
    }
}
