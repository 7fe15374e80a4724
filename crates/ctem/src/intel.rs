//! `ctem intel update`, `import`, `status` and `show`: argument handling and
//! output; the work happens in `ctem_intel`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use ctem_engine::config::{Config, config_folder};
use ctem_intel::sync::Outcome;
use ctem_intel::sync::{Feed, SyncOptions, plan};
use ctem_intel::taxii_feed::pull_taxii;
use ctem_intel::{
    Exploitation, Intel, IntelCache, SourceKind, SourceState, Syncer, TechnicalImpact, Validators, VulnerabilityFacts,
    import,
};
use ctem_model::VulnerabilityId;
use serde_json::json;

use crate::EXIT_FILE_FAILED;
use crate::cli::{
    IntelCacheArgs, IntelCommand, IntelImportArgs, IntelPruneArgs, IntelShowArgs, IntelStatusArgs, IntelUpdateArgs,
    OutputFormat,
};
use crate::commands::missing_config;
use crate::output::printable;

/// Runs an `intel` subcommand and returns its exit code.
pub fn run(command: IntelCommand) -> Result<u8> {
    match command {
        IntelCommand::Update(args) => update(args),
        IntelCommand::Import(args) => import_command(args),
        IntelCommand::Status(args) => status(args),
        IntelCommand::Show(args) => show(args),
        IntelCommand::Prune(args) => prune(args),
    }
}

/// The configuration and the cache that a command works on.
struct Setup {
    config: Config,
    cache: IntelCache,
}

fn setup(args: &IntelCacheArgs) -> Result<Setup> {
    let config_path = match &args.config {
        Some(path) if !path.is_file() => bail!("{}", missing_config(path)),
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from("ctem.toml")).filter(|path| path.is_file()),
    };
    let config = match &config_path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let base = config_folder(config_path.as_deref());
    let configured = config.intel.cache.as_ref().map(|dir| base.join(dir));
    let root = IntelCache::resolve_root(args.intel_cache.as_deref(), configured.as_deref())?;
    Ok(Setup {
        config,
        cache: IntelCache::new(root),
    })
}

fn update(args: IntelUpdateArgs) -> Result<u8> {
    let Setup { config, cache } = setup(&args.cache)?;
    let feeds = select(plan(&config.intel.sources).map_err(anyhow::Error::msg)?, &args.sources)?;
    // TAXII collections are pulled when no --source narrows the update.
    let collections = if args.sources.is_empty() {
        config.intel.taxii.as_slice()
    } else {
        &[]
    };
    if feeds.is_empty() && collections.is_empty() {
        bail!("no source is enabled; see [intel.sources] and [[intel.taxii]] in ctem.toml");
    }
    let options = SyncOptions::from_settings(&config.intel.download).map_err(anyhow::Error::msg)?;
    let syncer = Syncer::new(cache, options)?;

    let reports = syncer.update_all(&feeds)?;
    let mut failed = 0;
    let mut total = reports.len();
    if !collections.is_empty() {
        let lock = syncer.cache().lock()?;
        for source in collections {
            total += 1;
            match pull_taxii(syncer.cache(), &lock, source) {
                Ok(pull) if pull.file.is_some() => outln!(
                    "taxii {}: updated, {} objects in {} pages{}",
                    source.name,
                    pull.objects,
                    pull.pages,
                    if pull.complete {
                        ""
                    } else {
                        ", more left for the next update"
                    }
                ),
                Ok(_) => outln!("taxii {}: not modified, no objects added", source.name),
                Err(error) => {
                    failed += 1;
                    outln!("taxii {}: failed: {error}", source.name);
                }
            }
        }
    }

    for report in &reports {
        match &report.result {
            Ok(Outcome::Updated(state)) => outln!("{}: updated, {}", report.kind, describe(state)),
            Ok(Outcome::NotModified(state)) => outln!("{}: not modified, {}", report.kind, describe(state)),
            Err(error) => {
                failed += 1;
                outln!("{}: failed: {error}", report.kind);
            }
        }
    }
    outln!(
        "{} of {total} sources current in {}",
        total - failed,
        syncer.cache().root().display()
    );
    Ok(if failed > 0 { EXIT_FILE_FAILED } else { 0 })
}

