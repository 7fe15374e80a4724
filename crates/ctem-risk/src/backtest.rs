//! A CVE-level backtest of prioritization rules: at each decision date,
//! every rule ranks the CVEs by what was known then, and the metrics count
//! how many of the CVEs that CISA added to KEV soon after that date the top
//! of each ranking holds.
//!
//! The module performs no I/O. A caller builds one [`CveRecord`] per CVE
//! from its feeds and calls [`run`].
//!
//! # Features and labels
//!
//! At a decision date `d`, [`CveRecord::features_at`] reads:
//!
//! - `kev`: true when the CVE was added to KEV strictly before `d`.
//! - `epss`: the maximum EPSS score of the history points in the
//!   [`EPSS_RECENT_DAYS`] days up to and including `d`. Without a point in
//!   that range it is the latest point before `d`. A CVE with history but no
//!   point up to `d` has no score. A CVE without any history takes its
//!   final score ([`CveRecord::epss_final`]), which was published after `d`:
//!   that is leakage, and callers must say so where they report results.
//! - `cvss` and `exploit`: as the record states them, without a date.
//!
//! [`CveRecord::is_label_at`] is true when the CVE was added to KEV on or
//! after `d` and before `d + window_days`. A KEV addition is therefore a
//! feature before the date and a label from the date on, never both.
//!
//! # Metrics
//!
//! At an effort `e`, each rule selects the top `e * n` CVEs of its ranking,
//! where `n` is the population size at that date. Coverage (recall) is the
//! share of the labelled CVEs in the selection, efficiency (precision) the
//! share of the selection that is labelled. CVEs with equal scores form a
//! tie group. When the budget ends inside a group, the selection takes the
//! budget's fraction of that group and counts that fraction of its labels,
//! which is the expected count under a random order within the group. So a
//! rule gains nothing from the order in which the caller lists the CVEs.
//!
//! Results pool every decision date: hits, selections and labels are summed
//! over the dates before the ratios are taken. The confidence intervals come
//! from a bootstrap over CVEs: each resample draws `n` CVEs with replacement
//! and uses the same draw at every date, because the rows of one CVE at
//! different dates are not independent. The interval is the 2.5th to the
//! 97.5th percentile of the resampled values (nearest rank).

use chrono::{Days, NaiveDate};

use crate::model::{CVSS_EXPLOITABILITY_WEIGHT, KEV_LISTED};

/// Days before a decision date whose EPSS points count towards the recent maximum.
pub const EPSS_RECENT_DAYS: u64 = 30;

/// What the data holds about one CVE across time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CveRecord {
    /// The CVE id, for reports.
    pub id: String,
    /// The CVSS base score (0..=10), if a record states a vector.
    pub cvss: Option<f64>,
    /// The CVSS exploitability sub-score on 0..=1 (`CvssVector::exploitability`).
    pub cvss_exploitability: Option<f64>,
    /// Dated EPSS scores, in any order.
    pub epss_history: Vec<(NaiveDate, f64)>,
    /// The latest EPSS score, used only when `epss_history` is empty.
    pub epss_final: Option<f64>,
    /// The date CISA added the CVE to KEV.
    pub kev_added: Option<NaiveDate>,
    /// The strongest exploit evidence other than KEV, on 0..=1 (the
    /// `EXPLOIT_*` weights of the risk model).
    // NOTE: undated, so any evidence that appeared after a decision date
    // leaks into it. Callers should fill it only from sources dated before
    // every decision date.
    pub exploit: f64,
}

/// What a rule sees of a CVE at one decision date.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Features {
    /// Listed in KEV before the decision date.
    pub kev: bool,
    /// The recent maximum EPSS score (see the module docs), if any.
    pub epss: Option<f64>,
    /// The CVSS base score.
    pub cvss: Option<f64>,
    /// The CVSS exploitability sub-score on 0..=1.
    pub cvss_exploitability: Option<f64>,
    /// Exploit evidence other than KEV on 0..=1.
    pub exploit: f64,
}

impl CveRecord {
    /// Returns the features of the CVE as known at `date`.
    pub fn features_at(&self, date: NaiveDate) -> Features {
        Features {
            kev: self.kev_added.is_some_and(|added| added < date),
            epss: self.epss_at(date),
            cvss: self.cvss,
            cvss_exploitability: self.cvss_exploitability,
            exploit: self.exploit,
        }
    }

    /// Returns whether the CVE was added to KEV in `[date, date + window_days)`.
    pub fn is_label_at(&self, date: NaiveDate, window_days: u64) -> bool {
        let end = date + Days::new(window_days);
        self.kev_added.is_some_and(|added| added >= date && added < end)
    }

