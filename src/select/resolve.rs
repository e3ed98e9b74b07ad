//! Who the candidates are and what may be done to them: the scored ids, the consent rows, the
//! do-not-contact entries and the past contacts, matched under the identity rule
//! ([`crate::ids`]), with a count of everything that did not match.
//!
//! This is where a do-not-contact list meets the scores, so the fail-closed rules live here:
//! - ids are compared after [`canonical_id`] (NFKC, invisibles removed, trimmed) — or under
//!   [`IdPolicy::Numeric`] by [`lenient_key`] — and two scored rows with one key are an error;
//! - channel names are compared after [`canonical_channel`] (case, `-`/`_`/spaces, aliases);
//! - under [`IdPolicy::Text`], a suppression entry that matches no scored customer exactly but
//!   matches one under [`lenient_key`] (leading zeros stripped, a `.0` suffix, letter case) is
//!   most likely that customer written by a spreadsheet: [`SelectError::SuppressionNearMatch`],
//!   and nothing is published;
//! - scores outside the objective's range (probabilities in [0, 1], uplift in [−1, 1]) are an
//!   error; missing or non-finite scores are counted and, past the reject threshold, an error.
//!
//! Nothing here reads a file: `run::select` turns the tables into the rows these functions take.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use polars::prelude::PlHashMap;
use rayon::prelude::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{canonical_channel, canonical_id, lenient_key, IdPolicy};
use crate::io;
use crate::select::keys::{Key, KeyMap};
use crate::select::{
    CampaignConfig, Candidate, ExclusionReason, ExclusionRow, Objective, PastContact, SelectError,
    Selection, Suppression,
};

/// How many near-match examples an error names.
const EXAMPLES: usize = 5;

/// The scored customers, indexed by the key of the id policy.
#[derive(Debug, Clone)]
pub struct IdIndex {
    policy: IdPolicy,
    rows: KeyMap<usize>,
    /// Under [`IdPolicy::Text`] only: lenient key → first row, to detect near matches. Built on
    /// the first id that misses `rows`: a run whose tables all match never pays for it (at a
    /// million customers it was a third of `select`).
    lenient: OnceLock<PlHashMap<String, usize>>,
    ids: Vec<String>,
}

/// How an id from another table found (or did not find) a scored customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdMatch {
    /// Same key under the policy.
    Row(usize),
    /// No match under the policy, but a match under [`lenient_key`] (text policy only).
    Near(usize),
    /// No scored customer.
    None,
}

impl IdIndex {
    /// Indexes the scored ids (canonicalised here). Two ids with one key are an error: the
    /// scores file would give one customer two chances to be contacted.
    pub fn new(raw_ids: &[String], policy: IdPolicy) -> Result<IdIndex, SelectError> {
        Self::from_ids(raw_ids.iter().map(String::as_str), raw_ids.len(), policy)
    }

