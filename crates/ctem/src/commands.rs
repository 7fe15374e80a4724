//! One function per command.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use ctem_engine::config::{Config, config_folder};
use ctem_engine::json::{ParsedFindingJson, StoredFindingJson};
use ctem_engine::owners::{OwnerResolver, Ownership};
use ctem_engine::paths::PathsView;
use ctem_engine::report::{
    ReportHistory, ReportInput, crown_jewel_exposure, describe_asset, explanation, reasons, render_html,
};
use ctem_engine::sla::{SlaInput, SlaPolicy, SlaState};
use ctem_engine::{AssessOutcome, AssessRequest, FileStatus, Progress, assess_with_policy};
use ctem_ingest::{ParseContext, default_target, detect, find, registry};
use ctem_model::{Asset, AssetKey, Criticality, Deadline, LifecycleStatus, Severity, Tier};
use ctem_store::{FindingFilter, Store, StoreError, StoredFinding};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::EXIT_FILE_FAILED;
use crate::cli::{AssessArgs, Cli, Command, FindingsArgs, FormatsArgs, OfflineInputs, OutputFormat, ParseArgs};
use crate::output::table_cell;

/// Runs a command and returns its exit code. An `Err` is a usage,
/// configuration or storage error.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Assess(args) => assess_command(args),
        Command::Paths(args) => crate::paths::paths_command(args),
        Command::Actions(args) => crate::actions::actions_command(args),
        Command::Gate(args) => crate::gate::gate_command(args),
        Command::Parse(args) => parse_command(args),
        Command::Formats(args) => formats_command(args),
        Command::Findings(args) => findings_command(args),
        Command::Metrics(args) => crate::metrics::metrics_command(args),
        Command::Sla(args) => crate::metrics::sla_command(args),
        Command::Finding(args) => crate::finding::finding_command(args),
        Command::Triage(args) => crate::triage::triage_command(args),
        Command::Redupe(args) => crate::triage::redupe_command(args),
        Command::Intel(command) => crate::intel::run(command),
        Command::Tickets(command) => crate::tickets::run(command),
    }
}