    fn epss_at(&self, date: NaiveDate) -> Option<f64> {
        if self.epss_history.is_empty() {
            return self.epss_final;
        }
        let start = date - Days::new(EPSS_RECENT_DAYS);
        let recent = self
            .epss_history
            .iter()
            .filter(|(day, _)| *day > start && *day <= date)
            .map(|(_, score)| *score)
            .reduce(f64::max);
        recent.or_else(|| {
            self.epss_history
                .iter()
                .filter(|(day, _)| *day <= date)
                .max_by_key(|(day, _)| *day)
                .map(|(_, score)| *score)
        })
    }
}

/// A prioritization rule: a score per CVE, higher first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// CVEs whose CVSS base score is at least the threshold, the rest tied behind.
    CvssAtLeast(f64),
    /// CVEs whose EPSS score is at least the threshold, the rest tied behind.
    EpssAtLeast(f64),
    /// CVEs already in KEV first, then every CVE by CVSS base score.
    KevFirst,
    /// The priorities of CVE_Prioritizer 1.4.2 (TURROKS/CVE_Prioritizer,
    /// `scripts/helpers.py`) with its default thresholds CVSS 6.0 and EPSS
    /// 0.2: 1+ in KEV, 1 both above, 2 CVSS only, 3 EPSS only, 4 neither.
    // NOTE: CVE_Prioritizer skips a CVE without CVSS score. Here such a CVE
    // counts as below the CVSS threshold, so it still gets priority 3 or 4.
    CvePrioritizer,
    /// The likelihood of the ctem risk model (see [`ctem_likelihood`]).
    CtemLikelihood,
}

/// CVSS threshold of [`Rule::CvePrioritizer`].
pub const CVE_PRIORITIZER_CVSS: f64 = 6.0;
/// EPSS threshold of [`Rule::CvePrioritizer`].
pub const CVE_PRIORITIZER_EPSS: f64 = 0.2;

impl Rule {
    /// Returns a short name for tables.
    pub fn name(&self) -> String {
        match self {
            Rule::CvssAtLeast(threshold) => format!("CVSS >= {threshold}"),
            Rule::EpssAtLeast(threshold) => format!("EPSS >= {threshold}"),
            Rule::KevFirst => "KEV first, then CVSS".to_string(),
            Rule::CvePrioritizer => "CVE_Prioritizer".to_string(),
            Rule::CtemLikelihood => "ctem likelihood".to_string(),
        }
    }

    /// Returns the score of a CVE, higher first. `epss_prior` stands in for
    /// a missing EPSS score in [`Rule::CtemLikelihood`].
    pub fn score(&self, features: &Features, epss_prior: f64) -> f64 {
        let flag = |passes: bool| if passes { 1.0 } else { 0.0 };
        match self {
            Rule::CvssAtLeast(threshold) => flag(features.cvss.is_some_and(|cvss| cvss >= *threshold)),
            Rule::EpssAtLeast(threshold) => flag(features.epss.is_some_and(|epss| epss >= *threshold)),
            // CVSS scores lie in 0..=10, so 11 puts every KEV CVE first.
            Rule::KevFirst => 11.0 * flag(features.kev) + features.cvss.unwrap_or(0.0),
            Rule::CvePrioritizer => {
                let severe = features.cvss.is_some_and(|cvss| cvss >= CVE_PRIORITIZER_CVSS);
                let likely = features.epss.is_some_and(|epss| epss >= CVE_PRIORITIZER_EPSS);
                match (features.kev, severe, likely) {
                    (true, _, _) => 4.0,
                    (false, true, true) => 3.0,
                    (false, true, false) => 2.0,
                    (false, false, true) => 1.0,
                    (false, false, false) => 0.0,
                }
            }
            Rule::CtemLikelihood => ctem_likelihood(features, epss_prior),
        }
    }
}

/// Computes the exploitation evidence of the ctem risk model for a CVE
/// without asset context:
///
/// ```text
/// 1 - (1 - kev) * (1 - sqrt(epss)) * (1 - exploit) * (1 - CVSS_EXPLOITABILITY_WEIGHT * exploitability)
/// ```
///
/// `kev` is [`KEV_LISTED`] for a listed CVE, `epss` the recent maximum or
/// `epss_prior` without a score, and a missing exploitability counts as 0.
/// The weights are those of `assess` (see the crate docs); none was fitted
/// to the backtest data. The function never decreases when an input grows.
pub fn ctem_likelihood(features: &Features, epss_prior: f64) -> f64 {
    let kev = if features.kev { KEV_LISTED } else { 0.0 };
    let epss = features.epss.unwrap_or(epss_prior).clamp(0.0, 1.0).sqrt();
    let base = CVSS_EXPLOITABILITY_WEIGHT * features.cvss_exploitability.unwrap_or(0.0);
    1.0 - (1.0 - kev) * (1.0 - epss) * (1.0 - features.exploit.clamp(0.0, 1.0)) * (1.0 - base)
}

