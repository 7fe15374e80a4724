//! The main job: ingest, resolve, enrich, score and persist one run.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use ctem_ingest::{ParseError, ParsedReport, Parser, default_target, detect};
use ctem_intel::{Intel, IntelCache};
use ctem_model::fingerprint::primary_vulnerability_id;
use ctem_model::{Asset, AssetKey, CveId, Finding, Fingerprint, LifecycleStatus, Relationship, VexStatement};
use ctem_store::{FindingFilter, RunInput, RunSummary, Scope, ScoredFinding, SourceRecord, Store};
use globset::Glob;

use crate::config::Config;
use crate::files::{InputFile, collect_files, parse_file, read_head};
use crate::inventory::Inventory;
use crate::paths::{self, AttackPaths, DEFAULT_PATH_COUNT, PathFinding, PathsInput};
use crate::policy::{FindingPolicy, PolicyError, policy_paths};
use crate::prioritization::Prioritizer;
use crate::vex::{self, VexSummary};
use ctem_graph::export::ImportLimits;

/// The inputs and options of one assessment.
#[derive(Debug, Clone)]
pub struct AssessRequest {
    /// Report files and folders (searched recursively).
    pub paths: Vec<PathBuf>,
    pub config: Config,
    /// The configuration file, which is never ingested as a report, and
    /// whose folder relative paths in it are resolved against.
    pub config_path: Option<PathBuf>,
    /// A folder of threat intelligence files (`--intel`).
    pub intel_dir: Option<PathBuf>,
    /// The intelligence cache folder (`--intel-cache`), read when neither
    /// `--intel` nor the configuration names intelligence files.
    pub intel_cache: Option<PathBuf>,
    /// The scope target for reports that name none (`--target`).
    pub target: Option<String>,
    /// When the scans were observed (`--at`). `None`: now, taken when the
    /// run is written, so that runs of several processes at once are
    /// recorded in the order they write.
    pub observed_at: Option<DateTime<Utc>>,
    /// Write nothing if any file fails.
    pub strict: bool,
}

/// Receives progress while files are parsed. Called from worker threads.
pub trait Progress: Sync {
    fn files_found(&self, count: usize);
    fn file_done(&self, path: &Path);
}

/// A progress receiver that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn files_found(&self, _count: usize) {}
    fn file_done(&self, _path: &Path) {}
}

