//! `ctem metrics` and `ctem sla`: argument handling and rendering. The
//! figures come from `ctem_engine::metrics`, and docs/metrics.md defines
//! them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use ctem_engine::config::Config;
use ctem_engine::metrics::{
    Breach, BreachState, DataWarnings, DurationStats, GroupBy, GroupDuration, Metrics, MetricsOptions, compute,
};
use ctem_engine::sla::{MAX_DAYS, SlaPolicy};
use ctem_store::{Store, StoredFinding};
use serde_json::json;

use crate::EXIT_USAGE;
use crate::cli::{GroupByArg, MetricsArgs, OutputFormat, SlaArgs, SlaConfigArgs};
use crate::commands::{missing_config, open_store, terminal_width, unreadable_database};
use crate::output::{printable, table_cell};

/// The number of breaches and of never assessed assets that the `ctem
/// metrics` table shows. `ctem sla` and the JSON output list them all.
const SHOWN_ROWS: usize = 10;

pub fn metrics_command(args: MetricsArgs) -> Result<u8> {
    let (now, policy) = reference(&args.sla)?;
    let since = args.since.as_deref().map(|text| parse_since(text, now)).transpose()?;
    let Some(store) = open_existing(&args.db.db)? else {
        return Ok(EXIT_USAGE);
    };

    let facts = store.fact_table()?;
    let runs = store.run_stats()?;
    let coverage = store.asset_coverage()?;
    let options = MetricsOptions {
        now,
        since,
        by: args.by.map(group_by),
        coverage_window_days: args.window,
    };
    let metrics = compute(&facts, &runs, &coverage, &policy, &options);
    print_warnings(&metrics.warnings);

    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&metrics)?),
        OutputFormat::Table => {
            let shown: Vec<i64> = metrics
                .sla
                .breaches
                .iter()
                .take(SHOWN_ROWS)
                .map(|breach| breach.id)
                .collect();
            let findings = findings_by_ids(&store, &shown)?;
            out!("{}", metrics_table(&metrics, &findings));
        }
    }
    Ok(0)
}