/// The settings of a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The decision dates.
    pub decision_dates: Vec<NaiveDate>,
    /// Length of the label window after each decision date, in days.
    pub window_days: u64,
    /// Efforts as fractions of the population, each in 0..=1.
    pub efforts: Vec<f64>,
    /// Bootstrap resamples; 0 gives intervals equal to the point value.
    pub resamples: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

/// A point estimate with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Coverage and efficiency of one rule at one effort.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffortResult {
    pub effort: f64,
    /// Share of the labelled CVEs that the selection holds (recall).
    pub coverage: Estimate,
    /// Share of the selection that is labelled (precision).
    pub efficiency: Estimate,
}

/// The results of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleResult {
    pub rule: Rule,
    /// One entry per effort of the [`Config`], in its order.
    pub efforts: Vec<EffortResult>,
}

/// The population and labels at one decision date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateSummary {
    pub date: NaiveDate,
    /// CVEs already in KEV at the date.
    pub kev_known: usize,
    /// CVEs added to KEV in the window after the date.
    pub labels: usize,
    /// Labelled CVEs with an EPSS score at the date. The others had no
    /// score yet, mostly because they were not published yet.
    pub labels_with_epss: usize,
    /// CVEs with an EPSS score at the date.
    pub with_epss: usize,
    /// The EPSS prior of [`Rule::CtemLikelihood`] at the date.
    pub epss_prior: f64,
}

/// The outcome of [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub population: usize,
    pub dates: Vec<DateSummary>,
    pub rules: Vec<RuleResult>,
}

/// Runs the backtest of `rules` over `records` (see the module docs).
pub fn run(records: &[CveRecord], rules: &[Rule], config: &Config) -> Report {
    let mut dates = Vec::new();
    let mut labels_per_date = Vec::new();
    let mut features_per_date = Vec::new();
    for &date in &config.decision_dates {
        let features: Vec<Features> = records.iter().map(|record| record.features_at(date)).collect();
        let labels: Vec<bool> = records
            .iter()
            .map(|record| record.is_label_at(date, config.window_days))
            .collect();
        let epss_prior = median(features.iter().filter_map(|f| f.epss).collect());
        dates.push(DateSummary {
            date,
            kev_known: features.iter().filter(|f| f.kev).count(),
            labels: labels.iter().filter(|&&label| label).count(),
            labels_with_epss: features
                .iter()
                .zip(&labels)
                .filter(|(f, label)| **label && f.epss.is_some())
                .count(),
            with_epss: features.iter().filter(|f| f.epss.is_some()).count(),
            epss_prior,
        });
        labels_per_date.push(labels);
        features_per_date.push(features);
    }

    let rankings: Vec<Vec<Ranking>> = rules
        .iter()
        .map(|rule| {
            features_per_date
                .iter()
                .zip(&dates)
                .zip(&labels_per_date)
                .map(|((features, summary), labels)| {
                    let scores: Vec<f64> = features.iter().map(|f| rule.score(f, summary.epss_prior)).collect();
                    Ranking::new(&scores, labels)
                })
                .collect()
        })
        .collect();

    let unit_weights = vec![1u32; records.len()];
    let points: Vec<Vec<Pooled>> = rankings
        .iter()
        .map(|per_date| pooled(per_date, &unit_weights, &config.efforts))
        .collect();

    let mut samples: Vec<Vec<Vec<(f64, f64)>>> = vec![vec![Vec::new(); config.efforts.len()]; rules.len()];
    let mut rng = SplitMix64::new(config.seed);
    let mut weights = vec![0u32; records.len()];
    for _ in 0..config.resamples {
        weights.fill(0);
        for _ in 0..records.len() {
            weights[rng.below(records.len())] += 1;
        }
        for (rule_index, per_date) in rankings.iter().enumerate() {
            for (effort_index, result) in pooled(per_date, &weights, &config.efforts).iter().enumerate() {
                samples[rule_index][effort_index].push((result.coverage(), result.efficiency()));
            }
        }
    }

    let results = rules
        .iter()
        .enumerate()
        .map(|(rule_index, &rule)| RuleResult {
            rule,
            efforts: config
                .efforts
                .iter()
                .enumerate()
                .map(|(effort_index, &effort)| {
                    let point = points[rule_index][effort_index];
                    let drawn = &samples[rule_index][effort_index];
                    EffortResult {
                        effort,
                        coverage: estimate(point.coverage(), drawn.iter().map(|s| s.0).collect()),
                        efficiency: estimate(point.efficiency(), drawn.iter().map(|s| s.1).collect()),
                    }
                })
                .collect(),
        })
        .collect();

    Report {
        population: records.len(),
        dates,
        rules: results,
    }
}

