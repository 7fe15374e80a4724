//! Reports of a run: the reasons behind a score and the HTML report.
//!
//! The HTML report opens with an executive summary in business words
//! ([`executive_summary`]), then the figures of the run, the trend charts
//! over every run, the top risks, the attack paths to the crown jewels,
//! the open findings by owner and the inputs. docs/metrics.md, section "Report", describes each part.

mod attack;
mod charts;
mod summary;
#[cfg(test)]
mod tests;
mod trends;

use std::collections::BTreeMap;

use askama::Template;
use chrono::{DateTime, Utc};
use ctem_model::{Asset, AssetKey, Factor, RiskAssessment, Tier};
use ctem_store::{AssetCoverage, FactTable, RunStats, RunSummary, StoredFinding};

pub use attack::{attack_path_sentence, probability_percent};
pub use summary::{CrownJewelExposure, crown_jewel_exposure, executive_summary};

use crate::assess::{FileOutcome, FileStatus};
use crate::metrics::{Metrics, MetricsOptions, RunPoint, compute};
use crate::paths::PathsView;
use crate::sla::SlaPolicy;
use attack::{JewelSection, jewel_sections};
use trends::{RunRow, TrendSection, run_row, trend_sections};

/// The days before the run that the executive summary speaks of.
pub const SUMMARY_WINDOW_DAYS: u32 = 30;

/// The history that the report shows: the metrics of the summary period
/// and every run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHistory {
    /// The metrics from [`SUMMARY_WINDOW_DAYS`] before `now` to `now`:
    /// deadlines met, findings past due and days to fix.
    pub recent: Metrics,
    /// Every run observed at or before `now`, the oldest first, for the
    /// trend charts.
    pub runs: Vec<RunPoint>,
}

