use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Continuous threat exposure management: turns the outputs of the scanners
/// you already run into a short, justified list of what to fix first.
#[derive(Debug, Parser)]
#[command(name = "ctem", version, about, long_about = None)]
pub struct Cli {
    /// Log debug messages to stderr (`CTEM_LOG` sets a finer filter).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest reports, enrich, score, record the run and print the top risks.
    Assess(AssessArgs),
    /// Show the attack paths from the internet to the crown jewels, their
    /// choke points and the fewest fixes that cut them, without a database.
    Paths(PathsArgs),
    /// Group the findings into remediation actions (upgrade, patch, rotate,
    /// reconfigure) and rank them by risk removed per unit of effort,
    /// without a database.
    Actions(ActionsArgs),
    /// Evaluate a Rego gate policy over the findings of the inputs, for CI:
    /// exit code 1 with the policy's messages when it denies, 0 otherwise.
    Gate(GateArgs),
    /// Parse one report without a database and print what ctem reads from it.
    Parse(ParseArgs),
    /// List the report formats ctem reads.
    Formats(FormatsArgs),
    /// List findings from the database.
    Findings(FindingsArgs),
    /// Measure coverage, detection and remediation times, SLA compliance,
    /// the open backlog and the trend per run.
    Metrics(MetricsArgs),
    /// List the findings that are past their SLA due date.
    Sla(SlaArgs),
    /// Show one finding with its score, its sources and its history.
    Finding(FindingArgs),
    /// Set the status or the validation mark of findings, with a reason.
    Triage(TriageArgs),
    /// Apply the merge rules again to every stored finding.
    Redupe(RedupeArgs),
    /// Download, import and inspect the threat intelligence cache.
    #[command(subcommand)]
    Intel(IntelCommand),
    /// Open, update and close tracker tickets for the remediation actions,
    /// and read decisions back from the tracker.
    #[command(subcommand)]
    Tickets(TicketsCommand),
}

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// Sync the tracker configured in [tickets] with the database: create,
    /// update, close and reopen tickets, and turn won't-fix and done
    /// tickets into risk acceptances and claimed fixes (exit code 1 if a
    /// ticket failed).
    Sync(TicketsSyncArgs),
    /// List the tickets ctem keeps, with their state at the last sync.
    Status(TicketsStatusArgs),
}

#[derive(Debug, Args)]
pub struct TicketsSyncArgs {
    /// Print what would change without contacting the tracker or writing
    /// the database.
    #[arg(long)]
    pub dry_run: bool,

    /// Configuration file. Default: ./ctem.toml when it exists.
    #[arg(long)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub db: DbArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TicketsStatusArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    /// Download every enabled feed into the cache (exit code 1 if any failed).
    Update(IntelUpdateArgs),
    /// Copy feed files or folders into the cache, for offline use.
    Import(IntelImportArgs),
    /// Show what the cache holds for each source.
    Status(IntelStatusArgs),
    /// Print everything known about a CVE, with the source and date of each value.
    Show(IntelShowArgs),
    /// Delete the EPSS history days older than a retention, to save space.
    Prune(IntelPruneArgs),
}

/// The options that locate the configuration and the cache.
#[derive(Debug, Args)]
pub struct IntelCacheArgs {
    /// Configuration file. Default: ./ctem.toml when it exists.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// The cache folder. Default: CTEM_INTEL_CACHE, then `[intel] cache`
    /// in ctem.toml, then $XDG_CACHE_HOME/ctem/intel or ~/.cache/ctem/intel.
    #[arg(long, value_name = "DIR")]
    pub intel_cache: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IntelUpdateArgs {
    /// Only these sources (kev, epss, attack, ctid-mappings, exploit-db,
    /// metasploit, nvd, ...); default: every enabled source.
    #[arg(long = "source", value_name = "KIND", value_delimiter = ',')]
    pub sources: Vec<String>,

    #[command(flatten)]
    pub cache: IntelCacheArgs,
}

#[derive(Debug, Args)]
pub struct IntelImportArgs {
    /// Feed files and folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub cache: IntelCacheArgs,
}

#[derive(Debug, Args)]
pub struct IntelStatusArgs {
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    #[command(flatten)]
    pub cache: IntelCacheArgs,
}

#[derive(Debug, Args)]
pub struct IntelPruneArgs {
    /// Days of EPSS history to keep before the newest day (at least 30,
    /// the days scoring reads).
    #[arg(long, value_name = "DAYS")]
    pub epss_days: i64,

