//! Runs the evaluation over seeds and sizes and writes the Markdown
//! tables.

use std::fmt::Write;

use ctem_graph::generate::{GenerateOptions, generate};
use ctem_intel::IntelError;

use super::{Ordering, optimum, optimum_within_effort, prepare};
use crate::actions::CROWN_JEWEL_VALUE;

/// The estates, budgets and search limit of an evaluation run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Generator seeds; every seed is run at every size.
    pub seeds: Vec<u64>,
    /// Asset counts of the generated environments.
    pub sizes: Vec<usize>,
    /// The budgets k: how many actions each ordering may take.
    ///
    /// NOTE: a budget counts actions, while ctem ranks by risk removed per
    /// unit of effort, so the optimum may take costlier actions than ctem
    /// would. On estates of 5,000 assets that alone keeps ctem below 95% of
    /// the optimum at k = 1 and 3. [`Settings::effort_budgets`] measures
    /// what the ranking optimizes.
    pub budgets: Vec<usize>,
    /// Budgets in effort units ([`crate::actions::ActionKind::effort`]):
    /// each ordering takes its actions first to last, skipping those that
    /// no longer fit.
    pub effort_budgets: Vec<f64>,
    /// The maximum number of success evaluations of one exact search.
    /// Past it, the optimum of that estate and budget is reported unknown.
    pub search_limit: u64,
    /// The risk points per unit of attacker success that ctem's ranking
    /// gives an action.
    pub crown_jewel_value: f64,
}

impl Default for Settings {
    /// Returns the settings of the published tables: seeds 1 to 10 at 1,000 and
    /// 2,000 assets, k of 1, 3, 5 and 10, and searches of up to 200,000
    /// evaluations.
    fn default() -> Settings {
        Settings {
            seeds: (1..=10).collect(),
            sizes: vec![1_000, 2_000],
            budgets: vec![1, 3, 5, 10],
            effort_budgets: vec![2.0, 5.0, 10.0, 20.0],
            search_limit: 200_000,
            crown_jewel_value: CROWN_JEWEL_VALUE,
        }
    }
}

/// The results of one generated environment.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentResult {
    pub seed: u64,
    pub assets: usize,
    pub findings: usize,
    pub actions: usize,
    /// Actions that remove at least one edge on a path to a crown jewel.
    pub path_actions: usize,
    pub crown_jewels: usize,
    pub success_before: f64,
    /// For each ordering of [`Ordering::ALL`], the share removed at each
    /// budget of [`Settings::budgets`].
    pub shares: Vec<Vec<f64>>,
    /// For each ordering, the share of the findings' risk closed at each
    /// budget.
    pub risk_shares: Vec<Vec<f64>>,
    /// The optimum's share at each budget; `None` where the search hit
    /// its limit.
    pub optimum: Vec<Option<f64>>,
    /// For each ordering, the share removed within each budget of
    /// [`Settings::effort_budgets`].
    pub effort_shares: Vec<Vec<f64>>,
    /// For each ordering, the share of the findings' risk closed within
    /// each effort budget.
    pub effort_risk_shares: Vec<Vec<f64>>,
    /// The optimum's share within each effort budget; `None` where the
    /// search hit its limit.
    pub effort_optimum: Vec<Option<f64>>,
}

/// The results of every environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub settings: Settings,
    pub environments: Vec<EnvironmentResult>,
}

