//! The executive summary at the top of the HTML report: a few sentences in
//! business words, without the vocabulary of vulnerability management, on
//! the crown jewels, the exposure trend, deadlines and the days to fix.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use ctem_model::{Asset, AssetKey, Criticality, Relationship, RelationshipKind, Tier};
use ctem_store::StoredFinding;

use super::whole_number;
use crate::config::CrownJewel;
use crate::metrics::{Metrics, RunPoint};

/// How many crown jewels the summary names before it adds "and N more".
pub(super) const NAMED_CROWN_JEWELS: usize = 5;

/// A crown jewel and its open weaknesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrownJewelExposure {
    /// The name of the configured crown jewel that matches its assets, or
    /// the asset's name for an asset that is a crown jewel by another
    /// rule.
    pub name: String,
    /// Active findings on its assets.
    pub open: u64,
    /// Of those, the findings in tier P1.
    pub most_urgent: u64,
}

/// Lists the crown jewels among the stored assets with their active
/// findings, the most exposed first.
///
/// An asset belongs to the last configured crown jewel whose `match`
/// selects it, as when the engine applies the configuration. A service or
/// component that is a crown jewel because its host or image is one (the
/// `hosts` and `contains` relationships, one level, as the engine passes
/// criticality on) belongs to the crown jewel of that parent. Any other
/// asset with the criticality `crown_jewel`, such as one set by an
/// `[[assets]]` rule, is a crown jewel of its own under its name. Assets
/// of one name count as one crown jewel. A configured crown jewel that
/// selects no stored asset is not listed, because nothing is known about
/// it.
pub fn crown_jewel_exposure(
    crown_jewels: &[CrownJewel],
    assets: &BTreeMap<AssetKey, Asset>,
    relationships: &[Relationship],
    active: &[StoredFinding],
) -> Vec<CrownJewelExposure> {
    let jewel_of = crown_jewel_names(crown_jewels, assets, relationships);

    let mut counts: BTreeMap<&str, (u64, u64)> = jewel_of.values().map(|&name| (name, (0, 0))).collect();
    for finding in active {
        let Some(name) = jewel_of.get(&finding.finding.asset) else {
            continue;
        };
        let entry = counts.entry(name).or_default();
        entry.0 += 1;
        if finding.risk.as_ref().is_some_and(|risk| risk.tier == Tier::P1) {
            entry.1 += 1;
        }
    }

    let mut exposure: Vec<CrownJewelExposure> = counts
        .into_iter()
        .map(|(name, (open, most_urgent))| CrownJewelExposure {
            name: name.to_string(),
            open,
            most_urgent,
        })
        .collect();
    exposure.sort_by(|a, b| {
        (b.most_urgent, b.open)
            .cmp(&(a.most_urgent, a.open))
            .then_with(|| a.name.cmp(&b.name))
    });
    exposure
}

/// Maps each crown-jewel asset to the name of its crown jewel, by the
/// rules of [`crown_jewel_exposure`].
fn crown_jewel_names<'a>(
    crown_jewels: &'a [CrownJewel],
    assets: &'a BTreeMap<AssetKey, Asset>,
    relationships: &[Relationship],
) -> HashMap<&'a AssetKey, &'a str> {
    let selectors: Vec<_> = crown_jewels
        .iter()
        .map(|jewel| (jewel.name.as_str(), jewel.selector.compile()))
        .collect();
    let configured: HashMap<&AssetKey, &str> = assets
        .values()
        .filter_map(|asset| {
            let (name, _) = selectors.iter().rev().find(|(_, selector)| selector.matches(asset))?;
            Some((&asset.key, *name))
        })
        .collect();
    let own_name = |asset: &'a Asset| -> Option<&'a str> {
        match configured.get(&asset.key) {
            Some(name) => Some(name),
            None if asset.criticality == Some(Criticality::CrownJewel) => Some(asset_name(asset)),
            None => None,
        }
    };

    // Of several crown-jewel parents, the first name in order wins, so the
    // result does not depend on the order of the relationships.
    let mut parent_names: HashMap<&AssetKey, &str> = HashMap::new();
    for relationship in relationships {
        if !matches!(relationship.kind, RelationshipKind::Hosts | RelationshipKind::Contains) {
            continue;
        }
        let (Some(parent), Some(child)) = (assets.get(&relationship.from), assets.get(&relationship.to)) else {
            continue;
        };
        if child.criticality != Some(Criticality::CrownJewel) || configured.contains_key(&child.key) {
            continue;
        }
        if let Some(name) = own_name(parent) {
            let entry = parent_names.entry(&child.key).or_insert(name);
            *entry = (*entry).min(name);
        }
    }

    assets
        .values()
        .filter_map(|asset| {
            let name = parent_names.get(&asset.key).copied().or_else(|| own_name(asset))?;
            Some((&asset.key, name))
        })
        .collect()
}

