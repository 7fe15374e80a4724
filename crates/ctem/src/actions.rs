//! `ctem actions`: the remediation actions of the inputs, ranked by the
//! risk each removes per unit of effort.

use anyhow::Result;
use ctem_engine::actions::{Action, rank_with_value};
use ctem_engine::analyze_paths;
use ctem_engine::config::config_folder;
use ctem_engine::owners::{OwnerResolver, assign_owners};
use ctem_engine::paths::DEFAULT_PATH_COUNT;
use serde::Serialize;

use crate::EXIT_FILE_FAILED;
use crate::cli::{ActionsArgs, ActionsFormat};
use crate::commands::{TerminalProgress, offline_request, print_problems, wide_table, write_output};
use crate::output::{table_cell, terminal_text};

pub fn actions_command(args: ActionsArgs) -> Result<u8> {
    let request = offline_request(&args.inputs)?;
    let resolver = OwnerResolver::new(&request.config, config_folder(request.config_path.as_deref()))?;
    let progress = TerminalProgress::new();
    let outcome = analyze_paths(&request, &progress, DEFAULT_PATH_COUNT);
    progress.finish();
    let outcome = outcome?;

    print_problems(
        outcome.failures(),
        &outcome.vex.warnings,
        &outcome.intel,
        "finding scores use no exploitation evidence",
    );

    let mut actions = rank_with_value(
        &outcome.findings,
        &outcome.assets,
        outcome.attack_paths.as_ref(),
        request.config.prioritization.crown_jewel_value(),
    );
    assign_owners(&mut actions, &outcome.findings, &outcome.assets, &resolver);
    let total = actions.len();
    if args.top > 0 {
        actions.truncate(args.top);
    }

    let rendered = match args.format {
        ActionsFormat::Json => {
            let output = ActionsOutput {
                total,
                shown: actions.len(),
                actions: &actions,
            };
            serde_json::to_string_pretty(&output)? + "\n"
        }
        ActionsFormat::Table => actions_table(&actions, total),
    };
    write_output(args.output.as_deref(), &rendered)?;

    let failed = outcome.failures().count() > 0;
    Ok(if failed { EXIT_FILE_FAILED } else { 0 })
}

/// The JSON document of `ctem actions --format json`.
#[derive(Serialize)]
struct ActionsOutput<'a> {
    /// The number of actions before `--top`.
    total: usize,
    shown: usize,
    actions: &'a [Action],
}

fn actions_table(actions: &[Action], total: usize) -> String {
    if actions.is_empty() {
        return "No open finding and no attack path fix: nothing to do.\n".to_string();
    }
    let mut table = wide_table();
    table.set_header(vec![
        "#", "Action", "Findings", "Assets", "Owner", "Risk", "Effort", "Priority",
    ]);
    for action in actions {
        let row = [
            action.rank.to_string(),
            action.summary.clone(),
            action.findings.len().to_string(),
            action.assets.len().to_string(),
            action
                .owner
                .as_ref()
                .map_or_else(|| "-".to_string(), |owner| owner.team.clone()),
            format!("{:.1}", action.risk_removed),
            format!("{:.1}", action.effort),
            format!("{:.1}", action.priority),
        ];
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }

    let mut text = format!(
        "{} of {total} remediation action(s), highest priority first.\n",
        actions.len()
    );
    text.push_str(&table.to_string());
    text.push('\n');
    for action in actions {
        text.push_str(&format!("{}. {}", action.rank, terminal_text(&action.explanation)));
        match &action.owner {
            Some(owner) => text.push_str(&format!(
                " Owner: {}, chosen by {}.\n",
                terminal_text(&owner.team),
                terminal_text(&owner.rule)
            )),
            None => text.push_str(" Owner: none; no owner rule matches.\n"),
        }
    }
    text
}