/// Generates each environment of `settings`, prepares it and measures
/// every ordering and the optimum at every budget. Environments without a
/// crown jewel, or whose crown jewels the internet does not reach, are
/// left out of the report because no action can lower their measure.
///
/// # Errors
///
/// An error of [`super::intel_of`].
pub fn run(settings: &Settings) -> Result<Report, IntelError> {
    let mut environments = Vec::new();
    for &assets in &settings.sizes {
        for &seed in &settings.seeds {
            let environment = generate(&GenerateOptions::new(seed, assets));
            let Some(prepared) = prepare(&environment, settings.crown_jewel_value)? else {
                continue;
            };
            let instance = &prepared.instance;
            let success_before = instance.success_before();
            if success_before <= 0.0 {
                continue;
            }

            let orders: Vec<Vec<usize>> = Ordering::ALL.iter().map(|&ordering| instance.order(ordering)).collect();
            let at_budgets = |share: &dyn Fn(&[usize], usize) -> f64| -> Vec<Vec<f64>> {
                orders
                    .iter()
                    .map(|order| settings.budgets.iter().map(|&k| share(order, k)).collect())
                    .collect()
            };
            let shares = at_budgets(&|order, k| instance.removed_share(order, k));
            let risk_shares = at_budgets(&|order, k| instance.risk_share(order, k));
            let share_of = |best: super::Optimum| (success_before - best.success) / success_before;
            let optimum = settings
                .budgets
                .iter()
                .map(|&k| optimum(instance, k, settings.search_limit).map(share_of))
                .collect();
            let within = |share: &dyn Fn(&[usize]) -> f64| -> Vec<Vec<f64>> {
                orders
                    .iter()
                    .map(|order| {
                        settings
                            .effort_budgets
                            .iter()
                            .map(|&budget| share(&instance.within_effort(order, budget)))
                            .collect()
                    })
                    .collect()
            };
            let effort_shares = within(&|picks| instance.share_removed_by(picks));
            let effort_risk_shares = within(&|picks| instance.risk_share_of(picks));
            let effort_optimum = settings
                .effort_budgets
                .iter()
                .map(|&budget| optimum_within_effort(instance, budget, settings.search_limit).map(share_of))
                .collect();
            environments.push(EnvironmentResult {
                seed,
                assets: environment.assets.len(),
                findings: prepared.findings,
                actions: instance.candidates.len(),
                path_actions: (0..instance.candidates.len())
                    .filter(|&index| !instance.edges_of(index).is_empty())
                    .count(),
                crown_jewels: prepared.crown_jewels,
                success_before,
                shares,
                risk_shares,
                optimum,
                effort_shares,
                effort_risk_shares,
                effort_optimum,
            });
        }
    }
    Ok(Report {
        settings: settings.clone(),
        environments,
    })
}

/// Writes the report as three Markdown tables: the environments, the mean
/// share that each ordering removes, and ctem against the optimum where
/// it is known.
pub fn markdown(report: &Report) -> String {
    let mut text = String::new();
    let budgets = &report.settings.budgets;
    let environments = &report.environments;

    writeln!(
        text,
        "ctem ranks with a crown jewel value of {} risk points per unit of attacker success.\n",
        report.settings.crown_jewel_value
    )
    .expect("writing to a String cannot fail");

    text.push_str("| seed | assets | findings | actions | actions on a path | crown jewels | success before |\n");
    text.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for result in environments {
        writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} | {:.3} |",
            result.seed,
            result.assets,
            result.findings,
            result.actions,
            result.path_actions,
            result.crown_jewels,
            result.success_before
        )
        .expect("writing to a String cannot fail");
    }
    text.push('\n');

    let counts: Vec<String> = budgets.iter().map(|k| format!("k = {k}")).collect();
    text.push_str("Mean share of the success measure removed by the first k actions:\n\n");
    success_table(&mut text, &counts, environments, |result| &result.shares);
    text.push_str("Mean share of the findings' risk (the sum of their scores) closed by the first k actions:\n\n");
    mean_table(&mut text, &counts, environments, |result| &result.risk_shares);
    text.push('\n');
    text.push_str("ctem against the exact optimum, over the environments where the search finished:\n\n");
    let rows: Vec<String> = budgets.iter().map(usize::to_string).collect();
    optimum_table(&mut text, "k", &rows, environments, |result| {
        (&result.shares[0], &result.optimum)
    });

    let efforts = &report.settings.effort_budgets;
    if efforts.is_empty() {
        return text;
    }
    let units: Vec<String> = efforts.iter().map(|units| format!("{units} units")).collect();
    text.push_str(
        "\nWithin a budget of effort units, each ordering taking its actions first to last \
         and skipping those that no longer fit:\n\n",
    );
    success_table(&mut text, &units, environments, |result| &result.effort_shares);
    text.push_str("Mean share of the findings' risk closed within the effort budget:\n\n");
    mean_table(&mut text, &units, environments, |result| &result.effort_risk_shares);
    text.push('\n');
    text.push_str(
        "ctem against the exact optimum within the effort budget, over the environments where the search finished:\n\n",
    );
    let rows: Vec<String> = efforts.iter().map(f64::to_string).collect();
    optimum_table(&mut text, "effort units", &rows, environments, |result| {
        (&result.effort_shares[0], &result.effort_optimum)
    });
    text
}