/// The enabled feeds, or those that `--source` names (each must be enabled).
fn select(feeds: Vec<Feed>, names: &[String]) -> Result<Vec<Feed>> {
    if names.is_empty() {
        return Ok(feeds);
    }
    let mut selected = Vec::new();
    for name in names {
        let Some(kind) = SourceKind::parse(name) else {
            let valid: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
            bail!("--source {name}: unknown source; expected one of {}", valid.join(", "));
        };
        let Some(feed) = feeds.iter().find(|feed| feed.kind == kind) else {
            bail!(
                "--source {kind}: the source is not enabled; set [intel.sources.{kind}] enabled = true (and url where it has no default)"
            );
        };
        if !selected.contains(feed) {
            selected.push(feed.clone());
        }
    }
    Ok(selected)
}

fn import_command(args: IntelImportArgs) -> Result<u8> {
    let Setup { cache, .. } = setup(&args.cache)?;
    for path in &args.paths {
        if !path.exists() {
            bail!("{}: no such file or folder", path.display());
        }
    }

    let report = import(&cache, &args.paths, &Validators::default())?;

    for imported in &report.imported {
        let records = imported
            .records
            .map(|n| format!(", {}", records(n)))
            .unwrap_or_default();
        outln!(
            "imported {} as {}{records} -> {}",
            printable(&imported.path),
            imported.kind,
            printable(imported.cached.display())
        );
    }
    for failed in &report.failed {
        outln!("failed {}: {}", printable(&failed.path), printable(&failed.reason));
    }
    for skipped in &report.skipped {
        outln!("skipped {}: {}", printable(&skipped.path), printable(&skipped.reason));
    }
    outln!(
        "{} imported, {} failed, {} skipped into {}",
        report.imported.len(),
        report.failed.len(),
        report.skipped.len(),
        cache.root().display()
    );
    let failed = !report.failed.is_empty() || report.imported.is_empty();
    Ok(if failed { EXIT_FILE_FAILED } else { 0 })
}

fn prune(args: IntelPruneArgs) -> Result<u8> {
    let Setup { cache, .. } = setup(&args.cache)?;
    let lock = cache.lock()?;
    let old = cache.prune_epss_history(&lock, args.epss_days, args.dry_run)?;
    let verb = if args.dry_run { "Would delete" } else { "Deleted" };
    for (path, day) in &old {
        outln!("{verb} {day}: {}", printable(path.display()));
    }
    match (old.first(), old.last()) {
        (Some((_, first)), Some((_, last))) => outln!(
            "{verb} {} EPSS history file(s) of {first} to {last}, more than {} days before the newest day.",
            old.len(),
            args.epss_days
        ),
        _ => outln!(
            "No EPSS history day is more than {} days before the newest day.",
            args.epss_days
        ),
    }
    Ok(0)
}

fn status(args: IntelStatusArgs) -> Result<u8> {
    let Setup { config, cache } = setup(&args.cache)?;
    let feeds = plan(&config.intel.sources).map_err(anyhow::Error::msg)?;
    let statuses = cache
        .status()
        .with_context(|| format!("cannot read the intelligence cache {}", cache.root().display()))?;
    let now = Utc::now();

    let rows: Vec<_> = statuses
        .into_iter()
        .map(|status| {
            let feed = feeds.iter().find(|feed| feed.kind == status.kind);
            (status, feed)
        })
        .filter(|(status, feed)| feed.is_some() || status.state.is_some() || status.last_error.is_some())
        .collect();

    match args.format {
        OutputFormat::Json => {
            let sources: Vec<_> = rows
                .iter()
                .map(|(status, feed)| {
                    let state = status.state.as_ref();
                    json!({
                        "kind": status.kind,
                        "enabled": feed.is_some(),
                        "url": feed.map(|f| f.url.as_str()),
                        "path": status.path,
                        "origin": state.map(|s| s.origin),
                        "source": state.map(|s| s.source.as_str()),
                        "fetched_at": state.map(|s| s.fetched_at),
                        "age_seconds": state.map(|s| (now - s.fetched_at).num_seconds()),
                        "changed_at": state.map(|s| s.changed_at),
                        "version": state.and_then(|s| s.version.as_deref()),
                        "date": state.and_then(|s| s.date),
                        "records": state.and_then(|s| s.records),
                        "size": state.map(|s| s.size),
                        "sha256": state.and_then(|s| s.sha256.as_deref()),
                        "last_error": status.last_error,
                    })
                })
                .collect();
            let document = json!({ "cache": cache.root(), "sources": sources });
            outln!("{}", serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Table => {
            outln!("intelligence cache: {}", cache.root().display());
            let mut table = Table::new();
            table
                .load_preset(UTF8_BORDERS_ONLY)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header([
                    "source",
                    "age",
                    "version",
                    "date",
                    "records",
                    "path",
                    "url",
                    "last error",
                ]);
            for (status, feed) in &rows {
                let state = status.state.as_ref();
                let url = feed.map(|f| f.url.clone()).unwrap_or_else(|| "disabled".to_string());
                let last_error = status
                    .last_error
                    .as_ref()
                    .map(|e| format!("{} ago: {}", age(now, e.at), e.message))
                    .unwrap_or_default();
                table.add_row([
                    status.kind.to_string(),
                    state.map_or_else(|| "never".to_string(), |s| age(now, s.fetched_at)),
                    state.and_then(|s| s.version.clone()).unwrap_or_default(),
                    state.and_then(|s| s.date).map(|d| d.to_string()).unwrap_or_default(),
                    state.and_then(|s| s.records).map(|n| n.to_string()).unwrap_or_default(),
                    status.path.as_ref().map(|p| printable(p.display())).unwrap_or_default(),
                    url,
                    last_error,
                ]);
            }
            outln!("{table}");
        }
    }
    Ok(0)
}

/// One line about a cached file: records, version, date and size.
fn describe(state: &SourceState) -> String {
    let mut parts = Vec::new();
    if let Some(count) = state.records {
        parts.push(records(count));
    }
    if let Some(version) = &state.version {
        parts.push(format!("version {version}"));
    }
    if let Some(date) = state.date {
        parts.push(format!("dated {date}"));
    }
    parts.push(format!("{} bytes", state.size));
    parts.join(", ")
}

/// `1 record`, `3 records`.
fn records(count: u64) -> String {
    if count == 1 {
        "1 record".to_string()
    } else {
        format!("{count} records")
    }
}

/// Formats how long ago `then` was, in the largest whole unit: `40 s`, `3 min`, `5 h`, `2 d`.
fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86400 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86400),
    }
}

