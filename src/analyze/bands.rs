//! Numbers cut into labelled bands by increasing edges: with edges 25, 35 the bands are `<25`,
//! `25-34` (whole numbers: ages) or `25-35` (decimals: incomes), and `35+`.

use super::AnalyzeError;

/// Increasing band edges; a value equal to an edge belongs to the band that starts at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    edges: Vec<f64>,
}

impl Bands {
    /// Parses `25,35,45` (what `--age-edges` takes); `name` is the flag or key for the error.
    pub fn parse(name: &str, text: &str) -> Result<Bands, AnalyzeError> {
        let bad = || AnalyzeError::BadEdges {
            name: name.to_string(),
            found: text.to_string(),
        };
        let edges = text
            .split(',')
            .map(|t| t.trim().parse::<f64>().map_err(|_| bad()))
            .collect::<Result<Vec<f64>, _>>()?;
        Bands::new(edges).ok_or_else(bad)
    }

    /// `None` unless the edges are finite and strictly increasing (at least one).
    pub fn new(edges: Vec<f64>) -> Option<Bands> {
        let ok = !edges.is_empty()
            && edges.iter().all(|e| e.is_finite())
            && edges.windows(2).all(|w| w[0] < w[1]);
        ok.then_some(Bands { edges })
    }

    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The label of the band holding `value` (`None` for a non-finite value).
    pub fn label(&self, value: f64) -> Option<String> {
        if !value.is_finite() {
            return None;
        }
        let i = self.edges.partition_point(|e| *e <= value);
        let whole = self.edges.iter().all(|e| e.fract() == 0.0);
        Some(match i {
            0 => format!("<{}", show(self.edges[0])),
            i if i == self.edges.len() => format!("{}+", show(self.edges[i - 1])),
            // Whole-number edges name the last whole number inside the band (an age of 34 is
            // in 25-34); decimal edges name the half-open interval's ends.
            i if whole => format!("{}-{}", show(self.edges[i - 1]), show(self.edges[i] - 1.0)),
            i => format!("{}-{}", show(self.edges[i - 1]), show(self.edges[i])),
        })
    }

    /// Every label in order, for ordering groups by band rather than by name.
    pub fn labels(&self) -> Vec<String> {
        let mut points = vec![self.edges[0] - 1.0];
        points.extend(self.edges.iter().copied());
        points.iter().filter_map(|p| self.label(*p)).collect()
    }
}

fn show(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_edges_label_closed_bands() {
        let b = Bands::parse("--age-edges", "25, 35,45").unwrap();
        assert_eq!(b.label(18.0).as_deref(), Some("<25"));
        assert_eq!(b.label(25.0).as_deref(), Some("25-34"));
        assert_eq!(b.label(34.0).as_deref(), Some("25-34"));
        assert_eq!(b.label(35.0).as_deref(), Some("35-44"));
        assert_eq!(b.label(80.0).as_deref(), Some("45+"));
        assert_eq!(b.label(f64::NAN), None);
        assert_eq!(b.labels(), ["<25", "25-34", "35-44", "45+"]);
    }

    #[test]
    fn decimal_edges_label_half_open_bands() {
        let b = Bands::parse("--income-edges", "20000.5,50000").unwrap();
        assert_eq!(b.label(30000.0).as_deref(), Some("20000.5-50000"));
        assert_eq!(b.label(50000.0).as_deref(), Some("50000+"));
    }

    #[test]
    fn edges_must_increase() {
        assert!(Bands::parse("e", "30,20").is_err());
        assert!(Bands::parse("e", "20,20").is_err());
        assert!(Bands::parse("e", "").is_err());
        assert!(Bands::parse("e", "1,x").is_err());
    }
}
