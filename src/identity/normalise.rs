//! The matching rule for e-mail addresses and phone numbers: how two records' values are compared
//! to decide they belong to one person. This is not a platform's hashing rule (those live with
//! the activation exports and follow each platform's documentation); it only has to be the same
//! on both sides of a comparison and never match two values a person would call different.

use unicode_normalization::UnicodeNormalization;

/// An e-mail address as matched: NFKC, trimmed, lower-cased. `None` when the value holds no
/// address (empty, or no `@` between text): such values never match, so placeholders such as
/// `n/a` cannot merge everyone who wrote one.
pub fn email(raw: &str) -> Option<String> {
    let value: String = raw.nfkc().collect::<String>().trim().to_lowercase();
    match value.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Some(value),
        _ => None,
    }
}

/// Fewest digits a phone number as matched holds: shorter values (extensions, `0`, `-`) are no
/// number and never match.
const MIN_PHONE_DIGITS: usize = 6;

/// A phone number as matched, E.164-like: `+`, the country code, the national number, digits
/// only. `+49 30 1234567` and `0049 30 1234567` are international; `030 1234567` (one leading
/// zero) is national and takes `default_country_code` (its trunk zero dropped); without a default
/// country code a national number keeps its digits as written (it still matches the same number
/// written with other spacing). `None` when too few digits remain.
pub fn phone(raw: &str, default_country_code: Option<&str>) -> Option<String> {
    let text: String = raw.nfkc().collect();
    let text = text.trim();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = if text.starts_with('+') {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    let number = match (
        international,
        digits.strip_prefix('0'),
        default_country_code,
    ) {
        (Some(rest), _, _) => rest.to_string(),
        (None, Some(national), Some(cc)) => format!("{cc}{national}"),
        _ => digits.clone(),
    };
    (number.len() >= MIN_PHONE_DIGITS).then(|| format!("+{number}"))
}

/// A name or postcode part as matched: NFKC, trimmed, inner spaces collapsed, lower-cased;
/// `None` when empty.
pub fn text(raw: &str) -> Option<String> {
    let value = raw.nfkc().collect::<String>().to_lowercase();
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_match_across_case_spacing_and_width() {
        assert_eq!(
            email("  Anna.Berg@Example.COM ").as_deref(),
            Some("anna.berg@example.com")
        );
        // Fullwidth letters (NFKC) are the same address.
        assert_eq!(
            email("ＡＮＮＡ@example.com").as_deref(),
            Some("anna@example.com")
        );
        for no_address in ["", "   ", "n/a", "@example.com", "anna@"] {
            assert_eq!(email(no_address), None, "{no_address:?}");
        }
    }

    #[test]
    fn phones_are_digits_with_a_country_code() {
        let de = Some("49");
        for written in [
            "+49 30 1234567",
            "0049-30-1234567",
            "030 / 123 45 67",
            "(030) 1234567",
        ] {
            assert_eq!(
                phone(written, de).as_deref(),
                Some("+49301234567"),
                "{written}"
            );
        }
        assert_eq!(phone("030 1234567", None).as_deref(), Some("+0301234567"));
        assert_eq!(
            phone("+1 (555) 010-9999", de).as_deref(),
            Some("+15550109999")
        );
        for no_number in ["", "-", "0", "12345"] {
            assert_eq!(phone(no_number, de), None, "{no_number:?}");
        }
    }

    #[test]
    fn text_parts_ignore_case_and_spacing() {
        assert_eq!(text("  Anna   Maria ").as_deref(), Some("anna maria"));
        assert_eq!(text(" "), None);
    }
}