fn asset_name(asset: &Asset) -> &str {
    if asset.name.is_empty() {
        asset.key.identifier()
    } else {
        &asset.name
    }
}

/// Builds the executive summary, one string per bullet, from three to
/// five of them.
///
/// `recent` is computed over the period the summary speaks of (its
/// `since`, usually 30 days before `now`), and gives the deadlines and the
/// days to fix. `runs` lists every run up to `now`, the oldest first, and
/// gives the exposure trend. `crown_jewels` comes from
/// [`crown_jewel_exposure`]. docs/metrics.md, section "Report", states the
/// rules.
pub fn executive_summary(recent: &Metrics, runs: &[RunPoint], crown_jewels: &[CrownJewelExposure]) -> Vec<String> {
    let period = Period::of(recent);
    let mut bullets = vec![crown_jewel_sentence(crown_jewels)];
    bullets.extend(exposure_sentences(runs, &period));
    bullets.push(deadline_sentences(recent, &period));
    bullets.push(days_to_fix_sentence(recent, &period));
    bullets
}

/// The period of the deadline and days-to-fix figures, as words.
struct Period {
    /// Such as "in the last 30 days", or "so far" without a start.
    phrase: String,
    start: Option<DateTime<Utc>>,
}

impl Period {
    fn of(metrics: &Metrics) -> Period {
        match metrics.since {
            Some(since) => {
                let days = (metrics.now - since).num_days();
                let phrase = match days {
                    1 => "in the last day".to_string(),
                    days => format!("in the last {days} days"),
                };
                Period {
                    phrase,
                    start: Some(since),
                }
            }
            None => Period {
                phrase: "so far".to_string(),
                start: None,
            },
        }
    }
}

fn crown_jewel_sentence(crown_jewels: &[CrownJewelExposure]) -> String {
    if crown_jewels.is_empty() {
        return "No crown jewel is named in the configuration or found among the assessed assets.".to_string();
    }

    let exposed: Vec<&CrownJewelExposure> = crown_jewels.iter().filter(|jewel| jewel.open > 0).collect();
    let total = crown_jewels.len();
    if exposed.is_empty() {
        return match total {
            1 => format!("The crown jewel {} has no open weaknesses.", crown_jewels[0].name),
            total => format!("None of the {total} crown jewels has open weaknesses."),
        };
    }

    let mut named: Vec<String> = exposed
        .iter()
        .take(NAMED_CROWN_JEWELS)
        .map(|jewel| match jewel.most_urgent {
            0 => format!("{} ({} open)", jewel.name, jewel.open),
            urgent => format!("{} ({} open, {urgent} most urgent)", jewel.name, jewel.open),
        })
        .collect();
    if exposed.len() > NAMED_CROWN_JEWELS {
        named.push(format!("{} more", exposed.len() - NAMED_CROWN_JEWELS));
    }
    let list = join_words(&named);

    if total == 1 {
        return format!("The crown jewel {list} has open weaknesses.");
    }
    let verb = if exposed.len() == 1 { "has" } else { "have" };
    format!(
        "{} of {total} crown jewels {verb} open weaknesses: {list}.",
        exposed.len()
    )
}

/// Compares the latest run's total exposure score with the previous run
/// and with the start of the period.
fn exposure_sentences(runs: &[RunPoint], period: &Period) -> Vec<String> {
    let Some((latest, earlier)) = runs.split_last() else {
        return vec!["No run is recorded yet, so there is no exposure trend.".to_string()];
    };
    let Some(previous) = earlier.last() else {
        let score = latest.risk.map_or_else(String::new, |risk| {
            format!(" Its total exposure score is {}.", whole_number(risk))
        });
        return vec![format!(
            "This is the first run on record, and trends need at least two runs.{score}"
        )];
    };

    let mut sentences = vec![change_sentence(
        previous,
        latest,
        &format!("since the previous run on {}", day(previous.observed_at)),
    )];

    // The run that shows the exposure at the start of the period: the last
    // run at or before the start, else the first run on record.
    let Some(start) = period.start else {
        return sentences;
    };
    let at_start = earlier.iter().rposition(|run| run.observed_at <= start);
    let (baseline, words) = match at_start {
        Some(index) => (
            &earlier[index],
            format!(
                "{} (since the run on {})",
                period.phrase,
                day(earlier[index].observed_at)
            ),
        ),
        None => (
            &earlier[0],
            format!("since the first run on record, on {}", day(earlier[0].observed_at)),
        ),
    };
    // A comparison with the previous run would repeat the sentence before.
    if baseline.run_id != previous.run_id {
        sentences.push(change_sentence(baseline, latest, &words));
    }
    sentences
}