fn assess_command(args: AssessArgs) -> Result<u8> {
    let (config, config_path) = load_config(args.config.as_deref(), &args.paths)?;
    if config_path.is_none() {
        warn_without_config();
    }
    let owners = owner_resolver(&config, config_path.as_deref())?;
    let observed_at = match &args.at {
        Some(text) => Some(parse_time(text)?),
        None => None,
    };
    let request = AssessRequest {
        paths: args.paths.clone(),
        config,
        config_path,
        intel_dir: args.intel.clone(),
        intel_cache: args.intel_cache.clone(),
        target: args.target.clone(),
        observed_at,
        strict: args.strict,
    };
    // A broken policy or a missing path stops the run before the store is
    // created or migrated.
    let policy = ctem_engine::load_policy(&request)?;
    if let Some(missing) = args.paths.iter().find(|path| !path.exists()) {
        bail!(
            "{}: no such file or folder; nothing was assessed or written",
            missing.display()
        );
    }
    // The output files are created before the run is recorded, so that a
    // destination that cannot be written stops the run with nothing written.
    let output_file = args.output.as_deref().map(PendingFile::create).transpose()?;
    let report_file = args.report.as_deref().map(PendingFile::create).transpose()?;
    if args.db.db.is_dir() {
        bail!("{}", folder_as_database(&args.db.db));
    }
    // A run that fails must leave the path as it found it: missing, or an
    // empty file.
    let was_empty = std::fs::metadata(&args.db.db).is_ok_and(|metadata| metadata.len() == 0);
    let created = was_empty || !args.db.db.exists();
    let mut store = open_store(&args.db.db)?;
    let progress = TerminalProgress::new();
    let outcome = assess_with_policy(&request, policy.as_ref(), &mut store, &progress);
    progress.finish();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // A run that fails records nothing, so a database that it
            // created would hold only the schema: remove it.
            drop(store);
            if created {
                remove_database(&args.db.db);
                if was_empty && let Err(error) = std::fs::File::create(&args.db.db) {
                    eprintln!("warning: {}: {error}", args.db.db.display());
                }
            }
            if let ctem_engine::AssessError::Strict { count, details } = error {
                eprintln!("error: {count} file(s) failed and --strict is set, so nothing was written:\n{details}");
                return Ok(EXIT_FILE_FAILED);
            }
            return Err(error.into());
        }
    };

    print_problems(
        outcome.failures(),
        &outcome.vex.warnings,
        &outcome.intel,
        "scores use CVSS and severity only",
    );

    // The printed list needs only the top findings; the HTML report counts
    // every open finding by tier and owner, so only it reads them all.
    let active_filter = FindingFilter {
        active_only: true,
        ..FindingFilter::default()
    };
    let open_count = store.count_findings(&active_filter)?;
    // --top 0 shows every open finding.
    let top_limit = (args.top > 0).then_some(args.top);
    let top = store.findings(&FindingFilter {
        limit: top_limit,
        ..active_filter.clone()
    })?;
    let assets: BTreeMap<AssetKey, Asset> = store
        .assets()?
        .into_iter()
        .map(|asset| (asset.key.clone(), asset))
        .collect();

    let attack_paths = outcome.attack_paths.as_ref().map(|paths| paths.view(None));
    let rendered = match args.format {
        OutputFormat::Table => assess_table(
            &outcome,
            &top,
            open_count,
            &assets,
            &owners,
            &request.config.sla.policy(),
        ),
        OutputFormat::Json => assess_json(&outcome, &top, open_count, &assets, &owners, attack_paths.as_ref())?,
    };
    match output_file {
        Some(file) => file.write(&rendered)?,
        None => write_output(None, &rendered)?,
    }

    if let Some(file) = report_file {
        let active = store.findings(&active_filter)?;
        // The run is recorded, so the history ends with it. Its
        // observation time is the reference time, so that a report of a
        // past run (`--at`) measures ages and deadlines at that run.
        let history = ReportHistory::compute(
            &store.fact_table()?,
            &store.run_stats()?,
            &store.asset_coverage()?,
            &request.config.sla.policy(),
            outcome.summary.observed_at,
        );
        let crown_jewels =
            crown_jewel_exposure(&request.config.crown_jewels, &assets, &store.relationships()?, &active);
        let html = render_html(&ReportInput {
            generated_at: Utc::now(),
            summary: &outcome.summary,
            files: &outcome.files,
            active: &active,
            assets: &assets,
            intel_sources: outcome
                .intel
                .sources()
                .iter()
                .map(|source| source.to_string())
                .collect(),
            top: top_limit,
            history: &history,
            crown_jewels: &crown_jewels,
            attack_paths: attack_paths.as_ref(),
        });
        file.write(&html)?;
    }

    let failed = outcome.failures().count() > 0;
    Ok(if failed { EXIT_FILE_FAILED } else { 0 })
}

/// Prints the files that failed, the VEX warnings, and a warning with
/// `consequence` when no threat intelligence was loaded.
pub(crate) fn print_problems<'a>(
    failures: impl Iterator<Item = &'a ctem_ingest::ParseError>,
    vex_warnings: &[String],
    intel: &ctem_intel::Intel,
    consequence: &str,
) {
    for error in failures {
        eprintln!("error: {error}");
    }
    for warning in vex_warnings {
        eprintln!("warning: {warning}");
    }
    if intel.is_empty() {
        warn_without_intel(consequence);
    }
}

/// Warns that no configuration was found, since scores then lack the
/// inputs that only the configuration provides: crown jewels,
/// criticality, controls.
fn warn_without_config() {
    eprintln!(
        "warning: no ctem.toml was found in the current folder or the first folder given, so no asset is a \
         crown jewel and criticality, controls, owners and SLA days are the defaults; pass --config FILE"
    );
}

