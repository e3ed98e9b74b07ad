//! Identifiers normalised as the ad platforms document it, before hashing.
//!
//! - E-mail (Meta, Google): surrounding whitespace removed, lower case. Google additionally
//!   removes every `.` before the `@` of `gmail.com` and `googlemail.com` addresses ("Remove
//!   all periods (.) that precede the domain name in gmail.com and googlemail.com email
//!   addresses", Google's "Normalization and hashing" of enhanced conversions, developers.google.com/
//!   google-ads/api/docs/conversions/enhance-conversions and the Campaign Manager 360 guide
//!   developers.google.com/doubleclick-advertisers/guides/conversions_ec).
//! - Phone: E.164 (`+`, country code, subscriber number, at most 15 digits). Meta's customer
//!   list wants the digits with the country code and no `+` (facebook.com/business/help/
//!   2082575038703844: "+44 844 412 4653" matches as 448444124653); Google's Customer Match
//!   wants E.164 with the `+` ("Format phone number value using the E.164 format. Include the
//!   country code", developers.google.com/display-video/api/guides/tasks/
//!   upload-customer-match-audience/prepare-data).
//!
//! A value that cannot be normalised (no `@`, too few digits) gives `None`: it is left out of
//! the file rather than hashed into something no platform matches.

/// The e-mail address trimmed and lower-cased; with `gmail_dots`, the dots of a gmail.com or
/// googlemail.com local part removed. `None` unless it has one `@` with text on both sides.
pub fn email(raw: &str, gmail_dots: bool) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let (local, domain) = lower.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    if gmail_dots && (domain == "gmail.com" || domain == "googlemail.com") {
        return Some(format!("{}@{domain}", local.replace('.', "")));
    }
    Some(lower)
}

/// The number in E.164 (`+` and digits). Written with `+` or `00`, it carries its country code;
/// otherwise it is national: a leading trunk `0` is dropped and `default_country_code` put in
/// front (without one, the digits are taken to start with the country code, as Meta's
/// examples write them). `None` when fewer than 8 or more than 15 digits remain.
pub fn phone(raw: &str, default_country_code: Option<&str>) -> Option<String> {
    let trimmed = raw.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        match default_country_code {
            Some(cc) => format!("{cc}{}", digits.trim_start_matches('0')),
            None => digits,
        }
    };
    let international = international.trim_start_matches('0');
    (8..=15)
        .contains(&international.len())
        .then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased_and_gmail_dots_removed_for_google() {
        // The documentation's examples.
        assert_eq!(
            email(" Person@Example.com ", false).as_deref(),
            Some("person@example.com")
        );
        assert_eq!(
            email("your.name@gmail.com", false).as_deref(),
            Some("your.name@gmail.com")
        );
        assert_eq!(
            email("Your.Name@GoogleMail.com", true).as_deref(),
            Some("yourname@googlemail.com")
        );
        // Only gmail's local part loses its dots.
        assert_eq!(
            email("a.b@example.co.uk", true).as_deref(),
            Some("a.b@example.co.uk")
        );
        for bad in ["", "no-at-sign", "@example.com", "a@", "a@b@c"] {
            assert_eq!(email(bad, true), None, "{bad:?}");
        }
    }

    #[test]
    fn phones_become_e164() {
        // Meta's examples: with punctuation, with the country code, with `+`.
        assert_eq!(
            phone("+44 844 412 4653", None).as_deref(),
            Some("+448444124653")
        );
        assert_eq!(
            phone("1-234-567-8910", None).as_deref(),
            Some("+12345678910")
        );
        assert_eq!(phone("12345678910", None).as_deref(), Some("+12345678910"));
        // International prefix 00, and national numbers with the default country code.
        assert_eq!(
            phone("0044 844 412 4653", Some("1")).as_deref(),
            Some("+448444124653")
        );
        assert_eq!(
            phone("0844 412 4653", Some("44")).as_deref(),
            Some("+448444124653")
        );
        assert_eq!(
            phone("(030) 1234567", Some("49")).as_deref(),
            Some("+49301234567")
        );
        for bad in ["", "n/a", "12345", "+1234567890123456"] {
            assert_eq!(phone(bad, Some("44")), None, "{bad:?}");
        }
    }
}