/// Returns the expected number of labelled CVEs among the top `effort` share
/// of a ranking, with fractional selection of the tie group at the cut (see
/// the module docs). Every CVE counts once.
pub fn hits_at_effort(scores: &[f64], labels: &[bool], effort: f64) -> f64 {
    let ranking = Ranking::new(scores, labels);
    let weights = vec![1u32; scores.len()];
    ranking.select(&weights, &[effort])[0].hits
}

/// One rule's order at one date: CVE indices by descending score, cut into
/// tie groups.
struct Ranking {
    order: Vec<u32>,
    /// End (exclusive) of each tie group in `order`.
    group_ends: Vec<usize>,
    labels: Vec<bool>,
}

/// Sums of one rule at one effort, over one or more dates.
#[derive(Debug, Clone, Copy, Default)]
struct Pooled {
    hits: f64,
    selected: f64,
    labels: f64,
}

impl Pooled {
    fn coverage(&self) -> f64 {
        if self.labels > 0.0 {
            self.hits / self.labels
        } else {
            0.0
        }
    }

    fn efficiency(&self) -> f64 {
        if self.selected > 0.0 {
            self.hits / self.selected
        } else {
            0.0
        }
    }
}

impl Ranking {
    fn new(scores: &[f64], labels: &[bool]) -> Ranking {
        assert_eq!(scores.len(), labels.len(), "one label per score");
        let mut order: Vec<u32> = (0..scores.len() as u32).collect();
        order.sort_by(|&a, &b| scores[b as usize].total_cmp(&scores[a as usize]));
        let mut group_ends = Vec::new();
        for position in 1..=order.len() {
            let at_end = position == order.len();
            if at_end || scores[order[position] as usize] != scores[order[position - 1] as usize] {
                group_ends.push(position);
            }
        }
        Ranking {
            order,
            group_ends,
            labels: labels.to_vec(),
        }
    }

    /// Returns the sums at each effort, with each CVE counted `weights[i]` times.
    fn select(&self, weights: &[u32], efforts: &[f64]) -> Vec<Pooled> {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let total_labels: u64 = weights
            .iter()
            .zip(&self.labels)
            .filter(|(_, label)| **label)
            .map(|(&w, _)| u64::from(w))
            .sum();
        efforts
            .iter()
            .map(|&effort| {
                let budget = effort.clamp(0.0, 1.0) * total as f64;
                Pooled {
                    hits: self.hits_within(weights, budget, total, total_labels),
                    selected: budget,
                    labels: total_labels as f64,
                }
            })
            .collect()
    }

    fn hits_within(&self, weights: &[u32], budget: f64, total: u64, total_labels: u64) -> f64 {
        let mut taken = 0u64;
        let mut hits = 0u64;
        let mut start = 0;
        for (group, &end) in self.group_ends.iter().enumerate() {
            if taken as f64 >= budget {
                break;
            }
            // The last group holds whatever the earlier groups left, so a
            // large tie group at the bottom costs no walk.
            let (size, positives) = if group + 1 == self.group_ends.len() {
                (total - taken, total_labels - hits)
            } else {
                self.order[start..end]
                    .iter()
                    .fold((0u64, 0u64), |(size, positives), &index| {
                        let weight = u64::from(weights[index as usize]);
                        let label = if self.labels[index as usize] { weight } else { 0 };
                        (size + weight, positives + label)
                    })
            };
            if (taken + size) as f64 <= budget {
                taken += size;
                hits += positives;
            } else {
                let fraction = (budget - taken as f64) / size as f64;
                return hits as f64 + fraction * positives as f64;
            }
            start = end;
        }
        hits as f64
    }
}

fn pooled(per_date: &[Ranking], weights: &[u32], efforts: &[f64]) -> Vec<Pooled> {
    let mut sums = vec![Pooled::default(); efforts.len()];
    for ranking in per_date {
        for (sum, one) in sums.iter_mut().zip(ranking.select(weights, efforts)) {
            sum.hits += one.hits;
            sum.selected += one.selected;
            sum.labels += one.labels;
        }
    }
    sums
}

fn estimate(value: f64, mut drawn: Vec<f64>) -> Estimate {
    if drawn.is_empty() {
        return Estimate {
            value,
            low: value,
            high: value,
        };
    }
    drawn.sort_by(f64::total_cmp);
    Estimate {
        value,
        low: nearest_rank(&drawn, 0.025),
        high: nearest_rank(&drawn, 0.975),
    }
}

/// Returns the `quantile` of sorted values by the nearest-rank method.
fn nearest_rank(sorted: &[f64], quantile: f64) -> f64 {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a small seeded generator, so
/// that the same seed gives the same bootstrap on every platform.
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound` by the multiply-high method, whose
    /// bias is below `bound / 2^64`.
    pub fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}