/// What became of one input file.
#[derive(Debug, Clone)]
pub enum FileStatus {
    Parsed {
        format: &'static str,
        findings: usize,
    },
    Failed(ParseError),
    /// Found in a folder but in no format ctem reads.
    Skipped {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub status: FileStatus,
}

/// The result of a run that was written to the store.
#[derive(Debug)]
pub struct AssessOutcome {
    pub summary: RunSummary,
    pub files: Vec<FileOutcome>,
    /// This run's findings, ranked by tier, then by expected loss.
    pub ranked: Vec<ScoredFinding>,
    /// The run's assets after the configuration was applied.
    pub assets: BTreeMap<AssetKey, Asset>,
    pub intel: Intel,
    /// What the run's VEX statements changed.
    pub vex: VexSummary,
    /// The attack paths to the crown jewels; `None` when no asset is a
    /// crown jewel.
    pub attack_paths: Option<AttackPaths>,
}

/// The result of [`analyze_paths`]: the scored findings, assets and attack
/// paths of the inputs, computed without a database.
#[derive(Debug)]
pub struct PathsOutcome {
    pub files: Vec<FileOutcome>,
    pub intel: Intel,
    pub vex: VexSummary,
    /// The resolved assets of the inputs.
    pub assets: Vec<Asset>,
    /// Every finding of the inputs, scored and ranked by tier, then by
    /// expected loss.
    pub findings: Vec<ScoredFinding>,
    /// `None` when no asset is a crown jewel.
    pub attack_paths: Option<AttackPaths>,
}

impl PathsOutcome {
    /// Files that failed to parse.
    pub fn failures(&self) -> impl Iterator<Item = &ParseError> {
        failures(&self.files)
    }
}

impl AssessOutcome {
    /// Files that failed to parse.
    pub fn failures(&self) -> impl Iterator<Item = &ParseError> {
        failures(&self.files)
    }
}

fn failures(files: &[FileOutcome]) -> impl Iterator<Item = &ParseError> {
    files.iter().filter_map(|file| match &file.status {
        FileStatus::Failed(error) => Some(error),
        _ => None,
    })
}

/// A reason a run stopped before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("{0}")]
    Input(String),
    #[error("threat intelligence: {0}")]
    Intel(String),
    #[error("{count} file(s) failed and --strict is set, so nothing was written:\n{details}")]
    Strict { count: usize, details: String },
    #[error(transparent)]
    Store(#[from] ctem_store::StoreError),
    #[error(transparent)]
    OpenGraph(#[from] paths::OpenGraphError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// Runs one assessment and records it in the store in one transaction.
pub fn assess(
    request: &AssessRequest,
    store: &mut Store,
    progress: &dyn Progress,
) -> Result<AssessOutcome, AssessError> {
    let policy = load_policy(request)?;
    assess_with_policy(request, policy.as_ref(), store, progress)
}

/// Runs [`assess`] with the policy of [`load_policy`], loaded once by a
/// caller that checks it before it opens the store.
pub fn assess_with_policy(
    request: &AssessRequest,
    policy: Option<&FindingPolicy>,
    store: &mut Store,
    progress: &dyn Progress,
) -> Result<AssessOutcome, AssessError> {
    let Ingested {
        intel,
        files,
        sources,
        inventory,
        findings,
        scopes,
        vex,
    } = ingest(request, progress)?;

    let dismissed = dismissed_fingerprints(store)?;
    let (assets, attack_paths, ranked) = score_in_context(request, findings, &inventory, &intel, policy, &dismissed)?;

    let run = RunInput {
        observed_at: request.observed_at.unwrap_or_else(Utc::now),
        sources,
        scopes,
        assets,
        relationships: inventory.relationships,
        findings: ranked,
    };

    let summary = match request.observed_at {
        Some(_) => store.record_run(&run)?,
        None => store.record_current_run(&run)?,
    };
    tracing::info!(
        run_id = summary.run_id,
        new = summary.new,
        fixed = summary.fixed,
        "run recorded"
    );

    Ok(AssessOutcome {
        summary,
        files,
        ranked: run.findings,
        assets: inventory.assets,
        intel,
        vex,
        attack_paths,
    })
}

/// Reads, resolves and scores the inputs like [`assess`], then derives the
/// attack graph and keeps the `path_count` most likely paths to each crown
/// jewel. Nothing is written.
pub fn analyze_paths(
    request: &AssessRequest,
    progress: &dyn Progress,
    path_count: usize,
) -> Result<PathsOutcome, AssessError> {
    let (analysis, scoring_paths) = analyze_with_paths(request, progress)?;
    let Analysis {
        files,
        intel,
        vex,
        assets,
        relationships,
        findings: ranked,
    } = analysis;

    let assets: Vec<Asset> = assets.into_values().collect();
    // Scoring reads the default number of paths, so that `-k` changes
    // what is shown and not the ranking.
    let attack_paths = match path_count {
        DEFAULT_PATH_COUNT => scoring_paths,
        _ => {
            let findings: Vec<PathFinding<'_>> = ranked.iter().map(PathFinding::of).collect();
            paths::compute(PathsInput {
                assets: &assets,
                relationships: &relationships,
                findings: &findings,
                intel: &intel,
                controls: &request.config.controls.to_controls(),
                opengraph: &read_opengraph(request)?,
                dismissed: &HashSet::new(),
                path_count,
            })?
        }
    };
    Ok(PathsOutcome {
        files,
        intel,
        vex,
        assets,
        findings: ranked,
        attack_paths,
    })
}

/// The result of [`analyze`]: the scored findings and assets of the
/// inputs, computed without a database.
#[derive(Debug)]
pub struct Analysis {
    pub files: Vec<FileOutcome>,
    pub intel: Intel,
    pub vex: VexSummary,
    /// The resolved assets of the inputs.
    pub assets: BTreeMap<AssetKey, Asset>,
    /// The relationships between the assets.
    pub relationships: Vec<Relationship>,
    /// Every finding of the inputs, scored and adjusted by the
    /// configuration's policies, ranked by tier, then by expected loss.
    pub findings: Vec<ScoredFinding>,
}

impl Analysis {
    /// Files that failed to parse.
    pub fn failures(&self) -> impl Iterator<Item = &ParseError> {
        failures(&self.files)
    }
}

/// Reads, resolves and scores the inputs like [`assess`], applying the
/// configuration's policies. Nothing is written.
pub fn analyze(request: &AssessRequest, progress: &dyn Progress) -> Result<Analysis, AssessError> {
    analyze_with_paths(request, progress).map(|(analysis, _)| analysis)
}

/// Runs [`analyze`] and returns the attack paths that scoring read too.
fn analyze_with_paths(
    request: &AssessRequest,
    progress: &dyn Progress,
) -> Result<(Analysis, Option<AttackPaths>), AssessError> {
    let policy = load_policy(request)?;
    let Ingested {
        intel,
        files,
        inventory,
        findings,
        vex,
        ..
    } = ingest(request, progress)?;
    let (_, attack_paths, findings) =
        score_in_context(request, findings, &inventory, &intel, policy.as_ref(), &HashSet::new())?;
    let analysis = Analysis {
        files,
        intel,
        vex,
        assets: inventory.assets,
        relationships: inventory.relationships,
        findings,
    };
    Ok((analysis, attack_paths))
}

/// The run's assets, its attack paths and its ranked findings.
type Scored = (Vec<Asset>, Option<AttackPaths>, Vec<ScoredFinding>);

/// Derives the attack graph first, because each finding's paths, choke
/// points and blast radius are inputs of its score, then scores and ranks
/// the findings.
fn score_in_context(
    request: &AssessRequest,
    findings: Vec<Finding>,
    inventory: &Inventory,
    intel: &Intel,
    policy: Option<&FindingPolicy>,
    dismissed: &HashSet<String>,
) -> Result<Scored, AssessError> {
    let assets: Vec<Asset> = inventory.assets.values().cloned().collect();
    let attack_paths = attack_paths(
        request,
        &assets,
        &inventory.relationships,
        &findings,
        intel,
        dismissed,
        DEFAULT_PATH_COUNT,
    )?;
    let ranked = score(
        findings,
        inventory,
        intel,
        policy,
        &request.config,
        attack_paths.as_ref(),
    )?;
    Ok((assets, attack_paths, ranked))
}

/// Derives the attack paths of the run's findings, each fingerprint once,
/// before they are scored.
fn attack_paths(
    request: &AssessRequest,
    assets: &[Asset],
    relationships: &[Relationship],
    findings: &[Finding],
    intel: &Intel,
    dismissed: &HashSet<String>,
    path_count: usize,
) -> Result<Option<AttackPaths>, AssessError> {
    let fingerprints: Vec<Fingerprint> = findings.iter().map(Finding::fingerprint).collect();
    let mut seen = HashSet::new();
    let unique: Vec<PathFinding<'_>> = findings
        .iter()
        .zip(&fingerprints)
        .filter(|(_, fingerprint)| seen.insert(fingerprint.as_str()))
        .map(|(finding, fingerprint)| PathFinding {
            fingerprint: fingerprint.as_str(),
            finding,
        })
        .collect();
    let computed = paths::compute(PathsInput {
        assets,
        relationships,
        findings: &unique,
        intel,
        controls: &request.config.controls.to_controls(),
        opengraph: &read_opengraph(request)?,
        dismissed,
        path_count,
    })?;
    Ok(computed)
}

/// Loads the policy files of `[policy] files`, relative to the
/// configuration's folder, or returns `None` without such files. A caller
/// that loads the policy first can reject it before it opens the store
/// (see [`assess_with_policy`]).
pub fn load_policy(request: &AssessRequest) -> Result<Option<FindingPolicy>, AssessError> {
    let files = &request.config.policy.files;
    if files.is_empty() {
        return Ok(None);
    }
    let policy = FindingPolicy::load(&policy_paths(files, &config_dir(request)))?;
    Ok(Some(policy))
}

/// The inputs of a run, read and resolved, before scoring.
struct Ingested {
    intel: Intel,
    files: Vec<FileOutcome>,
    sources: Vec<SourceRecord>,
    inventory: Inventory,
    /// Every finding of the run, with the VEX statements of the run applied.
    findings: Vec<Finding>,
    scopes: BTreeSet<Scope>,
    vex: VexSummary,
}

/// Loads the intelligence, parses every input file, resolves the inventory
/// and applies the run's VEX statements. With `--strict`, a file that
/// failed stops the run here.
fn ingest(request: &AssessRequest, progress: &dyn Progress) -> Result<Ingested, AssessError> {
    let base = config_dir(request);
    let intel = load_intel(request, &base)?;

    let exclude = excluded_paths(request, &base);
    let inputs = collect_files(&request.paths, &exclude).map_err(AssessError::Input)?;
    if inputs.is_empty() {
        return Err(AssessError::Input("no report files found under the given paths".into()));
    }
    progress.files_found(inputs.len());

    let parsed = parse_all(&inputs, request, &base, progress);

    let mut files = Vec::with_capacity(parsed.len());
    let mut reports = Vec::new();
    let mut sources = Vec::new();
    for (input, result) in inputs.iter().zip(parsed) {
        let status = match result {
            Parsed::Report { parser, report, sha256 } => {
                sources.push(SourceRecord {
                    path: input.path.display().to_string(),
                    format: parser.info().id.to_string(),
                    sha256,
                    finding_count: report.findings.len() as u64,
                    error: None,
                });
                let status = FileStatus::Parsed {
                    format: parser.info().id,
                    findings: report.findings.len(),
                };
                reports.push(report);
                status
            }
            Parsed::Failed(error) => {
                sources.push(SourceRecord {
                    path: input.path.display().to_string(),
                    format: error.format.clone(),
                    sha256: String::new(),
                    finding_count: 0,
                    error: Some(error.to_string()),
                });
                FileStatus::Failed(error)
            }
            Parsed::Skipped(reason) => FileStatus::Skipped { reason },
        };
        files.push(FileOutcome {
            path: input.path.clone(),
            status,
        });
    }

    let failures: Vec<String> = files
        .iter()
        .filter_map(|file| match &file.status {
            FileStatus::Failed(error) => Some(format!("  {error}")),
            _ => None,
        })
        .collect();
    if request.strict && !failures.is_empty() {
        return Err(AssessError::Strict {
            count: failures.len(),
            details: failures.join("\n"),
        });
    }

    let (inventory, mut findings, scopes, statements) = resolve(reports, &request.config);
    // VEX statements apply to the findings of every report of the run, so
    // they wait until all are read, and come before scoring because a
    // not affected or fixed finding scores 0.
    let vex = vex::apply(&statements, &mut findings, &inventory);
    if vex.statements > 0 {
        tracing::info!(
            statements = vex.statements,
            findings = vex.findings,
            "VEX statements applied"
        );
    }
    Ok(Ingested {
        intel,
        files,
        sources,
        inventory,
        findings,
        scopes,
        vex,
    })
}

/// Returns the fingerprints of every source of the stored findings that a
/// person marked false positive or not affected, which give no attack
/// step.
fn dismissed_fingerprints(store: &Store) -> Result<HashSet<String>, AssessError> {
    let filter = FindingFilter {
        statuses: vec![LifecycleStatus::FalsePositive, LifecycleStatus::NotAffected],
        ..FindingFilter::default()
    };
    let mut dismissed = HashSet::new();
    for stored in store.findings(&filter)? {
        for source in store.finding_sources(&stored.fingerprint)? {
            dismissed.insert(source.fingerprint.to_string());
        }
        dismissed.insert(stored.fingerprint.to_string());
    }
    Ok(dismissed)
}

/// Reads the OpenGraph files that `[attack_paths] opengraph` names,
/// relative to the configuration's folder.
fn read_opengraph(request: &AssessRequest) -> Result<Vec<paths::OpenGraphInput>, AssessError> {
    let base = config_dir(request);
    request
        .config
        .attack_paths
        .opengraph
        .iter()
        .map(|name| {
            let path = base.join(name);
            let text = read_bounded(&path, ImportLimits::default().max_bytes).map_err(|error| {
                AssessError::Input(format!(
                    "cannot read the OpenGraph file {} named in [attack_paths] opengraph: {error}",
                    path.display()
                ))
            })?;
            Ok(paths::OpenGraphInput { path, text })
        })
        .collect()
}

/// Reads a text file of at most `limit` bytes; reading stops past the
/// limit, so a huge or endless file (a device, a pipe) costs no memory.
fn read_bounded(path: &Path, limit: usize) -> std::io::Result<String> {
    use std::io::Read;

    let mut text = String::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_string(&mut text)?;
    if text.len() > limit {
        return Err(std::io::Error::other(format!(
            "the file has more than {limit} bytes, the limit for OpenGraph files; split it into several files"
        )));
    }
    Ok(text)
}

fn config_dir(request: &AssessRequest) -> PathBuf {
    crate::config::config_folder(request.config_path.as_deref()).to_path_buf()
}

/// Loads intelligence from the configuration and from `--intel`, or from
/// the intelligence cache when neither names any. A file that fails to
/// load stops the run: scoring without a feed the user asked for would
/// rank findings wrongly without a sign.
fn load_intel(request: &AssessRequest, base: &Path) -> Result<Intel, AssessError> {
    let settings = &request.config.intel;
    if !settings.names_files() && request.intel_dir.is_none() {
        return load_cached_intel(request, base);
    }
    let mut intel = Intel::default();
    if settings.kev.is_some() || !settings.epss.is_empty() {
        let kev = settings.kev.as_ref().map(|path| base.join(path));
        let epss: Vec<PathBuf> = settings.epss.iter().map(|path| base.join(path)).collect();
        let loaded = Intel::load_files(kev.as_deref(), &epss).map_err(|e| AssessError::Intel(e.to_string()))?;
        intel.merge(loaded);
    }
    let dirs = settings
        .dir
        .as_ref()
        .map(|dir| base.join(dir))
        .into_iter()
        .chain(request.intel_dir.clone());
    for dir in dirs {
        let loaded = Intel::load_dir(&dir).map_err(|e| AssessError::Intel(e.to_string()))?;
        intel.merge(loaded);
    }
    Ok(intel)
}

/// Loads the KEV catalog and EPSS scores of the intelligence cache. A
/// cache that does not exist (never updated) gives no intelligence.
fn load_cached_intel(request: &AssessRequest, base: &Path) -> Result<Intel, AssessError> {
    let configured = request.config.intel.cache.as_ref().map(|dir| base.join(dir));
    let root = match IntelCache::resolve_root(request.intel_cache.as_deref(), configured.as_deref()) {
        Ok(root) => root,
        Err(error) => {
            tracing::info!(%error, "no intelligence cache; scoring without KEV and EPSS");
            return Ok(Intel::default());
        }
    };
    if !root.is_dir() {
        tracing::info!(cache = %root.display(), "the intelligence cache does not exist; run ctem intel update");
        return Ok(Intel::default());
    }
    IntelCache::new(root)
        .load_intel()
        .map_err(|e| AssessError::Intel(e.to_string()))
}

/// The configuration file and the intelligence, OpenGraph and policy
/// files it names, so that a folder holding both the reports and these is assessed
/// without them.
fn excluded_paths(request: &AssessRequest, base: &Path) -> BTreeSet<PathBuf> {
    let settings = &request.config.intel;
    let named = request
        .config_path
        .iter()
        .cloned()
        .chain(settings.kev.iter().map(|path| base.join(path)))
        .chain(settings.epss.iter().map(|path| base.join(path)))
        .chain(request.config.attack_paths.opengraph.iter().map(|path| base.join(path)))
        .chain(request.config.policy.files.iter().map(|path| base.join(path)));
    let mut excluded: BTreeSet<PathBuf> = named.filter_map(|path| path.canonicalize().ok()).collect();
    let dirs = settings
        .dir
        .iter()
        .map(|dir| base.join(dir))
        .chain(request.intel_dir.clone());
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).into_iter().flatten() {
            if entry.file_type().is_file()
                && let Ok(path) = entry.path().canonicalize()
            {
                excluded.insert(path);
            }
        }
    }
    excluded
}

enum Parsed {
    Report {
        parser: &'static dyn Parser,
        report: ParsedReport,
        sha256: String,
    },
    Failed(ParseError),
    Skipped(String),
}

/// Parses every file on all cores, returning results in input order.
fn parse_all(inputs: &[InputFile], request: &AssessRequest, base: &Path, progress: &dyn Progress) -> Vec<Parsed> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Parsed>>> = Mutex::new((0..inputs.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len());

    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(index) else {
                        break;
                    };
                    let parsed = parse_one(input, request, base);
                    progress.file_done(&input.path);
                    results.lock().expect("no worker panics while holding the lock")[index] = Some(parsed);
                }
            });
        }
    });

    results
        .into_inner()
        .expect("no worker panics while holding the lock")
        .into_iter()
        .map(|parsed| parsed.expect("every index was processed"))
        .collect()
}