    /// List the files that would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub cache: IntelCacheArgs,
}

#[derive(Debug, Args)]
pub struct IntelShowArgs {
    /// The CVE id, such as CVE-2023-22515, or a GHSA or OSV id that an OSV
    /// advisory links to a CVE.
    pub id: String,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Read the intelligence files under this folder instead of the cache.
    #[arg(long, value_name = "DIR")]
    pub intel: Option<PathBuf>,

    #[command(flatten)]
    pub cache: IntelCacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

/// The database file option shared by every command that uses the store.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// SQLite database file. `ctem assess` creates it when it is missing.
    #[arg(long, env = "CTEM_DB", default_value = "ctem.db")]
    pub db: PathBuf,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Report files and folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Configuration file. Default: ./ctem.toml, else ctem.toml in the first
    /// folder given as a path.
    #[arg(long)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub db: DbArgs,

    /// Folder of threat intelligence files (CISA KEV JSON, FIRST EPSS CSV),
    /// searched recursively.
    #[arg(long)]
    pub intel: Option<PathBuf>,

    /// The intelligence cache to read when neither --intel nor ctem.toml
    /// names intelligence files (see `ctem intel status`).
    #[arg(long, value_name = "DIR")]
    pub intel_cache: Option<PathBuf>,

    /// Scope target for reports that name none (an image, a repository, a
    /// network). Findings are closed only by a later scan of the same target.
    #[arg(long)]
    pub target: Option<String>,

    /// When the scans were made, as RFC 3339 (2026-11-30T08:00:00Z), for
    /// importing history. Default: now.
    #[arg(long)]
    pub at: Option<String>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the result here instead of to standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,

    /// Write a self-contained HTML report to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,

    /// How many of the highest-scoring open findings to show, in the
    /// output and the HTML report; 0 shows them all, as a limit of 0 would
    /// hide every risk.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Write nothing if any file fails to parse.
    #[arg(long)]
    pub strict: bool,
}

/// The inputs of a command that analyzes reports without a database.
#[derive(Debug, Args)]
pub struct OfflineInputs {
    /// Report files and folders (searched recursively), as for `ctem assess`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Configuration file. Default: ./ctem.toml, else ctem.toml in the first
    /// folder given as a path.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Folder of threat intelligence files (CISA KEV JSON, FIRST EPSS CSV),
    /// searched recursively.
    #[arg(long)]
    pub intel: Option<PathBuf>,

    /// The intelligence cache to read when neither --intel nor ctem.toml
    /// names intelligence files (see `ctem intel status`).
    #[arg(long, value_name = "DIR")]
    pub intel_cache: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    #[command(flatten)]
    pub inputs: OfflineInputs,

    /// Only the paths to this crown jewel: its name in ctem.toml, its asset
    /// name or its asset key.
    #[arg(long, value_name = "CROWN_JEWEL")]
    pub to: Option<String>,

    #[arg(long, value_enum, default_value_t = PathsFormat::Table)]
    pub format: PathsFormat,

    /// How many of the most likely paths to show for each crown jewel.
    #[arg(short = 'k', value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub k: u16,
    /// Show the paths that would remain after this fix: a finding's
    /// fingerprint (or its first 8 or more characters), a rule or CVE id
    /// (every finding of it), or a configuration change or its asset key as
    /// the table prints them. Repeat for several fixes.
    #[arg(long = "fix", value_name = "FIX")]
    pub fixes: Vec<String>,
    /// Show the blast radius of this asset instead of the paths: what an
    /// attacker who holds it reaches, crown jewels first. The asset key, or
    /// the asset name when one asset has it.
    #[arg(long, value_name = "ASSET", conflicts_with_all = ["to"])]
    pub from: Option<String>,

    /// Write the result here instead of to standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The gate policy: a Rego file of package `ctem.gate` whose rule
    /// `deny` is a set of messages (see docs/policy.md).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,

    #[command(flatten)]
    pub inputs: OfflineInputs,

    /// A ctem database, read only: findings it does not hold are `new`.
    /// Without it, or when the file does not exist or is empty, every
    /// finding is new.
    #[arg(long, value_name = "DB")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(flatten)]
    pub inputs: OfflineInputs,

    /// How many of the highest-ranked actions to show; 0 shows them all,
    /// as in `ctem assess --top`.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// A table followed by the reason for each rank, or JSON (see
    /// docs/json-output.md).
    #[arg(long, value_enum, default_value_t = ActionsFormat::Table)]
    pub format: ActionsFormat,

    /// Write the result here instead of to standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionsFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathsFormat {
    Table,
    Json,
    /// Graphviz DOT: the paths as a directed graph.
    Dot,
    /// BloodHound OpenGraph JSON of the whole attack graph, for BloodHound
    /// or another tool that reads it.
    Opengraph,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The report file.
    pub file: PathBuf,