pub fn sla_command(args: SlaArgs) -> Result<u8> {
    let (now, policy) = reference(&args.sla)?;
    let Some(store) = open_existing(&args.db.db)? else {
        return Ok(EXIT_USAGE);
    };

    // The breach list of the whole history, less the late fixes: what is
    // past due now.
    let facts = store.fact_table()?;
    let coverage = store.asset_coverage()?;
    let metrics = compute(&facts, &[], &coverage, &policy, &MetricsOptions::new(now));
    let breaches: Vec<&Breach> = metrics
        .sla
        .breaches
        .iter()
        .filter(|breach| breach.state != BreachState::FixedLate)
        .collect();
    let ids: Vec<i64> = breaches.iter().map(|breach| breach.id).collect();
    let findings = findings_by_ids(&store, &ids)?;

    match args.format {
        OutputFormat::Json => {
            let rows: Vec<_> = breaches
                .iter()
                .map(|breach| {
                    let stored = findings.get(&breach.id);
                    json!({
                        "id": breach.id,
                        "fingerprint": stored.map(|s| s.fingerprint.to_string()),
                        "title": stored.map(|s| s.finding.title.clone()),
                        "asset": stored.map(|s| s.finding.asset.to_string()),
                        "status": stored.map(|s| s.status),
                        "tier": breach.tier,
                        "state": breach.state,
                        "due": breach.due,
                        "days_overdue": breach.days_overdue,
                    })
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Table => out!("{}", sla_table(&breaches, &findings, now)),
    }
    Ok(0)
}

/// Reads `--now` and the SLA policy of the configuration.
fn reference(args: &SlaConfigArgs) -> Result<(DateTime<Utc>, SlaPolicy)> {
    let now = match &args.now {
        Some(text) => parse_now(text)?,
        None => Utc::now(),
    };
    let policy = load_policy(args.config.as_deref())?;
    Ok((now, policy))
}

/// Loads `[sla]` from `--config`, else from `./ctem.toml` when it exists,
/// else returns the default days to fix.
fn load_policy(path: Option<&Path>) -> Result<SlaPolicy> {
    let path = match path {
        Some(path) if !path.is_file() => bail!("{}", missing_config(path)),
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from("ctem.toml")).filter(|path| path.is_file()),
    };
    Ok(match path {
        Some(path) => Config::load(&path)?.sla.policy(),
        None => SlaPolicy::default(),
    })
}

/// Opens the database, or reports that it does not exist: measuring an
/// empty database that this command just created would hide a wrong path.
fn open_existing(path: &Path) -> Result<Option<Store>> {
    if let Some(problem) = unreadable_database(path) {
        eprintln!("error: {problem}");
        return Ok(None);
    }
    open_store(path).map(Some)
}

fn parse_now(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|time| time.with_timezone(&Utc))
        .with_context(|| format!("invalid --now {text:?}: expected RFC 3339, such as 2026-12-01T00:00:00Z"))
}

/// Parses `--since`: RFC 3339, a date (midnight UTC) or a number of days
/// before `now` (`30d`). The start must not be after `now`.
fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let trimmed = text.trim();
    let since = if let Some(days) = relative_days(trimmed) {
        let days = days
            .filter(|&days| days <= i64::from(MAX_DAYS))
            .with_context(|| format!("invalid --since {text:?}: a number of days must be from 0 to {MAX_DAYS}"))?;
        now.checked_sub_signed(TimeDelta::days(days))
            .with_context(|| format!("invalid --since {text:?}: {days} days before --now is out of range"))?
    } else if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        date.and_time(chrono::NaiveTime::MIN).and_utc()
    } else if let Ok(time) = DateTime::parse_from_rfc3339(trimmed) {
        time.with_timezone(&Utc)
    } else {
        bail!(
            "invalid --since {text:?}: expected RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01) \
             or a number of days before --now (30d)"
        );
    };

    if since > now {
        bail!(
            "invalid --since {text:?}: {} is after --now {}",
            rfc3339(since),
            rfc3339(now)
        );
    }
    Ok(since)
}

/// Recognizes `<digits>d`. Returns `Some(None)` when the digits do not fit
/// a number, so that `99999999999999999999d` gets the range error.
fn relative_days(text: &str) -> Option<Option<i64>> {
    let digits = text.strip_suffix('d').or_else(|| text.strip_suffix('D'))?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().ok())
}

fn group_by(arg: GroupByArg) -> GroupBy {
    match arg {
        GroupByArg::Team => GroupBy::Team,
        GroupByArg::Tier => GroupBy::Tier,
        GroupByArg::Severity => GroupBy::Severity,
        GroupByArg::Source => GroupBy::Source,
    }
}

/// Fetches findings by row id.
fn findings_by_ids(store: &Store, ids: &[i64]) -> Result<HashMap<i64, StoredFinding>> {
    let found = store.findings_by_id(ids)?;
    if found.len() == ids.len() {
        return Ok(ids.iter().copied().zip(found).collect());
    }
    // NOTE: a stored finding does not carry its row id. When some ids are
    // missing, the batch cannot be matched to them, so fetch one by one.
    let mut by_id = HashMap::with_capacity(ids.len());
    for &id in ids {
        if let Some(stored) = store.findings_by_id(&[id])?.pop() {
            by_id.insert(id, stored);
        }
    }
    Ok(by_id)
}