fn parse_one(input: &InputFile, request: &AssessRequest, base: &Path) -> Parsed {
    let display = input.path.display().to_string();
    let head = match read_head(&input.path) {
        Ok(head) => head,
        Err(error) => {
            return Parsed::Failed(ParseError::new(
                &display,
                "unknown",
                None,
                format!("cannot read: {error}"),
            ));
        }
    };
    // An empty report is a scan that failed to write its output: it
    // fails, where an empty file of another kind (`.gitkeep`) is skipped.
    if ctem_ingest::util::is_blank(&head) && (input.named || has_report_extension(&input.path)) {
        return Parsed::Failed(ParseError::new(
            &display,
            "unknown",
            None,
            "the file is empty: the scan that wrote it may have failed",
        ));
    }
    let Some(parser) = detect(&head) else {
        let reason = "not in a format ctem reads (run `ctem formats` for the list)".to_string();
        if input.named {
            return Parsed::Failed(ParseError::new(&display, "unknown", None, reason));
        }
        return Parsed::Skipped(reason);
    };

    let target = scope_target(input, request, base, parser);
    match parse_file(parser, &input.path, &target) {
        Ok((report, sha256)) => Parsed::Report { parser, report, sha256 },
        Err(error) => Parsed::Failed(error),
    }
}

