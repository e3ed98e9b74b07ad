//! Cross-sell affinity: for each customer, the items they have not bought that the rules their
//! history triggers point to, scored by the best such rule's confidence (ties: its lift) — and
//! a holdout check of those recommendations against recommending the most popular items.

use std::collections::HashMap;

use polars::prelude::*;

use super::{label, mine, BasketError, BasketParams, Baskets, Rule};

/// One recommended item for one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Index into the baskets' `Owners::ids`.
    pub customer: u32,
    pub item: u32,
    /// The best triggered rule's confidence.
    pub score: f64,
    pub lift: f64,
    /// Index of that rule.
    pub rule: usize,
    /// 1 = the customer's best item.
    pub rank: u32,
}

/// Recommendations per customer, best first.
#[derive(Debug, Clone)]
pub struct Affinity {
    pub recommendations: Vec<Recommendation>,
}

impl Affinity {
    /// `customer_id, item, score, lift, rank, rule` (the rule as `{a,b} => {c}`).
    pub fn frame(&self, baskets: &Baskets, rules: &[Rule]) -> Result<DataFrame, BasketError> {
        let owners = baskets.owners.as_ref().ok_or(BasketError::NoOwners)?;
        let r = &self.recommendations;
        let rule_text = |i: usize| {
            format!(
                "{} => {}",
                label(&baskets.items, &rules[i].antecedent),
                label(&baskets.items, &rules[i].consequent)
            )
        };
        Ok(df!(
            "customer_id" => r.iter().map(|x| owners.ids[x.customer as usize].as_str()).collect::<Vec<_>>(),
            "item" => r.iter().map(|x| baskets.items[x.item as usize].as_str()).collect::<Vec<_>>(),
            "score" => r.iter().map(|x| x.score).collect::<Vec<_>>(),
            "lift" => r.iter().map(|x| x.lift).collect::<Vec<_>>(),
            "rank" => r.iter().map(|x| x.rank).collect::<Vec<_>>(),
            "rule" => r.iter().map(|x| rule_text(x.rule)).collect::<Vec<_>>(),
        )?)
    }
}

/// Every customer's distinct items, ascending codes.
fn histories(baskets: &Baskets) -> Result<Vec<Vec<u32>>, BasketError> {
    let owners = baskets.owners.as_ref().ok_or(BasketError::NoOwners)?;
    let mut bought = vec![Vec::new(); owners.ids.len()];
    for (b, items) in baskets.iter().enumerate() {
        bought[owners.customer[b] as usize].extend_from_slice(items);
    }
    for items in &mut bought {
        items.sort_unstable();
        items.dedup();
    }
    Ok(bought)
}

/// The top `top` unbought items of every customer with a purchase, by the rules (in `rules`
/// order, so among equal scores and lifts the earlier rule names the reason).
pub fn affinity(baskets: &Baskets, rules: &[Rule], top: usize) -> Result<Affinity, BasketError> {
    let bought = histories(baskets)?;
    // Rules by the first item of their antecedent: a customer tries only the rules that item
    // of their history opens.
    let mut by_first: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(first) = r.antecedent.first() {
            by_first.entry(*first).or_default().push(i);
        }
    }
    let mut recommendations = Vec::new();
    let mut best: HashMap<u32, (f64, f64, usize)> = HashMap::new();
    for (customer, history) in bought.iter().enumerate() {
        best.clear();
        let has = |item: &u32| history.binary_search(item).is_ok();
        for first in history {
            for &i in by_first.get(first).into_iter().flatten() {
                let rule = &rules[i];
                if !rule.antecedent.iter().all(has) {
                    continue;
                }
                let (score, lift) = (rule.confidence(), rule.lift());
                for item in rule.consequent.iter().filter(|c| !has(c)) {
                    let entry = best.entry(*item).or_insert((score, lift, i));
                    if (score, lift) > (entry.0, entry.1)
                        || ((score, lift) == (entry.0, entry.1) && i < entry.2)
                    {
                        *entry = (score, lift, i);
                    }
                }
            }
        }
        let mut ranked: Vec<(u32, (f64, f64, usize))> =
            best.iter().map(|(k, v)| (*k, *v)).collect();
        ranked.sort_by(|a, b| {
            b.1 .0
                .total_cmp(&a.1 .0)
                .then(b.1 .1.total_cmp(&a.1 .1))
                .then(baskets.items[a.0 as usize].cmp(&baskets.items[b.0 as usize]))
        });
        for (rank, (item, (score, lift, rule))) in ranked.into_iter().take(top).enumerate() {
            recommendations.push(Recommendation {
                customer: customer as u32,
                item,
                score,
                lift,
                rule,
                rank: rank as u32 + 1,
            });
        }
    }
    Ok(Affinity { recommendations })
}

/// How often the top-N recommendations were bought after the cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutScores {
    /// Share of evaluated customers who bought at least one of their recommended items.
    pub hit_rate: f64,
    /// Share of recommendations bought.
    pub precision: f64,
    /// Share of evaluated customers given at least one recommendation.
    pub coverage: f64,
}