/// Warns that no threat intelligence was loaded, with what that changes
/// and how to load some.
fn warn_without_intel(consequence: &str) {
    eprintln!(
        "warning: no threat intelligence was loaded, so {consequence}; \
         run `ctem intel update` (or `ctem intel import PATH`), or pass --intel DIR"
    );
}

/// Loads the configuration that [`find_config`] finds, or the default
/// configuration when there is none, with the path it came from.
/// Builds the request of a command that reads reports without a database
/// (`ctem paths`, `ctem actions`).
pub(crate) fn offline_request(inputs: &OfflineInputs) -> Result<AssessRequest> {
    let (config, config_path) = load_config(inputs.config.as_deref(), &inputs.paths)?;
    if config_path.is_none() {
        warn_without_config();
    }
    Ok(AssessRequest {
        paths: inputs.paths.clone(),
        config,
        config_path,
        intel_dir: inputs.intel.clone(),
        intel_cache: inputs.intel_cache.clone(),
        target: None,
        observed_at: None,
        strict: false,
    })
}

pub(crate) fn load_config(config: Option<&Path>, paths: &[PathBuf]) -> Result<(Config, Option<PathBuf>)> {
    let config_path = find_config(config, paths)?;
    let config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    Ok((config, config_path))
}

/// Compiles the owner rules of a configuration. CODEOWNERS paths are
/// relative to the folder of the configuration file.
pub(crate) fn owner_resolver(config: &Config, config_path: Option<&Path>) -> Result<OwnerResolver> {
    Ok(OwnerResolver::new(config, config_folder(config_path))?)
}

/// Chooses the owner of a stored finding.
fn owner_of(owners: &OwnerResolver, assets: &BTreeMap<AssetKey, Asset>, stored: &StoredFinding) -> Option<Ownership> {
    owners.finding_owner(&stored.finding, assets.get(&stored.finding.asset))
}

/// `--config`, else `./ctem.toml`, else `ctem.toml` in the first folder
/// among the paths.
fn find_config(config: Option<&Path>, paths: &[PathBuf]) -> Result<Option<PathBuf>> {
    if let Some(path) = config {
        if !path.is_file() {
            bail!("{}", missing_config(path));
        }
        return Ok(Some(path.to_path_buf()));
    }
    let here = PathBuf::from("ctem.toml");
    if here.is_file() {
        return Ok(Some(here));
    }
    let in_first_folder = paths.iter().find(|path| path.is_dir()).map(|dir| dir.join("ctem.toml"));
    Ok(in_first_folder.filter(|path| path.is_file()))
}

/// Returns why `--config` names no configuration file: it is a folder, or
/// it does not exist.
pub(crate) fn missing_config(path: &Path) -> String {
    if path.is_dir() {
        format!("{}: is a folder; --config takes the ctem.toml file", path.display())
    } else {
        format!("{}: configuration file not found", path.display())
    }
}

/// Parses `--at`. A time more than a day ahead of the clock is rejected:
/// runs must be recorded in order, so one run stamped in the future (a
/// typo of the year) would make the database refuse every later run.
fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let time = DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .with_context(|| format!("invalid --at {text:?}: expected RFC 3339, such as 2026-11-30T08:00:00Z"))?;
    if time > Utc::now() + chrono::Duration::days(1) {
        bail!("invalid --at {text:?}: the time is in the future; --at is when the scans were made");
    }
    Ok(time)
}

/// Opens or creates the database. Every error of opening names the path.
pub(crate) fn open_store(path: &Path) -> Result<Store> {
    Ok(Store::open(path)?)
}

/// Opens the database of a command that reads or changes stored findings,
/// which has nothing to do in a database that does not exist yet.
pub(crate) fn open_existing_store(path: &Path) -> Result<Store> {
    if let Some(problem) = unreadable_database(path) {
        bail!("{problem}");
    }
    open_store(path)
}

