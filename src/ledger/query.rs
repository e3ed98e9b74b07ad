//! What the readout and the exports read: a campaign's sends, its rows and their responses.
//! Only published runs are read.

use std::collections::HashMap;

use super::{date_text, Ledger, LedgerError, LedgerGroup, SelectionRecord};
use chrono::NaiveDate;

/// One published send of a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRecord {
    pub run_id: i64,
    pub campaign: String,
    pub send_date: NaiveDate,
    pub response_window_days: u32,
    pub control_fraction: f64,
    pub folder: String,
}

/// A selected customer with their responses in the send's window.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredRow {
    pub selection: SelectionRecord,
    pub responses: u64,
    pub value: f64,
}

impl Ledger {
    /// The published sends, by campaign and send date (the latest run of each).
    pub fn sends(&self) -> Result<Vec<SendRecord>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT max(c.run_id), c.campaign, c.send_date, c.response_window_days,
                        c.control_fraction, r.folder
                 FROM campaigns c JOIN runs r ON r.run_id = c.run_id
                 WHERE r.status = 'published'
                 GROUP BY c.campaign, c.send_date
                 ORDER BY c.campaign, c.send_date",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, f64>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        rows.into_iter()
            .map(|(run_id, campaign, send, window, control, folder)| {
                Ok(SendRecord {
                    run_id,
                    campaign,
                    send_date: self.parse_date(&send, "campaigns.send_date")?,
                    response_window_days: window,
                    control_fraction: control,
                    folder,
                })
            })
            .collect()
    }

    /// The send of `campaign` on `send_date`, else its latest send on or before `as_of`.
    pub fn find_send(
        &self,
        campaign: &str,
        send_date: Option<NaiveDate>,
        as_of: NaiveDate,
    ) -> Result<SendRecord, LedgerError> {
        let sends: Vec<SendRecord> = self
            .sends()?
            .into_iter()
            .filter(|s| s.campaign == campaign)
            .collect();
        let found = match send_date {
            Some(d) => sends.iter().find(|s| s.send_date == d),
            None => sends.iter().rev().find(|s| s.send_date <= as_of),
        };
        found.cloned().ok_or_else(|| LedgerError::Invalid {
            path: self.path.clone(),
            what: format!("campaign `{campaign}`"),
            expected: match send_date {
                Some(d) => format!("a published send on {d}"),
                None => format!("a published send on or before {as_of}"),
            },
            found: if sends.is_empty() {
                "no send of it".into()
            } else {
                format!(
                    "sends on {}",
                    sends
                        .iter()
                        .map(|s| s.send_date.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        })
    }

    /// The rows of a send with their responses: attributed ones of that send, imported ones
    /// dated in its window (after the send date, at most `response_window_days` after it).
    pub fn answered_rows(&self, send: &SendRecord) -> Result<Vec<AnsweredRow>, LedgerError> {
        let closes = send.send_date + chrono::Days::new(u64::from(send.response_window_days));
        let (sent, closes) = (date_text(send.send_date), date_text(closes));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT customer_id, count(*), sum(value) FROM responses
                 WHERE campaign = ?1 AND (send_date = ?2
                    OR (send_date IS NULL AND response_date > ?2 AND response_date <= ?3))
                 GROUP BY customer_id",
            )
            .map_err(self.err())?;
        let responses: HashMap<String, (u64, f64)> = stmt
            .query_map([&send.campaign, &sent, &closes], |r| {
                let count: i64 = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    (u64::try_from(count).unwrap_or(0), r.get(2)?),
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        Ok(self
            .rows(send)?
            .into_iter()
            .map(|selection| {
                let (responses, value) = responses
                    .get(&selection.customer_id)
                    .copied()
                    .unwrap_or((0, 0.0));
                AnsweredRow {
                    selection,
                    responses,
                    value,
                }
            })
            .collect())
    }

    /// The selected customers of a send, by group and rank.
    pub fn rows(&self, send: &SendRecord) -> Result<Vec<SelectionRecord>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT customer_id, channel, grp, rank, score, expected_value, cost, segment,
                        model, model_version
                 FROM selections WHERE run_id = ?1 AND campaign = ?2
                 ORDER BY grp DESC, rank, customer_id",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params![send.run_id, send.campaign], |r| {
                Ok((
                    r.get::<_, String>(2)?,
                    SelectionRecord {
                        customer_id: r.get(0)?,
                        channel: r.get(1)?,
                        group: LedgerGroup::Target,
                        rank: r.get(3)?,
                        score: r.get(4)?,
                        expected_value: r.get(5)?,
                        cost: r.get(6)?,
                        segment: r.get(7)?,
                        model: r.get(8)?,
                        model_version: r.get(9)?,
                    },
                ))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        rows.into_iter()
            .map(|(grp, mut row)| {
                row.group = LedgerGroup::parse(&grp).ok_or_else(|| LedgerError::Invalid {
                    path: self.path.clone(),
                    what: "selections.grp".into(),
                    expected: "target, control or global_control".into(),
                    found: format!("{grp:?}"),
                })?;
                Ok(row)
            })
            .collect()
    }
}
