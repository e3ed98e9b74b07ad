//! Special functions: `ln_gamma`, `digamma` and the Gaussian hypergeometric function 2F1.
//!
//! Written here rather than taken from a crate because the allowed dependency set has no special
//! function library; accuracy is ~1e-15 relative (tested against known closed forms).

use super::error::ClvError;

const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Lanczos (g = 7, n = 9) coefficients; used below x = 10 where Stirling is not yet accurate.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// `ln |Γ(x)|` for real `x` (infinite at non-positive integers).
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        // Reflection keeps the Lanczos sum in its accurate range.
        let s = (std::f64::consts::PI * x).sin().abs();
        return std::f64::consts::PI.ln() - s.ln() - ln_gamma(1.0 - x);
    }
    if x >= 10.0 {
        let inv = 1.0 / x;
        let inv2 = inv * inv;
        let series = inv
            * (1.0 / 12.0
                + inv2
                    * (-1.0 / 360.0
                        + inv2 * (1.0 / 1260.0 + inv2 * (-1.0 / 1680.0 + inv2 / 1188.0))));
        return (x - 0.5) * x.ln() - x + LN_SQRT_2PI + series;
    }
    let xm = x - 1.0;
    let mut acc = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        acc += c / (xm + i as f64);
    }
    let t = xm + 7.5;
    LN_SQRT_2PI + (xm + 0.5) * t.ln() - t + acc.ln()
}

/// Digamma ψ(x) = d/dx ln Γ(x) (NaN at non-positive integers).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || (x <= 0.0 && x == x.floor()) {
        return f64::NAN;
    }
    if x < 0.0 {
        return digamma(1.0 - x) - std::f64::consts::PI / (std::f64::consts::PI * x).tan();
    }
    let mut x = x;
    let mut acc = 0.0;
    // Recur up to 12 so the asymptotic series' first omitted term (691/32760 x^-12) is < 3e-15.
    while x < 12.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    acc + x.ln()
        - 0.5 / x
        - inv2
            * (1.0 / 12.0
                - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))))
}

/// Upper bound on series terms: z = 0.9999 needs ~4e5 terms, beyond that we refuse.
const MAX_TERMS: usize = 2_000_000;

/// Plain Gauss series, stopped when a geometric bound on the tail is below 1e-17 of the sum.
fn series(a: f64, b: f64, c: f64, z: f64) -> Result<f64, ClvError> {
    let mut sum = 1.0_f64;
    let mut term = 1.0_f64;
    for n in 0..MAX_TERMS {
        let nf = n as f64;
        term *= (a + nf) * (b + nf) / ((c + nf) * (nf + 1.0)) * z;
        sum += term;
        if term == 0.0 {
            return Ok(sum);
        }
        if !sum.is_finite() {
            break;
        }
        if term.abs() <= 1e-17 * sum.abs() {
            // Once the term ratio is monotone towards z, future ratios stay below max(next, z).
            let n1 = nf + 1.0;
            let next = ((a + n1) * (b + n1) / ((c + n1) * (n1 + 1.0)) * z).abs();
            let bound = next.max(z.abs());
            if bound < 1.0 && term.abs() * bound / (1.0 - bound) <= 1e-17 * sum.abs() {
                return Ok(sum);
            }
        }
    }
    Err(ClvError::Numerical {
        what: "hyp2f1",
        detail: format!(
            "series for 2F1({a}, {b}; {c}; {z}) did not converge within {MAX_TERMS} terms"
        ),
    })
}

/// Sign of Γ(x) (0 at the poles, where 1/Γ vanishes).
fn gamma_sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x == x.floor() {
        0.0
    } else if (x.floor() as i64).rem_euclid(2) == 0 {
        1.0
    } else {
        -1.0
    }
}

/// Γ(n1)Γ(n2)/(Γ(d1)Γ(d2)) through ln Γ, so large arguments do not overflow.
fn gamma_ratio(n1: f64, n2: f64, d1: f64, d2: f64) -> f64 {
    let sign = gamma_sign(n1) * gamma_sign(n2) * gamma_sign(d1) * gamma_sign(d2);
    if sign == 0.0 {
        // A pole in the denominator makes the coefficient vanish (numerator poles are excluded).
        return 0.0;
    }
    sign * (ln_gamma(n1) + ln_gamma(n2) - ln_gamma(d1) - ln_gamma(d2)).exp()
}

/// Above this z the Gauss series converges slowly (terms ~ n^(a+b−c−1) zⁿ) and the 1 − z
/// connection formula takes over when it is well conditioned.
const CONNECTION_MIN_Z: f64 = 0.9;

/// Distance of c − a − b from the nearest integer below which the connection formula's two terms
/// cancel catastrophically (error ~ ε / distance), so the series is used instead.
const MIN_NON_INTEGER: f64 = 1e-3;

