//! `ctem paths`: the attack paths from the internet to the crown jewels.

use anyhow::{Result, bail};
use ctem_engine::analyze_paths;
use ctem_engine::config::Config;
use ctem_engine::paths::{BlastRadiusView, ChokeKind, CrownJewelView, FixView, PathView, PathsView, WhatIf, to_dot};
use ctem_engine::report::{attack_path_sentence, probability_percent};

use crate::EXIT_FILE_FAILED;
use crate::cli::{PathsArgs, PathsFormat};
use crate::commands::{TerminalProgress, offline_request, print_problems, wide_table, write_output};
use crate::output::table_cell;

pub fn paths_command(args: PathsArgs) -> Result<u8> {
    let request = offline_request(&args.inputs)?;
    let progress = TerminalProgress::new();
    let outcome = analyze_paths(&request, &progress, usize::from(args.k));
    progress.finish();
    let outcome = outcome?;

    print_problems(
        outcome.failures(),
        &outcome.vex.warnings,
        &outcome.intel,
        "attack step probabilities use no exploitation evidence",
    );

    let what_if = match (&outcome.attack_paths, args.fixes.is_empty()) {
        (_, true) => None,
        (None, false) => bail!("--fix has nothing to apply: {}", no_crown_jewel(&request.config)),
        (Some(paths), false) => match paths.what_if(&args.fixes, usize::from(args.k)) {
            Ok(what_if) => Some(what_if),
            Err(message) => bail!("{message}"),
        },
    };
    let analyzed = what_if
        .as_ref()
        .map(|what_if| &what_if.after)
        .or(outcome.attack_paths.as_ref());

    if let Some(name) = &args.from {
        let Some(paths) = analyzed else {
            bail!(
                "--from has no attack graph to search: {}",
                no_crown_jewel(&request.config)
            );
        };
        let radius = match paths.blast_radius(name) {
            Ok(radius) => radius,
            Err(message) => bail!("{message}"),
        };
        let rendered = match args.format {
            PathsFormat::Json => serde_json::to_string_pretty(&radius)? + "\n",
            PathsFormat::Table => blast_radius_table(&radius),
            PathsFormat::Dot | PathsFormat::Opengraph => {
                bail!("--from writes a table or JSON; use --format table or --format json")
            }
        };
        write_output(args.output.as_deref(), &rendered)?;
        let failed = outcome.failures().count() > 0;
        return Ok(if failed { EXIT_FILE_FAILED } else { 0 });
    }

    let view = match (analyzed, &args.to) {
        (None, Some(name)) => {
            bail!("unknown crown jewel {name:?}: {}", no_crown_jewel(&request.config))
        }
        (None, None) => None,
        (Some(paths), Some(name)) => {
            let selected = match paths.select(name) {
                Ok(selected) => selected,
                Err(message) => bail!("{message}"),
            };
            Some(paths.view(Some(&selected)))
        }
        (Some(paths), None) => Some(paths.view(None)),
    };

    let rendered = match args.format {
        PathsFormat::Table => {
            let header = match (&what_if, &outcome.attack_paths) {
                (Some(what_if), Some(before)) => what_if_header(what_if, &before.view(None)),
                _ => String::new(),
            };
            header + &paths_table(view.as_ref(), &request.config)
        }
        PathsFormat::Json => paths_json(view.as_ref(), what_if.as_ref())?,
        PathsFormat::Dot => to_dot(view.as_ref().unwrap_or(&PathsView::default())),
        PathsFormat::Opengraph => match analyzed {
            Some(paths) => paths.opengraph_json()? + "\n",
            None => {
                // The graph is derived only for crown jewels: with none,
                // the export is an empty graph, as the JSON and DOT outputs
                // are empty.
                eprintln!("note: empty attack graph: {}", no_crown_jewel(&request.config));
                serde_json::json!({"metadata": {"source_kind": "CTEM"}, "graph": {"nodes": [], "edges": []}})
                    .to_string()
                    + "\n"
            }
        },
    };
    write_output(args.output.as_deref(), &rendered)?;

    let failed = outcome.failures().count() > 0;
    Ok(if failed { EXIT_FILE_FAILED } else { 0 })
}