/// Returns why `path` contains no ctem database to read: it is missing, a
/// folder, an empty file, not an SQLite database, or an SQLite file without
/// ctem's tables. The check opens the file read-only, so it creates no tables.
pub(crate) fn unreadable_database(path: &Path) -> Option<String> {
    if let Some(problem) = no_database(path) {
        return Some(problem);
    }
    match Store::open_read_only(path) {
        Ok(None) => Some(format!(
            "{}: the file contains no ctem tables; run `ctem assess` first or pass --db",
            path.display()
        )),
        Err(error @ StoreError::NotADatabase { .. }) => Some(error.to_string()),
        Ok(Some(_)) | Err(_) => None,
    }
}

/// Removes a database file with the journal files SQLite keeps beside it.
/// A file that is already gone is no error.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Err(error) = std::fs::remove_file(&name)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            eprintln!("warning: {}: {error}", Path::new(&name).display());
        }
    }
}

/// Returns the message for a folder given as `--db`.
pub(crate) fn folder_as_database(path: &Path) -> String {
    format!("{}: is a folder; --db takes the database file", path.display())
}

/// Returns why `path` contains no database to read: it does not exist, it
/// is a folder, or it is an empty file. Opening an empty file would write
/// a new schema, and the command would report on nothing instead of
/// naming the wrong path.
pub(crate) fn no_database(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Err(_) => Some(format!(
            "{}: database not found; run `ctem assess` first or pass --db",
            path.display()
        )),
        Ok(metadata) if metadata.is_dir() => Some(folder_as_database(path)),
        Ok(metadata) if metadata.is_file() && metadata.len() == 0 => Some(format!(
            "{}: the database file is empty; run `ctem assess` first or pass --db",
            path.display()
        )),
        Ok(_) => None,
    }
}

/// Reopens the findings whose risk acceptance has ended, so that a command
/// never shows one as accepted. A command that only reads goes on when
/// this fails (another process may hold the write lock during a long
/// `ctem assess`), with a warning.
pub(crate) fn expire_acceptances_before_reading(store: &mut Store) {
    if let Err(error) = store.expire_acceptances(Utc::now()) {
        eprintln!(
            "warning: ended risk acceptances were not reopened, so some findings may show as \
             risk_accepted past their end: {error}"
        );
    }
}

/// An output file of `ctem assess`, opened before the run is recorded.
/// A regular file (new, or existing behind any symbolic links) is written
/// to a temporary file in its folder and renamed over it when its text is
/// complete, so a failed run leaves no partial file. Anything else that
/// exists, such as `/dev/stdout` or a named pipe, is opened and written in
/// place.
///
/// NOTE: a regular file that the rename replaces gets the default mode, not
/// the mode it had.
enum PendingFile {
    Replace {
        path: PathBuf,
        target: PathBuf,
        file: tempfile::NamedTempFile,
    },
    InPlace {
        path: PathBuf,
        file: std::fs::File,
    },
}

