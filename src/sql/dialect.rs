//! The per-engine facts of SQL generation, in one table ([`Dialect::facts`]), and the renderings
//! every query goes through: constants as typed doubles, a sigmoid that never overflows, guarded
//! divisions, natural logs, date differences and quoted names. The facts come from probing Spark,
//! DuckDB and PostgreSQL and from the BigQuery and Snowflake documentation
//! (`reference/sql-dialects.md` in the shared notes).

use std::fmt;

/// An SQL engine the export renders for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Spark,
    Postgres,
    DuckDb,
    BigQuery,
    Snowflake,
}

/// How an engine spells what differs between engines.
struct Facts {
    name: &'static str,
    /// The 64-bit float type (`DOUBLE PRECISION` is a parse error in Spark, `DOUBLE` one in
    /// PostgreSQL).
    double: &'static str,
    /// The 64-bit integer type.
    bigint: &'static str,
    /// The text type.
    text: &'static str,
    /// The identifier quotes (`"x"` is a string literal in Spark and BigQuery).
    quote: char,
    /// Whole days from `{start}` to `{end}` (both DATE).
    days_between: &'static str,
    /// `{x}` rounded to a whole number, half to even (as the fixed-point amounts in Rust).
    round_half_even: &'static str,
}

impl Dialect {
    /// Every dialect, in the order of `--dialect`'s help.
    pub const ALL: &'static [Dialect] = &[
        Dialect::Spark,
        Dialect::Postgres,
        Dialect::DuckDb,
        Dialect::BigQuery,
        Dialect::Snowflake,
    ];

    fn facts(self) -> Facts {
        match self {
            Dialect::Spark => Facts {
                name: "spark",
                double: "DOUBLE",
                bigint: "BIGINT",
                text: "STRING",
                quote: '`',
                days_between: "DATEDIFF({end}, {start})",
                round_half_even: "BROUND({x}, 0)",
            },
            Dialect::Postgres => Facts {
                name: "postgres",
                double: "DOUBLE PRECISION",
                bigint: "BIGINT",
                text: "TEXT",
                quote: '"',
                days_between: "({end} - {start})",
                // ROUND of a double precision rounds half to even (rint).
                round_half_even: "ROUND({x})",
            },
            Dialect::DuckDb => Facts {
                name: "duckdb",
                double: "DOUBLE",
                bigint: "BIGINT",
                text: "VARCHAR",
                quote: '"',
                days_between: "DATE_DIFF('day', {start}, {end})",
                round_half_even: "ROUND_EVEN({x}, 0)",
            },
            Dialect::BigQuery => Facts {
                name: "bigquery",
                double: "FLOAT64",
                bigint: "INT64",
                text: "STRING",
                quote: '`',
                days_between: "DATE_DIFF({end}, {start}, DAY)",
                // FLOAT64 has no half-to-even ROUND; NUMERIC has (exact for 4-decimal amounts).
                round_half_even:
                    "CAST(ROUND(CAST({x} AS BIGNUMERIC), 0, 'ROUND_HALF_EVEN') AS FLOAT64)",
            },
            Dialect::Snowflake => Facts {
                name: "snowflake",
                double: "DOUBLE",
                bigint: "BIGINT",
                text: "VARCHAR",
                quote: '"',
                days_between: "DATEDIFF(day, {start}, {end})",
                // The rounding mode applies to fixed-point numbers.
                round_half_even: "ROUND(CAST({x} AS NUMBER(38, 6)), 0, 'HALF_TO_EVEN')",
            },
        }
    }

    /// The name in `--dialect`.
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn parse(name: &str) -> Option<Dialect> {
        Dialect::ALL.iter().copied().find(|d| d.name() == name)
    }

    /// Every name, for a message: "spark, postgres, …".
    pub fn names() -> String {
        let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
        names.join(", ")
    }

    pub fn double(self) -> &'static str {
        self.facts().double
    }

    pub fn bigint(self) -> &'static str {
        self.facts().bigint
    }

    pub fn text(self) -> &'static str {
        self.facts().text
    }

    /// `x` as a double.
    pub fn to_double(self, x: &str) -> String {
        format!("CAST({x} AS {})", self.double())
    }

    /// A finite constant as a typed double: a bare `0.1` is DECIMAL (even `1.5e0` in PostgreSQL),
    /// and decimal arithmetic loses digits. Rust's `{:?}` is the shortest text that reads back
    /// to the same f64.
    pub fn constant(self, x: f64) -> String {
        debug_assert!(x.is_finite(), "callers check constants are finite");
        self.to_double(&format!("'{x:?}'"))
    }

    /// A quoted identifier (every generated name is `[a-z0-9_]`, quoted against keywords).
    pub fn ident(self, name: &str) -> String {
        let q = self.facts().quote;
        format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
    }

    /// `a / b` (both doubles), NULL when `b` is 0 instead of an error (Spark's ANSI mode,
    /// PostgreSQL, BigQuery) or an infinity (DuckDB). Callers that define a value for that case
    /// write it in a `CASE` around the division.
    pub fn divide(self, a: &str, b: &str) -> String {
        format!("({a}) / NULLIF({b}, {})", self.constant(0.0))
    }

    /// The natural log (`LOG(x)` is log10 in DuckDB and PostgreSQL).
    pub fn ln(self, x: &str) -> String {
        format!("LN({x})")
    }

    /// `sign(x)·ln(1 + |x|)`, the segmentation's log step.
    pub fn signed_log1p(self, x: &str) -> String {
        format!(
            "SIGN({x}) * {}",
            self.ln(&format!("{} + ABS({x})", self.constant(1.0)))
        )
    }

    /// `1 / (1 + e^−eta)` without `EXP` of a positive number (an error in PostgreSQL and
    /// BigQuery): `eta` should be a column name, it is repeated.
    pub fn sigmoid(self, eta: &str) -> String {
        let one = self.constant(1.0);
        format!(
            "CASE WHEN {eta} >= {zero} THEN {one} / ({one} + EXP(-{eta})) ELSE EXP({eta}) / ({one} + EXP({eta})) END",
            zero = self.constant(0.0)
        )
    }

    /// Whole days from the DATE `start` to the DATE `end`.
    pub fn days_between(self, start: &str, end: &str) -> String {
        self.facts()
            .days_between
            .replace("{start}", start)
            .replace("{end}", end)
    }

    /// `x` rounded half to even, as a whole number.
    pub fn round_half_even(self, x: &str) -> String {
        self.facts().round_half_even.replace("{x}", x)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect::{self, *};

    #[test]
    fn names_parse_back() {
        for &d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.name()), Some(d));
        }
        assert_eq!(Dialect::parse("mysql"), None);
    }

    #[test]
    fn constants_are_typed_doubles_that_read_back() {
        assert_eq!(Postgres.constant(0.1), "CAST('0.1' AS DOUBLE PRECISION)");
        assert_eq!(Spark.constant(0.1), "CAST('0.1' AS DOUBLE)");
        assert_eq!(BigQuery.constant(-2.5), "CAST('-2.5' AS FLOAT64)");
        assert_eq!(DuckDb.constant(1.0), "CAST('1.0' AS DOUBLE)");
        for x in [0.1, 1.0 / 3.0, -205.79282068648558, 1e-300, 6.02e23] {
            let text = Snowflake.constant(x);
            let inner = text.split('\'').nth(1).unwrap();
            assert_eq!(
                inner.parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{text}"
            );
        }
    }

    #[test]
    fn identifiers_take_each_engines_quotes() {
        assert_eq!(Spark.ident("score"), "`score`");
        assert_eq!(BigQuery.ident("order"), "`order`");
        assert_eq!(Postgres.ident("order"), "\"order\"");
        assert_eq!(Snowflake.ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn date_differences_follow_each_engine() {
        assert_eq!(Spark.days_between("a", "b"), "DATEDIFF(b, a)");
        assert_eq!(Postgres.days_between("a", "b"), "(b - a)");
        assert_eq!(DuckDb.days_between("a", "b"), "DATE_DIFF('day', a, b)");
        assert_eq!(BigQuery.days_between("a", "b"), "DATE_DIFF(b, a, DAY)");
        assert_eq!(Snowflake.days_between("a", "b"), "DATEDIFF(day, a, b)");
    }

    #[test]
    fn sigmoid_never_exponentiates_a_positive_argument() {
        let s = Postgres.sigmoid("eta");
        assert!(s.starts_with("CASE WHEN eta >= CAST('0.0' AS DOUBLE PRECISION)"));
        assert!(s.contains("EXP(-eta)) ELSE EXP(eta)"));
    }

    #[test]
    fn divisions_are_guarded_and_logs_natural() {
        assert_eq!(
            DuckDb.divide("a", "b"),
            "(a) / NULLIF(b, CAST('0.0' AS DOUBLE))"
        );
        for &d in Dialect::ALL {
            assert!(d.signed_log1p("x").contains("LN("));
            assert!(!d.signed_log1p("x").contains("LOG("));
        }
        assert_eq!(Spark.round_half_even("x"), "BROUND(x, 0)");
        assert_eq!(DuckDb.round_half_even("x"), "ROUND_EVEN(x, 0)");
    }
}