/// Returns whether the file's extension is one that scanners write reports in.
fn has_report_extension(path: &Path) -> bool {
    const REPORT_EXTENSIONS: [&str; 7] = ["json", "jsonl", "sarif", "xml", "csv", "nessus", "cdx"];
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            REPORT_EXTENSIONS
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
        })
}

/// The scope target for a report that names none: `--target`, else the
/// first `[[targets]]` mapping whose glob matches the path, else
/// [`default_target`].
fn scope_target(input: &InputFile, request: &AssessRequest, base: &Path, parser: &dyn Parser) -> String {
    if let Some(target) = &request.target {
        return target.clone();
    }
    // Both sides are canonicalized, so that a mapping applies however the
    // configuration and the reports were named (relative or absolute).
    let path = input.path.canonicalize().unwrap_or_else(|_| input.path.clone());
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let relative = path.strip_prefix(&base).unwrap_or(&input.path);
    for mapping in &request.config.targets {
        // `./scans/*.json` means what `scans/*.json` means, and an absolute
        // pattern matches the canonical path.
        let pattern = mapping.path.strip_prefix("./").unwrap_or(&mapping.path);
        let Ok(glob) = Glob::new(pattern) else {
            continue;
        };
        let matcher = glob.compile_matcher();
        if matcher.is_match(relative) || matcher.is_match(&input.path) || matcher.is_match(&path) {
            return mapping.target.clone();
        }
    }
    default_target(parser.info().id, &input.path.display().to_string())
}