impl PendingFile {
    fn create(path: &Path) -> Result<PendingFile> {
        let nothing_written = "nothing was assessed or written";
        let target = match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                bail!(
                    "cannot write {}: it is a folder, not a file; {nothing_written}",
                    path.display()
                )
            }
            Ok(metadata) if !metadata.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {}; {nothing_written}", path.display()))?;
                return Ok(PendingFile::InPlace {
                    path: path.to_path_buf(),
                    file,
                });
            }
            // The rename replaces the file that the links lead to, not the links.
            Ok(_) => std::fs::canonicalize(path)
                .with_context(|| format!("cannot write {}; {nothing_written}", path.display()))?,
            Err(_) => path.to_path_buf(),
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            bail!(
                "cannot write {}: folder {} not found; {nothing_written}",
                path.display(),
                folder.display()
            );
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".ctem-").suffix(".tmp");
        // The mode of `std::fs::write`: read and write for all, less the umask.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let file = builder.tempfile_in(folder).with_context(|| {
            format!(
                "cannot write {}: cannot create a file in {}; {nothing_written}",
                path.display(),
                folder.display()
            )
        })?;
        Ok(PendingFile::Replace {
            path: path.to_path_buf(),
            target,
            file,
        })
    }

    fn write(self, text: &str) -> Result<()> {
        match self {
            PendingFile::Replace { path, target, mut file } => {
                file.write_all(text.as_bytes())
                    .and_then(|()| file.flush())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                file.persist(&target)
                    .map_err(|error| error.error)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            PendingFile::InPlace { path, mut file } => {
                file.write_all(text.as_bytes())
                    .and_then(|()| file.flush())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }
}

pub(crate) fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`ctem ... | head`) is not an error worth a message.
            let _ = stdout.write_all(text.as_bytes());
            Ok(())
        }
    }
}

fn assess_table(
    outcome: &AssessOutcome,
    top: &[StoredFinding],
    open_count: u64,
    assets: &BTreeMap<AssetKey, Asset>,
    owners: &OwnerResolver,
    sla: &SlaPolicy,
) -> String {
    let summary = &outcome.summary;
    let parsed = outcome
        .files
        .iter()
        .filter(|file| matches!(file.status, FileStatus::Parsed { .. }))
        .count();
    let failed = outcome.failures().count();
    let skipped = outcome
        .files
        .iter()
        .filter(|file| matches!(file.status, FileStatus::Skipped { .. }))
        .count();

    let mut text = format!(
        "Run {} at {}: {parsed} report(s) read, {failed} failed, {skipped} skipped; {} findings seen: {} new, {} still open, {} reopened, {} fixed. {} open in total.\n\n",
        summary.run_id,
        summary.observed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        summary.seen,
        summary.new,
        summary.still_open,
        summary.reopened,
        summary.fixed,
        open_count,
    );
    if open_count == 0 {
        text.push_str("No open findings.\n");
        return text;
    }
    if top.is_empty() {
        return text;
    }
    text.push_str(&format!("Top {} risks:\n", top.len()));
    text.push_str(&findings_table(top, assets, owners, sla, true).to_string());
    text.push('\n');
    text
}

fn findings_table(
    findings: &[StoredFinding],
    assets: &BTreeMap<AssetKey, Asset>,
    owners: &OwnerResolver,
    sla: &SlaPolicy,
    with_rank: bool,
) -> Table {
    let mut table = wide_table();
    let mut header = vec![
        "Tier", "Score", "Deadline", "Finding", "Tools", "Asset", "Status", "Why",
    ];
    if with_rank {
        header.insert(0, "#");
    }
    table.set_header(header);
    for (index, stored) in findings.iter().enumerate() {
        let risk = stored.risk.as_ref();
        let mut asset = assets
            .get(&stored.finding.asset)
            .map_or_else(|| stored.finding.asset.to_string(), describe_asset);
        if let Some(owner) = owner_of(owners, assets, stored) {
            asset.push_str(&format!("\nowner {}", owner.team));
        }
        let mut row: Vec<String> = vec![
            risk.map_or("-".into(), |r| r.tier.to_string()),
            risk.map_or("-".into(), |r| format!("{:.1}", r.score)),
            deadline_cell(
                stored,
                assets.get(&stored.finding.asset).and_then(|asset| asset.criticality),
                sla,
            ),
            format!(
                "{}\n{}\n{}",
                stored.finding.title, stored.finding.rule_id, stored.fingerprint
            ),
            tools_cell(stored),
            asset,
            status_cell(stored),
            risk.map(explanation).unwrap_or_default(),
        ];
        if with_rank {
            row.insert(0, (index + 1).to_string());
        }
        table.add_row(row.iter().map(|cell| table_cell(cell)));
    }
    // The fingerprint stays on one line, so that it can be copied into
    // `ctem triage` or `ctem finding`.
    let finding_column = if with_rank { 4 } else { 3 };
    if let Some(column) = table.column_mut(finding_column) {
        column.set_constraint(ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(38)));
    }
    table
}

