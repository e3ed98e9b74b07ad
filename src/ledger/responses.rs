//! Responses: imported from a file (kept until the same file is imported again) or attributed
//! from the transactions (recomputed from scratch each time, so attribution is deterministic).

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{date_text, Ledger, LedgerError};

/// One response as the ledger stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub campaign: String,
    /// The send it answers, when known (attribution); an imported response is matched to the
    /// send whose window holds its date.
    pub send_date: Option<NaiveDate>,
    pub customer_id: String,
    pub response_date: NaiveDate,
    pub value: f64,
}

/// A customer a published campaign selected (any group), with the campaign's window.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub campaign: String,
    pub send_date: NaiveDate,
    pub response_window_days: u32,
    pub customer_id: String,
}

/// One purchase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Purchase<'a> {
    pub customer_id: &'a str,
    pub date: NaiveDate,
    pub amount: f64,
}

/// The source name of attributed responses.
pub const TRANSACTIONS_SOURCE: &str = "transactions";

/// Attribution: a selected customer (target or control alike) who buys after the send date and
/// at most `response_window_days` after it responded, with the revenue of those purchases and
/// the date of the first. Purchases on the send day are not responses: they are part of the
/// data the selection was made from. Sorted by campaign, send, customer.
pub fn attribute(selected: &[Selected], purchases: &[Purchase<'_>]) -> Vec<Response> {
    let mut by_customer: HashMap<&str, Vec<(i32, f64)>> = HashMap::new();
    for p in purchases {
        by_customer
            .entry(p.customer_id)
            .or_default()
            .push((crate::types::epoch_day(p.date), p.amount));
    }
    for v in by_customer.values_mut() {
        v.sort_by(by_day_then_amount);
    }
    attribute_bought(selected, |id| by_customer.get(id).map(Vec::as_slice))
}

/// The order [`attribute_bought`] wants a customer's purchases in: by day, then by amount (a
/// total order on the values, so every sort gives the same sequence).
pub fn by_day_then_amount(a: &(i32, f64), b: &(i32, f64)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))
}

/// [`attribute`] with each customer's purchases already gathered: `bought(id)` gives their
/// days (since 1970-01-01) and amounts, sorted by [`by_day_then_amount`] (`None`: no purchase).
pub fn attribute_bought<'p>(
    selected: &[Selected],
    bought: impl Fn(&str) -> Option<&'p [(i32, f64)]>,
) -> Vec<Response> {
    let mut out: Vec<Response> = selected
        .iter()
        .filter_map(|s| {
            let sent = crate::types::epoch_day(s.send_date);
            let closes = crate::types::epoch_day(
                s.send_date + chrono::Days::new(u64::from(s.response_window_days)),
            );
            let mut answered = bought(s.customer_id.as_str())?
                .iter()
                .filter(|(d, _)| *d > sent && *d <= closes);
            let first = answered.next()?;
            Some(Response {
                campaign: s.campaign.clone(),
                send_date: Some(s.send_date),
                customer_id: s.customer_id.clone(),
                response_date: crate::types::date_of_epoch_day(i64::from(first.0)),
                value: answered.fold(first.1, |sum, (_, a)| sum + a),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.campaign, a.send_date, &a.customer_id).cmp(&(&b.campaign, b.send_date, &b.customer_id))
    });
    out
}

impl Ledger {
    /// Every customer of every published send, in the database's order (attribution sorts what
    /// it gives back; an ORDER BY here was most of the query's time).
    pub fn selected(&self) -> Result<Vec<Selected>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.campaign, c.send_date, c.response_window_days, s.customer_id
                 FROM selections s
                 JOIN campaigns c ON c.run_id = s.run_id AND c.campaign = s.campaign
                 JOIN runs r ON r.run_id = s.run_id
                 WHERE r.status = 'published'",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        rows.into_iter()
            .map(|(campaign, send, window, customer_id)| {
                Ok(Selected {
                    campaign,
                    send_date: self.parse_date(&send, "campaigns.send_date")?,
                    response_window_days: window,
                    customer_id,
                })
            })
            .collect()
    }

    /// Replaces the responses of `source` with `responses`, in one transaction.
    pub fn replace_responses(
        &mut self,
        source: &str,
        responses: &[Response],
    ) -> Result<(), LedgerError> {
        self.write(|tx| {
            tx.execute("DELETE FROM responses WHERE source = ?1", [source])?;
            let mut stmt = tx.prepare(
                "INSERT INTO responses (campaign, send_date, customer_id, response_date, value, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in responses {
                stmt.execute(params![
                    r.campaign,
                    r.send_date.map(date_text),
                    r.customer_id,
                    date_text(r.response_date),
                    r.value,
                    source,
                ])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn purchases_after_the_send_and_within_the_window_are_responses() {
        let selected = vec![
            Selected {
                campaign: "c".into(),
                send_date: d("2026-01-05"),
                response_window_days: 14,
                customer_id: "b".into(),
            },
            Selected {
                campaign: "c".into(),
                send_date: d("2026-01-05"),
                response_window_days: 14,
                customer_id: "a".into(),
            },
        ];
        let p = |id, date, amount| Purchase {
            customer_id: id,
            date: d(date),
            amount,
        };
        let purchases = [
            p("a", "2026-01-05", 100.0), // the send day: not a response
            p("a", "2026-01-19", 20.0),  // the window's last day
            p("a", "2026-01-06", 5.0),
            p("a", "2026-01-20", 1000.0), // after the window
            p("b", "2026-01-20", 7.0),
            p("z", "2026-01-07", 7.0), // not selected
        ];
        let r = attribute(&selected, &purchases);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].customer_id, "a");
        assert_eq!(r[0].response_date, d("2026-01-06"));
        assert_eq!(r[0].value, 25.0);
        // Row order does not matter.
        let mut reversed = purchases.to_vec();
        reversed.reverse();
        assert_eq!(attribute(&selected, &reversed), r);
    }
}