/// Writes the mean share of the success measure that each ordering
/// removes, then the ratio of ctem to CVSS first.
fn success_table(
    text: &mut String,
    columns: &[String],
    environments: &[EnvironmentResult],
    shares: impl Fn(&EnvironmentResult) -> &Vec<Vec<f64>>,
) {
    let means = mean_table(text, columns, environments, shares);
    text.push_str("| ctem / CVSS first |");
    let cvss_first = Ordering::ALL
        .iter()
        .position(|&ordering| ordering == Ordering::CvssFirst)
        .expect("ALL lists every ordering");
    for (ctem, cvss) in means[0].iter().zip(&means[cvss_first]) {
        let cell = if *cvss > 0.0 {
            format!("{:.2}x", ctem / cvss)
        } else {
            "-".to_string()
        };
        write!(text, " {cell} |").expect("writing to a String cannot fail");
    }
    text.push_str("\n\n");
}

/// Writes ctem's mean share against the optimum's, one row per budget,
/// over the environments whose search finished at that budget.
/// `pair` gives an environment's shares of ctem and of the optimum.
fn optimum_table(
    text: &mut String,
    header: &str,
    rows: &[String],
    environments: &[EnvironmentResult],
    pair: impl Fn(&EnvironmentResult) -> (&Vec<f64>, &Vec<Option<f64>>),
) {
    writeln!(
        text,
        "| {header} | solved | ctem | optimum | ctem / optimum | lowest ctem / optimum |"
    )
    .expect("writing to a String cannot fail");
    text.push_str("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (budget, row) in rows.iter().enumerate() {
        let solved: Vec<(f64, f64)> = environments
            .iter()
            .filter_map(|result| {
                let (ctem, best) = pair(result);
                Some((ctem[budget], best[budget]?))
            })
            .collect();
        let ctem = mean(solved.iter().map(|(ctem, _)| *ctem));
        let best = mean(solved.iter().map(|(_, best)| *best));
        let lowest = solved
            .iter()
            .map(|(ctem, best)| if *best > 0.0 { ctem / best } else { 1.0 })
            .fold(f64::INFINITY, f64::min);
        writeln!(
            text,
            "| {row} | {} of {} | {:.1}% | {:.1}% | {} | {} |",
            solved.len(),
            environments.len(),
            100.0 * ctem,
            100.0 * best,
            ratio(ctem, best),
            if solved.is_empty() {
                "-".to_string()
            } else {
                format!("{:.0}%", 100.0 * lowest)
            }
        )
        .expect("writing to a String cannot fail");
    }
}

/// Writes the mean of one share per ordering and budget as a table, and
/// returns the means.
fn mean_table(
    text: &mut String,
    columns: &[String],
    environments: &[EnvironmentResult],
    shares: impl Fn(&EnvironmentResult) -> &Vec<Vec<f64>>,
) -> Vec<Vec<f64>> {
    text.push_str("| ordering |");
    for column in columns {
        write!(text, " {column} |").expect("writing to a String cannot fail");
    }
    text.push_str("\n| --- |");
    text.push_str(&" ---: |".repeat(columns.len()));
    text.push('\n');
    let means: Vec<Vec<f64>> = (0..Ordering::ALL.len())
        .map(|ordering| {
            (0..columns.len())
                .map(|budget| mean(environments.iter().map(|result| shares(result)[ordering][budget])))
                .collect()
        })
        .collect();
    for (ordering, row) in Ordering::ALL.iter().zip(&means) {
        write!(text, "| {} |", ordering.name()).expect("writing to a String cannot fail");
        for share in row {
            write!(text, " {:.1}% |", 100.0 * share).expect("writing to a String cannot fail");
        }
        text.push('\n');
    }
    means
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| (sum + value, count + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Formats `a / b` as a percentage, or a dash when `b` is 0.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.1}%", 100.0 * a / b)
    } else {
        "-".to_string()
    }
}
