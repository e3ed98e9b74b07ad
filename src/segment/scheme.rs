//! Named RFM segments: a first-match rule table over score ranges.
//!
//! A rule names a segment and gives inclusive score ranges for R and F and optionally M. Rules
//! are tried in order and the first match wins; a customer no rule matches gets
//! [`UNASSIGNED`]. Ranges deserialize from `"1-2"`, `"5"`, `5` or `[1, 2]` so a TOML table reads
//! naturally:
//!
//! ```toml
//! [[rules]]
//! name = "champions"
//! r = "5"
//! f = [4, 5]
//! ```

use serde::{Deserialize, Serialize};

use crate::segment::error::{Result, SegmentError};
use crate::segment::labels::Labels;
use crate::segment::rfm::LEVELS;

/// Segment of a customer matched by no rule.
pub const UNASSIGNED: &str = "unassigned";

/// An inclusive range of scores `lo..=hi` within 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RangeRepr", into = "RangeRepr")]
pub struct ScoreRange {
    /// Lowest score matched.
    pub lo: u8,
    /// Highest score matched.
    pub hi: u8,
}

impl ScoreRange {
    /// `lo..=hi`; checked when the scheme is checked.
    pub const fn new(lo: u8, hi: u8) -> Self {
        Self { lo, hi }
    }

    /// Whether `score` lies in the range.
    pub fn contains(&self, score: u8) -> bool {
        self.lo <= score && score <= self.hi
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.lo < 1 || self.hi > LEVELS || self.lo > self.hi {
            return Err(format!(
                "expected a score range lo-hi with 1 <= lo <= hi <= 5, found {}-{}",
                self.lo, self.hi
            ));
        }
        Ok(())
    }
}

/// The accepted spellings of a range.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum RangeRepr {
    Single(u8),
    Pair([u8; 2]),
    Text(String),
}

impl TryFrom<RangeRepr> for ScoreRange {
    type Error = String;
    fn try_from(r: RangeRepr) -> std::result::Result<Self, String> {
        let parse = |s: &str| {
            s.trim()
                .parse::<u8>()
                .map_err(|_| format!("expected a score range like \"1-2\" or \"5\", found {s:?}"))
        };
        let range = match r {
            RangeRepr::Single(v) => ScoreRange::new(v, v),
            RangeRepr::Pair([lo, hi]) => ScoreRange::new(lo, hi),
            RangeRepr::Text(t) => match t.split_once('-') {
                Some((lo, hi)) => ScoreRange::new(parse(lo)?, parse(hi)?),
                None => {
                    let v = parse(&t)?;
                    ScoreRange::new(v, v)
                }
            },
        };
        range.check()?;
        Ok(range)
    }
}

impl From<ScoreRange> for RangeRepr {
    fn from(r: ScoreRange) -> Self {
        if r.lo == r.hi {
            RangeRepr::Text(r.lo.to_string())
        } else {
            RangeRepr::Text(format!("{}-{}", r.lo, r.hi))
        }
    }
}

/// One rule of a scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRule {
    /// Segment name given to matching customers.
    pub name: String,
    /// Recency scores matched.
    pub r: ScoreRange,
    /// Frequency scores matched.
    pub f: ScoreRange,
    /// Monetary scores matched; absent = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<ScoreRange>,
}

impl SegmentRule {
    /// Whether the rule matches the scores.
    pub fn matches(&self, r: u8, f: u8, m: u8) -> bool {
        self.r.contains(r) && self.f.contains(f) && self.m.is_none_or(|mr| mr.contains(m))
    }
}

/// An ordered, first-match rule table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentScheme {
    /// Rules tried in order.
    pub rules: Vec<SegmentRule>,
}

fn rule(name: &str, r: (u8, u8), f: (u8, u8)) -> SegmentRule {
    SegmentRule {
        name: name.into(),
        r: ScoreRange::new(r.0, r.1),
        f: ScoreRange::new(f.0, f.1),
        m: None,
    }
}