/// The number of reached assets that `ctem paths --from` lists by name;
/// the JSON output lists them all.
const SHOWN_ASSETS: usize = 20;

fn blast_radius_table(radius: &BlastRadiusView) -> String {
    let mut text = format!(
        "An attacker who holds {} ({}: {}) reaches {} other asset(s) ({} capabilities in all).\n",
        table_cell(&radius.name),
        table_cell(&radius.asset),
        radius.capabilities.join(", ").replace('_', " "),
        radius.assets.len(),
        radius.nodes
    );
    if radius.crown_jewels.is_empty() {
        text.push_str("No crown jewel is among them.\n");
    } else {
        text.push_str("Crown jewels among them:\n");
        for jewel in &radius.crown_jewels {
            let configured = jewel.crown_jewel.as_deref().unwrap_or(&jewel.name);
            text.push_str(&format!(
                "  - {} ({})\n",
                table_cell(configured),
                table_cell(&jewel.asset)
            ));
        }
    }
    if !radius.assets.is_empty() {
        text.push_str("Assets reached:\n");
        for asset in radius.assets.iter().take(SHOWN_ASSETS) {
            text.push_str(&format!("  - {}\n", table_cell(asset)));
        }
        if radius.assets.len() > SHOWN_ASSETS {
            text.push_str(&format!(
                "  and {} more (--format json lists them all)\n",
                radius.assets.len() - SHOWN_ASSETS
            ));
        }
    }
    text
}

/// The lines above the table of `ctem paths --fix`: the fixes applied and
/// what the internet reached before them. The table below shows what it
/// reaches after.
fn what_if_header(what_if: &WhatIf, before: &PathsView) -> String {
    let mut text = format!("What if these {} fix(es) were applied:\n", what_if.applied.len());
    for fix in &what_if.applied {
        text.push_str(&format!("  - {}\n", table_cell(&fix.describe())));
    }
    text.push_str(&format!(
        "Before them: {}\nAfter them:\n\n",
        attack_path_sentence(before)
    ));
    text
}