/// Creates a table that wraps its cells to the terminal's width, or to
/// 160 characters when standard output is not a terminal.
pub(crate) fn wide_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Ok((width, _)) = terminal_width() {
        table.set_width(width);
    } else {
        table.set_width(160);
    }
    table
}

/// Formats the remediation deadline of a finding. The first lines give
/// the due date under the `[sla]` days to fix, counted from the day ctem
/// first saw the finding, which `ctem sla`, the metrics and the tickets
/// use. A status that the SLA exempts (risk accepted, false
/// positive, not affected) shows `exempt` instead. The last line gives
/// the CISA BOD 26-04 band of the finding, which the organization's days
/// may be shorter or longer than. An unscored finding shows `-`.
pub(crate) fn deadline_cell(stored: &StoredFinding, criticality: Option<Criticality>, sla: &SlaPolicy) -> String {
    let Some(risk) = stored.risk.as_ref() else {
        return "-".to_string();
    };
    let days = sla.days_to_fix(risk.tier, criticality);
    let mut cell = match sla.state(
        SlaInput {
            tier: risk.tier,
            criticality,
            status: stored.status,
            first_seen: stored.first_seen,
            verified_at: stored.verified_at,
        },
        stored.first_seen,
    ) {
        SlaState::Exempt => "exempt".to_string(),
        _ => {
            let due = sla.due_date(risk.tier, criticality, stored.first_seen);
            format!(
                "{}\nSLA {days} day{}",
                due.date_naive(),
                if days == 1 { "" } else { "s" }
            )
        }
    };
    if let Some(deadline) = risk.deadline {
        let band = match deadline {
            Deadline::ThreeDaysForensic => "3 days, forensic triage",
            other => other.describe(),
        };
        cell.push_str(&format!("\nBOD {band}"));
    }
    cell
}

/// Lists the tools that reported a finding, one per line.
fn tools_cell(stored: &StoredFinding) -> String {
    if stored.tools.is_empty() {
        return stored.finding.tool.clone();
    }
    stored.tools.join("\n")
}

/// Formats the status with the end of a risk acceptance and the
/// validation mark.
fn status_cell(stored: &StoredFinding) -> String {
    let mut cell = stored.status.to_string();
    if stored
        .risk
        .as_ref()
        .and_then(ctem_engine::policy::accepted_by_policy)
        .is_some()
    {
        cell.push_str("\naccepted by policy");
    }
    if let Some(until) = stored.accepted_until {
        cell.push_str(&format!("\nuntil {}", until.format("%Y-%m-%d %H:%M")));
    }
    if let Some(validation) = stored.validation {
        cell.push_str(&format!("\nvalidation {validation}"));
    }
    cell
}

pub(crate) fn terminal_width() -> Result<(u16, u16), ()> {
    if !std::io::stdout().is_terminal() {
        return Err(());
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.parse().ok())
        .map(|width| (width, 0))
        .ok_or(())
}