impl Default for SegmentScheme {
    /// The R×F scheme: every one of the 25 R×F cells (hence all 125 RFM cells) has exactly one rule.
    fn default() -> Self {
        Self {
            rules: vec![
                rule("champions", (5, 5), (4, 5)),
                rule("loyal", (3, 4), (4, 5)),
                rule("potential_loyalist", (4, 5), (2, 3)),
                rule("new", (5, 5), (1, 1)),
                rule("promising", (4, 4), (1, 1)),
                rule("need_attention", (3, 3), (3, 3)),
                rule("about_to_sleep", (3, 3), (1, 2)),
                rule("cant_lose", (1, 2), (5, 5)),
                rule("at_risk", (1, 2), (3, 4)),
                rule("hibernating", (1, 2), (1, 2)),
            ],
        }
    }
}

/// Coverage report of a scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeAnalysis {
    /// Whether some rule constrains M (cells are then 3-digit RFM cells, else 2-digit R×F cells).
    pub uses_m: bool,
    /// Cells no rule matches, e.g. `"31"` (R×F) or `"315"` (RFM), in ascending order.
    pub uncovered: Vec<String>,
    /// Names of rules that can never match because earlier rules take all their cells.
    pub shadowed: Vec<String>,
}

impl SegmentScheme {
    /// Validates names and ranges (serde already validates ranges read from text).
    pub fn check(&self) -> Result<()> {
        for (index, r) in self.rules.iter().enumerate() {
            let bad = |reason: String| SegmentError::InvalidRule {
                index,
                name: r.name.clone(),
                reason,
            };
            if r.name.trim().is_empty() {
                return Err(bad("expected a non-empty name, found an empty one".into()));
            }
            if r.name == UNASSIGNED {
                return Err(bad(format!(
                    "expected a name other than the reserved `{UNASSIGNED}`"
                )));
            }
            for range in [Some(r.r), Some(r.f), r.m].into_iter().flatten() {
                range.check().map_err(bad)?;
            }
        }
        Ok(())
    }

    /// Reads a scheme from TOML (`[[rules]]` tables) and checks it.
    pub fn from_toml(text: &str) -> Result<Self> {
        let scheme: Self = toml::from_str(text).map_err(|e| SegmentError::InvalidRule {
            index: 0,
            name: String::new(),
            reason: format!("expected a TOML table of [[rules]], parse error: {e}"),
        })?;
        scheme.check()?;
        Ok(scheme)
    }

    /// Index of the first matching rule.
    pub fn match_index(&self, r: u8, f: u8, m: u8) -> Option<usize> {
        self.rules.iter().position(|rule| rule.matches(r, f, m))
    }

    /// Segment name for the scores; [`UNASSIGNED`] when no rule matches.
    pub fn label(&self, r: u8, f: u8, m: u8) -> &str {
        self.match_index(r, f, m)
            .map_or(UNASSIGNED, |i| self.rules[i].name.as_str())
    }

    /// Segment names for aligned score vectors.
    pub fn label_all(&self, r: &[u8], f: &[u8], m: &[u8]) -> Labels {
        let keys = r.iter().zip(f).zip(m).map(|((&r, &f), &m)| [r, f, m]);
        Labels::from_keys(keys, |[r, f, m]| self.label(r, f, m).to_string())
    }

    /// Enumerates the cells (125 if any rule uses M, else 25) to find gaps and dead rules.
    pub fn analyze(&self) -> SchemeAnalysis {
        let uses_m = self.rules.iter().any(|r| r.m.is_some());
        let m_levels: Vec<u8> = if uses_m {
            (1..=LEVELS).collect()
        } else {
            vec![1]
        };
        let mut wins = vec![false; self.rules.len()];
        let mut uncovered = Vec::new();
        for r in 1..=LEVELS {
            for f in 1..=LEVELS {
                for &m in &m_levels {
                    match self.match_index(r, f, m) {
                        Some(i) => wins[i] = true,
                        None if uses_m => uncovered.push(format!("{r}{f}{m}")),
                        None => uncovered.push(format!("{r}{f}")),
                    }
                }
            }
        }
        let shadowed = self
            .rules
            .iter()
            .zip(&wins)
            .filter(|(_, &w)| !w)
            .map(|(r, _)| r.name.clone())
            .collect();
        SchemeAnalysis {
            uses_m,
            uncovered,
            shadowed,
        }
    }
}

