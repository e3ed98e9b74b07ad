//! Every feature's name, unit and definition: the source of `bullseye features --list` and of the
//! column order of the output.

use super::Family;

/// One documented feature (or pattern of features, for data-dependent levels).
#[derive(Debug, Clone, Copy)]
pub struct FeatureDoc {
    pub family: Family,
    pub name: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

const fn doc(
    family: Family,
    name: &'static str,
    unit: &'static str,
    definition: &'static str,
) -> FeatureDoc {
    FeatureDoc {
        family,
        name,
        unit,
        definition,
    }
}

/// The catalogue, in output order. `<level>` names stand for one column per kept level.
pub const CATALOG: &[FeatureDoc] = &[
    doc(Family::Rfm, "recency_days", "days", "as-of day − last purchase day"),
    doc(Family::Rfm, "frequency", "count", "purchase occasions: distinct days with a purchase"),
    doc(Family::Rfm, "monetary_total", "currency", "sum of amounts (returns subtract)"),
    doc(Family::Rfm, "monetary_avg", "currency", "monetary_total ÷ frequency (spend per occasion)"),
    doc(Family::Rfm, "tenure_days", "days", "as-of day − first purchase day"),
    doc(Family::Btyd, "btyd_frequency", "count", "distinct purchase days − 1 (repeat occasions; lifetimes' frequency)"),
    doc(Family::Btyd, "btyd_recency", "time unit", "last purchase day − first purchase day (lifetimes' recency)"),
    doc(Family::Btyd, "btyd_t", "time unit", "as-of day − first purchase day (lifetimes' T)"),
    doc(Family::Btyd, "btyd_monetary_value", "currency", "mean day total over the repeat days (first day excluded); 0 when btyd_frequency is 0"),
    doc(Family::Windows, "occasions_30d", "count", "purchase days in the last 30 days (as-of day included)"),
    doc(Family::Windows, "spend_30d", "currency", "spend in the last 30 days"),
    doc(Family::Windows, "occasions_90d", "count", "purchase days in the last 90 days"),
    doc(Family::Windows, "spend_90d", "currency", "spend in the last 90 days"),
    doc(Family::Windows, "occasions_365d", "count", "purchase days in the last 365 days"),
    doc(Family::Windows, "spend_365d", "currency", "spend in the last 365 days"),
    doc(Family::Windows, "trend_90d", "ratio in [−1, 1]", "(spend last 90 days − spend the 90 days before) ÷ (|recent| + |previous|); 0 when both are 0"),
    doc(Family::Cycle, "cycle_defined", "0/1", "1 when the customer has at least two purchase days (a gap exists); the other cycle features are 0 when it is 0"),
    doc(Family::Cycle, "cycle_mean_gap_days", "days", "mean gap between consecutive purchase days"),
    doc(Family::Cycle, "cycle_median_gap_days", "days", "median gap between consecutive purchase days"),
    doc(Family::Cycle, "cycle_std_gap_days", "days", "population standard deviation of the gaps (0 with one gap)"),
    doc(Family::Cycle, "overdue_ratio", "ratio", "recency_days ÷ cycle_mean_gap_days: above 1 = later than the customer's own rhythm"),
    doc(Family::Mix, "returns_rate", "share", "share of order lines with a negative amount"),
    doc(Family::Mix, "n_categories", "count", "distinct categories bought (needs `category`)"),
    doc(Family::Mix, "share_category_<level>", "share", "spend share per category, top levels by overall spend, the rest as `other` (needs `category`)"),
    doc(Family::Mix, "n_channels", "count", "distinct channels used (needs `channel`)"),
    doc(Family::Mix, "multichannel", "0/1", "1 when more than one channel was used (needs `channel`)"),
    doc(Family::Mix, "share_channel_<level>", "share", "spend share per channel, top levels, rest as `other` (needs `channel`)"),
    doc(Family::Mix, "discount_share", "share", "share of order lines bought with a discount > 0 (needs `discount`)"),
    doc(Family::Mix, "share_payment_<level>", "share", "share of order lines per payment method, top levels, rest as `other` (needs `payment_method`)"),
    doc(Family::Attributes, "days_since_signup", "days", "as-of day − signup_date (needs `signup_date`); imputed as below"),
    doc(Family::Attributes, "age_years", "years", "(as-of day − birth_date) ÷ 365.25 (needs `birth_date`); imputed as below"),
    doc(Family::Attributes, "<numeric attribute>", "as given", "numeric customer columns (consent flags, income…) as they are"),
    doc(Family::Attributes, "<text attribute>_<level>", "0/1", "one-hot of text customer columns, top levels by count, rest as `<name>_other`"),
    doc(Family::Attributes, "<attribute>_missing", "0/1", "1 when the value was missing (no customer row, empty, or a date after the as-of day); numeric values are then imputed with the median of the output rows, one-hot columns are all 0"),
];

/// The catalogue as a table for a terminal.
pub fn render_catalog() -> String {
    let mut out = format!(
        "{:<11} {:<28} {:<16} definition\n",
        "family", "name", "unit"
    );
    for d in CATALOG {
        out.push_str(&format!(
            "{:<11} {:<28} {:<16} {}\n",
            d.family.name(),
            d.name,
            d.unit,
            d.definition
        ));
    }
    out
}