/// The holdout check: rules mined on the baskets before the cutoff, recommendations from the
/// history before it, judged on the purchases from it on, against the most popular items (by
/// baskets before the cutoff) the customer had not bought.
#[derive(Debug, Clone, PartialEq)]
pub struct Holdout {
    /// First day of the holdout (days since 1970-01-01).
    pub cutoff: i32,
    pub top: usize,
    /// Customers with purchases on both sides of the cutoff.
    pub customers: usize,
    pub rules_mined: usize,
    pub rules: HoldoutScores,
    pub popularity: HoldoutScores,
}

pub fn holdout(
    baskets: &Baskets,
    params: &BasketParams,
    cutoff: i32,
    top: usize,
) -> Result<Holdout, BasketError> {
    let owners = baskets.owners.as_ref().ok_or(BasketError::NoOwners)?;
    let before = baskets.filter(|b| owners.day[b] < cutoff);
    let after = baskets.filter(|b| owners.day[b] >= cutoff);
    let (history, later) = (histories(&before)?, histories(&after)?);
    let evaluated: Vec<usize> = (0..owners.ids.len())
        .filter(|&c| !history[c].is_empty() && !later[c].is_empty())
        .collect();
    let mined = mine(&before, params);
    let by_rules = affinity(&before, &mined.rules, top)?;
    let mut rule_items: HashMap<u32, Vec<u32>> = HashMap::new();
    for r in &by_rules.recommendations {
        rule_items.entry(r.customer).or_default().push(r.item);
    }
    let counts = before.item_counts();
    let mut popular: Vec<u32> = (0..counts.len() as u32)
        .filter(|&i| counts[i as usize] > 0)
        .collect();
    popular.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    let score = |recommend: &dyn Fn(usize) -> Vec<u32>| {
        let (mut hit_customers, mut hits, mut given, mut covered) =
            (0usize, 0usize, 0usize, 0usize);
        for &c in &evaluated {
            let items = recommend(c);
            let h = items
                .iter()
                .filter(|i| later[c].binary_search(i).is_ok())
                .count();
            hits += h;
            given += items.len();
            hit_customers += usize::from(h > 0);
            covered += usize::from(!items.is_empty());
        }
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        HoldoutScores {
            hit_rate: share(hit_customers, evaluated.len()),
            precision: share(hits, given),
            coverage: share(covered, evaluated.len()),
        }
    };
    let rules = score(&|c| rule_items.get(&(c as u32)).cloned().unwrap_or_default());
    let popularity = score(&|c| {
        popular
            .iter()
            .filter(|i| history[c].binary_search(i).is_err())
            .take(top)
            .copied()
            .collect()
    });
    Ok(Holdout {
        cutoff,
        top,
        customers: evaluated.len(),
        rules_mined: mined.rules.len(),
        rules,
        popularity,
    })
}

/// A campaign score column that reads an item's affinity: `affinity:<item>`.
pub const AFFINITY_COLUMN_PREFIX: &str = "affinity:";

/// The item of an `affinity:<item>` score column, if `column` is one.
pub fn affinity_item(column: &str) -> Option<&str> {
    column.strip_prefix(AFFINITY_COLUMN_PREFIX)
}

/// Every customer's affinity to `item`, by customer index: the best confidence among the rules
/// their history triggers that point to it (as [`affinity`] scores it, but for every customer,
/// not only where the item is in their top N); 0 when no rule does or they have bought it.
pub fn item_affinity(
    baskets: &Baskets,
    rules: &[Rule],
    item: &str,
) -> Result<Vec<f64>, BasketError> {
    let code = baskets
        .items
        .iter()
        .position(|i| i == item)
        .ok_or_else(|| BasketError::UnknownItem {
            item: item.to_string(),
            known: baskets.items.len(),
            closest: closest(&baskets.items, item),
        })? as u32;
    let pointing: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.consequent.contains(&code))
        .collect();
    Ok(histories(baskets)?
        .iter()
        .map(|history| {
            let has = |i: &u32| history.binary_search(i).is_ok();
            if has(&code) {
                return 0.0;
            }
            pointing
                .iter()
                .filter(|r| r.antecedent.iter().all(has))
                .map(|r| r.confidence())
                .fold(0.0, f64::max)
        })
        .collect())
}

/// `scores` with the column `affinity:<item>` added ([`item_affinity`] of its `customer_id`s;
/// 0 for customers without baskets), so a campaign can rank by it as its `score_column`.
pub fn with_item_affinity(
    scores: &DataFrame,
    baskets: &Baskets,
    rules: &[Rule],
    item: &str,
) -> Result<DataFrame, BasketError> {
    let owners = baskets.owners.as_ref().ok_or(BasketError::NoOwners)?;
    let by_customer = item_affinity(baskets, rules, item)?;
    let of: HashMap<&str, f64> = owners
        .ids
        .iter()
        .map(String::as_str)
        .zip(by_customer)
        .collect();
    let ids = scores.column("customer_id")?.cast(&DataType::String)?;
    let values: Vec<f64> = ids
        .str()?
        .iter()
        .map(|id| id.and_then(|id| of.get(id).copied()).unwrap_or(0.0))
        .collect();
    let mut out = scores.clone();
    out.with_column(Column::new(
        format!("{AFFINITY_COLUMN_PREFIX}{item}").into(),
        values,
    ))?;
    Ok(out)
}