/// Prints the facts of every loaded source about one vulnerability.
fn show(args: IntelShowArgs) -> Result<u8> {
    let intel = match &args.intel {
        Some(dir) => {
            Intel::load_dir(dir).with_context(|| format!("cannot load intelligence from {}", dir.display()))?
        }
        None => {
            let Setup { cache, .. } = setup(&args.cache)?;
            cache
                .load_intel()
                .with_context(|| format!("cannot load the intelligence cache {}", cache.root().display()))?
        }
    };
    if intel.is_empty() {
        bail!("no intelligence is loaded: run `ctem intel import PATH` or `ctem intel update`, or pass --intel DIR");
    }
    let id: VulnerabilityId = args
        .id
        .trim()
        .parse()
        .map_err(|error| anyhow::anyhow!("{:?} is not a vulnerability id: {error}", args.id))?;
    let cves = match &id {
        VulnerabilityId::Cve(cve) => vec![cve.clone()],
        other => intel.osv().cves(other),
    };
    if cves.is_empty() {
        eprintln!("{}: no loaded source links it to a CVE", args.id);
        return Ok(EXIT_FILE_FAILED);
    }
    let facts: Vec<VulnerabilityFacts> = cves.iter().map(|cve| intel.facts(cve)).collect();
    let known = facts.iter().any(is_known);
    match args.format {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&facts)?),
        OutputFormat::Table => {
            for fact in &facts {
                out!("{}", render_facts(fact));
            }
        }
    }
    Ok(if known { 0 } else { EXIT_FILE_FAILED })
}

/// Returns whether any source states a fact about the CVE.
fn is_known(facts: &VulnerabilityFacts) -> bool {
    facts.description.is_some()
        || facts.kev.is_some()
        || facts.epss.is_some()
        || !facts.cvss.is_empty()
        || !facts.techniques.is_empty()
        || !facts.exploits.is_empty()
        || !facts.threats.is_empty()
}