    /// [`IdIndex::new`] over borrowed ids (`len` of them: the tables' columns, without a
    /// `String` per id first).
    pub fn from_ids<'a>(
        raw_ids: impl IntoIterator<Item = &'a str>,
        len: usize,
        policy: IdPolicy,
    ) -> Result<IdIndex, SelectError> {
        // The canonical ids and their keys on every core, then filed in row order, so a
        // duplicate is reported as the first row's id and the second's.
        let raw: Vec<&str> = raw_ids.into_iter().collect();
        let mut ids: Vec<String> = Vec::with_capacity(len.max(raw.len()));
        raw.par_iter()
            .map(|raw| canonical_id(raw).into_owned())
            .collect_into_vec(&mut ids);
        drop(raw);
        let keys: Vec<Key> = ids.par_iter().map(|id| Key::of(&policy.key(id))).collect();
        let mut rows = KeyMap::with_capacity(ids.len());
        for (r, key) in keys.into_iter().enumerate() {
            if let Some(first) = rows.insert(key, r) {
                let (first, id) = (&ids[first], ids[r].clone());
                return Err(SelectError::DuplicateCustomer {
                    customer_id: if *first == id {
                        id
                    } else {
                        format!("{first}` and `{id}")
                    },
                });
            }
        }
        Ok(IdIndex {
            policy,
            rows,
            lenient: OnceLock::new(),
            ids,
        })
    }

    /// Lenient key → first row with it, in row order (see the `lenient` field).
    fn lenient(&self) -> &PlHashMap<String, usize> {
        self.lenient.get_or_init(|| {
            let mut lenient =
                PlHashMap::with_capacity_and_hasher(self.ids.len(), Default::default());
            for (r, id) in self.ids.iter().enumerate() {
                lenient.entry(lenient_key(id)).or_insert(r);
            }
            lenient
        })
    }

    /// The canonical scored ids, in the scores table's order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Consumes the index, returning the canonical ids.
    pub fn into_ids(self) -> Vec<String> {
        self.ids
    }

    /// Looks an id of another table up.
    pub fn find(&self, raw: &str) -> IdMatch {
        let key = self.policy.key(raw);
        if let Some(r) = self.rows.get(&key) {
            return IdMatch::Row(r);
        }
        if self.policy == IdPolicy::Text {
            if let Some(&r) = self.lenient().get(&lenient_key(raw)) {
                return IdMatch::Near(r);
            }
        }
        IdMatch::None
    }

    /// The row of an id under the policy only (consent and contacts: a near match is not used).
    pub fn row(&self, raw: &str) -> Option<usize> {
        match self.find(raw) {
            IdMatch::Row(r) => Some(r),
            _ => None,
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What matching found, written into `summary.json` (`matching`) and warned about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    /// The id policy used.
    pub id_policy: IdPolicy,
    /// Suppression entries read (every list).
    pub suppression_entries: usize,
    /// Scored customers suppressed on at least one of the campaign's channels.
    pub suppressed_customers: usize,
    /// Entries whose id is no scored customer (normal: lists hold people without scores).
    pub suppression_unmatched: usize,
    /// Entries keyed by e-mail or phone whose value is no customer's (counted, never shown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suppression_keys_unmatched: usize,
    /// Entries naming a channel the campaign does not use (canonical name → entries).
    pub suppression_other_channels: BTreeMap<String, usize>,
    /// Contact-history rows read.
    pub contact_rows: usize,
    /// Contact rows whose id is no scored customer.
    pub contacts_unmatched: usize,
    /// Contact rows whose id matches a scored customer only leniently (text policy): not
    /// counted towards that customer's cool-down or cap.
    pub contacts_near_matches: usize,
    /// Contact rows of scored customers on channels the campaign does not use (canonical name →
    /// rows); they still count towards the cool-down and the cap, which are per customer.
    pub contact_other_channels: BTreeMap<String, usize>,
    /// Scores missing or not finite, per score column (the channel cannot be used for them).
    pub scores_missing: BTreeMap<String, usize>,
}

impl MatchReport {
    /// One warning line per thing a planner should know, empty when all matched. Channels in
    /// `used` (canonical names of the channels of every campaign planned together) are not
    /// warned about: a mail opt-out is no news to an e-mail campaign run beside a mail one.
    pub fn warnings(&self, campaign: &str, used: &BTreeSet<String>) -> Vec<String> {
        let mut out = Vec::new();
        let unused = |m: &BTreeMap<String, usize>| {
            m.iter()
                .filter(|(k, _)| !used.contains(*k))
                .map(|(k, n)| (k.clone(), *n))
                .collect::<BTreeMap<String, usize>>()
        };
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let suppression_other = unused(&self.suppression_other_channels);
        let contact_other = unused(&self.contact_other_channels);
        if self.suppression_unmatched > 0 {
            out.push(format!(
                "campaign {campaign}: {} of {} suppression entries match no scored customer",
                self.suppression_unmatched, self.suppression_entries
            ));
        }
        if self.suppression_keys_unmatched > 0 {
            out.push(format!(
                "campaign {campaign}: {} suppression entries keyed by e-mail or phone match no customer",
                self.suppression_keys_unmatched
            ));
        }
        if !suppression_other.is_empty() {
            out.push(format!(
                "campaign {campaign}: suppression entries for channels no campaign uses: {}",
                list(&suppression_other)
            ));
        }
        if self.contacts_near_matches > 0 {
            out.push(format!(
                "campaign {campaign}: {} contact-history rows match a scored customer only when leading zeros, a `.0` suffix or case are ignored; they are not counted (set `[ids] policy = \"numeric\"` if those are the same customers)",
                self.contacts_near_matches
            ));
        }
        if !contact_other.is_empty() {
            out.push(format!(
                "campaign {campaign}: contact-history rows on channels no campaign uses (counted towards cool-down and cap): {}",
                list(&contact_other)
            ));
        }
        for (col, n) in &self.scores_missing {
            out.push(format!(
                "campaign {campaign}: {n} customers have no finite score in `{col}`"
            ));
        }
        out
    }
}

/// One do-not-contact entry: an id and, optionally, the one channel it applies to.
#[derive(Debug, Clone, Copy)]
pub struct SuppressionEntry<'a> {
    pub id: &'a str,
    /// Empty or missing: every channel.
    pub channel: Option<&'a str>,
}

