//! Reading a table from PostgreSQL: `COPY (query) TO STDOUT (FORMAT binary)`, each typed value
//! rendered as the text a file would hold (ISO dates, shortest floats, exact decimals), so the
//! rows go through the one validation path files take and a database gives the table the same
//! data as a file gives.
//!
//! The URL comes from an environment variable and never reaches a message: errors name the
//! variable, and any text from the driver has the password masked.

use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use polars::prelude::*;
use postgres::types::Type;
use postgres::{Client, NoTls};
use sha2::{Digest, Sha256};

use super::config::PostgresSpec;
use super::lines::RecordLines;
use super::read::RawTable;
use super::schema::TableKind;
use super::IngestError;

/// What a database source read: its rows as text columns, and a fingerprint of the data.
pub(crate) fn read_postgres(
    spec: &PostgresSpec,
    table: TableKind,
) -> Result<RawTable, IngestError> {
    let label = spec.label();
    let url = url_from_env(&spec.url_env, &format!("sources.{table}.postgres"))?;
    let query = spec.query(table)?;
    let fail = |e: postgres::Error| IngestError::Database {
        source_label: label.clone(),
        message: database_message(&e, &url),
    };
    let mut client = Client::connect(&url, NoTls).map_err(fail)?;
    let statement = client.prepare(&query).map_err(fail)?;
    let columns: Vec<(String, Type)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().clone()))
        .collect();
    if let Some((name, ty)) = columns.iter().find(|(_, ty)| !supported(ty)) {
        return Err(IngestError::UnsupportedColumn {
            source_label: label,
            column: name.clone(),
            found: ty.name().to_string(),
        });
    }
    let mut bytes = Vec::new();
    {
        use std::io::Read;
        let mut reader = client
            .copy_out(&format!("COPY ({query}) TO STDOUT (FORMAT binary)"))
            .map_err(fail)?;
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| IngestError::Database {
                source_label: label.clone(),
                message: masked(&e.to_string(), &url),
            })?;
    }
    let bug = |message: String| IngestError::Bug {
        path: PathBuf::from(&label),
        message,
    };
    let types: Vec<Type> = columns.iter().map(|(_, t)| t.clone()).collect();
    let cells = decode_copy(&bytes, &types).map_err(bug)?;
    let series: Vec<Column> = columns
        .iter()
        .zip(cells)
        .map(|((name, _), values)| {
            StringChunked::from_iter_options(name.into(), values.into_iter()).into_column()
        })
        .collect();
    let frame = DataFrame::new_infer_height(series).map_err(|source| IngestError::Polars {
        path: PathBuf::from(&label),
        source,
    })?;
    let fingerprint = Fingerprint {
        bytes: bytes.len() as u64,
        sha256: format!("{:x}", Sha256::digest(&bytes)),
    };
    // The row of the query's result stands where a file's line would: row 1 is the first row.
    let mut raw = RawTable::new(
        &PathBuf::from(label),
        frame,
        true,
        Some(RecordLines::starting_at(1)),
    );
    raw.fingerprint = Some(fingerprint);
    Ok(raw)
}

/// The data a database source read: the bytes of its binary COPY and their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub bytes: u64,
    pub sha256: String,
}

/// The server's URL from the environment variable `var` that the config key `key` names.
pub fn url_from_env(var: &str, key: &str) -> Result<String, IngestError> {
    std::env::var(var).map_err(|_| IngestError::Config {
        message: format!(
            "`{key}`: the environment variable `{var}` is not set; set it to the server's URL (postgres://user:password@host:port/database)"
        ),
    })
}

/// A driver error as a message a user can act on, the URL's password masked.
pub fn database_message(e: &postgres::Error, url: &str) -> String {
    masked(&driver_message(e), url)
}

/// A name quoted as an SQL identifier, so it is never read as SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The driver's message with its cause (the server's own words: "password authentication
/// failed for user …", "Connection refused").
fn driver_message(e: &postgres::Error) -> String {
    let mut message = e.to_string();
    if let Some(db) = e.as_db_error() {
        message = format!("{}: {}", db.severity(), db.message());
    } else if let Some(cause) = std::error::Error::source(e) {
        message = format!("{message}: {cause}");
    }
    message
}

/// `message` with the URL and its password replaced, whatever the driver chose to quote.
fn masked(message: &str, url: &str) -> String {
    let mut out = message.replace(url, "<url>");
    if let Some(password) = password_of(url).filter(|p| !p.is_empty()) {
        out = out.replace(&password, "****");
    }
    out
}

fn password_of(url: &str) -> Option<String> {
    let config: postgres::Config = url.parse().ok()?;
    config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// The column types read as text: what a table of customers or orders holds. Others (arrays,
/// JSON, money, intervals…) get an error that suggests a cast.
fn supported(ty: &Type) -> bool {
    [
        Type::BOOL,
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::DATE,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
    ]
    .contains(ty)
}

/// The columns of a binary COPY (signature, flags, header extension, then tuples: a field
/// count, each field's length, -1 for null, and its bytes; -1 as the count ends the data).
fn decode_copy(bytes: &[u8], types: &[Type]) -> Result<Vec<Vec<Option<String>>>, String> {
    const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
    let mut at = Cursor { bytes, at: 0 };
    if at.take(SIGNATURE.len())? != SIGNATURE {
        return Err("the binary COPY does not start with its signature".into());
    }
    at.i32()?;
    let extension = at.i32()?;
    at.take(usize::try_from(extension).map_err(|_| "a negative header extension")?)?;
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); types.len()];
    loop {
        let fields = at.i16()?;
        if fields == -1 {
            return Ok(columns);
        }
        if fields as usize != types.len() {
            return Err(format!(
                "a COPY row has {fields} fields, the query {} columns",
                types.len()
            ));
        }
        for (ty, column) in types.iter().zip(columns.iter_mut()) {
            let len = at.i32()?;
            let value = match usize::try_from(len) {
                Ok(len) => Some(render(ty, at.take(len)?)?),
                Err(_) => None,
            };
            column.push(value);
        }
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or("the binary COPY ends inside a value")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(fixed(self.take(2)?)?))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(fixed(self.take(4)?)?))
    }
}