fn assess_json(
    outcome: &AssessOutcome,
    top: &[StoredFinding],
    open_count: u64,
    assets: &BTreeMap<AssetKey, Asset>,
    owners: &OwnerResolver,
    attack_paths: Option<&PathsView>,
) -> Result<String> {
    let summary = &outcome.summary;
    let files: Vec<_> = outcome
        .files
        .iter()
        .map(|file| match &file.status {
            FileStatus::Parsed { format, findings } => {
                json!({"path": file.path.display().to_string(), "status": "parsed", "format": format, "findings": findings})
            }
            FileStatus::Failed(error) => json!({
                "path": file.path.display().to_string(),
                "status": "failed",
                "format": error.format,
                "position": error.position.map(|p| p.to_string()),
                "error": error.message,
            }),
            FileStatus::Skipped { reason } => json!({"path": file.path.display().to_string(), "status": "skipped", "reason": reason}),
        })
        .collect();
    let top_findings: Vec<_> = top
        .iter()
        .map(|stored| {
            let json = StoredFindingJson::new(stored).with_owner(owner_of(owners, assets, stored));
            let mut value = serde_json::to_value(json).expect("findings serialize");
            if let Some(asset) = assets.get(&stored.finding.asset) {
                value["asset_details"] = serde_json::to_value(asset).expect("assets serialize");
            }
            value["reasons"] = json!(stored.risk.as_ref().map(|r| reasons(r, 4)).unwrap_or_default());
            value["accepted_by_policy"] = json!(stored.risk.as_ref().and_then(ctem_engine::policy::accepted_by_policy));
            value
        })
        .collect();
    let document = json!({
        "run": {
            "id": summary.run_id,
            "observed_at": summary.observed_at,
            "seen": summary.seen,
            "new": summary.new,
            "still_open": summary.still_open,
            "reopened": summary.reopened,
            "fixed": summary.fixed,
        },
        "open_findings": open_count,
        "files": files,
        "vex": {
            "statements": outcome.vex.statements,
            "findings": outcome.vex.findings,
            "warnings": outcome.vex.warnings,
        },
        "top": top_findings,
        "attack_paths": attack_paths,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

fn parse_command(args: ParseArgs) -> Result<u8> {
    let display = args.file.display().to_string();
    let parser = match &args.as_format {
        Some(id) => match find(id) {
            Some(parser) => parser,
            None => bail!("unknown format {id:?}; run `ctem formats` for the list"),
        },
        None => {
            let head = std::fs::read(&args.file)
                .map(|bytes| {
                    bytes
                        .into_iter()
                        .take(ctem_ingest::DETECTION_HEAD_BYTES)
                        .collect::<Vec<u8>>()
                })
                .with_context(|| format!("cannot read {display}"))?;
            if ctem_ingest::util::is_blank(&head) {
                eprintln!("error: {display}: the file is empty: the scan that wrote it may have failed");
                return Ok(EXIT_FILE_FAILED);
            }
            match detect(&head) {
                Some(parser) => parser,
                None => {
                    eprintln!(
                        "error: {display}: not in a format ctem reads; run `ctem formats`, or name the format with --as"
                    );
                    return Ok(EXIT_FILE_FAILED);
                }
            }
        }
    };

    let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {display}"))?;
    let mut reader = std::io::BufReader::new(file);
    ctem_ingest::util::skip_byte_order_mark(&mut reader).with_context(|| format!("cannot read {display}"))?;
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| default_target(parser.info().id, &display));
    let mut sink = ctem_ingest::CollectingSink::default();
    let context = ParseContext {
        path: &display,
        default_target: &target,
    };
    if let Err(error) = parser.parse(&context, &mut reader, &mut sink) {
        eprintln!("error: {error}");
        return Ok(EXIT_FILE_FAILED);
    }
    let report = sink.into_report();

    let rendered = match args.format {
        OutputFormat::Json => {
            let findings: Vec<_> = report.findings.iter().map(ParsedFindingJson::new).collect();
            let scopes: Vec<_> = report
                .targets
                .iter()
                .map(|(tool, target)| json!({"tool": tool, "target": target}))
                .collect();
            let document = json!({
                "path": display,
                "format": parser.info().id,
                "scopes": scopes,
                "assets": report.assets,
                "relationships": report.relationships,
                "findings": findings,
                "vex": report.vex,
            });
            serde_json::to_string_pretty(&document)? + "\n"
        }
        OutputFormat::Table => {
            let mut table = Table::new();
            table
                .load_preset(UTF8_BORDERS_ONLY)
                .set_header(["Severity", "Finding", "Asset", "Location"]);
            for finding in &report.findings {
                let location = &finding.location;
                let place = location
                    .path
                    .clone()
                    .map(|path| match location.start_line {
                        Some(line) => format!("{path}:{line}"),
                        None => path,
                    })
                    .or_else(|| location.url.clone())
                    .or_else(|| location.port.map(|port| format!("port {port}")))
                    .unwrap_or_default();
                table.add_row([
                    finding.severity.to_string(),
                    format!("{} ({})", finding.title, finding.rule_id),
                    finding.asset.to_string(),
                    place,
                ]);
            }
            format!(
                "{display}: {} ({} findings, {} assets, {} VEX statements)\n{table}\n",
                parser.info().id,
                report.findings.len(),
                report.assets.len(),
                report.vex.len()
            )
        }
    };
    write_output(None, &rendered)?;
    Ok(0)
}

fn formats_command(args: FormatsArgs) -> Result<u8> {
    let rendered = match args.format {
        OutputFormat::Json => {
            let formats: Vec<_> = registry()
                .iter()
                .map(|parser| {
                    let info = parser.info();
                    json!({"id": info.id, "name": info.name, "tool": info.tool, "versions": info.versions})
                })
                .collect();
            serde_json::to_string_pretty(&formats)? + "\n"
        }
        OutputFormat::Table => {
            let mut table = Table::new();
            table
                .load_preset(UTF8_BORDERS_ONLY)
                .set_header(["Id", "Format", "Tool", "Versions"]);
            for parser in registry() {
                let info = parser.info();
                table.add_row([info.id, info.name, info.tool, info.versions]);
            }
            format!("{table}\n")
        }
    };
    write_output(None, &rendered)?;
    Ok(0)
}

fn findings_command(args: FindingsArgs) -> Result<u8> {
    let statuses = args
        .status
        .iter()
        .map(|text| text.parse::<LifecycleStatus>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let min_severity = args
        .severity
        .as_deref()
        .map(|text| text.parse::<Severity>())
        .transpose()?;
    let tier = args
        .tier
        .as_deref()
        .map(|text| text.parse::<Tier>())
        .transpose()
        .map_err(anyhow::Error::msg)?;

    let (config, config_path) = load_config(args.config.as_deref(), &[])?;
    let owners = owner_resolver(&config, config_path.as_deref())?;
    let mut store = open_existing_store(&args.db.db)?;
    expire_acceptances_before_reading(&mut store);
    let filter = FindingFilter {
        active_only: statuses.is_empty() && !args.all,
        statuses,
        tool: args.tool.clone(),
        target: args.target.clone(),
        min_severity,
        tier,
        asset: args.asset.clone(),
        limit: args.limit,
    };
    let findings = store.findings(&filter)?;
    let assets: BTreeMap<AssetKey, Asset> = store
        .assets()?
        .into_iter()
        .map(|asset| (asset.key.clone(), asset))
        .collect();

    let rendered = match args.format {
        OutputFormat::Json => {
            let rows: Vec<_> = findings
                .iter()
                .map(|stored| StoredFindingJson::new(stored).with_owner(owner_of(&owners, &assets, stored)))
                .collect();
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        OutputFormat::Table => {
            format!(
                "{}\n{} findings\n",
                findings_table(&findings, &assets, &owners, &config.sla.policy(), false),
                findings.len()
            )
        }
    };
    write_output(None, &rendered)?;
    Ok(0)
}

/// A progress bar on stderr while files are parsed, shown only when stderr
/// is a terminal so that logs and pipes stay clean.
pub(crate) struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    pub(crate) fn new() -> TerminalProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} parsing {pos}/{len} files {wide_msg}")
                    .expect("the template is valid"),
            );
            bar
        });
        TerminalProgress { bar }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn files_found(&self, count: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(count as u64);
        }
    }

    fn file_done(&self, path: &Path) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(path.display().to_string());
        }
    }
}
