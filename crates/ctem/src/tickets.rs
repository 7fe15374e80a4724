//! `ctem tickets sync` and `ctem tickets status`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use ctem_engine::config::config_folder;
use ctem_engine::owners::OwnerResolver;
use ctem_engine::tickets::work_items;
use ctem_mobilize::config::TicketsConfig;
use ctem_mobilize::github::GitHubTracker;
use ctem_mobilize::gitlab::GitLabTracker;
use ctem_mobilize::jira::JiraTracker;
use ctem_mobilize::notify::{CHANNEL_PREFIX, HttpNotifier, Notifier, NotifyReport, events_of, notify};
use ctem_mobilize::sync::{ChangeKind, SyncOptions, SyncReport, finding_states, preview, sync};
use ctem_mobilize::tracker::{Tracker, TrackerError};
use ctem_model::{Fingerprint, LifecycleStatus};
use ctem_store::{Store, TicketRecord};
use serde_json::json;

use crate::EXIT_FILE_FAILED;
use crate::cli::{OutputFormat, TicketsCommand, TicketsStatusArgs, TicketsSyncArgs};
use crate::commands::{load_config, open_existing_store, wide_table, write_output};
use crate::output::table_cell;

pub fn run(command: TicketsCommand) -> Result<u8> {
    match command {
        TicketsCommand::Sync(args) => sync_command(args),
        TicketsCommand::Status(args) => status_command(args),
    }
}

fn sync_command(args: TicketsSyncArgs) -> Result<u8> {
    let (config, config_path) = load_config(args.config.as_deref(), &[])?;
    let Some(config_path) = config_path else {
        bail!(
            "no configuration found: pass --config or run in the folder of ctem.toml; ticket sync needs its [tickets] table"
        );
    };
    let tickets = config.tickets.clone().with_context(|| {
        format!(
            "{}: no [tickets] table; docs/tickets.md shows how to configure a tracker",
            config_path.display()
        )
    })?;
    let config_dir = config_folder(Some(&config_path));
    let resolver = OwnerResolver::new(&config, config_dir)?;
    let mut store = open_existing_store(&args.db.db)?;
    if store.latest_run()?.is_none() {
        bail!(
            "{}: no run recorded yet; run `ctem assess` with this --db first",
            args.db.db.display()
        );
    }

    let items = work_items(&store, &config, &tickets, &resolver)?;
    let states = finding_states(&store)?;
    let report = if args.dry_run {
        // Reading the credentials sends nothing, and reports now the missing
        // credential that would stop the real sync.
        if let Err(error) = connect(&tickets, config_dir) {
            eprintln!("warning: a sync without --dry-run would stop: {error}");
        }
        preview(&store, &tickets.tracker, &tickets, &items, &states)?
    } else {
        let tracker = connect(&tickets, config_dir)?;
        let options = SyncOptions {
            dry_run: false,
            now: Utc::now(),
        };
        sync(&mut store, tracker.as_ref(), &tickets, &items, &states, options)?
    };
    let notified = if args.dry_run || tickets.notify.is_empty() {
        None
    } else {
        Some(send_notifications(&mut store, &tickets, &items, config_dir)?)
    };

    let rendered = match args.format {
        OutputFormat::Table => report_table(&report, args.dry_run),
        OutputFormat::Json => report_json(&report, args.dry_run)?,
    };
    write_output(None, &rendered)?;
    if let Some(notified) = &notified {
        for (notifier, key, error) in &notified.failed {
            eprintln!("notification {key} to {notifier} failed: {error}");
        }
        eprintln!(
            "Notifications: {} sent, {} already sent, {} failed.",
            notified.sent.len(),
            notified.skipped,
            notified.failed.len()
        );
    }
    let notify_failed = notified.is_some_and(|notified| !notified.failed.is_empty());
    Ok(if report.count(ChangeKind::Fail) > 0 || notify_failed {
        EXIT_FILE_FAILED
    } else {
        0
    })
}

/// Sends the events of this sync to every configured notifier, once each.
fn send_notifications(
    store: &mut ctem_store::Store,
    tickets: &ctem_mobilize::config::TicketsConfig,
    items: &[ctem_mobilize::sync::WorkItem],
    config_dir: &Path,
) -> Result<NotifyReport> {
    let env = |name: &str| std::env::var(name).ok();
    let mut notifiers = Vec::new();
    for notifier in &tickets.notify {
        notifiers.push(HttpNotifier::new(notifier, config_dir, &env)?);
    }
    let notifiers: Vec<&dyn Notifier> = notifiers.iter().map(|notifier| notifier as &dyn Notifier).collect();
    let now = Utc::now();
    Ok(notify(store, &notifiers, &events_of(items, now), now)?)
}

/// Builds the configured tracker's connector, which reads its credentials
/// and sends no request.
fn connect(tickets: &TicketsConfig, config_dir: &Path) -> Result<Box<dyn Tracker>, TrackerError> {
    let env = |name: &str| std::env::var(name).ok();
    Ok(match tickets.tracker.as_str() {
        "github" => {
            let github = tickets.github.as_ref().expect("validated with the configuration");
            Box::new(GitHubTracker::new(&tickets.tracker, github, config_dir, &env)?)
        }
        "gitlab" => {
            let gitlab = tickets.gitlab.as_ref().expect("validated with the configuration");
            Box::new(GitLabTracker::new(&tickets.tracker, gitlab, config_dir, &env)?)
        }
        _ => {
            let jira = tickets.jira.as_ref().expect("validated with the configuration");
            Box::new(JiraTracker::new(&tickets.tracker, jira, config_dir, &env)?)
        }
    })
}