/// 2F1 for 0 ≤ z < 1: the Gauss series, or for z > 0.9 the 1 − z connection formula
/// (Abramowitz & Stegun 15.3.6), whose two series in 1 − z ≤ 0.1 converge fast.
fn hyp2f1_unit(a: f64, b: f64, c: f64, z: f64) -> Result<f64, ClvError> {
    let s = c - a - b;
    if z <= CONNECTION_MIN_Z || (s - s.round()).abs() < MIN_NON_INTEGER {
        return series(a, b, c, z);
    }
    let w = 1.0 - z;
    let first = gamma_ratio(c, s, c - a, c - b);
    let second = gamma_ratio(c, -s, a, b);
    let mut value = 0.0;
    if first != 0.0 {
        value += first * series(a, b, 1.0 - s, w)?;
    }
    if second != 0.0 {
        value += second * w.powf(s) * series(c - a, c - b, 1.0 + s, w)?;
    }
    if !value.is_finite() {
        return Err(ClvError::Numerical {
            what: "hyp2f1",
            detail: format!("connection formula overflowed for 2F1({a}, {b}; {c}; {z})"),
        });
    }
    Ok(value)
}

fn check_args(a: f64, b: f64, c: f64, z: f64) -> Result<(), ClvError> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) || z >= 1.0 {
        return Err(ClvError::Numerical {
            what: "hyp2f1",
            detail: format!("expected finite arguments with z < 1, found 2F1({a}, {b}; {c}; {z})"),
        });
    }
    if c <= 0.0 && c == c.floor() {
        return Err(ClvError::Numerical {
            what: "hyp2f1",
            detail: format!("c must not be a non-positive integer, found {c}"),
        });
    }
    Ok(())
}

/// Gaussian hypergeometric function 2F1(a, b; c; z) for real z < 1.
///
/// z < 0 goes through Pfaff's transformation to an argument in (0, 1); when c − a − b < 0 the
/// direct series grows like (1 − z)^(c−a−b) and would overflow for heavy buyers, so Euler's
/// transformation pulls that factor out and the remaining series is bounded; for z > 0.9 the 1 − z
/// connection formula replaces the slowly converging series unless c − a − b is within 1e-3 of
/// an integer (then the series runs, up to 2·10⁶ terms, else an error).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, ClvError> {
    check_args(a, b, c, z)?;
    if z == 0.0 {
        return Ok(1.0);
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return Ok((1.0 - z).powf(-a) * hyp2f1(a, c - b, c, w)?);
    }
    if c - a - b < 0.0 {
        return Ok((1.0 - z).powf(c - a - b) * hyp2f1_unit(c - a, c - b, c, z)?);
    }
    hyp2f1_unit(a, b, c, z)
}