/// Describes how the total exposure score moved from one run to another, in
/// words and in percent.
fn change_sentence(from: &RunPoint, to: &RunPoint, when: &str) -> String {
    let (Some(before), Some(after)) = (from.risk, to.risk) else {
        return format!("Exposure cannot be compared {when}, because a stored score total is not a number.");
    };
    let scores = format!("from {} to {}", whole_number(before), whole_number(after));
    if after == before {
        return format!(
            "Exposure is unchanged {when}, with a total score of {}.",
            whole_number(after)
        );
    }
    let direction = if after > before { "rose" } else { "fell" };
    if before <= 0.0 {
        return format!("Exposure {direction} {when}, {scores} in total score.");
    }
    let percent = ((after - before) / before * 100.0).abs();
    let percent = if percent < 1.0 {
        "less than 1%".to_string()
    } else {
        format!("{}%", percent.round())
    };
    format!("Exposure {direction} {percent} {when}, {scores} in total score.")
}

fn deadline_sentences(recent: &Metrics, period: &Period) -> String {
    let compliance = &recent.sla.compliance;
    let counted = compliance.met + compliance.missed;
    let share = if counted == 0 {
        format!("No weakness was due or fixed {}.", period.phrase)
    } else {
        format!(
            "{}% of the weaknesses due or fixed {} were fixed by their deadline ({} of {counted}).",
            whole_percent(compliance.met, counted),
            period.phrase,
            compliance.met
        )
    };
    let overdue = match recent.sla.overdue {
        0 => "No weakness is past its deadline.".to_string(),
        1 => "1 weakness is past its deadline and not yet confirmed fixed.".to_string(),
        count => format!("{count} weaknesses are past their deadline and not yet confirmed fixed."),
    };
    format!("{share} {overdue}")
}

fn days_to_fix_sentence(recent: &Metrics, period: &Period) -> String {
    let stats = &recent.mttr.overall;
    match stats.mean_days {
        None => format!("No fix was confirmed {}.", period.phrase),
        Some(mean) => {
            let fixes = if stats.count == 1 {
                "1 fix".to_string()
            } else {
                format!("{} fixes", stats.count)
            };
            format!(
                "Weaknesses fixed {} took {mean:.1} days on average from discovery to confirmed fix ({fixes}).",
                period.phrase
            )
        }
    }
}

/// Returns `part / whole` as a whole percent that reads 100 only when
/// `part == whole` and 0 only when `part == 0`, so that rounding never
/// hides a missed deadline or a met one. `whole` must not be 0.
fn whole_percent(part: u64, whole: u64) -> u64 {
    let percent = (part as f64 / whole as f64 * 100.0).round() as u64;
    match part {
        0 => 0,
        part if part == whole => 100,
        _ => percent.clamp(1, 99),
    }
}

/// Formats a date as "15 Nov 2026", which no reader can take for another
/// day.
fn day(time: DateTime<Utc>) -> String {
    time.format("%-d %b %Y").to_string()
}

/// Joins "a", "b" and "c" as "a, b and c".
pub(super) fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_percent_keeps_extremes_exact() {
        assert_eq!(whole_percent(0, 3), 0);
        assert_eq!(whole_percent(3, 3), 100);
        assert_eq!(whole_percent(999, 1000), 99);
        assert_eq!(whole_percent(1, 1000), 1);
        assert_eq!(whole_percent(2, 3), 67);
    }

    #[test]
    fn join_words_uses_and() {
        let words = |list: &[&str]| list.iter().map(|word| word.to_string()).collect::<Vec<_>>();
        assert_eq!(join_words(&words(&[])), "");
        assert_eq!(join_words(&words(&["a"])), "a");
        assert_eq!(join_words(&words(&["a", "b"])), "a and b");
        assert_eq!(join_words(&words(&["a", "b", "c"])), "a, b and c");
    }
}