/// Merges the reports into one inventory, the run's findings, the scopes
/// the run covered and the VEX statements of the run.
fn resolve(
    reports: Vec<ParsedReport>,
    config: &Config,
) -> (Inventory, Vec<Finding>, BTreeSet<Scope>, Vec<VexStatement>) {
    let mut inventory = Inventory::default();
    let mut findings = Vec::new();
    let mut scopes = BTreeSet::new();
    let mut statements = Vec::new();

    for report in reports {
        for asset in report.assets {
            inventory.add_asset(asset);
        }
        for relationship in report.relationships {
            inventory.add_relationship(relationship);
        }
        for (tool, target) in report.targets {
            scopes.insert(Scope { tool, target });
        }
        for finding in report.findings {
            inventory.ensure_asset(&finding.asset);
            if let Some(target) = &finding.target {
                scopes.insert(Scope {
                    tool: finding.tool.clone(),
                    target: target.clone(),
                });
            }
            findings.push(finding);
        }
        statements.extend(report.vex);
    }

    inventory.apply_config(config);
    (inventory, findings, scopes, statements)
}

/// Scores every finding in its context, applies the policy and ranks
/// them: by tier, then by expected loss (likelihood times impact), so that
/// a tier that the policy sets moves the finding. Findings with the same
/// fingerprint (one weakness reported twice) are kept once, with the
/// higher score.
fn score(
    findings: Vec<Finding>,
    inventory: &Inventory,
    intel: &Intel,
    policy: Option<&FindingPolicy>,
    config: &Config,
    attack_paths: Option<&AttackPaths>,
) -> Result<Vec<ScoredFinding>, AssessError> {
    let mut prioritizer = Prioritizer::new(config, attack_paths);
    prioritizer.prepare(&findings, &inventory.assets);
    let risks = map_on_all_cores(&findings, |finding| {
        let asset = inventory.assets.get(&finding.asset);
        let fingerprint = finding.fingerprint();
        let context = prioritizer.context(fingerprint.as_str(), finding, asset);
        let risk = ctem_risk::assess_with(finding, asset, intel, &context);
        (fingerprint, risk)
    });
    let mut by_fingerprint: BTreeMap<Fingerprint, ScoredFinding> = BTreeMap::new();
    for (finding, (fingerprint, risk)) in findings.into_iter().zip(risks) {
        match by_fingerprint.get(&fingerprint) {
            Some(known) if known.risk.score >= risk.score => {}
            _ => {
                let published = primary_vulnerability_id(&finding)
                    .and_then(|id| id.parse::<CveId>().ok())
                    .and_then(|cve| intel.published(&cve));
                let scored = ScoredFinding {
                    fingerprint: fingerprint.clone(),
                    finding,
                    risk,
                    published,
                };
                by_fingerprint.insert(fingerprint, scored);
            }
        }
    }
    let mut ranked: Vec<ScoredFinding> = by_fingerprint.into_values().collect();
    if let Some(policy) = policy {
        let changed = policy.apply(&mut ranked, &inventory.assets)?;
        tracing::info!(policy = policy.paths(), changed, "policy applied");
    }
    rank(&mut ranked);
    Ok(ranked)
}