fn report_table(report: &SyncReport, dry_run: bool) -> String {
    let mut text = String::new();
    if dry_run {
        text.push_str("Dry run: nothing was sent to the tracker or written to the database.\n");
    }
    if !report.changes.is_empty() {
        let mut table = wide_table();
        table.set_header(vec!["Change", "Subject", "Ticket", "Detail"]);
        for change in &report.changes {
            let row = [
                change.kind.as_str().to_string(),
                change.subject.clone(),
                change.ticket.clone().unwrap_or_else(|| "-".to_string()),
                change.detail.clone(),
            ];
            table.add_row(row.iter().map(|cell| table_cell(cell)));
        }
        text.push_str(&table.to_string());
        text.push('\n');
    }
    let counts = [
        ("created", ChangeKind::Create),
        ("adopted", ChangeKind::Adopt),
        ("updated", ChangeKind::Update),
        ("closed", ChangeKind::Close),
        ("reopened", ChangeKind::Reopen),
        ("risk accepted", ChangeKind::AcceptRisk),
        ("fix claimed", ChangeKind::ClaimFixed),
        ("skipped", ChangeKind::Skip),
        ("failed", ChangeKind::Fail),
    ];
    let summary: Vec<String> = counts
        .iter()
        .map(|(name, kind)| format!("{} {name}", report.count(*kind)))
        .collect();
    text.push_str(&format!("{}, {} unchanged.\n", summary.join(", "), report.unchanged));
    text
}

fn report_json(report: &SyncReport, dry_run: bool) -> Result<String> {
    let changes: Vec<serde_json::Value> = report
        .changes
        .iter()
        .map(|change| {
            json!({
                "change": change.kind.as_str(),
                "subject": change.subject,
                "ticket": change.ticket,
                "detail": change.detail,
            })
        })
        .collect();
    let document = json!({ "dry_run": dry_run, "changes": changes, "unchanged": report.unchanged });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

fn status_command(args: TicketsStatusArgs) -> Result<u8> {
    let store = open_existing_store(&args.db.db)?;
    // Sent notifications share the ticket records, under `notify:NAME`.
    let records: Vec<TicketRecord> = store
        .tickets(None)?
        .into_iter()
        .filter(|record| !record.tracker.starts_with(CHANNEL_PREFIX))
        .collect();
    let outcomes: Vec<BTreeMap<&'static str, usize>> = records
        .iter()
        .map(|record| finding_outcomes(&store, record))
        .collect::<Result<_>>()?;
    let rendered = match args.format {
        OutputFormat::Table => status_table(&records, &outcomes),
        OutputFormat::Json => {
            let rows: Vec<serde_json::Value> = records
                .iter()
                .zip(&outcomes)
                .map(|(record, outcomes)| {
                    json!({
                        "tracker": record.tracker,
                        "key": record.key,
                        "url": record.url,
                        "state": record.state.as_str(),
                        "remote_status": record.remote_status,
                        "subject_kind": record.subject_kind.as_str(),
                        "subject": record.subject_key,
                        "marker": record.marker,
                        "findings": record.findings,
                        "finding_outcomes": outcomes,
                        "synced_at": record.synced_at.map(|at| at.to_rfc3339()),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&json!({ "tickets": rows }))? + "\n"
        }
    };
    write_output(None, &rendered)?;
    Ok(0)
}

/// Counts the findings of a ticket by what became of them: their lifecycle
/// status, with a fix that no rescan has verified yet as `fix claimed`.
/// A finding the store no longer has counts as `unknown`.
fn finding_outcomes(store: &Store, record: &TicketRecord) -> Result<BTreeMap<&'static str, usize>> {
    let mut outcomes = BTreeMap::new();
    for fingerprint in &record.findings {
        let stored = store.finding(&Fingerprint::from_stored(fingerprint.clone()))?;
        let outcome = match stored {
            None => "unknown",
            Some(stored) if stored.status == LifecycleStatus::Fixed && stored.verified_at.is_none() => "fix claimed",
            Some(stored) => stored.status.as_str(),
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    Ok(outcomes)
}

fn status_table(records: &[TicketRecord], outcomes: &[BTreeMap<&'static str, usize>]) -> String {
    if records.is_empty() {
        return "No ticket yet: run `ctem tickets sync`.\n".to_string();
    }
    let mut table = wide_table();
    table.set_header(vec![
        "Tracker",
        "Ticket",
        "State",
        "Tracker status",
        "Subject",
        "Findings",
        "Synced",
    ]);
    for (record, outcomes) in records.iter().zip(outcomes) {
        let counts: Vec<String> = outcomes
            .iter()
            .map(|(outcome, count)| format!("{count} {outcome}"))
            .collect();
        let row = [
            record.tracker.clone(),
            record.key.clone().unwrap_or_else(|| "-".to_string()),
            record.state.as_str().to_string(),
            record.remote_status.clone().unwrap_or_else(|| "-".to_string()),
            record.subject_key.clone(),
            format!("{}: {}", record.findings.len(), counts.join(", ")),
            record
                .synced_at
                .map_or_else(|| "-".to_string(), |at| at.format("%Y-%m-%d %H:%M").to_string()),
        ];
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }
    format!("{} ticket(s).\n{table}\n", records.len())
}
