//! `[export]` of a campaign file: which activation files to write, and from which columns of
//! the customers table.

use serde::{Deserialize, Serialize};

use crate::select::SelectError;

/// The `[export]` table. Unknown keys are an error, like everywhere in a campaign file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// `export/email_platform.csv`: the target group with these customers-table columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_platform: Option<EmailPlatform>,
    /// `export/<platform>_audience.csv` for each: hashed identifiers (see [`Platform`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ad_platforms: Vec<String>,
    /// The customers-table columns holding the identifiers the ad platforms match on.
    #[serde(default)]
    pub identifiers: Identifiers,
    /// Country calling code (digits, e.g. `"44"`) of phone numbers written without `+` or `00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country_code: Option<String>,
}

/// `email_platform = { columns = [...] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailPlatform {
    /// Customers-table columns written after `customer_id`, in this order.
    pub columns: Vec<String>,
}

/// `identifiers = { email = "...", phone = "..." }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifiers {
    /// Column of e-mail addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Column of phone numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// An ad platform: its name in `ad_platforms`, its documented column headers and how it wants
/// each identifier normalised (see [`super::normalise`]). A new platform is a variant here and
/// a line in [`Platform::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Meta customer list: `EMAIL`, `PHONE`; phone digits without `+`.
    Meta,
    /// Google Customer Match: `Email`, `Phone`; phone in E.164 with `+`, gmail dots removed.
    Google,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Meta, Platform::Google];

    /// The name in `ad_platforms` and in the file name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Meta => "meta",
            Platform::Google => "google",
        }
    }

    /// The platform of a name of `ad_platforms`.
    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Column headers of the e-mail and the phone hashes.
    pub fn headers(self) -> (&'static str, &'static str) {
        match self {
            Platform::Meta => ("EMAIL", "PHONE"),
            Platform::Google => ("Email", "Phone"),
        }
    }

    /// The normalised e-mail address, before hashing.
    pub fn email(self, raw: &str) -> Option<String> {
        super::normalise::email(raw, self == Platform::Google)
    }

    /// The normalised phone number, before hashing, from its E.164 form.
    pub fn phone(self, e164: &str) -> String {
        match self {
            Platform::Meta => e164.trim_start_matches('+').to_string(),
            Platform::Google => e164.to_string(),
        }
    }
}

fn invalid(key: &str, expected: impl Into<String>, found: impl Into<String>) -> SelectError {
    SelectError::InvalidConfig {
        key: key.to_string(),
        expected: expected.into(),
        found: found.into(),
    }
}

impl ExportConfig {
    /// The ad platforms, parsed (after [`ExportConfig::check`]).
    pub fn platforms(&self) -> Vec<Platform> {
        self.ad_platforms
            .iter()
            .filter_map(|p| Platform::parse(p))
            .collect()
    }

    /// Every rule of `[export]`; the error names the key.
    pub fn check(&self) -> Result<(), SelectError> {
        if let Some(e) = &self.email_platform {
            if e.columns.is_empty() {
                return Err(invalid(
                    "export.email_platform.columns",
                    "at least one customers-table column",
                    "[]",
                ));
            }
            for (i, c) in e.columns.iter().enumerate() {
                if c.trim().is_empty() || c == "customer_id" {
                    return Err(invalid(
                        &format!("export.email_platform.columns[{i}]"),
                        "a customers-table column other than `customer_id` (always written first)",
                        format!("{c:?}"),
                    ));
                }
            }
        }
        let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
        for (i, p) in self.ad_platforms.iter().enumerate() {
            let key = format!("export.ad_platforms[{i}]");
            if Platform::parse(p).is_none() {
                return Err(invalid(
                    &key,
                    format!("one of {}", names.join(", ")),
                    format!("{p:?}"),
                ));
            }
            if self.ad_platforms[..i].contains(p) {
                return Err(invalid(&key, "each platform once", format!("{p:?} twice")));
            }
        }
        let ids = &self.identifiers;
        if !self.ad_platforms.is_empty() && ids.email.is_none() && ids.phone.is_none() {
            return Err(invalid(
                "export.identifiers",
                "the column of `email` or `phone` (ad platforms match on them)",
                "neither",
            ));
        }
        if let Some(cc) = &self.default_country_code {
            let digits = cc.trim_start_matches('+');
            if digits.is_empty()
                || digits.len() > 3
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || digits.starts_with('0')
            {
                return Err(invalid(
                    "export.default_country_code",
                    "a country calling code of 1 to 3 digits, e.g. \"44\"",
                    format!("{cc:?}"),
                ));
            }
        }
        Ok(())
    }

    /// `default_country_code` without a leading `+`.
    pub fn country_code(&self) -> Option<&str> {
        self.default_country_code
            .as_deref()
            .map(|c| c.trim_start_matches('+'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(text: &str) -> String {
        let c: ExportConfig = toml::from_str(text).unwrap();
        match c.check() {
            Err(SelectError::InvalidConfig { key, .. }) => key,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn every_rule_names_its_key() {
        assert_eq!(
            key_of("ad_platforms = ['meta', 'tiktok']\nidentifiers = { email = 'e' }"),
            "export.ad_platforms[1]"
        );
        assert_eq!(
            key_of("ad_platforms = ['meta', 'meta']\nidentifiers = { email = 'e' }"),
            "export.ad_platforms[1]"
        );
        assert_eq!(key_of("ad_platforms = ['google']"), "export.identifiers");
        assert_eq!(
            key_of("email_platform = { columns = [] }"),
            "export.email_platform.columns"
        );
        assert_eq!(
            key_of("email_platform = { columns = ['email', 'customer_id'] }"),
            "export.email_platform.columns[1]"
        );
        assert_eq!(
            key_of("default_country_code = '044'"),
            "export.default_country_code"
        );
        assert!(
            toml::from_str::<ExportConfig>("default_country_code = '+44'")
                .unwrap()
                .check()
                .is_ok()
        );
        // Unknown keys are an error, at every level.
        for text in [
            "emails = { columns = ['e'] }",
            "email_platform = { columns = ['e'], order = 'id' }",
            "identifiers = { mail = 'e' }",
        ] {
            assert!(toml::from_str::<ExportConfig>(text).is_err(), "{text}");
        }
    }
}