/// The canonical names of the channels of some campaigns (for [`MatchReport::warnings`]).
pub fn channel_names<'a>(
    configs: impl IntoIterator<Item = &'a CampaignConfig>,
) -> BTreeSet<String> {
    configs
        .into_iter()
        .flat_map(|c| c.channels.iter().map(|ch| canonical_channel(&ch.name)))
        .collect()
}

/// The campaign's channels by canonical name.
fn channel_index(config: &CampaignConfig) -> HashMap<String, usize> {
    config
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| (canonical_channel(&c.name), i))
        .collect()
}

/// Each scored customer's suppression state (aligned with the index's rows), or
/// [`SelectError::SuppressionNearMatch`] when the text policy meets an entry that matches a
/// customer only leniently.
pub fn resolve_suppressions<'a>(
    config: &CampaignConfig,
    index: &IdIndex,
    entries: impl IntoIterator<Item = SuppressionEntry<'a>>,
    report: &mut MatchReport,
) -> Result<Vec<Suppression>, SelectError> {
    let channels = channel_index(config);
    let mut out = vec![Suppression::None; index.ids.len()];
    let mut near: Vec<(String, usize)> = Vec::new();
    let mut near_count = 0usize;
    for e in entries {
        report.suppression_entries += 1;
        let channel = e.channel.map(canonical_channel).filter(|c| !c.is_empty());
        let slot = match &channel {
            None => None,
            Some(name) => match channels.get(name) {
                Some(&i) => Some(i),
                None => {
                    *report
                        .suppression_other_channels
                        .entry(name.clone())
                        .or_default() += 1;
                    continue;
                }
            },
        };
        let row = match index.find(e.id) {
            IdMatch::Row(r) => r,
            IdMatch::Near(r) => {
                near_count += 1;
                if near.len() < EXAMPLES {
                    near.push((canonical_id(e.id).into_owned(), r));
                }
                continue;
            }
            IdMatch::None => {
                report.suppression_unmatched += 1;
                continue;
            }
        };
        let state = &mut out[row];
        match slot {
            None => *state = Suppression::AllChannels,
            Some(i) => match state {
                Suppression::AllChannels => {}
                Suppression::None => *state = Suppression::Channels(BTreeSet::from([i])),
                Suppression::Channels(set) => {
                    set.insert(i);
                }
            },
        }
    }
    if near_count > 0 {
        return Err(SelectError::SuppressionNearMatch {
            count: near_count,
            examples: near
                .into_iter()
                .map(|(entry, r)| {
                    format!(
                        "`{}` ~ `{}`",
                        io::snippet(&entry, io::SNIPPET_CHARS),
                        io::snippet(&index.ids[r], io::SNIPPET_CHARS)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    report.suppressed_customers = out
        .iter()
        .filter(|s| !matches!(s, Suppression::None))
        .count();
    Ok(out)
}

/// One contact-history row.
#[derive(Debug, Clone, Copy)]
pub struct ContactEntry<'a> {
    pub id: &'a str,
    pub date: NaiveDate,
    pub channel: Option<&'a str>,
}

/// Past contacts per scored customer (aligned with the index's rows). Only contacts whose id
/// matches under the policy count; near matches are counted in the report.
pub fn resolve_contacts<'a>(
    config: &CampaignConfig,
    index: &IdIndex,
    entries: impl IntoIterator<Item = ContactEntry<'a>>,
    report: &mut MatchReport,
) -> Vec<Vec<PastContact>> {
    let channels = channel_index(config);
    let mut out = vec![Vec::new(); index.ids.len()];
    for e in entries {
        report.contact_rows += 1;
        let row = match index.find(e.id) {
            IdMatch::Row(r) => r,
            IdMatch::Near(_) => {
                report.contacts_near_matches += 1;
                continue;
            }
            IdMatch::None => {
                report.contacts_unmatched += 1;
                continue;
            }
        };
        let channel = match e.channel.map(canonical_channel).filter(|c| !c.is_empty()) {
            None => None,
            Some(name) => match channels.get(&name) {
                Some(&i) => Some(i),
                None => {
                    *report.contact_other_channels.entry(name).or_default() += 1;
                    None
                }
            },
        };
        out[row].push(PastContact {
            date: e.date,
            channel,
        });
    }
    out
}

/// Consent per scored customer from a customers table: the flag of the first row with the
/// customer's key; a customer without a row has no consent.
pub fn resolve_consent(
    index: &IdIndex,
    customer_ids: &[Option<String>],
    flags: &[bool],
) -> Vec<bool> {
    let mut out = vec![false; index.ids.len()];
    let mut seen = vec![false; index.ids.len()];
    for (id, &flag) in customer_ids.iter().zip(flags) {
        let Some(r) = id.as_deref().and_then(|id| index.row(id)) else {
            continue;
        };
        if !seen[r] {
            seen[r] = true;
            out[r] = flag;
        }
    }
    out
}

/// The customers known to the command but never scored: the canonical ids of `known` (ids of the
/// customers table or the transactions) whose key under the index's policy is no scored
/// customer's, once per key (its first spelling), in id order. Blank ids are skipped.
pub fn unscored_ids<'a>(index: &IdIndex, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let known: Vec<&str> = known.into_iter().collect();
    let fresh: Vec<&str> = known
        .par_chunks(UNSCORED_CHUNK)
        .flat_map_iter(|chunk| index.unscored_in(chunk))
        .collect();
    let mut seen: KeyMap<()> = KeyMap::with_capacity(fresh.len());
    let mut out = Vec::new();
    for raw in fresh {
        let id = canonical_id(raw);
        if seen.insert_new(Key::of(&policy_key(index.policy, id.clone())), ()) {
            out.push(id.into_owned());
        }
    }
    // Distinct keys are distinct ids: the order is total.
    out.sort_unstable();
    out
}

/// Whether every id of `part` appears in `whole`, in the same order and spelling (so `part` holds
/// no id `whole` does not).
pub fn is_subsequence<'a, 'b>(
    part: impl IntoIterator<Item = &'a str>,
    whole: impl IntoIterator<Item = &'b str>,
) -> bool {
    let mut rest = whole.into_iter();
    part.into_iter().all(|id| rest.any(|w| w == id))
}

/// Known ids looked up at a time: small enough that a table listing the scored customers in the
/// scores' order with a few others between them still takes the in-order path almost everywhere.
const UNSCORED_CHUNK: usize = 4096;

impl IdIndex {
    /// The ids of `chunk` that are not blank and match no scored customer under the policy.
    fn unscored_in<'a>(&self, chunk: &[&'a str]) -> Vec<&'a str> {
        let ids: Vec<Cow<'a, str>> = chunk.iter().map(|raw| canonical_id(raw)).collect();
        // A table listing the scored customers in the scores' order (a job's transactions do)
        // is one lookup and a run of comparisons: equal canonical ids have equal keys. A hash
        // lookup per id was most of the work, each a cache miss in a table of every customer.
        let first = ids.iter().position(|id| !id.is_empty());
        if let Some(first) = first {
            if let Some(row) = self
                .rows
                .get_key(&Key::of(&policy_key(self.policy, ids[first].clone())))
            {
                let rest = &ids[first..];
                let scored = self.ids.get(row..row + rest.len());
                if scored.is_some_and(|s| s.iter().zip(rest).all(|(a, b)| a == b)) {
                    return Vec::new();
                }
            }
        }
        // Keys first, then the lookups: a loop of lookups each packing its key overlaps fewer of
        // the table's cache misses.
        let keys: Vec<Option<Key>> = ids
            .into_iter()
            .map(|id| (!id.is_empty()).then(|| Key::of(&policy_key(self.policy, id))))
            .collect();
        chunk
            .iter()
            .zip(keys)
            .filter(|(_, k)| k.as_ref().is_some_and(|k| self.rows.get_key(k).is_none()))
            .map(|(raw, _)| *raw)
            .collect()
    }
}