/// ln 2F1(a, b; c; z) for 0 ≤ z < 1 when the function is positive; stays finite where the
/// value itself would overflow.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, ClvError> {
    check_args(a, b, c, z)?;
    let (log_prefactor, inner) = if z < 0.0 {
        let w = z / (z - 1.0);
        return Ok(-a * (1.0 - z).ln() + ln_hyp2f1(a, c - b, c, w)?);
    } else if c - a - b < 0.0 && z > 0.0 {
        (
            (c - a - b) * (1.0 - z).ln(),
            hyp2f1_unit(c - a, c - b, c, z)?,
        )
    } else {
        (0.0, hyp2f1_unit(a, b, c, z)?)
    };
    if inner <= 0.0 {
        return Err(ClvError::Numerical {
            what: "ln_hyp2f1",
            detail: format!("expected a positive value of 2F1({a}, {b}; {c}; {z}), found {inner}"),
        });
    }
    Ok(log_prefactor + inner.ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_known_values() {
        let pi = std::f64::consts::PI;
        assert!(close(ln_gamma(0.5), 0.5 * pi.ln(), 1e-14));
        assert!(ln_gamma(1.0).abs() < 1e-15);
        assert!(ln_gamma(2.0).abs() < 1e-15);
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-14));
        assert!(close(ln_gamma(5.5), (52.342_777_784_553_52f64).ln(), 1e-14));
        assert!(close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-14));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-14));
        assert!(close(ln_gamma(-0.5), (2.0 * pi.sqrt()).ln(), 1e-14));
        assert!(close(ln_gamma(1e-8), 18.420_680_738_180_21, 1e-13));
        assert!(close(ln_gamma(9.99), 12.779_315_214_350_197, 1e-13));
        assert!(close(ln_gamma(1e6), 12_815_504.569_147_612, 1e-15));
        // Continuity at the Lanczos / Stirling switch.
        assert!((ln_gamma(10.0 - 1e-12) - ln_gamma(10.0 + 1e-12)).abs() < 1e-10);
        assert_eq!(ln_gamma(0.0), f64::INFINITY);
    }

    #[test]
    fn digamma_known_values() {
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-14));
        assert!(close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-14));
        assert!(close(digamma(10.0), 2.251_752_589_066_721, 1e-14));
        assert!(close(digamma(-0.5), 0.036_489_973_978_576_52, 1e-12));
        // Derivative of ln_gamma by central differences.
        for &x in &[0.3, 1.7, 4.2, 25.0] {
            let h = 1e-5;
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), fd, 1e-8), "x={x}");
        }
    }

    #[test]
    fn hyp2f1_known_values() {
        // 2F1(1,1;2;z) = -ln(1-z)/z
        for &z in &[0.1, 0.5, 0.9, 0.99, -0.5, -3.0] {
            let want = -(1.0f64 - z).ln() / z;
            assert!(
                close(hyp2f1(1.0, 1.0, 2.0, z).unwrap(), want, 1e-13),
                "z={z}"
            );
        }
        // 2F1(a,b;b;z) = (1-z)^-a (Euler branch: c-a-b < 0)
        for &z in &[0.3, 0.95, 0.999] {
            let want = (1.0f64 - z).powf(-2.5);
            assert!(
                close(hyp2f1(2.5, 1.5, 1.5, z).unwrap(), want, 1e-13),
                "z={z}"
            );
            assert!(close(
                ln_hyp2f1(2.5, 1.5, 1.5, z).unwrap(),
                want.ln(),
                1e-13
            ));
        }
        // 2F1(1/2,1/2;3/2;z^2) = asin(z)/z
        for &x in &[0.2f64, 0.7, 0.95] {
            let want = x.asin() / x;
            assert!(
                close(hyp2f1(0.5, 0.5, 1.5, x * x).unwrap(), want, 1e-13),
                "x={x}"
            );
        }
        // 2F1(1/2,1;3/2;-z^2) = atan(z)/z
        for &x in &[0.5f64, 2.0] {
            let want = x.atan() / x;
            assert!(
                close(hyp2f1(0.5, 1.0, 1.5, -x * x).unwrap(), want, 1e-13),
                "x={x}"
            );
        }
        // Close to z = 1 with c - a - b > 0 (slow, polynomially decaying terms).
        // mpmath: hyp2f1(0.3, 0.6, 2.4, 0.999) = 1.129054874015299907...
        assert!(close(
            hyp2f1(0.3, 0.6, 2.4, 0.999).unwrap(),
            1.129_054_874_015_3,
            1e-12
        ));
        // mpmath: hyp2f1(0.3, 0.6, 2.4, 1 - 1e-9) = 1.129441450380881402...
        assert!(close(
            hyp2f1(0.3, 0.6, 2.4, 1.0 - 1e-9).unwrap(),
            1.129_441_450_380_881_4,
            1e-12
        ));
        // mpmath: hyp2f1(0.243, 2.426, 2.219, 0.99999) = 83.24934749448049906... (Euler + connection)
        assert!(close(
            hyp2f1(0.243, 2.426, 2.219, 0.99999).unwrap(),
            83.249_347_494_480_5,
            1e-11
        ));
        // mpmath: hyp2f1(1.5, -0.7, 0.4, 0.97) = -5.836321248512221068... (negative value)
        assert!(close(
            hyp2f1(1.5, -0.7, 0.4, 0.97).unwrap(),
            -5.836_321_248_512_221,
            1e-12
        ));
        // Near-integer c - a - b falls back to the series; far too close to 1 is an error.
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0 - 1e-12).is_err());
        // Terminating polynomial: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1)).
        let (b, c, z) = (1.3, 2.7, 0.8);
        let want = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert!(close(hyp2f1(-2.0, b, c, z).unwrap(), want, 1e-14));
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_err());
        assert!(hyp2f1(1.0, 1.0, -2.0, 0.5).is_err());
    }

    #[test]
    fn connection_formula_agrees_with_series_where_both_converge() {
        for &(a, b, c) in &[
            (0.243, 2.426, 2.219),
            (2.243, 4.426, 5.219),
            (0.5, 0.25, 3.1),
            (1.5, -0.7, 0.4),
        ] {
            for &z in &[0.91, 0.95, 0.98] {
                let via_series = series(a, b, c, z).unwrap();
                let via_connection = hyp2f1_unit(a, b, c, z).unwrap();
                assert!(close(via_connection, via_series, 1e-12), "{a} {b} {c} {z}");
            }
        }
        assert_eq!(gamma_sign(-0.5), -1.0);
        assert_eq!(gamma_sign(-1.5), 1.0);
        assert_eq!(gamma_sign(-2.0), 0.0);
    }

    #[test]
    fn ln_hyp2f1_stays_finite_for_heavy_buyers() {
        // Direct value overflows ((1-z)^-600), the log does not.
        let v = ln_hyp2f1(300.2, 302.4, 302.2, 0.9).unwrap();
        // mpmath: log(hyp2f1(300.2, 302.4, 302.2, 0.9)) = 691.695365682388428...
        assert!(close(v, 691.695_365_682_388_4, 1e-13), "{v}");
        // mpmath: hyp2f1(2.243, 4.426, 5.219, 0.5) = 3.614707706823281904...
        assert!(close(
            hyp2f1(2.243, 4.426, 5.219, 0.5).unwrap(),
            3.614_707_706_823_282,
            1e-13
        ));
    }
}
