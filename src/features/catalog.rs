//! Every feature's name, unit and definition: the source of `bullseye features --list` and of the
//! column order of the output.

use std::sync::LazyLock;

use super::Family;

/// One documented feature (or pattern of features, for data-dependent levels).
#[derive(Debug, Clone, Copy)]
pub struct FeatureDoc {
    pub family: Family,
    pub name: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
    /// Its definition as SQL primitives, when it has one (`bullseye export sql`).
    pub sql: Option<SqlForm>,
}

/// A feature's definition as one SQL primitive over the customer's purchase days up to the
/// as-of day (a day's lines summed first, as the Rust builders do). Declared beside the Rust
/// definition in the family's file; `crate::sql` renders it per engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlForm {
    /// As-of day − last purchase day.
    DaysSinceLast,
    /// As-of day − first purchase day, in days or in the `btyd` time unit.
    DaysSinceFirst { per_unit: bool },
    /// Last purchase day − first purchase day, in days or in the `btyd` time unit.
    FirstToLast { per_unit: bool },
    /// Purchase days, all or those in the last `window` days (as-of day included).
    Occasions { window: Option<i32> },
    /// Sum of amounts, all or in the last `window` days.
    Spend { window: Option<i32> },
    /// Spend ÷ purchase days.
    SpendPerOccasion,
    /// Purchase days − 1.
    RepeatOccasions,
    /// Spend after the first purchase day ÷ repeat days; 0 without a repeat.
    RepeatSpendPerOccasion,
    /// (spend in the last `window` days − spend in the `window` before) ÷ (|recent| + |previous|); 0 when both are 0.
    Trend { window: i32 },
    /// 1 with at least two purchase days, else 0.
    GapDefined,
    /// Mean gap between consecutive purchase days; 0 without a gap.
    GapMean,
    /// Median gap; 0 without a gap.
    GapMedian,
    /// Population standard deviation of the gaps; 0 without a gap.
    GapStd,
    /// Days since the last purchase ÷ mean gap; 0 without a gap.
    Overdue,
    /// One figure of the `profit` family, priced by the job's `[profit]` settings over the
    /// purchase lines (not days) and the contacts.
    Profit(ProfitForm),
}

/// The `profit` family's figures, each over the whole history or the last 365 days (as-of
/// day included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfitForm {
    /// Sum of amounts, refunds subtracted.
    Revenue,
    /// Cost of the goods of the purchase lines.
    CostOfGoods,
    /// Revenue − cost of goods.
    Gross { year: bool },
    /// Cost of the returned goods + return_cost per return day.
    ReturnsCost,
    /// order_cost per purchase day.
    OrderCosts,
    /// Sum of the contacts' costs.
    ContactCosts { year: bool },
    /// Gross − order costs − return costs − contact costs.
    Net { year: bool },
}

/// A family's entry for one feature (the family adds itself in [`CATALOG`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Doc {
    pub name: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
    pub sql: Option<SqlForm>,
}

pub(super) const fn doc(name: &'static str, unit: &'static str, definition: &'static str) -> Doc {
    Doc {
        name,
        unit,
        definition,
        sql: None,
    }
}

impl Doc {
    /// The same entry with its SQL form.
    pub(super) const fn sql(self, form: SqlForm) -> Doc {
        Doc {
            sql: Some(form),
            ..self
        }
    }
}

/// The catalogue, in output order: every registered family's entries, in family order.
/// `<level>` names stand for one column per kept level.
pub static CATALOG: LazyLock<Vec<FeatureDoc>> = LazyLock::new(|| {
    Family::ALL
        .iter()
        .flat_map(|&family| {
            family.docs().iter().map(move |d| FeatureDoc {
                family,
                name: d.name,
                unit: d.unit,
                definition: d.definition,
                sql: d.sql,
            })
        })
        .collect()
});

/// The catalogue as a table for a terminal.
pub fn render_catalog() -> String {
    // The family column is as wide as the longest name, plus one.
    let width = Family::ALL
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0)
        + 1;
    let mut out = format!(
        "{:<width$} {:<28} {:<16} definition\n",
        "family", "name", "unit"
    );
    for d in CATALOG.iter() {
        out.push_str(&format!(
            "{:<width$} {:<28} {:<16} {}\n",
            d.family.name(),
            d.name,
            d.unit,
            d.definition
        ));
    }
    out
}