impl ReportHistory {
    /// Computes the history from the store's reads at `now`, the
    /// observation time of the run that the report describes.
    pub fn compute(
        facts: &FactTable,
        runs: &[RunStats],
        coverage: &[AssetCoverage],
        policy: &SlaPolicy,
        now: DateTime<Utc>,
    ) -> ReportHistory {
        let whole = compute(facts, runs, coverage, policy, &MetricsOptions::new(now));
        let since = now
            .checked_sub_signed(chrono::TimeDelta::days(i64::from(SUMMARY_WINDOW_DAYS)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let recent_options = MetricsOptions {
            since: Some(since),
            ..MetricsOptions::new(now)
        };
        ReportHistory {
            recent: compute(facts, runs, coverage, policy, &recent_options),
            runs: whole.runs,
        }
    }
}

/// The reasons behind a score in one line, from its largest factors that
/// raised it: `KEV listed 2021-12-10; EPSS 0.94; internet-exposed`.
///
/// A status from the report (suppressed, not affected) comes first, because
/// it explains a low score better than the factors it cancelled.
pub fn reasons(risk: &RiskAssessment, max: usize) -> String {
    // Status and policy factors add no points, yet they explain the tier.
    let status = risk
        .factors
        .iter()
        .filter(|factor| factor.name == "source_status" || factor.name == crate::policy::POLICY_FACTOR);
    let raising = risk.factors.iter().filter(|factor| factor.contribution > 0.0);
    let mut shown: Vec<&Factor> = status.chain(raising).collect();
    if shown.is_empty() {
        shown = risk.factors.iter().collect();
    }
    shown
        .into_iter()
        .take(max)
        .map(describe_factor)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Renders the reasons behind a score as one sentence ([`ctem_risk::explain`]),
/// or, for an assessment whose factors it cannot word (stored by an older
/// version), the largest factors as [`reasons`] lists them.
pub fn explanation(risk: &RiskAssessment) -> String {
    let sentence = ctem_risk::explain(risk);
    if sentence.is_empty() {
        reasons(risk, 4)
    } else {
        sentence
    }
}

/// A factor as people read it in a table cell.
fn describe_factor(factor: &Factor) -> String {
    let value = factor.value.as_str();
    match factor.name.as_str() {
        "kev" => format!("KEV {value}"),
        "epss" => format!("EPSS {value}"),
        // The value names the evidence, such as "Metasploit exploit module ...".
        "exploit" => value.to_string(),
        "internet_exposure" => value.to_string(),
        "asset_criticality" => format!("criticality {value}"),
        "cvss_exploitability" => format!("CVSS exploitability {value}"),
        "cvss_impact" => format!("CVSS impact {value}"),
        "severity" => format!("severity {value}"),
        // The value reads "secret, severity high"; the severity has its own factor.
        "finding_kind" => value.split(',').next().unwrap_or(value).replace('_', " "),
        "source_status" => format!("status {value}"),
        other => format!("{} {value}", other.replace('_', " ")),
    }
}

/// The data the HTML report renders.
pub struct ReportInput<'a> {
    pub generated_at: DateTime<Utc>,
    pub summary: &'a RunSummary,
    pub files: &'a [FileOutcome],
    /// Every active finding in the store after the run, highest score first.
    pub active: &'a [StoredFinding],
    pub assets: &'a BTreeMap<AssetKey, Asset>,
    /// One line per intelligence source.
    pub intel_sources: Vec<String>,
    /// How many rows the top risks table has at most; `None` lists every
    /// active finding.
    pub top: Option<usize>,
    pub history: &'a ReportHistory,
    /// The crown jewels, from [`crown_jewel_exposure`].
    pub crown_jewels: &'a [CrownJewelExposure],
    /// The attack paths to the crown jewels; `None` when the run derived
    /// no attack graph because no asset is a crown jewel.
    pub attack_paths: Option<&'a PathsView>,
}

struct TopRow {
    tier: String,
    score: String,
    title: String,
    tool: String,
    rule_id: String,
    status: String,
    asset: String,
    owner: String,
    reasons: String,
}

struct TierBar {
    label: &'static str,
    count: usize,
    width: usize,
    y: usize,
    color: &'static str,
}

struct OwnerRow {
    owner: String,
    counts: Vec<usize>,
    total: usize,
}

struct FileRow {
    path: String,
    format: String,
    result: String,
    failed: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportTemplate {
    generated_at: String,
    version: &'static str,
    run_id: i64,
    observed_at: String,
    active_count: usize,
    new_count: u64,
    still_open_count: u64,
    reopened_count: u64,
    fixed_count: u64,
    parsed_files: usize,
    chart_height: usize,
    tier_bars: Vec<TierBar>,
    tier_names: Vec<&'static str>,
    top: Vec<TopRow>,
    owners: Vec<OwnerRow>,
    files: Vec<FileRow>,
    intel: Vec<String>,
    summary: Vec<String>,
    trends: Vec<TrendSection>,
    /// The reason the trend sections show no chart, when they show none.
    trend_note: Option<&'static str>,
    run_rows: Vec<RunRow>,
    attack_paths: Vec<JewelSection>,
    /// Whether the run derived an attack graph.
    attack_graph: bool,
}

const UNOWNED: &str = "(no owner)";

/// Renders the self-contained HTML report: no scripts, styles or images
/// from elsewhere, so it opens offline and can be mailed as one file.
pub fn render_html(input: &ReportInput<'_>) -> String {
    let tier_of = |finding: &StoredFinding| finding.risk.as_ref().map_or(Tier::P4, |risk| risk.tier);
    let owner_of = |finding: &StoredFinding| {
        input
            .assets
            .get(&finding.finding.asset)
            .and_then(|asset| asset.owner.clone())
            .unwrap_or_else(|| UNOWNED.to_string())
    };

    let mut tier_counts = [0usize; 4];
    let mut owners: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for finding in input.active {
        let index = tier_index(tier_of(finding));
        tier_counts[index] += 1;
        owners.entry(owner_of(finding)).or_default()[index] += 1;
    }

    let largest = tier_counts.iter().copied().max().unwrap_or(0).max(1);
    let colors = ["#b42318", "#dc6803", "#a08600", "#667085"];
    let tier_bars = Tier::ALL
        .iter()
        .enumerate()
        .map(|(index, tier)| TierBar {
            label: tier.as_str(),
            count: tier_counts[index],
            width: tier_counts[index] * 520 / largest,
            y: 8 + index * 34,
            color: colors[index],
        })
        .collect();

    let top = input
        .active
        .iter()
        .take(input.top.unwrap_or(usize::MAX))
        .map(|finding| {
            let asset = input.assets.get(&finding.finding.asset);
            TopRow {
                tier: tier_of(finding).to_string(),
                score: finding
                    .risk
                    .as_ref()
                    .map_or("-".into(), |risk| format!("{:.1}", risk.score)),
                title: finding.finding.title.clone(),
                tool: finding.finding.tool.clone(),
                rule_id: finding.finding.rule_id.clone(),
                status: finding.status.to_string(),
                asset: asset.map_or_else(|| finding.finding.asset.to_string(), describe_asset),
                owner: owner_of(finding),
                reasons: finding.risk.as_ref().map(explanation).unwrap_or_default(),
            }
        })
        .collect();

    let owners = owners
        .into_iter()
        .map(|(owner, counts)| OwnerRow {
            owner,
            total: counts.iter().sum(),
            counts: counts.to_vec(),
        })
        .collect();

    let files = input.files.iter().map(file_row).collect();
    let parsed_files = input
        .files
        .iter()
        .filter(|file| matches!(file.status, FileStatus::Parsed { .. }))
        .count();

    let mut summary = executive_summary(&input.history.recent, &input.history.runs, input.crown_jewels);
    if let Some(view) = input.attack_paths {
        // After the crown jewels' open weaknesses, which it explains.
        summary.insert(1, attack_path_sentence(view));
    }

    let template = ReportTemplate {
        generated_at: input.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: env!("CARGO_PKG_VERSION"),
        run_id: input.summary.run_id,
        observed_at: input
            .summary
            .observed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        active_count: input.active.len(),
        new_count: input.summary.new,
        still_open_count: input.summary.still_open,
        reopened_count: input.summary.reopened,
        fixed_count: input.summary.fixed,
        parsed_files,
        chart_height: 8 + 4 * 34,
        tier_bars,
        tier_names: Tier::ALL.iter().map(|tier| tier.as_str()).collect(),
        top,
        owners,
        files,
        intel: input.intel_sources.clone(),
        summary,
        trends: trend_sections(&input.history.runs),
        trend_note: match input.history.runs.len() {
            0 => Some("No run is recorded yet."),
            1 => Some("Trends need at least two runs, so this report shows the values of the only run."),
            _ => None,
        },
        run_rows: input.history.runs.iter().map(run_row).collect(),
        attack_paths: input.attack_paths.map(jewel_sections).unwrap_or_default(),
        attack_graph: input.attack_paths.is_some(),
    };
    template
        .render()
        .expect("the template writes to a String, which cannot fail")
}

/// Formats a number rounded to a whole number, with thousands separators.
fn whole_number(value: f64) -> String {
    let rounded = value.round();
    let digits = format!("{}", rounded.abs());
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if rounded < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

fn tier_index(tier: Tier) -> usize {
    Tier::ALL.iter().position(|t| *t == tier).unwrap_or(3)
}

/// An asset as a table cell: its name, and what makes it matter.
pub fn describe_asset(asset: &Asset) -> String {
    let mut text = if asset.name.is_empty() || asset.name == asset.key.identifier() {
        asset.key.identifier().to_string()
    } else {
        format!("{} ({})", asset.name, asset.key.identifier())
    };
    if let Some(criticality) = asset.criticality {
        text.push_str(&format!(" [{criticality}]"));
    }
    if asset.internet_exposed == Some(true) {
        text.push_str(" [internet]");
    }
    text
}

fn file_row(file: &FileOutcome) -> FileRow {
    let path = file.path.display().to_string();
    match &file.status {
        FileStatus::Parsed { format, findings } => FileRow {
            path,
            format: format.to_string(),
            result: format!("{findings} findings"),
            failed: false,
        },
        FileStatus::Failed(error) => FileRow {
            path,
            format: error.format.clone(),
            result: format!(
                "failed: {}{}",
                error.position.map(|p| format!("{p}: ")).unwrap_or_default(),
                error.message
            ),
            failed: true,
        },
        FileStatus::Skipped { reason } => FileRow {
            path,
            format: "-".into(),
            result: format!("skipped: {reason}"),
            failed: false,
        },
    }
}
