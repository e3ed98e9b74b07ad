//! JSON files that carry a checksum of their own content: the model files.
//!
//! A model file is data that decides who is contacted, so a file changed after it was written (a
//! coefficient edited by hand, a bad merge, a truncated copy) must not score. The writer adds a
//! last field `"checksum": "sha256:<hex>"`, the SHA-256 of the canonical JSON of every other
//! field: keys sorted at every level, no whitespace, strings and numbers as serde_json writes
//! them. The reader recomputes it from the parsed file and refuses a file without the field or
//! with another value. Canonical JSON, not the bytes, is hashed so that the check does not
//! depend on indentation or key order; both sides hash numbers as parsed from the text, so the
//! value written is the value read.
//!
//! This guards against accidents, not against an attacker who can recompute the hash.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{hex, write_string_atomic, IoError};

/// The field holding the checksum.
pub const CHECKSUM_FIELD: &str = "checksum";

/// The checksum of a JSON object without its checksum field: `sha256:<hex>`.
pub fn checksum(value: &Value) -> String {
    let mut text = String::new();
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map
                .iter()
                .filter(|(k, _)| k.as_str() != CHECKSUM_FIELD)
                .collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            canonical_object(&fields, &mut text);
        }
        other => canonical(other, &mut text),
    }
    format!("sha256:{}", hex(Sha256::digest(text.as_bytes())))
}

fn canonical_object(fields: &[(&String, &Value)], out: &mut String) {
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::String((*k).clone()).to_string());
        out.push(':');
        canonical(v, out);
    }
    out.push('}');
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            canonical_object(&fields, out);
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `value` as pretty JSON (fields in their declared order) with its checksum as the last field
/// and a trailing newline. `value` must serialize to a JSON object.
pub fn sealed_json<T: Serialize>(path: &Path, value: &T) -> Result<String, IoError> {
    let json_error = |source| IoError::Json {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(value).map_err(json_error)?;
    // The checksum is taken over the numbers as a reader will parse them from this text.
    let parsed: Value = serde_json::from_str(&text).map_err(json_error)?;
    let body = match (parsed.is_object(), text.strip_suffix('}')) {
        (true, Some(body)) => body.trim_end(),
        _ => {
            return Err(json_error(serde::ser::Error::custom(
                "a sealed file holds a JSON object (this is a bug)",
            )))
        }
    };
    let separator = if body.ends_with('{') { "" } else { "," };
    Ok(format!(
        "{body}{separator}\n  \"{CHECKSUM_FIELD}\": \"{}\"\n}}\n",
        checksum(&parsed)
    ))
}

/// Atomically writes [`sealed_json`] of `value` to `path`.
pub fn write_sealed_json<T: Serialize>(path: &Path, value: &T) -> Result<(), IoError> {
    write_string_atomic(path, &sealed_json(path, value)?)
}

/// Reads a file written by [`write_sealed_json`]: a file without a checksum, or whose content no
/// longer matches it, is refused; `remedy` tells the user how to get a good file again.
pub fn read_sealed_json<T: DeserializeOwned>(
    path: &Path,
    remedy: &'static str,
) -> Result<T, IoError> {
    let text = super::read_text(path)?;
    let json_error = |source| IoError::Json {
        path: path.to_path_buf(),
        source,
    };
    let mut value: Value = serde_json::from_str(&text).map_err(json_error)?;
    let stored = match value.get(CHECKSUM_FIELD) {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(IoError::NoChecksum {
                path: path.to_path_buf(),
                remedy,
            })
        }
    };
    let computed = checksum(&value);
    if stored != computed {
        return Err(IoError::ChecksumMismatch {
            path: path.to_path_buf(),
            stored,
            computed,
            remedy,
        });
    }
    if let Value::Object(map) = &mut value {
        map.remove(CHECKSUM_FIELD);
    }
    serde_json::from_value(value).map_err(json_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Model {
        kind: String,
        coefficients: Vec<f64>,
        nested: Nested,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Nested {
        z: f64,
        a: Option<u64>,
    }

    fn model() -> Model {
        Model {
            kind: "response".into(),
            coefficients: vec![0.1, -2.5e-17, 1.0 / 3.0, 123456.789],
            nested: Nested {
                z: std::f64::consts::PI,
                a: Some(u64::MAX),
            },
        }
    }

    #[test]
    fn a_sealed_file_reads_back_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_sealed_json(&path, &model()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"kind\": \"response\""), "{text}");
        assert!(text.ends_with("\"\n}\n"), "{text}");
        let back: Model = read_sealed_json(&path, "refit").unwrap();
        assert_eq!(back, model());
        // Re-indenting or reordering the fields keeps the content, and the checksum.
        let v: Value = serde_json::from_str(&text).unwrap();
        std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(read_sealed_json::<Model>(&path, "refit").unwrap(), model());
    }

    #[test]
    fn an_edited_or_unsealed_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_sealed_json(&path, &model()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replace("0.1,", "0.2,");
        assert_ne!(edited, text);
        std::fs::write(&path, &edited).unwrap();
        let err = read_sealed_json::<Model>(&path, "refit it").unwrap_err();
        assert!(matches!(err, IoError::ChecksumMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("model.json") && msg.contains("refit it"),
            "{msg}"
        );

        std::fs::write(&path, serde_json::to_string_pretty(&model()).unwrap()).unwrap();
        let err = read_sealed_json::<Model>(&path, "refit it").unwrap_err();
        assert!(matches!(err, IoError::NoChecksum { .. }), "{err}");
        assert!(err.to_string().contains("refit it"), "{err}");

        std::fs::write(&path, "{\"kind\": ").unwrap();
        let err = read_sealed_json::<Model>(&path, "refit it").unwrap_err();
        assert!(matches!(err, IoError::Json { .. }), "{err}");
    }

    #[test]
    fn the_checksum_is_over_sorted_compact_json_without_itself() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2.5, "x": "é"}], "a": null}"#).unwrap();
        let canonical_text = "{\"a\":null,\"b\":[1,{\"x\":\"é\",\"y\":2.5}]}";
        let expected = format!("sha256:{}", hex(Sha256::digest(canonical_text.as_bytes())));
        assert_eq!(checksum(&v), expected);
        let mut with = v.clone();
        with[CHECKSUM_FIELD] = Value::String("sha256:0".into());
        assert_eq!(checksum(&with), expected);
    }
}