fn fixed<const N: usize>(b: &[u8]) -> Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("expected {N} bytes, found {}", b.len()))
}

/// One value as the text a file would hold: what the Parquet reader renders too (ISO dates,
/// `T`-separated datetimes to the second, shortest round-trip floats).
fn render(ty: &Type, b: &[u8]) -> Result<String, String> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).ok_or("no epoch")?;
    Ok(match *ty {
        Type::BOOL => (b.first() == Some(&1)).to_string(),
        Type::INT2 => i16::from_be_bytes(fixed(b)?).to_string(),
        Type::INT4 => i32::from_be_bytes(fixed(b)?).to_string(),
        Type::INT8 => i64::from_be_bytes(fixed(b)?).to_string(),
        Type::FLOAT4 => format!("{}", f64::from(f32::from_be_bytes(fixed(b)?))),
        Type::FLOAT8 => format!("{}", f64::from_be_bytes(fixed(b)?)),
        Type::NUMERIC => numeric_text(b)?,
        Type::DATE => {
            let days = i32::from_be_bytes(fixed(b)?);
            match epoch.checked_add_signed(Duration::days(days.into())) {
                Some(d) if days != i32::MAX && days != i32::MIN => d.format("%Y-%m-%d").to_string(),
                _ => "infinity".to_string(),
            }
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(fixed(b)?);
            let start = epoch.and_hms_opt(0, 0, 0).ok_or("no epoch")?;
            match start.checked_add_signed(Duration::microseconds(micros)) {
                Some(t) if micros != i64::MAX && micros != i64::MIN => {
                    t.format("%Y-%m-%dT%H:%M:%S").to_string()
                }
                _ => "infinity".to_string(),
            }
        }
        _ => String::from_utf8_lossy(b).into_owned(),
    })
}

/// A NUMERIC in its binary form (digit count, weight, sign, display scale, base-10000 digits)
/// as exact decimal text with its scale: `11.70` stays `11.70`.
fn numeric_text(b: &[u8]) -> Result<String, String> {
    let mut c = Cursor { bytes: b, at: 0 };
    let ndigits = c.i16()?.max(0) as usize;
    let weight = i64::from(c.i16()?);
    let sign = c.i16()? as u16;
    let scale = c.i16()?.max(0) as usize;
    let digits = (0..ndigits)
        .map(|_| c.i16())
        .collect::<Result<Vec<i16>, String>>()?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    // The digit group of weight `weight - i` is `digits[i]`; groups outside are zeros.
    let group = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if weight < 0 {
        text.push('0');
    } else {
        for i in 0..=weight {
            match i {
                0 => text.push_str(&group(0).to_string()),
                _ => text.push_str(&format!("{:04}", group(i))),
            }
        }
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        fraction.truncate(scale);
        text = format!("{text}.{fraction}");
    }
    let zero = digits.iter().all(|d| *d == 0);
    Ok(match sign == 0x4000 && !zero {
        true => format!("-{text}"),
        false => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, scale: i16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [digits.len() as i16, weight, sign as i16, scale] {
            b.extend(v.to_be_bytes());
        }
        for d in digits {
            b.extend(d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_keep_their_digits_and_scale() {
        for (bytes, want) in [
            (numeric(0, 0, 2, &[11, 7700]), "11.77"),
            (numeric(0, 0, 2, &[11, 7000]), "11.70"),
            (numeric(1, 0x4000, 0, &[1, 2345]), "-12345"),
            (numeric(-1, 0, 3, &[50]), "0.005"),
            (numeric(-2, 0, 8, &[12]), "0.00000012"),
            (numeric(0, 0, 0, &[]), "0"),
            (numeric(2, 0, 1, &[3]), "300000000.0"),
            (numeric(0, 0xC000, 0, &[]), "NaN"),
        ] {
            assert_eq!(numeric_text(&bytes).unwrap(), want);
        }
    }

    #[test]
    fn dates_and_times_render_as_a_file_writes_them() {
        assert_eq!(
            render(&Type::DATE, &(-1i32).to_be_bytes()).unwrap(),
            "1999-12-31"
        );
        assert_eq!(
            render(&Type::DATE, &i32::MAX.to_be_bytes()).unwrap(),
            "infinity"
        );
        let micros: i64 = 86_400_000_000 + 3_600_000_000 + 1_500_000;
        assert_eq!(
            render(&Type::TIMESTAMP, &micros.to_be_bytes()).unwrap(),
            "2000-01-02T01:00:01"
        );
        assert_eq!(
            render(&Type::FLOAT8, &11.77f64.to_be_bytes()).unwrap(),
            "11.77"
        );
    }

    #[test]
    fn the_password_never_reaches_a_message() {
        let url = "postgres://ann:pa55word@db.example:5432/crm";
        assert_eq!(
            masked(
                "cannot reach postgres://ann:pa55word@db.example:5432/crm (pa55word)",
                url
            ),
            "cannot reach <url> (****)"
        );
    }

    #[test]
    fn a_truncated_copy_is_an_error_not_a_panic() {
        let mut b = b"PGCOPY\n\xff\r\n\0".to_vec();
        b.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, b'x']);
        let err = decode_copy(&b, &[Type::TEXT]).unwrap_err();
        assert!(err.contains("ends inside a value"), "{err}");
    }
}
