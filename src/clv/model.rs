//! The serialisable fitted CLV model.

use serde::{Deserialize, Serialize};

use super::bgnbd::{fit_bgnbd, BgNbdParams};
use super::error::ClvError;
use super::fit_params::FitParams;
use super::gamma_gamma::{fit_gamma_gamma, GammaGammaParams};
use super::summary::CustomerSummaries;

/// Current artifact schema version of [`ClvModel`].
pub const CLV_SCHEMA_VERSION: u32 = 1;

/// Fitted BG/NBD (+ optional Gamma-Gamma) model; JSON keys `bgnbd.r/alpha/a/b/log_likelihood`
/// and `gamma_gamma.p/q/v/log_likelihood`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    /// Artifact schema version ([`CLV_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Time unit of recency, T and horizons (e.g. "weeks").
    pub time_unit: String,
    /// Purchase/dropout model.
    pub bgnbd: BgNbdParams,
    /// Spend model, absent when not fitted (no monetary values).
    pub gamma_gamma: Option<GammaGammaParams>,
}

impl ClvModel {
    /// The rules of a saved model, fields named as in `model.json`: this layout version, BG/NBD `r`, `alpha`, `a`, `b` finite and > 0, Gamma-Gamma `p`, `v` finite and
    /// > 0 and `q` finite and > 1.
    pub fn check(&self) -> Result<(), ClvError> {
        if self.schema_version != CLV_SCHEMA_VERSION {
            return Err(ClvError::InvalidParameter {
                name: "schema_version",
                rule: "1",
                value: f64::from(self.schema_version),
            });
        }
        let bg = &self.bgnbd;
        let mut positive = vec![
            ("bgnbd.r", bg.r),
            ("bgnbd.alpha", bg.alpha),
            ("bgnbd.a", bg.a),
            ("bgnbd.b", bg.b),
        ];
        if let Some(gg) = &self.gamma_gamma {
            positive.extend([("gamma_gamma.p", gg.p), ("gamma_gamma.v", gg.v)]);
            if !(gg.q.is_finite() && gg.q > 1.0) {
                return Err(ClvError::InvalidParameter {
                    name: "gamma_gamma.q",
                    rule: "a finite value > 1",
                    value: gg.q,
                });
            }
        }
        match positive
            .into_iter()
            .find(|(_, v)| !(v.is_finite() && *v > 0.0))
        {
            Some((name, value)) => Err(ClvError::InvalidParameter {
                name,
                rule: "a finite value > 0",
                value,
            }),
            None => Ok(()),
        }
    }

    /// Fits BG/NBD, and Gamma-Gamma when `monetary_value` is present.
    pub fn fit(
        s: &CustomerSummaries,
        time_unit: &str,
        params: &FitParams,
    ) -> Result<Self, ClvError> {
        let bgnbd = fit_bgnbd(s, params)?;
        let gamma_gamma = if s.has_monetary() {
            Some(fit_gamma_gamma(s, params)?)
        } else {
            None
        };
        Ok(ClvModel {
            schema_version: CLV_SCHEMA_VERSION,
            time_unit: time_unit.to_string(),
            bgnbd,
            gamma_gamma,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_documented_keys_and_round_trips() {
        let m = ClvModel {
            schema_version: CLV_SCHEMA_VERSION,
            time_unit: "weeks".into(),
            bgnbd: BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap(),
            gamma_gamma: Some(GammaGammaParams::from_values(6.25, 3.74, 15.44).unwrap()),
        };
        let mut m = m;
        m.bgnbd.log_likelihood = -9582.4;
        m.gamma_gamma.as_mut().unwrap().log_likelihood = -4000.0;
        m.gamma_gamma.as_mut().unwrap().spend_frequency_correlation = Some(0.11);
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        assert_eq!(v["bgnbd"]["r"], 0.243);
        assert_eq!(v["bgnbd"]["b"], 2.426);
        assert_eq!(v["bgnbd"]["log_likelihood"], -9582.4);
        assert_eq!(v["gamma_gamma"]["v"], 15.44);
        assert_eq!(v["gamma_gamma"]["log_likelihood"], -4000.0);
        assert_eq!(v["schema_version"], 1);
        let back: ClvModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert!(m.check().is_ok());
    }

    #[test]
    fn check_names_the_field_out_of_its_rule() {
        let good = ClvModel {
            schema_version: CLV_SCHEMA_VERSION,
            time_unit: "weeks".into(),
            bgnbd: BgNbdParams::from_values(0.243, 4.414, 0.793, 2.426).unwrap(),
            gamma_gamma: Some(GammaGammaParams::from_values(6.25, 3.74, 15.44).unwrap()),
        };
        let name_of = |m: &ClvModel| match m.check() {
            Err(ClvError::InvalidParameter { name, .. }) => name,
            other => panic!("expected an invalid parameter, found {other:?}"),
        };
        let mut m = good.clone();
        m.bgnbd.alpha = -1.0;
        assert_eq!(name_of(&m), "bgnbd.alpha");
        let mut m = good.clone();
        m.bgnbd.r = f64::NAN;
        assert_eq!(name_of(&m), "bgnbd.r");
        let mut m = good.clone();
        m.gamma_gamma.as_mut().unwrap().q = 1.0;
        assert_eq!(name_of(&m), "gamma_gamma.q");
        assert!(ClvError::InvalidParameter {
            name: "x",
            rule: "r",
            value: 0.0
        }
        .is_bad_input());
    }
}
