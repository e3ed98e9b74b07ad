//! The identity rule: how a customer id or a channel name read from any file becomes the key
//! Bullseye compares. One rule, applied wherever ids are read (transactions, customers, contacts,
//! suppressions, scores, model outputs), so that a do-not-contact entry and a scored customer
//! that a person would call "the same id" are the same key.
//!
//! An id is Unicode-normalised (NFKC: fullwidth digits become ASCII digits, compatibility forms
//! fold), zero-width and byte-order-mark characters are removed, and surrounding whitespace is
//! trimmed. Case and leading zeros are kept: `00001` and `1` are different ids by default, because
//! many businesses issue both. [`lenient_key`] is the looser comparison used only to *detect* ids
//! that probably mean the same customer (a spreadsheet stripped the zeros, wrote `7983.0`, changed
//! the case); `select` refuses to publish when a suppression entry matches a customer only that way
//! (see `select::safety`), unless `[ids] numeric = true` declares leading zeros insignificant.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// How ids from different files are matched (`[ids] policy` in an ingest config or a job).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdPolicy {
    /// Ids are text: equal after [`canonical_id`] (case and leading zeros significant). A
    /// suppression entry that matches a customer only under [`lenient_key`] makes `select`
    /// refuse to publish, because it is most likely the same customer written differently.
    #[default]
    Text,
    /// Ids are numbers: leading zeros, a `.0` suffix and letter case are insignificant, so
    /// `07983`, `7983` and `7983.0` are one customer ([`lenient_key`] is the key).
    Numeric,
}

/// The `[ids]` table of an ingest config or a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdSettings {
    /// `text` (default) or `numeric`.
    #[serde(default)]
    pub policy: IdPolicy,
}

impl IdPolicy {
    /// The key an id is matched by under this policy.
    pub fn key<'a>(self, raw: &'a str) -> Cow<'a, str> {
        match self {
            IdPolicy::Text => canonical_id(raw),
            IdPolicy::Numeric => Cow::Owned(lenient_key(raw)),
        }
    }
}

/// Characters that render as nothing and are removed from ids: zero-width space, non-joiner,
/// joiner, word joiner, byte-order mark / zero-width no-break space, soft hyphen.
const INVISIBLE: [char; 6] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
];

/// The canonical form of an id: NFKC, invisible characters removed, trimmed, and the `'` that
/// Bullseye's own CSV outputs put before a cell starting with `=`, `+`, `-`, `@` removed (so an
/// id copied from an audience file into a suppression list is still the same id; see
/// `io::escape_cell`). Borrows when the text is already canonical (plain ASCII without
/// surrounding whitespace: the common case costs one scan and no allocation).
pub fn canonical_id(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        return Cow::Borrowed(unescape_cell(raw.trim()));
    }
    let folded: String = raw.nfkc().filter(|c| !INVISIBLE.contains(c)).collect();
    let canonical = unescape_cell(folded.trim());
    if canonical == raw {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(canonical.to_string())
    }
}

/// A cell without the spreadsheet escape: one leading `'` before (more quotes and) a formula
/// character.
fn unescape_cell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest)
            if rest
                .trim_start_matches('\'')
                .starts_with(['=', '+', '-', '@', '\t', '\r']) =>
        {
            rest
        }
        _ => s,
    }
}

/// Whether [`canonical_id`] would change this text: cheap for ASCII (ends and first character
/// only), which is what lets readers skip a column of ordinary ids after one scan.
pub fn needs_canonical(raw: &str) -> bool {
    if raw.is_ascii() {
        // `str::trim`'s ASCII whitespace: space and \t \n \x0B \x0C \r.
        let is_space = |b: Option<&u8>| b.is_some_and(|b| matches!(b, b' ' | b'\t'..=b'\r'));
        let b = raw.as_bytes();
        return is_space(b.first()) || is_space(b.last()) || b.first() == Some(&b'\'');
    }
    matches!(canonical_id(raw), Cow::Owned(_))
}

/// [`needs_canonical`] on the bytes of a field (not UTF-8 checked: any non-ASCII byte counts).
pub fn field_needs_canonical(f: &[u8]) -> bool {
    match std::str::from_utf8(f) {
        Ok(s) => needs_canonical(s),
        Err(_) => true,
    }
}