    /// Read the file as this format (see `ctem formats`) instead of
    /// detecting it.
    #[arg(long = "as", value_name = "FORMAT_ID")]
    pub as_format: Option<String>,

    /// Scope target for a report that names none.
    #[arg(long)]
    pub target: Option<String>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct FormatsArgs {
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Configuration file, for the owner rules and the `[sla]` days of the
    /// Deadline column. Default: ./ctem.toml when it exists; without one,
    /// owners come from the inventory alone and the SLA days are the defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Only findings with these statuses (new, open, reopened, fixed,
    /// risk_accepted, false_positive, not_affected). Default: the findings
    /// that need fixing (new, open, reopened).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,

    /// List findings of every status.
    #[arg(long)]
    pub all: bool,

    /// Only findings of this tool.
    #[arg(long)]
    pub tool: Option<String>,

    /// Only findings of this scope target.
    #[arg(long)]
    pub target: Option<String>,

    /// Only findings of at least this severity (info, low, medium, high, critical).
    #[arg(long)]
    pub severity: Option<String>,

    /// Only findings of this tier (P1, P2, P3, P4).
    #[arg(long)]
    pub tier: Option<String>,

    /// Only findings on this asset key (such as host:10.0.0.5).
    #[arg(long)]
    pub asset: Option<String>,

    /// At most this many findings.
    #[arg(long)]
    pub limit: Option<usize>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// The configuration file option of the commands that read only `[sla]`.
#[derive(Debug, Args)]
pub struct SlaConfigArgs {
    /// Configuration file, for its [sla] days to fix. Default: ./ctem.toml
    /// when it exists, else the default days (P1 7, P2 30, P3 90, P4 180).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// The reference time, as RFC 3339 (2026-12-01T00:00:00Z): ages and
    /// overdue days are measured at it. Default: now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupByArg {
    /// The owner of the finding's asset.
    Team,
    Tier,
    Severity,
    /// Each tool that reported the finding.
    Source,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub sla: SlaConfigArgs,

    /// The start of the period: RFC 3339 (2026-11-01T00:00:00Z), a date
    /// (2026-11-01, midnight UTC) or a number of days before --now (30d).
    /// Default: the whole history.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Add a breakdown of open findings, MTTR and SLA compliance by this group.
    #[arg(long, value_enum, value_name = "GROUP")]
    pub by: Option<GroupByArg>,

    /// The coverage window in days: an asset assessed within it counts as covered.
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub window: u32,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SlaArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub sla: SlaConfigArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct FindingArgs {
    /// The fingerprint of the finding or of one of its sources.
    pub fingerprint: String,

    #[command(flatten)]
    pub db: DbArgs,

    /// Configuration file, for the owner rules and the `[sla]` days of the
    /// Deadline column. Default: ./ctem.toml when it exists; without one,
    /// owners come from the inventory alone and the SLA days are the defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).args(["status", "validate"])))]
pub struct TriageArgs {
    /// Fingerprints of findings or of their sources. `-` reads more from
    /// standard input, one per line.
    #[arg(required = true, value_name = "FINGERPRINT")]
    pub fingerprints: Vec<String>,

    /// The new status. `risk-accepted` needs --approver and --expires;
    /// `open` undoes a triage status.
    #[arg(long, value_enum)]
    pub status: Option<TriageStatus>,

    /// Set the validation mark instead of the status: whether a test showed
    /// the finding exploitable where it is.
    #[arg(long, value_enum, value_name = "MARK")]
    pub validate: Option<ValidationMark>,

    /// Why, kept in the history of each finding (at most 4 KiB).
    #[arg(long)]
    pub reason: String,

    /// The person who approved a risk acceptance (required with
    /// risk-accepted).
    #[arg(long, value_name = "NAME")]
    pub approver: Option<String>,

    /// When a risk acceptance ends: RFC 3339 (2026-12-31T18:00:00Z), a
    /// date (2026-12-31, meaning 00:00 UTC that day) or a number of days
    /// after --at (30d). Required with risk-accepted.
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,

    /// The person who made the change. Default: $USER, else "unknown".
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,

    /// When the change was made, as RFC 3339, for importing history.
    /// Default: now.
    #[arg(long)]
    pub at: Option<String>,

    #[command(flatten)]
    pub db: DbArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// The statuses that `ctem triage --status` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriageStatus {
    #[value(alias = "risk_accepted")]
    RiskAccepted,
    #[value(alias = "false_positive")]
    FalsePositive,
    #[value(alias = "not_affected")]
    NotAffected,
    Fixed,
    Open,
}

/// The marks that `ctem triage --validate` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidationMark {
    Confirmed,
    Refuted,
}

#[derive(Debug, Args)]
pub struct RedupeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}