/// The minimum number of items that [`map_on_all_cores`] splits across
/// threads. Below it, starting the threads would take longer than the work.
const PARALLEL_MINIMUM: usize = 4096;

/// Applies `map` to every item, on every core for a long slice, and
/// returns the results in the items' order. Each core takes one contiguous
/// range of the slice.
fn map_on_all_cores<T: Sync, R: Send>(items: &[T], map: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < PARALLEL_MINIMUM {
        return items.iter().map(map).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let map = &map;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(map).collect::<Vec<R>>()))
            .collect();
        let mut results = Vec::with_capacity(items.len());
        for worker in workers {
            results.extend(worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        results
    })
}

/// Sorts findings by tier (P1 first), then by expected loss (highest
/// first), then by fingerprint, so that the order never depends on the
/// order of the input files.
pub fn rank(findings: &mut [ScoredFinding]) {
    findings.sort_by(|a, b| {
        a.risk
            .tier
            .cmp(&b.risk.tier)
            .then_with(|| b.risk.expected_loss().total_cmp(&a.risk.expected_loss()))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::Tier;

    fn acme_request(config: Config) -> AssessRequest {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
        AssessRequest {
            paths: vec![dir.join("scans"), dir.join("inventory")],
            config,
            config_path: Some(dir.join("ctem.toml")),
            intel_dir: None,
            intel_cache: None,
            target: None,
            observed_at: None,
            strict: false,
        }
    }

    fn acme_config() -> Config {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme");
        Config::load(&dir.join("ctem.toml")).unwrap()
    }

    #[test]
    fn ranking_sorts_tier_then_loss() {
        let analysis = analyze(&acme_request(acme_config()), &NoProgress).unwrap();
        let ranked = &analysis.findings;
        assert!(ranked.len() > 10, "{}", ranked.len());
        for pair in ranked.windows(2) {
            let (a, b) = (&pair[0].risk, &pair[1].risk);
            assert!(a.tier <= b.tier, "{} before {}", a.tier, b.tier);
            if a.tier == b.tier {
                assert!(a.expected_loss() >= b.expected_loss(), "{a:?} before {b:?}");
            }
        }
    }

    #[test]
    fn map_on_all_cores_keeps_the_order() {
        let items: Vec<u64> = (0..(3 * PARALLEL_MINIMUM as u64 + 7)).collect();
        let doubled = map_on_all_cores(&items, |item| item * 2);
        let expected: Vec<u64> = items.iter().map(|item| item * 2).collect();
        assert_eq!(doubled, expected);
        assert_eq!(map_on_all_cores(&items[..3], |item| item + 1), vec![1, 2, 3]);
    }

    /// Scoring enough findings to use every core gives each fingerprint
    /// the score of its higher-scored copy, as scoring one by one does.
    #[test]
    fn scoring_many_findings_keeps_the_higher_copy() {
        let mut inventory = Inventory::default();
        let mut findings = Vec::new();
        for index in 0..PARALLEL_MINIMUM {
            let asset = AssetKey::new(
                ctem_model::AssetKind::Host,
                &format!("10.0.{}.{}", index % 7, index % 5),
            );
            inventory.ensure_asset(&asset);
            // Each fingerprint twice: the higher severity first for even
            // indices, last for odd ones.
            let mut severities = [ctem_model::Severity::Critical, ctem_model::Severity::Low];
            if index % 2 == 1 {
                severities.reverse();
            }
            for severity in severities {
                findings.push(Finding::new(
                    "trivy",
                    format!("RULE-{index}"),
                    ctem_model::FindingKind::Vulnerability,
                    format!("{severity:?} copy"),
                    severity,
                    asset.clone(),
                ));
            }
        }
        let config = Config::default();
        let intel = Intel::default();

        let prioritizer = Prioritizer::new(&config, None);
        let mut expected: BTreeMap<Fingerprint, f64> = BTreeMap::new();
        for finding in &findings {
            let asset = inventory.assets.get(&finding.asset);
            let fingerprint = finding.fingerprint();
            let context = prioritizer.context(fingerprint.as_str(), finding, asset);
            let score = ctem_risk::assess_with(finding, asset, &intel, &context).score;
            let best = expected.entry(fingerprint).or_insert(score);
            *best = best.max(score);
        }

        let ranked = score(findings, &inventory, &intel, None, &config, None).unwrap();
        assert_eq!(ranked.len(), PARALLEL_MINIMUM);
        assert_eq!(ranked.len(), expected.len());
        for scored in &ranked {
            assert_eq!(
                scored.risk.score, expected[&scored.fingerprint],
                "{}",
                scored.finding.rule_id
            );
            assert_eq!(scored.finding.title, "Critical copy", "{}", scored.finding.rule_id);
        }
    }

    #[test]
    fn graph_fact_changes_score() {
        let analysis = analyze(&acme_request(acme_config()), &NoProgress).unwrap();
        let on_path: Vec<&ScoredFinding> = analysis
            .findings
            .iter()
            .filter(|scored| scored.risk.factors.iter().any(|f| f.name == "attack_path"))
            .collect();
        assert!(!on_path.is_empty(), "the acme example has attack paths to crown jewels");

        // The graph never lowers a score, and it raises the score of a
        // finding whose exposure or value it adds to (an exposed crown
        // jewel has nothing left to raise).
        let mut raised = 0;
        for scored in on_path {
            let asset = analysis.assets.get(&scored.finding.asset);
            let without_graph = ctem_risk::assess(&scored.finding, asset, &analysis.intel);
            assert!(
                scored.risk.score >= without_graph.score,
                "{}: {} with the graph, {} without",
                scored.finding.title,
                scored.risk.score,
                without_graph.score
            );
            if scored.risk.score > without_graph.score + 1e-9 {
                raised += 1;
            }
        }
        assert!(raised > 0, "no score was raised by the graph");
    }

    #[test]
    fn policy_tier_moves_finding_up() {
        let analysis = analyze(&acme_request(acme_config()), &NoProgress).unwrap();
        let last = analysis.findings.last().unwrap();
        assert_ne!(last.risk.tier, Tier::P1, "the last finding is not P1 before the policy");
        let rule_id = last.finding.rule_id.clone();
        let fingerprint = last.fingerprint.clone();
        let score = last.risk.score;

        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("tiers.rego");
        std::fs::write(
            &policy,
            format!(
                "package ctem\n\ntier := {{\"tier\": \"P1\", \"reason\": \"audit finding\"}} if input.rule_id == {rule_id:?}\n"
            ),
        )
        .unwrap();
        let mut config = acme_config();
        config.policy.files = vec![policy];
        let with_policy = analyze(&acme_request(config), &NoProgress).unwrap();

        let position = with_policy
            .findings
            .iter()
            .position(|scored| scored.fingerprint == fingerprint)
            .unwrap();
        let moved = &with_policy.findings[position];
        assert_eq!(moved.risk.tier, Tier::P1);
        let p1_count = with_policy.findings.iter().filter(|f| f.risk.tier == Tier::P1).count();
        assert!(position < p1_count, "position {position} of {p1_count} P1 findings");
        assert_eq!(moved.risk.score, score, "the policy keeps the model's score");
    }
}