/// A looser key under which ids that a spreadsheet or a typist probably changed compare equal:
/// the canonical id lower-cased, a trailing `.0…0` of a number removed, and the leading zeros of
/// an all-digit id removed (`0` stays `0`). Used to detect near-matches and, under
/// `[ids] numeric = true`, as the key itself.
pub fn lenient_key(raw: &str) -> String {
    let c = canonical_id(raw);
    let mut s = c.to_lowercase();
    if let Some((int, frac)) = s.split_once('.') {
        if !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|b| b == b'0')
        {
            s.truncate(int.len());
        }
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let stripped = s.trim_start_matches('0');
        return if stripped.is_empty() {
            "0".to_string()
        } else {
            stripped.to_string()
        };
    }
    s
}

/// The canonical form of a channel name: the identity rule, lower-cased, `-`, `_` and spaces
/// removed, then the documented aliases (`mail` for post/postal/direct mail/dm, `sms` for
/// text/text message, `email` for e-mail). Two channel names are the same channel iff their
/// canonical forms are equal.
pub fn canonical_channel(raw: &str) -> String {
    let c = canonical_id(raw);
    let squeezed: String = c
        .chars()
        .filter(|ch| !matches!(ch, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    match squeezed.as_str() {
        "email" | "emails" => "email".to_string(),
        "post" | "postal" | "directmail" | "dm" | "mail" | "letter" => "mail".to_string(),
        "sms" | "text" | "textmessage" | "txt" => "sms".to_string(),
        "push" | "pushnotification" => "push".to_string(),
        "phone" | "call" | "telephone" | "telemarketing" => "phone".to_string(),
        _ => squeezed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ids_fold_width_invisibles_and_space() {
        assert_eq!(canonical_id(" 07983 "), "07983");
        assert_eq!(canonical_id("07983"), "07983");
        assert_eq!(canonical_id("\u{200B}07983"), "07983");
        assert_eq!(canonical_id("０７９８３"), "07983");
        assert_eq!(canonical_id("\u{FEFF}A-1\u{00A0}"), "A-1");
        // case and leading zeros are significant
        assert_eq!(canonical_id("abc"), "abc");
        assert_ne!(canonical_id("00001"), canonical_id("1"));
        assert!(matches!(canonical_id("plain"), Cow::Borrowed(_)));
        // our own spreadsheet escape is undone, an ordinary apostrophe is kept
        assert_eq!(canonical_id("'+4412345"), "+4412345");
        assert_eq!(canonical_id("''=x"), "'=x");
        assert_eq!(canonical_id("'＋44"), "+44");
        assert_eq!(canonical_id("O'Brien"), "O'Brien");
        assert_eq!(canonical_id("'abc"), "'abc");
    }

    #[test]
    fn needs_canonical_is_exact() {
        assert!(!needs_canonical("07983"));
        assert!(needs_canonical(" 07983"));
        assert!(needs_canonical("０7983"));
        assert!(!needs_canonical("é"));
        assert!(needs_canonical("'+44"));
        for v in [
            "07983",
            " 07983",
            "０7983",
            "'-1",
            "x\t",
            "x\u{0B}",
            "é",
            "\u{200B}1",
        ] {
            assert_eq!(
                needs_canonical(v) || field_needs_canonical(v.as_bytes()),
                canonical_id(v) != v,
                "{v:?}"
            );
        }
    }

    #[test]
    fn lenient_keys_catch_what_spreadsheets_do() {
        assert_eq!(lenient_key("07983"), lenient_key("7983"));
        assert_eq!(lenient_key("07983"), lenient_key("7983.0"));
        assert_eq!(lenient_key("07983"), lenient_key("7983.000"));
        assert_eq!(lenient_key("ABC-1"), lenient_key("abc-1"));
        assert_eq!(lenient_key("000"), "0");
        assert_ne!(lenient_key("7983.5"), lenient_key("7983"));
        assert_ne!(lenient_key("A01"), lenient_key("A1"));
    }

    #[test]
    fn channel_names_fold_case_and_aliases() {
        for v in [
            "email",
            "Email",
            "EMAIL",
            " e-mail ",
            "E_Mail",
            "ｅｍａｉｌ",
        ] {
            assert_eq!(canonical_channel(v), "email", "{v:?}");
        }
        for v in ["mail", "Mail", "post", "Direct Mail"] {
            assert_eq!(canonical_channel(v), "mail", "{v:?}");
        }
        assert_eq!(canonical_channel("SMS"), "sms");
        assert_eq!(canonical_channel("Text message"), "sms");
        assert_eq!(canonical_channel("display-ads"), "displayads");
    }
}