fn print_warnings(warnings: &DataWarnings) {
    let lines = [
        (
            warnings.detected_after_now,
            "finding(s) first seen after --now are left out of every figure",
        ),
        (
            warnings.introduced_after_detection,
            "finding(s) introduced after their first detection are left out of MTTD",
        ),
        (
            warnings.verified_before_detection,
            "fixed finding(s) confirmed before their first detection are left out of MTTR and SLA compliance",
        ),
        (
            warnings.unknown_asset_index,
            "finding(s) refer to an unknown asset and count as unowned and unclassified",
        ),
        (
            warnings.unknown_tool_set_index,
            "finding(s) refer to an unknown tool set and count in no source group",
        ),
        (
            warnings.non_finite_run_risk,
            "run(s) have a stored risk sum that is not a number, shown as -",
        ),
    ];
    for (count, text) in lines {
        if count > 0 {
            eprintln!("warning: {count} {text}");
        }
    }
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn days(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |days| format!("{days:.1}"))
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |share| format!("{:.1}%", share * 100.0))
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    match terminal_width() {
        Ok((width, _)) => table.set_width(width),
        Err(()) => table.set_width(160),
    };
    table
}

/// Describes a mean and a median over `count` values of `what` (a plural
/// noun, such as "findings detected").
fn describe_stats(stats: &DurationStats, what: &str) -> String {
    match (stats.mean_days, stats.median_days) {
        (Some(mean), Some(median)) => format!("{mean:.1} days (median {median:.1}, {what}: {})", stats.count),
        _ => format!("no {what} in the period"),
    }
}

/// Renders every section of `ctem metrics` as text tables. `findings`
/// supplies the titles of the breaches shown.
fn metrics_table(metrics: &Metrics, findings: &HashMap<i64, StoredFinding>) -> String {
    let mut text = String::new();
    let period = match metrics.since {
        Some(since) => format!("from {} to {}", rfc3339(since), rfc3339(metrics.now)),
        None => format!("over the whole history to {}", rfc3339(metrics.now)),
    };
    let _ = writeln!(text, "Metrics {period}\n");

    write_coverage(&mut text, metrics);
    let _ = writeln!(
        text,
        "Mean time to detect: {}",
        describe_stats(&metrics.mttd, "findings detected")
    );
    let _ = writeln!(
        text,
        "Mean time to remediate: {}",
        describe_stats(&metrics.mttr.overall, "confirmed fixes")
    );
    write_mttr(&mut text, metrics);
    write_sla(&mut text, metrics, findings);
    write_backlog(&mut text, metrics);
    write_runs(&mut text, metrics);
    write_groups(&mut text, metrics);
    text
}

fn write_coverage(text: &mut String, metrics: &Metrics) {
    let coverage = &metrics.coverage;
    let _ = writeln!(
        text,
        "Exposure coverage: {} of {} assets ({}) assessed in the last {} days",
        coverage.total.assessed,
        coverage.total.assets,
        percent(coverage.total.share),
        coverage.window_days
    );
    if !coverage.by_kind.is_empty() {
        let mut table = new_table(&["Kind", "Assets", "Assessed", "Share"]);
        for kind in &coverage.by_kind {
            table.add_row(vec![
                kind.kind.to_string(),
                kind.count.assets.to_string(),
                kind.count.assessed.to_string(),
                percent(kind.count.share),
            ]);
        }
        let _ = writeln!(text, "{table}");
    }
    if !coverage.never_assessed.is_empty() {
        let shown: Vec<String> = coverage.never_assessed.iter().take(SHOWN_ROWS).map(printable).collect();
        let more = coverage.never_assessed.len().saturating_sub(SHOWN_ROWS);
        let _ = write!(
            text,
            "Never assessed ({}): {}",
            coverage.never_assessed.len(),
            shown.join(", ")
        );
        if more > 0 {
            let _ = write!(text, " and {more} more (see --format json)");
        }
        text.push('\n');
    }
    text.push('\n');
}

