//! Fixed number formatting and HTML escaping for the report (no locale, no clock).

/// `1234567` → `1,234,567`.
pub fn int(n: usize) -> String {
    group(&n.to_string())
}

fn group(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// An amount with two decimals and thousands separators: `-1234.5` → `-1,234.50`.
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let s = format!("{:.2}", x);
    let (whole, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let whole = if whole == "-0" { "0" } else { whole };
    format!("{}.{frac}", group(whole))
}

/// A share 0–1 as a percentage with one decimal: `0.1234` → `12.3%`.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "–".to_string()
    }
}

/// A number with `digits` decimals, `–` when absent or not finite.
pub fn num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "–".to_string(),
    }
}

/// A short label for chart axes and cells: `1234` → `1.2k`, `0.123` → `0.12`.
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let a = x.abs();
    let s = if a >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if a >= 100.0 || a == 0.0 || (a - a.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    if s.starts_with("-0") && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A lowercase id fragment: letters and digits kept, runs of anything else → `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-').to_string();
    if t.is_empty() {
        "x".to_string()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(int(0), "0");
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(money(-1234.5), "-1,234.50");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(999.999), "1,000.00");
        assert_eq!(pct(0.1234), "12.3%");
        assert_eq!(compact(1234.0), "1.2k");
        assert_eq!(compact(25000.0), "25k");
        assert_eq!(compact(0.123), "0.12");
        assert_eq!(compact(-0.001), "0.00");
        assert_eq!(num(None, 3), "–");
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(slug("Spring e-mail #1"), "spring-e-mail-1");
    }
}
