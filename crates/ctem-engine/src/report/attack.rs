//! The "Attack paths" section of the HTML report and its sentence in the
//! executive summary.

use super::summary::NAMED_CROWN_JEWELS;
use crate::paths::{CrownJewelView, PathView, PathsView};

/// A crown jewel as the section shows it.
pub(super) struct JewelSection {
    pub name: String,
    pub asset: String,
    pub reachable: bool,
    pub paths: Vec<PathTable>,
    pub choke_points: Vec<String>,
    pub fixes: Vec<String>,
    /// Such as "2 changes, the fewest possible".
    pub fix_summary: String,
}

pub(super) struct PathTable {
    pub probability: String,
    pub steps: Vec<StepRow>,
}

pub(super) struct StepRow {
    pub from: String,
    pub to: String,
    pub kind: String,
    pub technique: String,
    pub probability: String,
    pub enabled_by: String,
}

pub(super) fn jewel_sections(view: &PathsView) -> Vec<JewelSection> {
    // Reachable crown jewels first, the most likely first, then by name.
    let mut jewels: Vec<&CrownJewelView> = view.crown_jewels.iter().collect();
    jewels.sort_by(|a, b| {
        let likelihood = |jewel: &CrownJewelView| jewel.probability.unwrap_or(-1.0);
        likelihood(b)
            .total_cmp(&likelihood(a))
            .then_with(|| a.display_name().cmp(b.display_name()))
    });
    jewels.into_iter().map(jewel_section).collect()
}

fn jewel_section(jewel: &CrownJewelView) -> JewelSection {
    let fix_summary = jewel.fix_set.as_ref().map_or_else(String::new, |set| {
        if set.uncut_path.is_some() {
            return "no set of fixes cuts every path: one path has no known fix".to_string();
        }
        let changes = match set.fixes.len() {
            1 => "1 change".to_string(),
            count => format!("{count} changes"),
        };
        let bound = if set.exact {
            "the fewest possible"
        } else {
            "a small set, not proven the fewest"
        };
        format!("{changes} (cost {}), {bound}", set.cost.unwrap_or(f64::INFINITY))
    });
    JewelSection {
        name: jewel.display_name().to_string(),
        asset: jewel.asset.clone(),
        reachable: jewel.reachable,
        paths: jewel.paths.iter().map(path_table).collect(),
        choke_points: jewel.choke_points.iter().map(|point| point.node.label()).collect(),
        fixes: jewel
            .fix_set
            .iter()
            .flat_map(|set| set.fixes.iter().map(|fix| fix.describe()))
            .collect(),
        fix_summary,
    }
}

fn path_table(path: &PathView) -> PathTable {
    PathTable {
        probability: probability_percent(path.probability),
        steps: path
            .steps
            .iter()
            .map(|step| StepRow {
                from: step.from.label(),
                to: step.to.label(),
                kind: step.kind.replace('_', " "),
                technique: step.technique.unwrap_or("-").to_string(),
                probability: probability_percent(step.probability),
                enabled_by: step
                    .enabled_by
                    .iter()
                    .map(|fix| fix.describe())
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
    }
}

/// A probability as a percent that reads 0% only for 0: "42%", "less than
/// 1%".
pub fn probability_percent(probability: f64) -> String {
    let value = probability * 100.0;
    if probability > 0.0 && value < 1.0 {
        return "less than 1%".to_string();
    }
    format!("{}%", value.round())
}

/// The executive summary's sentence on the crown jewels that an attacker
/// on the internet can reach, in business words. Crown jewels are named
/// by their configured names; several assets of one name count once, with
/// the most likely path among them. A configured crown jewel that no step
/// of the graph compromises counts too, and a second sentence names it.
pub fn attack_path_sentence(view: &PathsView) -> String {
    let sentence = reach_sentence(view);
    match view.without_attack_steps.as_slice() {
        [] => sentence,
        [name] => format!("{sentence} No step of the attack graph compromises the crown jewel {name}."),
        names => format!(
            "{sentence} No step of the attack graph compromises the crown jewels {}.",
            super::summary::join_words(names)
        ),
    }
}

fn reach_sentence(view: &PathsView) -> String {
    let mut jewels: Vec<(&str, Option<f64>)> = Vec::new();
    for jewel in &view.crown_jewels {
        let name = jewel.display_name();
        match jewels.iter_mut().find(|(known, _)| *known == name) {
            Some((_, best)) => {
                if let Some(probability) = jewel.probability {
                    *best = Some(best.map_or(probability, |known: f64| known.max(probability)));
                }
            }
            None => jewels.push((name, jewel.probability)),
        }
    }
    for name in &view.without_attack_steps {
        if !jewels.iter().any(|(known, _)| known == name) {
            jewels.push((name, None));
        }
    }
    let total = jewels.len();
    let mut reachable: Vec<(&str, f64)> = jewels
        .iter()
        .filter_map(|&(name, probability)| Some((name, probability?)))
        .collect();
    reachable.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));

    if reachable.is_empty() {
        return match total {
            0 => "No crown jewel is part of the attack path analysis.".to_string(),
            1 => format!(
                "No path of attack from the internet reaches the crown jewel {}.",
                jewels[0].0
            ),
            total => format!("No path of attack from the internet reaches any of the {total} crown jewels."),
        };
    }
    let mut named: Vec<String> = reachable
        .iter()
        .take(NAMED_CROWN_JEWELS)
        .map(|(name, probability)| format!("{name} ({} likely)", probability_percent(*probability)))
        .collect();
    if reachable.len() > NAMED_CROWN_JEWELS {
        named.push(format!("{} more", reachable.len() - NAMED_CROWN_JEWELS));
    }
    let list = super::summary::join_words(&named);
    if total == 1 {
        return format!("An attacker on the internet can reach the crown jewel {list}.");
    }
    format!(
        "An attacker on the internet can reach {} of {total} crown jewels: {list}.",
        reachable.len()
    )
}