fn write_mttr(text: &mut String, metrics: &Metrics) {
    let mttr = &metrics.mttr;
    let dimensions: [(&str, &[GroupDuration]); 4] = [
        ("tier", &mttr.by_tier),
        ("severity", &mttr.by_severity),
        ("criticality", &mttr.by_criticality),
        ("team", &mttr.by_team),
    ];
    // Groups without a fix are left out of the table, but the JSON lists them.
    if mttr.overall.count > 0 {
        let mut table = new_table(&["By", "Group", "Fixes", "Mean days", "Median days"]);
        for (dimension, groups) in dimensions {
            for group in groups.iter().filter(|group| group.stats.count > 0) {
                table.add_row(vec![
                    dimension.to_string(),
                    table_cell(&group.group),
                    group.stats.count.to_string(),
                    days(group.stats.mean_days),
                    days(group.stats.median_days),
                ]);
            }
        }
        let _ = writeln!(text, "{table}");
    }
    text.push('\n');
}

fn write_sla(text: &mut String, metrics: &Metrics, findings: &HashMap<i64, StoredFinding>) {
    let sla = &metrics.sla;
    let _ = writeln!(
        text,
        "SLA compliance: {} ({} met, {} missed); {} overdue now, {} fixed late in the period",
        percent(sla.compliance.share),
        sla.compliance.met,
        sla.compliance.missed,
        sla.overdue,
        sla.fixed_late
    );
    if !sla.breaches.is_empty() {
        let mut table = new_table(&["Tier", "Finding", "Due", "Days overdue", "State"]);
        for breach in sla.breaches.iter().take(SHOWN_ROWS) {
            let title = findings.get(&breach.id).map_or_else(
                || format!("finding {}", breach.id),
                |stored| table_cell(&stored.finding.title),
            );
            table.add_row(vec![
                breach.tier.to_string(),
                title,
                due_text(breach.due),
                format!("{:.1}", breach.days_overdue),
                breach.state.as_str().to_string(),
            ]);
        }
        let _ = writeln!(text, "{table}");
        let more = sla.breaches.len().saturating_sub(SHOWN_ROWS);
        if more > 0 {
            let _ = writeln!(text, "and {more} more breaches (see `ctem sla` or --format json)");
        }
    }
    text.push('\n');
}