/// Coverage report of `scheme`: uncovered cells and rules that can never match.
pub fn analyze_scheme(scheme: &SegmentScheme) -> SchemeAnalysis {
    scheme.analyze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_labels_every_one_of_125_cells() {
        let s = SegmentScheme::default();
        s.check().unwrap();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    assert_ne!(s.label(r, f, m), UNASSIGNED, "cell {r}{f}{m}");
                }
            }
        }
        let a = analyze_scheme(&s);
        assert!(!a.uses_m);
        assert!(a.uncovered.is_empty() && a.shadowed.is_empty());
    }

    #[test]
    fn default_matches_the_specification() {
        let s = SegmentScheme::default();
        let cases = [
            (1, 1, "hibernating"),
            (2, 2, "hibernating"),
            (1, 3, "at_risk"),
            (2, 4, "at_risk"),
            (2, 5, "cant_lose"),
            (3, 1, "about_to_sleep"),
            (3, 2, "about_to_sleep"),
            (3, 3, "need_attention"),
            (3, 4, "loyal"),
            (4, 5, "loyal"),
            (4, 1, "promising"),
            (5, 1, "new"),
            (4, 2, "potential_loyalist"),
            (5, 3, "potential_loyalist"),
            (5, 4, "champions"),
            (5, 5, "champions"),
        ];
        for (r, f, name) in cases {
            assert_eq!(s.label(r, f, 3), name, "R{r} F{f}");
        }
    }

    #[test]
    fn gap_and_shadowed_rule_are_reported() {
        let toml = r#"
            [[rules]]
            name = "best"
            r = "4-5"
            f = [4, 5]
            [[rules]]
            name = "top_spenders"
            r = 5
            f = "5"
            m = "4-5"
            [[rules]]
            name = "rest"
            r = "1-3"
            f = "1-5"
        "#;
        let s = SegmentScheme::from_toml(toml).unwrap();
        let a = analyze_scheme(&s);
        assert!(a.uses_m);
        assert_eq!(a.shadowed, vec!["top_spenders".to_string()]);
        // Gap: R4–5 with F1–3, any M: 2 × 3 × 5 = 30 cells, first is 411.
        assert_eq!(a.uncovered.len(), 30);
        assert_eq!(a.uncovered[0], "411");
        assert!(a.uncovered.contains(&"535".to_string()));
        assert_eq!(s.label(5, 2, 1), UNASSIGNED);
    }

    #[test]
    fn rf_only_scheme_reports_two_digit_cells() {
        let s = SegmentScheme {
            rules: vec![rule("a", (1, 5), (2, 5))],
        };
        let a = s.analyze();
        assert_eq!(a.uncovered, vec!["11", "21", "31", "41", "51"]);
    }

    #[test]
    fn bad_ranges_are_rejected() {
        assert!(SegmentScheme::from_toml("[[rules]]\nname='x'\nr='3-1'\nf='1'").is_err());
        assert!(SegmentScheme::from_toml("[[rules]]\nname='x'\nr='0-2'\nf='1'").is_err());
        assert!(SegmentScheme::from_toml("[[rules]]\nname='x'\nr='a'\nf='1'").is_err());
        let s = SegmentScheme {
            rules: vec![rule("x", (2, 6), (1, 1))],
        };
        assert!(matches!(
            s.check(),
            Err(SegmentError::InvalidRule { index: 0, .. })
        ));
    }

    #[test]
    fn toml_round_trip() {
        let s = SegmentScheme::default();
        let text = toml::to_string(&s).unwrap();
        assert_eq!(SegmentScheme::from_toml(&text).unwrap(), s);
    }
}