/// Formats the facts of one CVE as indented text, each value followed by
/// its source in brackets.
fn render_facts(facts: &VulnerabilityFacts) -> String {
    use std::fmt::Write;

    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "{}{}",
        facts.cve,
        if facts.rejected { " (rejected)" } else { "" }
    ));
    if !facts.aliases.is_empty() {
        let aliases: Vec<String> = facts.aliases.iter().map(ToString::to_string).collect();
        line(format!("  aliases: {}", aliases.join(", ")));
    }
    if let Some(description) = &facts.description {
        // The first paragraph, on one line; JSON output has the whole text.
        let first = description.value.trim().split("\n\n").next().unwrap_or_default();
        line(format!(
            "  description: {}",
            first.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        line(format!("    [{}]", description.source));
    }

    match &facts.kev {
        Some(kev) => {
            let entry = &kev.value;
            let mut text = format!("  KEV: listed {}", entry.date_added);
            if let Some(due) = entry.due_date {
                let _ = write!(text, ", due {due}");
            }
            let ransomware = if entry.known_ransomware_use {
                "known"
            } else {
                "not known"
            };
            let _ = write!(text, ", use in ransomware campaigns {ransomware}");
            line(text);
            text = format!("    {}", entry.name);
            line(text);
            line(format!("    [{}]", kev.source));
        }
        None => line("  KEV: not listed in the loaded catalog".to_string()),
    }
    for listing in &facts.kev_listings {
        let date = listing
            .date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "undated".to_string());
        line(format!("  KEV listing stated by a record: added {date}"));
        line(format!("    [{listing}]"));
    }

    if let Some(epss) = &facts.epss {
        line(format!(
            "  EPSS: {:.5} (percentile {:.5})",
            epss.value.epss, epss.value.percentile
        ));
        line(format!("    [{}]", epss.source));
    }
    if let Some(maximum) = &facts.epss_recent_maximum {
        let day = maximum.date.map(|day| format!(" on {day}")).unwrap_or_default();
        line(format!(
            "  EPSS {}-day maximum: {:.5}{day}, the probability that scoring uses",
            maximum.days, maximum.epss
        ));
    }

    if !facts.cvss.is_empty() {
        line("  CVSS:".to_string());
        let chosen = facts.chosen_cvss.as_ref().map(|choice| choice.index);
        for (index, cvss) in facts.cvss.iter().enumerate() {
            let marker = if Some(index) == chosen { "*" } else { " " };
            let mut text = format!(
                "  {marker} {} {:.1} {}",
                cvss.value.version.as_str(),
                cvss.value.score,
                cvss.value.vector
            );
            if let Some(stated) = cvss.value.stated_score {
                let _ = write!(text, " (the source states {stated:.1})");
            }
            line(text);
            line(format!("      [{}]", cvss.source));
        }
        if let Some(choice) = &facts.chosen_cvss {
            line(format!("    * used for scoring: {}", choice.reason));
        }
    }

    for cwe in &facts.cwes {
        line(format!("  CWE: {}  [{}]", cwe.value, cwe.source));
    }

    for ssvc in &facts.ssvc {
        let points = &ssvc.value;
        let mut parts = Vec::new();
        if let Some(exploitation) = points.exploitation {
            let word = match exploitation {
                Exploitation::None => "none",
                Exploitation::Poc => "public PoC",
                Exploitation::Active => "active",
            };
            parts.push(format!("exploitation {word}"));
        }
        if let Some(automatable) = points.automatable {
            parts.push(format!("automatable {}", if automatable { "yes" } else { "no" }));
        }
        if let Some(impact) = points.technical_impact {
            let word = match impact {
                TechnicalImpact::Partial => "partial",
                TechnicalImpact::Total => "total",
            };
            parts.push(format!("technical impact {word}"));
        }
        line(format!("  SSVC: {}", parts.join(", ")));
        line(format!("    [{}]", ssvc.source));
    }
    for outcome in &facts.ssvc_outcomes {
        let mut text = format!("  SSVC {}: {}", outcome.table, outcome.outcome);
        if !outcome.unknown.is_empty() {
            let _ = write!(text, " (not known here: {})", outcome.unknown.join(", "));
        }
        line(text);
    }

    for technique in &facts.techniques {
        let value = &technique.value;
        line(format!(
            "  ATT&CK: {} {} ({})",
            value.id.as_str(),
            value.name,
            value.mapping_type.as_str()
        ));
        line(format!("    [{}]", technique.source));
    }

    for exploit in &facts.exploits {
        let value = &exploit.value;
        line(format!(
            "  exploit: {} {} {}",
            value.kind.as_str(),
            value.reference,
            value.title
        ));
        line(format!("    [{}]", exploit.source));
    }
    for reference in &facts.exploit_references {
        line(format!("  exploit reference: {}", reference.value.url));
        line(format!("    [{}]", reference.source));
    }
    for threat in &facts.threats {
        let link = &threat.value;
        let mut text = format!(
            "  threat: {} {} ({})",
            link.threat.kind.as_str(),
            link.threat.name,
            link.relationship.as_str()
        );
        if let Some(via) = &link.via {
            let _ = write!(text, " through {} {}", via.kind.as_str(), via.name);
        }
        line(text);
        line(format!("    [{}]", threat.source));
    }
    out
}