fn due_text(due: DateTime<Utc>) -> String {
    due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn write_backlog(text: &mut String, metrics: &Metrics) {
    let backlog = &metrics.backlog;
    let _ = writeln!(
        text,
        "Open backlog by days since first seen: {} active finding(s)",
        backlog.total.total
    );
    let mut header = vec!["Tier"];
    header.extend(ctem_engine::metrics::AgeBuckets::LABELS);
    header.push("Total");
    let mut table = new_table(&header);
    let rows = backlog
        .by_tier
        .iter()
        .map(|row| (row.tier.to_string(), row.buckets))
        .chain(std::iter::once(("Total".to_string(), backlog.total)));
    for (label, buckets) in rows {
        let mut cells = vec![label];
        cells.extend(buckets.counts().iter().map(u64::to_string));
        cells.push(buckets.total.to_string());
        table.add_row(cells);
    }
    let _ = writeln!(text, "{table}\n");
}

fn write_runs(text: &mut String, metrics: &Metrics) {
    if metrics.runs.is_empty() {
        let _ = writeln!(text, "No runs in the period.\n");
        return;
    }
    let _ = writeln!(text, "Runs in the period:");
    let mut table = new_table(&[
        "Run",
        "Observed",
        "Open",
        "New",
        "Reopened",
        "Fixed",
        "Risk",
        "Crown jewel risk",
        "Verified",
        "MTTR",
    ]);
    for run in &metrics.runs {
        let risk = |value: Option<f64>| value.map_or_else(|| "-".to_string(), |risk| format!("{risk:.1}"));
        table.add_row(vec![
            run.run_id.to_string(),
            rfc3339(run.observed_at),
            run.open.to_string(),
            run.new.to_string(),
            run.reopened.to_string(),
            run.fixed.to_string(),
            risk(run.risk),
            risk(run.crown_jewel_risk),
            run.verified.to_string(),
            days(run.mttr_days),
        ]);
    }
    let _ = writeln!(text, "{table}\n");
}

fn write_groups(text: &mut String, metrics: &Metrics) {
    let Some(groups) = &metrics.groups else {
        return;
    };
    let _ = writeln!(text, "By {}:", groups.by);
    let title = match groups.by {
        GroupBy::Team => "Team",
        GroupBy::Tier => "Tier",
        GroupBy::Severity => "Severity",
        GroupBy::Source => "Source",
    };
    let mut table = new_table(&[
        title,
        "Open",
        "Fixes",
        "MTTR mean",
        "MTTR median",
        "SLA met",
        "SLA missed",
        "SLA",
    ]);
    for group in &groups.groups {
        table.add_row(vec![
            table_cell(&group.group),
            group.open.to_string(),
            group.mttr.count.to_string(),
            days(group.mttr.mean_days),
            days(group.mttr.median_days),
            group.sla.met.to_string(),
            group.sla.missed.to_string(),
            percent(group.sla.share),
        ]);
    }
    let _ = writeln!(text, "{table}");
}

fn sla_table(breaches: &[&Breach], findings: &HashMap<i64, StoredFinding>, now: DateTime<Utc>) -> String {
    if breaches.is_empty() {
        return format!("No finding is past its due date at {}.\n", rfc3339(now));
    }
    let mut table = new_table(&[
        "Fingerprint",
        "Finding",
        "Tier",
        "Asset",
        "Due",
        "Days overdue",
        "State",
    ]);
    // A fingerprint is copied into `ctem triage`, so it must not wrap.
    if let Some(column) = table.column_mut(0) {
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    for breach in breaches {
        let stored = findings.get(&breach.id);
        table.add_row(vec![
            stored.map_or_else(|| "-".to_string(), |s| s.fingerprint.to_string()),
            stored.map_or_else(|| format!("finding {}", breach.id), |s| table_cell(&s.finding.title)),
            breach.tier.to_string(),
            stored.map_or_else(|| "-".to_string(), |s| table_cell(s.finding.asset.as_str())),
            due_text(breach.due),
            format!("{:.1}", breach.days_overdue),
            breach.state.as_str().to_string(),
        ]);
    }
    format!(
        "{table}\n{} finding(s) past their due date at {}\n",
        breaches.len(),
        rfc3339(now)
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use ctem_model::{Asset, AssetKey, AssetKind, FindingKind, LifecycleStatus, Severity, Tier};
    use ctem_store::{AssetCoverage, FactTable, FindingFacts};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap()
    }

    #[test]
    fn since_accepts_three_forms() {
        let cases = [
            (
                "2026-11-01T00:00:00Z",
                Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            ),
            (
                "2026-11-01T02:00:00+02:00",
                Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            ),
            ("2026-11-01", Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()),
            ("30d", Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap()),
            (" 0d ", now()),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_since(text, now()).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn since_errors_name_option_and_value() {
        let cases = [
            ("last month", "expected RFC 3339"),
            ("2026-13-01", "expected RFC 3339"),
            ("-30d", "expected RFC 3339"),
            ("d", "expected RFC 3339"),
            ("36501d", "from 0 to 36500"),
            ("99999999999999999999d", "from 0 to 36500"),
            ("2026-12-02", "is after --now"),
        ];
        for (text, expected) in cases {
            let error = parse_since(text, now()).unwrap_err().to_string();
            assert!(error.contains("--since"), "{text}: {error}");
            assert!(error.contains(&format!("{text:?}")), "{text}: {error}");
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn now_error_names_option() {
        let error = parse_now("yesterday").unwrap_err().to_string();
        assert!(error.contains("--now \"yesterday\""), "{error}");
    }

    #[test]
    fn missing_config_is_named() {
        let error = load_policy(Some(Path::new("/nonexistent/ctem.toml")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/ctem.toml"), "{error}");
    }

    #[test]
    fn invalid_sla_config_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("ctem.toml");
        std::fs::write(&path, "[sla]\nP1 = 0\n").unwrap();
        let error = load_policy(Some(&path)).unwrap_err().to_string();
        assert!(error.contains("ctem.toml"), "{error}");
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("at least 1"), "{error}");
    }

    /// Metrics of two findings on one asset: a P1 fixed in 2 days and a
    /// P2 open since Oct 1, 31 days past its due date of Oct 31.
    fn sample_metrics(by: Option<GroupBy>) -> Metrics {
        let key = AssetKey::new(AssetKind::Host, "10.0.0.1");
        let mut asset = Asset::new(AssetKind::Host, "10.0.0.1", "web-1");
        asset.owner = Some("web\u{1b}[31m-team".into());
        let fact = |id, tier, status, first_seen, verified_at| FindingFacts {
            id,
            asset: 0,
            tools: 0,
            kind: FindingKind::Vulnerability,
            severity: Severity::High,
            tier,
            score: 50.0,
            status,
            first_seen,
            last_seen: first_seen,
            introduced_at: None,
            fixed_at: verified_at,
            verified_at,
            validation: None,
            accepted_until: None,
        };
        let day = |month, day| Utc.with_ymd_and_hms(2026, month, day, 0, 0, 0).unwrap();
        let facts = FactTable {
            assets: vec![key],
            tool_sets: vec![vec!["trivy".into()]],
            findings: vec![
                fact(1, Tier::P1, LifecycleStatus::Fixed, day(11, 2), Some(day(11, 4))),
                fact(2, Tier::P2, LifecycleStatus::Open, day(10, 1), None),
            ],
        };
        let coverage = vec![AssetCoverage {
            asset,
            first_seen: day(10, 1),
            last_assessed: None,
        }];
        let options = MetricsOptions {
            now: day(12, 1),
            since: Some(day(11, 1)),
            by,
            coverage_window_days: 30,
        };
        compute(&facts, &[], &coverage, &SlaPolicy::default(), &options)
    }

    #[test]
    fn table_shows_each_section() {
        let text = metrics_table(&sample_metrics(Some(GroupBy::Team)), &HashMap::new());
        let expected = [
            "Metrics from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z",
            "Exposure coverage: 0 of 1 assets (0.0%) assessed in the last 30 days",
            "Never assessed (1): host:10.0.0.1",
            "Mean time to detect: no findings detected in the period",
            "Mean time to remediate: 2.0 days (median 2.0, confirmed fixes: 1)",
            "SLA compliance: 100.0% (1 met, 0 missed); 1 overdue now, 0 fixed late in the period",
            "finding 2",
            "2026-10-31T00:00:00Z",
            "31.0",
            "Open backlog by days since first seen: 1 active finding(s)",
            "No runs in the period.",
            "By team:",
        ];
        for line in expected {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn table_removes_control_characters() {
        let text = metrics_table(&sample_metrics(Some(GroupBy::Team)), &HashMap::new());
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("web [31m-team"), "{text}");
    }

    #[test]
    fn json_keeps_nulls() {
        let json = serde_json::to_value(sample_metrics(None)).unwrap();
        assert!(json["mttd"]["mean_days"].is_null());
        assert!(json["groups"].is_null());
        assert_eq!(json["sla"]["breaches"][0]["id"], 2);
    }

    #[test]
    fn sla_table_without_breaches() {
        let text = sla_table(&[], &HashMap::new(), now());
        assert_eq!(text, "No finding is past its due date at 2026-12-01T06:00:00Z.\n");
    }

    #[test]
    fn sla_table_lists_breach() {
        let metrics = sample_metrics(None);
        let breaches: Vec<&Breach> = metrics.sla.breaches.iter().collect();
        let text = sla_table(&breaches, &HashMap::new(), metrics.now);
        assert!(text.contains("finding 2"), "{text}");
        assert!(text.contains("overdue"), "{text}");
        assert!(text.contains("1 finding(s) past their due date"), "{text}");
    }
}