/// The JSON document of docs/json-output.md, section "Attack paths". With
/// no crown jewel, `graph` and `exposure` are null.
fn paths_json(view: Option<&PathsView>, what_if: Option<&WhatIf>) -> Result<String> {
    let mut document = match view {
        Some(view) => serde_json::to_value(view)?,
        None => serde_json::json!({"graph": null, "exposure": null, "crown_jewels": []}),
    };
    if let Some(what_if) = what_if {
        document["what_if"] = serde_json::json!({
            "applied": what_if.applied,
            "reachable_crown_jewels_before": what_if.reachable_before,
        });
    }
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

/// Why there is no attack graph: no crown jewel configured, or configured
/// crown jewels that match no asset of the inputs.
fn no_crown_jewel(config: &Config) -> String {
    if config.crown_jewels.is_empty() {
        return "no asset is a crown jewel; name the crown jewels in ctem.toml ([[crown_jewels]])".to_string();
    }
    let names: Vec<String> = config
        .crown_jewels
        .iter()
        .map(|jewel| format!("{:?}", jewel.name))
        .collect();
    format!(
        "the crown jewels of the configuration ({}) match no asset of the inputs; check their match rules",
        names.join(", ")
    )
}

fn paths_table(view: Option<&PathsView>, config: &Config) -> String {
    let Some(view) = view else {
        let mut reason = no_crown_jewel(config);
        reason[..1].make_ascii_uppercase();
        return format!("There is no attack path to show: {reason}.\n");
    };
    let mut text = format!(
        "Attack graph: {} nodes, {} edges. {}\n",
        view.graph.nodes,
        view.graph.edges,
        attack_path_sentence(view)
    );
    for jewel in &view.crown_jewels {
        text.push('\n');
        text.push_str(&jewel_text(jewel));
    }
    text
}

fn jewel_text(jewel: &CrownJewelView) -> String {
    let mut text = format!(
        "== {} ({}) ==\n",
        table_cell(jewel.display_name()),
        table_cell(&jewel.asset)
    );
    let Some(best) = &jewel.most_likely_path else {
        text.push_str("Reachable from the internet: no.\n");
        return text;
    };
    text.push_str(&format!(
        "Reachable from the internet: yes. Most likely path: probability {}, {} step(s).\n",
        probability(best.probability),
        best.steps.len()
    ));
    text.push_str(&steps_table(best));

    if jewel.paths.len() > 1 {
        text.push_str(&format!("The {} most likely paths:\n", jewel.paths.len()));
        for (index, path) in jewel.paths.iter().enumerate() {
            text.push_str(&format!(
                "  {}. probability {}: {}\n",
                index + 1,
                probability(path.probability),
                path_line(path)
            ));
        }
    }

    if jewel.choke_points.is_empty() {
        text.push_str("Choke points: none.\n");
    } else {
        text.push_str("Choke points:\n");
        for point in &jewel.choke_points {
            let why = match point.kind {
                ChokeKind::Dominator => "every path passes it".to_string(),
                ChokeKind::Frequent { paths, of } => format!("{paths} of the {of} most likely paths pass it"),
            };
            text.push_str(&format!("  - {} ({why})\n", table_cell(&point.node.label())));
        }
    }

    if let Some(set) = &jewel.fix_set
        && let Some(uncut) = &set.uncut_path
    {
        text.push_str("No set of fixes cuts every path: no known fix removes this one:\n");
        text.push_str(&format!("  {}\n", path_line(uncut)));
    } else if let Some(set) = &jewel.fix_set {
        let bound = if set.exact {
            "the fewest possible"
        } else {
            "not proven the fewest"
        };
        text.push_str(&format!(
            "Minimal fix set: {} fix(es), cost {} ({bound}, {}):\n",
            set.fixes.len(),
            set.cost.unwrap_or(f64::INFINITY),
            set.method
        ));
        for fix in &set.fixes {
            text.push_str(&format!("  - {}\n", table_cell(&fix.describe())));
        }
    }
    text
}

/// The steps of a path as a table: what the attacker holds before and
/// after each step, how, and what enables it.
fn steps_table(path: &PathView) -> String {
    let mut table = wide_table();
    table.set_header(vec![
        "#",
        "From",
        "To",
        "Step",
        "Technique",
        "Probability",
        "Enabled by",
    ]);
    for (index, step) in path.steps.iter().enumerate() {
        let enabled_by: Vec<String> = step.enabled_by.iter().map(|fix| fix.describe()).collect();
        let row = [
            (index + 1).to_string(),
            step.from.label(),
            step.to.label(),
            step.kind.to_string(),
            step.technique.unwrap_or("-").to_string(),
            format!("{:.2}", step.probability),
            enabled_by.join("\n"),
        ];
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }
    table.to_string() + "\n"
}

/// The nodes of a path joined by arrows.
/// The nodes of a path in one line. Each label is cut on its own, so a
/// long path still shows where it ends.
fn path_line(path: &PathView) -> String {
    let mut line = String::new();
    if let Some(first) = path.steps.first() {
        line.push_str(&table_cell(&first.from.label()));
    }
    for step in &path.steps {
        // An exploit names its finding, so that paths through one asset
        // by two flaws read apart.
        match step.enabled_by.first() {
            Some(FixView::Finding {
                rule_id: Some(rule_id), ..
            }) if step.enabled_by.len() == 1 => {
                line.push_str(&format!(" -[{}]-> ", table_cell(rule_id)));
            }
            _ => line.push_str(" -> "),
        }
        line.push_str(&table_cell(&step.to.label()));
    }
    line
}

/// A probability with four decimals and as a percent: `0.4200 (42%)`.
fn probability(value: f64) -> String {
    format!("{value:.4} ({})", probability_percent(value))
}
