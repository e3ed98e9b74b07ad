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
}

/// A family's entry for one feature (the family adds itself in [`CATALOG`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Doc {
    pub name: &'static str,
    pub unit: &'static str,
    pub definition: &'static str,
}

pub(super) const fn doc(name: &'static str, unit: &'static str, definition: &'static str) -> Doc {
    Doc {
        name,
        unit,
        definition,
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