/// Excludes the known customers never scored (`unscored`, from [`unscored_ids`] over the index
/// the selection's candidates came from) as [`ExclusionReason::NoHistory`], so that audience ∪
/// exclusions holds every known customer exactly once. Every candidate is listed in the
/// selection (audience or exclusions), so no unscored id is listed already. Exclusions stay in
/// customer-id order.
pub fn account_for_unscored(selection: &mut Selection, unscored: &[String]) {
    if unscored.is_empty() {
        return;
    }
    for id in unscored {
        selection.summary.exclusions.add(ExclusionReason::NoHistory);
        selection.exclusions.push(ExclusionRow {
            customer_id: id.clone(),
            reason: ExclusionReason::NoHistory,
        });
    }
    selection
        .exclusions
        .sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
}

/// `policy.key(id)`, borrowing from `id` when the key is `id` itself.
fn policy_key(policy: IdPolicy, id: Cow<'_, str>) -> Cow<'_, str> {
    let other = match policy.key(&id) {
        Cow::Borrowed(k) if k.len() == id.len() => None,
        k => Some(k.into_owned()),
    };
    other.map_or(id, Cow::Owned)
}

/// The range a score of this objective must lie in.
pub fn score_range(objective: Objective) -> (f64, f64) {
    match objective {
        Objective::UpliftProfit => (-1.0, 1.0),
        Objective::Profit | Objective::Responses => (0.0, 1.0),
    }
}

/// Checks one score column: a finite value outside the objective's range is an error (the wrong
/// column, or a model that does not produce probabilities); missing and non-finite values are
/// counted, returned as `None`, and past `max_missing_rate` of the rows an error.
pub fn check_scores(
    objective: Objective,
    column: &str,
    values: &[Option<f64>],
    max_missing_rate: f64,
    report: &mut MatchReport,
) -> Result<Vec<Option<f64>>, SelectError> {
    let (lo, hi) = score_range(objective);
    let mut missing = 0usize;
    let mut out = Vec::with_capacity(values.len());
    for (row, v) in values.iter().enumerate() {
        match v {
            Some(x) if x.is_finite() => {
                if *x < lo || *x > hi {
                    return Err(SelectError::ScoreOutOfRange {
                        column: column.to_string(),
                        row: row + 1,
                        value: *x,
                        lo,
                        hi,
                        objective: objective.as_str(),
                    });
                }
                out.push(Some(*x));
            }
            _ => {
                missing += 1;
                out.push(None);
            }
        }
    }
    if missing > 0 {
        report.scores_missing.insert(column.to_string(), missing);
        let rate = missing as f64 / values.len().max(1) as f64;
        if rate > max_missing_rate {
            return Err(SelectError::TooManyMissingScores {
                column: column.to_string(),
                missing,
                rows: values.len(),
                max_rate: max_missing_rate,
            });
        }
    }
    Ok(out)
}

/// Marks the candidates in the ledger's global control group (`members`: canonical ids, see
/// `ledger::in_global_control`). Matched by the identity rule, so a member is held out whatever
/// the spelling of its id in the scores.
pub fn mark_global_control(
    candidates: &mut [Candidate],
    members: &std::collections::HashSet<String>,
) {
    for c in candidates {
        c.global_control = members.contains(canonical_id(&c.customer_id).as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CampaignConfig {
        CampaignConfig::from_toml_str(
            "[campaign]\nname='t'\nbudget=100.0\nobjective='profit'\nvalue_per_response=10.0\n\
             [[channel]]\nname='email'\ncost=0.1\n[[channel]]\nname='mail'\ncost=1.0\n",
        )
        .unwrap()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn entry<'a>(id: &'a str, channel: Option<&'a str>) -> SuppressionEntry<'a> {
        SuppressionEntry { id, channel }
    }

    #[test]
    fn channel_names_match_whatever_their_case_and_spelling() {
        let cfg = config();
        let index = IdIndex::new(&ids(&["07983", "00001", "A7"]), IdPolicy::Text).unwrap();
        let mut report = MatchReport::default();
        let s = resolve_suppressions(
            &cfg,
            &index,
            [
                entry("07983", Some("Email")),
                entry(" 00001", Some("E-MAIL ")),
                entry("A7", Some("Post")),
                entry("A7", Some("whatsapp")),
            ],
            &mut report,
        )
        .unwrap();
        assert_eq!(s[0], Suppression::Channels(BTreeSet::from([0])));
        assert_eq!(s[1], Suppression::Channels(BTreeSet::from([0])));
        assert_eq!(s[2], Suppression::Channels(BTreeSet::from([1])));
        assert_eq!(report.suppression_other_channels["whatsapp"], 1);
        assert_eq!(report.suppressed_customers, 3);
    }

    /// The near-match keys are built on the first miss only, and then name the first row of
    /// each lenient key, as an index built up front did.
    #[test]
    fn near_match_keys_wait_for_the_first_miss() {
        let index = IdIndex::new(&ids(&["07983", "7983.0", "A1"]), IdPolicy::Text).unwrap();
        assert_eq!(index.find("7983.0"), IdMatch::Row(1));
        assert!(index.lenient.get().is_none());
        assert_eq!(index.find("007983"), IdMatch::Near(0));
        assert_eq!(index.find("a1"), IdMatch::Near(2));
        assert_eq!(index.find("B2"), IdMatch::None);
        assert!(index.lenient.get().is_some());
    }

    #[test]
    fn ids_match_after_the_identity_rule() {
        let cfg = config();
        let index = IdIndex::new(&ids(&[" 07983", "００００１"]), IdPolicy::Text).unwrap();
        assert_eq!(index.ids(), &["07983".to_string(), "00001".to_string()]);
        let mut report = MatchReport::default();
        let s = resolve_suppressions(
            &cfg,
            &index,
            [entry("07983\u{200B}", None), entry("00001", Some(""))],
            &mut report,
        )
        .unwrap();
        assert_eq!(s, vec![Suppression::AllChannels, Suppression::AllChannels]);
    }

    #[test]
    fn near_matches_fail_closed_under_the_text_policy() {
        let cfg = config();
        let index = IdIndex::new(&ids(&["07983", "00012"]), IdPolicy::Text).unwrap();
        for variant in ["7983", "7983.0", "07983.00"] {
            let mut report = MatchReport::default();
            let err = resolve_suppressions(&cfg, &index, [entry(variant, None)], &mut report)
                .unwrap_err();
            match err {
                SelectError::SuppressionNearMatch { count, examples } => {
                    assert_eq!(count, 1);
                    assert!(examples.contains("`07983`"), "{examples}");
                }
                other => panic!("{variant}: {other:?}"),
            }
        }
        // an unrelated id is only counted
        let mut report = MatchReport::default();
        resolve_suppressions(&cfg, &index, [entry("99999", None)], &mut report).unwrap();
        assert_eq!(report.suppression_unmatched, 1);
    }

    #[test]
    fn the_numeric_policy_matches_leniently() {
        let cfg = config();
        let index = IdIndex::new(&ids(&["07983", "00012"]), IdPolicy::Numeric).unwrap();
        let mut report = MatchReport::default();
        let s = resolve_suppressions(
            &cfg,
            &index,
            [entry("7983", Some("EMAIL")), entry("12.0", None)],
            &mut report,
        )
        .unwrap();
        assert_eq!(s[0], Suppression::Channels(BTreeSet::from([0])));
        assert_eq!(s[1], Suppression::AllChannels);
        // and two scored ids with one numeric key are one customer twice
        assert!(matches!(
            IdIndex::new(&ids(&["00001", "1"]), IdPolicy::Numeric),
            Err(SelectError::DuplicateCustomer { .. })
        ));
    }

    #[test]
    fn duplicates_are_found_after_the_identity_rule() {
        let err = IdIndex::new(&ids(&["00001", " 00001"]), IdPolicy::Text).unwrap_err();
        assert!(matches!(err, SelectError::DuplicateCustomer { .. }));
        IdIndex::new(&ids(&["00001", "1"]), IdPolicy::Text).unwrap();
    }

    #[test]
    fn scores_outside_the_objective_range_are_refused() {
        let mut report = MatchReport::default();
        let ok = check_scores(
            Objective::Profit,
            "score",
            &[Some(0.2), None, Some(f64::NAN), Some(1.0)],
            0.5,
            &mut report,
        )
        .unwrap();
        assert_eq!(ok, vec![Some(0.2), None, None, Some(1.0)]);
        assert_eq!(report.scores_missing["score"], 2);
        for bad in [7.0, -0.1] {
            let err = check_scores(Objective::Profit, "score", &[Some(bad)], 0.0, &mut report)
                .unwrap_err();
            assert!(matches!(err, SelectError::ScoreOutOfRange { .. }));
        }
        check_scores(
            Objective::UpliftProfit,
            "u",
            &[Some(-0.3)],
            0.0,
            &mut report,
        )
        .unwrap();
        let err = check_scores(
            Objective::Profit,
            "score",
            &[Some(f64::INFINITY), Some(0.1)],
            0.01,
            &mut report,
        )
        .unwrap_err();
        assert!(matches!(err, SelectError::TooManyMissingScores { .. }));
    }

    #[test]
    fn contacts_and_consent_use_the_same_keys() {
        let cfg = config();
        let index = IdIndex::new(&ids(&["07983", "00012"]), IdPolicy::Text).unwrap();
        let mut report = MatchReport::default();
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let c = resolve_contacts(
            &cfg,
            &index,
            [
                ContactEntry {
                    id: " 07983",
                    date: d,
                    channel: Some("EMAIL"),
                },
                ContactEntry {
                    id: "12",
                    date: d,
                    channel: None,
                },
                ContactEntry {
                    id: "555",
                    date: d,
                    channel: None,
                },
                ContactEntry {
                    id: "07983",
                    date: d,
                    channel: Some("Push"),
                },
            ],
            &mut report,
        );
        let email = PastContact {
            date: d,
            channel: Some(0),
        };
        let push = PastContact {
            date: d,
            channel: None,
        };
        assert_eq!(c[0], vec![email, push]);
        assert_eq!(report.contact_other_channels["push"], 1);
        assert!(c[1].is_empty());
        assert_eq!(report.contacts_near_matches, 1);
        assert_eq!(report.contacts_unmatched, 1);
        let consent = resolve_consent(
            &index,
            &[
                Some("00012 ".into()),
                Some("07983".into()),
                Some("07983".into()),
            ],
            &[true, false, true],
        );
        assert_eq!(consent, vec![false, true]);
    }

    #[test]
    fn unscored_customers_are_excluded_once_as_no_history() {
        let cfg = config();
        let mut cands: Vec<Candidate> = ["00001", "00002"]
            .iter()
            .map(|id| {
                let mut c = Candidate::new(id.to_string(), vec![Some(0.9), Some(0.9)]);
                c.value = Some(10.0);
                c
            })
            .collect();
        cands[1].suppression = Suppression::AllChannels;
        let mut sel = crate::select::select_audience(&cfg, &cands).unwrap();
        let ids: Vec<String> = cands.iter().map(|c| c.customer_id.clone()).collect();
        let index = IdIndex::new(&ids, IdPolicy::Numeric).unwrap();
        let unscored = unscored_ids(&index, ["00003", " 1", "00002", "3", "", "00000"]);
        assert_eq!(unscored, ["00000", "00003"]);
        account_for_unscored(&mut sel, &unscored);
        let excluded: Vec<(&str, &str)> = sel
            .exclusions
            .iter()
            .map(|r| (r.customer_id.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            excluded,
            vec![
                ("00000", "no_history"),
                ("00002", "suppressed"),
                ("00003", "no_history")
            ]
        );
        assert_eq!(sel.summary.exclusions.get(ExclusionReason::NoHistory), 2);
        assert_eq!(sel.audience.len(), 1);
    }

    /// The in-order path (a run of comparisons) and the lookups find the same unscored ids as a
    /// plain set difference, across chunk boundaries, with ids out of order and respelled.
    #[test]
    fn unscored_ids_are_the_known_keys_no_scored_customer_has() {
        let scored: Vec<String> = (0..10_000).map(|i| format!("{:06}", i * 2)).collect();
        let index = IdIndex::new(&scored, IdPolicy::Text).unwrap();
        let mut known: Vec<String> = Vec::new();
        for (i, id) in scored.iter().enumerate() {
            known.push(id.clone());
            if i % 3_000 == 7 {
                known.push(format!("{:06}", i * 2 + 1));
            }
        }
        known.extend(scored.iter().rev().take(5_000).map(|id| format!(" {id}")));
        known.extend([
            "999999".into(),
            " 999999".into(),
            "".into(),
            "000003".into(),
        ]);
        let got = unscored_ids(&index, known.iter().map(String::as_str));
        let scored_set: BTreeSet<&str> = scored.iter().map(String::as_str).collect();
        let want: BTreeSet<String> = known
            .iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty() && !scored_set.contains(k.as_str()))
            .collect();
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        assert_eq!(got.len(), 6, "{got:?}");
    }

    #[test]
    fn a_subsequence_keeps_the_order_and_spelling() {
        let whole = ["1", "2", "3", "5"];
        assert!(is_subsequence(["1", "3", "5"], whole));
        assert!(is_subsequence([], whole));
        assert!(is_subsequence(whole, whole));
        assert!(!is_subsequence(["3", "1"], whole));
        assert!(!is_subsequence(["1", "4"], whole));
        assert!(!is_subsequence([" 1"], whole));
        assert!(!is_subsequence(["5", "5"], whole));
    }

    mod property {
        use proptest::prelude::*;

        use super::*;
        use crate::select::{select_audience, Candidate};

        /// How a file might write an id: as is, padded, with invisible characters, in
        /// fullwidth digits, without its leading zeros, with a `.0` suffix.
        fn write_id(id: &str, form: u8) -> String {
            match form % 6 {
                0 => id.to_string(),
                1 => format!("  {id}\t"),
                2 => format!("\u{FEFF}{id}\u{200B}"),
                3 => id
                    .chars()
                    .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c))
                    .collect(),
                4 => id.trim_start_matches('0').to_string(),
                _ => format!("{id}.0"),
            }
        }

        /// How a file might write a channel name.
        fn write_channel(name: &str, form: u8) -> String {
            match (form % 5, name) {
                (0, _) => name.to_string(),
                (1, _) => name.to_uppercase(),
                (2, "email") => "E-Mail".to_string(),
                (2, _) => "Post".to_string(),
                (3, _) => format!(" {name} "),
                _ => {
                    let mut s = name.to_string();
                    s[..1].make_ascii_uppercase();
                    s
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            /// Whatever the formatting of the list, every suppressed customer is out of the
            /// audience on the suppressed channel, or the selection refuses.
            #[test]
            fn no_suppressed_customer_is_ever_selected(
                n in 5usize..60,
                entries in proptest::collection::vec((0usize..60, 0u8..3, 0u8..6, 0u8..5), 0..40),
                numeric in any::<bool>(),
            ) {
                let cfg = config();
                let ids: Vec<String> = (0..n).map(|i| format!("{:05}", i * 7 + 1)).collect();
                let policy = if numeric { IdPolicy::Numeric } else { IdPolicy::Text };
                let index = IdIndex::new(&ids, policy).unwrap();
                // (customer row, channel: 0 email, 1 mail, 2 every channel)
                let truth: Vec<(usize, u8)> =
                    entries.iter().map(|&(c, ch, _, _)| (c % n, ch)).collect();
                let written: Vec<(String, Option<String>)> = entries
                    .iter()
                    .map(|&(c, ch, id_form, ch_form)| {
                        let channel = match ch {
                            0 => Some(write_channel("email", ch_form)),
                            1 => Some(write_channel("mail", ch_form)),
                            _ => None,
                        };
                        (write_id(&ids[c % n], id_form), channel)
                    })
                    .collect();
                let mut report = MatchReport::default();
                let resolved = resolve_suppressions(
                    &cfg,
                    &index,
                    written.iter().map(|(id, ch)| SuppressionEntry { id, channel: ch.as_deref() }),
                    &mut report,
                );
                let supp = match resolved {
                    Err(SelectError::SuppressionNearMatch { .. }) => {
                        prop_assert!(!numeric, "the numeric policy never refuses");
                        return Ok(());
                    }
                    other => other.unwrap(),
                };
                let cands: Vec<Candidate> = ids
                    .iter()
                    .zip(supp)
                    .map(|(id, s)| {
                        let mut c = Candidate::new(id.clone(), vec![Some(0.9), Some(0.9)]);
                        c.suppression = s;
                        c.value = Some(10.0);
                        c
                    })
                    .collect();
                let sel = select_audience(&cfg, &cands).unwrap();
                for row in &sel.audience {
                    let r = ids.iter().position(|i| *i == row.customer_id).unwrap();
                    let ch = if row.channel == "email" { 0 } else { 1 };
                    prop_assert!(
                        !truth.iter().any(|&(c, t)| c == r && (t == 2 || t == ch)),
                        "suppressed {} selected on {}", row.customer_id, row.channel
                    );
                }
            }
        }
    }
}