/// The known name nearest `wanted` by edit distance (case-insensitive), if one is near enough
/// to be a likely typo: at most a third of the longer name's characters differ.
fn closest(known: &[String], wanted: &str) -> Option<String> {
    let wanted_lower = wanted.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&k.to_lowercase(), &wanted_lower), k))
        .filter(|(d, k)| *d * 3 <= k.chars().count().max(wanted.chars().count()))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, k)| k.clone())
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::basket::Level;

    /// (customer, day, items): coffee buyers also buy milk; `bread` is the most popular item.
    fn baskets(rows: &[(&str, i32, &[&str])]) -> Baskets {
        let (mut c, mut d, mut p) = (vec![], vec![], vec![]);
        for (customer, day, items) in rows {
            for item in *items {
                c.push(*customer);
                d.push(*day);
                p.push(*item);
            }
        }
        let tx = df!("customer_id" => c, "order_date" => d, "product_id" => p)
            .unwrap()
            .lazy()
            .with_column(col("order_date").cast(DataType::Date))
            .collect()
            .unwrap();
        Baskets::from_transactions(&tx, Level::Product, &HashSet::new()).unwrap()
    }

    const ROWS: &[(&str, i32, &[&str])] = &[
        ("a", 1, &["coffee", "milk", "bread"]),
        ("b", 1, &["coffee", "milk"]),
        ("c", 1, &["coffee", "milk", "bread"]),
        ("d", 1, &["bread", "jam"]),
        ("e", 1, &["bread"]),
        ("f", 1, &["bread", "jam"]),
        ("g", 1, &["coffee"]),
        ("h", 1, &["tea"]),
        // After the cutoff (day 10): g buys milk (the rule's pick), h buys bread (popularity's).
        ("g", 10, &["milk"]),
        ("h", 10, &["bread"]),
        ("e", 11, &["jam"]),
    ];

    fn params() -> BasketParams {
        BasketParams {
            min_support: "0.2".parse().unwrap(),
            min_confidence: "0.6".parse().unwrap(),
            ..BasketParams::default()
        }
        .check()
        .unwrap()
    }

    #[test]
    fn recommends_unbought_items_of_triggered_rules() {
        let b = baskets(&ROWS[..8]);
        let mined = mine(&b, &params());
        let a = affinity(&b, &mined.rules, 2).unwrap();
        let frame = a.frame(&b, &mined.rules).unwrap();
        let owners = b.owners.as_ref().unwrap();
        let of = |id: &str| -> Vec<(String, f64)> {
            a.recommendations
                .iter()
                .filter(|r| owners.ids[r.customer as usize] == id)
                .map(|r| (b.items[r.item as usize].clone(), r.score))
                .collect()
        };
        // coffee ⇒ milk: 3 of 4 coffee baskets hold milk.
        assert_eq!(of("g"), [("milk".to_string(), 0.75)]);
        assert_eq!(of("b"), [("bread".to_string(), 2.0 / 3.0)]);
        assert!(of("h").is_empty());
        assert!(of("a").is_empty());
        assert_eq!(frame.height(), a.recommendations.len());
    }

    #[test]
    fn holdout_scores_rules_and_popularity() {
        let b = baskets(ROWS);
        let h = holdout(&b, &params(), 10, 1).unwrap();
        // e, g and h bought on both sides.
        assert_eq!(h.customers, 3);
        // Rules: g gets milk (bought) and e gets jam (bread ⇒ jam at 2/5 fails 0.6: nothing).
        assert_eq!(h.rules.hit_rate, 1.0 / 3.0);
        assert_eq!(h.rules.precision, 1.0);
        assert_eq!(h.rules.coverage, 1.0 / 3.0);
        // Popularity: e → coffee (not bought), g → bread, h → bread (bought).
        assert_eq!(h.popularity.hit_rate, 1.0 / 3.0);
        assert_eq!(h.popularity.precision, 1.0 / 3.0);
    }

    #[test]
    fn item_affinity_scores_every_customer_and_names_close_items() {
        let b = baskets(&ROWS[..8]);
        let mined = mine(&b, &params());
        let scores = df!("customer_id" => ["h", "g", "a", "zz"]).unwrap();
        let out = with_item_affinity(&scores, &b, &mined.rules, "milk").unwrap();
        let milk: Vec<Option<f64>> = out
            .column("affinity:milk")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        // g: coffee ⇒ milk (3/4); h: no rule; a: has milk; zz: no baskets.
        assert_eq!(milk, [Some(0.0), Some(0.75), Some(0.0), Some(0.0)]);
        let e = item_affinity(&b, &mined.rules, "Milkk").unwrap_err();
        assert!(e.is_bad_input());
        let e = e.to_string();
        assert!(e.contains("5 items") && e.contains("`milk`"), "{e}");
        let e = item_affinity(&b, &mined.rules, "xylophone")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("closest"), "{e}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(affinity_item("affinity:milk"), Some("milk"));
        assert_eq!(affinity_item("score"), None);
    }
}
