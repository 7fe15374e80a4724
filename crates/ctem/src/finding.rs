//! `ctem finding`: one stored finding with its score, its sources (the
//! reports of it) and its full history.

use anyhow::{Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{Cell, ColumnConstraint, Table};
use ctem_engine::json::StoredFindingJson;
use ctem_engine::owners::Ownership;
use ctem_engine::report::{explanation, reasons};
use ctem_model::{Fingerprint, LifecycleStatus, Validation};
use ctem_store::{HistoryEntry, SourceEntry, StoredFinding};
use serde::Serialize;

use crate::cli::{FindingArgs, OutputFormat};
use crate::commands::{
    deadline_cell, expire_acceptances_before_reading, load_config, open_existing_store, owner_resolver, wide_table,
};
use crate::output::table_cell;
use crate::triage::check_fingerprint;

/// How many score factors the table and the JSON `reasons` name.
const SHOWN_REASONS: usize = 4;

pub fn finding_command(args: FindingArgs) -> Result<u8> {
    let named = check_fingerprint(&args.fingerprint, "FINGERPRINT".to_string())?;
    let (config, config_path) = load_config(args.config.as_deref(), &[])?;
    let owners = owner_resolver(&config, config_path.as_deref())?;
    let mut store = open_existing_store(&args.db.db)?;
    expire_acceptances_before_reading(&mut store);

    let Some(stored) = store.finding(&named.fingerprint)? else {
        bail!(
            "FINGERPRINT: no finding has the fingerprint {}; `ctem findings --all` lists the findings",
            named.fingerprint
        );
    };
    let sources = store.finding_sources(&named.fingerprint)?;
    let history = store.finding_history(&named.fingerprint)?;
    let asset = store
        .assets()?
        .into_iter()
        .find(|asset| asset.key == stored.finding.asset);
    let owner = owners.finding_owner(&stored.finding, asset.as_ref());

    match args.format {
        OutputFormat::Json => {
            let document = FindingJson {
                finding: StoredFindingJson::new(&stored).with_owner(owner),
                reasons: stored
                    .risk
                    .as_ref()
                    .map(|risk| reasons(risk, SHOWN_REASONS))
                    .unwrap_or_default(),
                sources: sources.iter().map(SourceJson::new).collect(),
                history: history.iter().map(HistoryJson::new).collect(),
            };
            outln!("{}", serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Table => {
            let criticality = asset.as_ref().and_then(|asset| asset.criticality);
            let deadline = deadline_cell(&stored, criticality, &config.sla.policy());
            outln!("{}\n", summary_table(&stored, owner.as_ref(), deadline));
            outln!("Sources\n{}\n", sources_table(&sources));
            outln!("History\n{}", history_table(&history));
        }
    }
    Ok(0)
}

/// The document that `ctem finding --format json` prints: the fields of
/// `ctem findings`, then the reasons, the sources and the history.
#[derive(Debug, Serialize)]
struct FindingJson<'a> {
    #[serde(flatten)]
    finding: StoredFindingJson<'a>,
    reasons: String,
    sources: Vec<SourceJson<'a>>,
    history: Vec<HistoryJson<'a>>,
}

#[derive(Debug, Serialize)]
struct SourceJson<'a> {
    fingerprint: &'a Fingerprint,
    tool: &'a str,
    target: &'a str,
    active: bool,
    first_seen: DateTime<Utc>,
    merged_by: &'a str,
    basis: Option<&'a str>,
}

impl<'a> SourceJson<'a> {
    fn new(source: &'a SourceEntry) -> SourceJson<'a> {
        SourceJson {
            fingerprint: &source.fingerprint,
            tool: &source.tool,
            target: &source.target,
            active: source.active,
            first_seen: source.first_seen,
            merged_by: &source.merged_by,
            basis: source.basis.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct HistoryJson<'a> {
    at: DateTime<Utc>,
    run_id: Option<i64>,
    status: LifecycleStatus,
    cause: &'static str,
    reason: Option<&'a str>,
    actor: Option<&'a str>,
    approver: Option<&'a str>,
    expires_at: Option<DateTime<Utc>>,
    validation: Option<Validation>,
}

impl<'a> HistoryJson<'a> {
    fn new(entry: &'a HistoryEntry) -> HistoryJson<'a> {
        HistoryJson {
            at: entry.at,
            run_id: entry.run_id,
            status: entry.status,
            cause: entry.cause.as_str(),
            reason: entry.reason.as_deref(),
            actor: entry.actor.as_deref(),
            approver: entry.approver.as_deref(),
            expires_at: entry.expires_at,
            validation: entry.validation,
        }
    }
}

/// Builds a table of the finding's fields, one a row. `deadline` is the
/// cell of the findings table ([`deadline_cell`]).
fn summary_table(stored: &StoredFinding, owner: Option<&Ownership>, deadline: String) -> Table {
    let finding = &stored.finding;
    let risk = stored.risk.as_ref();
    let tools = if stored.tools.is_empty() {
        finding.tool.clone()
    } else {
        stored.tools.join(", ")
    };
    let score = risk.map_or_else(|| "-".to_string(), |risk| format!("{:.1} ({})", risk.score, risk.tier));
    let rows = [
        ("Fingerprint", stored.fingerprint.to_string()),
        ("Title", finding.title.clone()),
        ("Rule", finding.rule_id.clone()),
        ("Severity", finding.severity.to_string()),
        ("Asset", finding.asset.to_string()),
        (
            "Owner",
            owner.map_or_else(|| "-".to_string(), |owner| format!("{} ({})", owner.team, owner.rule)),
        ),
        ("Status", stored.status.to_string()),
        ("Tools", tools),
        ("Validation", optional(stored.validation)),
        ("First seen", time(stored.first_seen)),
        ("Last seen", time(stored.last_seen)),
        ("Fixed", optional_time(stored.fixed_at)),
        ("Fix verified", optional_time(stored.verified_at)),
        ("Accepted until", optional_time(stored.accepted_until)),
        ("Score", score),
        ("Why", risk.map(explanation).unwrap_or_default()),
        ("Deadline", deadline),
    ];

    let mut table = wide_table();
    for (name, value) in rows {
        table.add_row([Cell::new(name), Cell::new(table_cell(&value))]);
    }
    table
}

fn sources_table(sources: &[SourceEntry]) -> Table {
    let mut table = wide_table();
    table.set_header([
        "Fingerprint",
        "Tool",
        "Target",
        "Active",
        "First seen",
        "Merged by",
        "Basis",
    ]);
    // A fingerprint is copied into `ctem triage`, so it must not wrap.
    if let Some(column) = table.column_mut(0) {
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    for source in sources {
        let row = [
            source.fingerprint.to_string(),
            source.tool.clone(),
            source.target.clone(),
            if source.active { "yes" } else { "no" }.to_string(),
            time(source.first_seen),
            source.merged_by.clone(),
            source.basis.clone().unwrap_or_default(),
        ];
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }
    table
}

fn history_table(history: &[HistoryEntry]) -> Table {
    let mut table = wide_table();
    table.set_header([
        "Time",
        "Run",
        "Status",
        "Cause",
        "Reason",
        "Actor",
        "Approver",
        "Expires",
        "Validation",
    ]);
    for entry in history {
        let row = [
            time(entry.at),
            optional(entry.run_id),
            entry.status.to_string(),
            entry.cause.as_str().to_string(),
            entry.reason.clone().unwrap_or_default(),
            entry.actor.clone().unwrap_or_default(),
            entry.approver.clone().unwrap_or_default(),
            entry.expires_at.map(time).unwrap_or_default(),
            entry.validation.map(|mark| mark.to_string()).unwrap_or_default(),
        ];
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }
    table
}

fn time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn optional_time(time_value: Option<DateTime<Utc>>) -> String {
    time_value.map_or_else(|| "-".to_string(), time)
}

fn optional(value: Option<impl ToString>) -> String {
    value.map_or_else(|| "-".to_string(), |value| value.to_string())
}
