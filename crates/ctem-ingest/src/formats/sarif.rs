//! SARIF 2.1.0 logs from any static analysis tool (CodeQL, Semgrep,
//! Gitleaks, Grype, OWASP Dependency-Check, Flawfinder, SpotBugs, ...).
//!
//! # Reads
//!
//! SARIF 2.1.0 (OASIS standard, and the `rtm.5` schema of the same
//! version). Each run in `runs` is read: `tool.driver` and
//! `tool.extensions` with their rules, `versionControlProvenance`,
//! `originalUriBaseIds`, `artifacts` and `results`. A log that declares
//! another `version` is rejected with the version it declares.
//!
//! # Field mapping
//!
//! One finding per result and location (a result without locations gives
//! one finding without a file).
//!
//! | report | finding |
//! | --- | --- |
//! | `tool.driver.name`, lowercased (`Semgrep OSS` -> `semgrep`) | `tool` |
//! | `ruleId`, else `rule.id`, else the rule at `ruleIndex` | `rule_id` |
//! | `message.text` (or the rule's `messageStrings` with `arguments`), first paragraph | `title` |
//! | the whole message, then the rule's full (or short) description and help | `description` |
//! | see "Severity" below | `severity` |
//! | secret scanner (Gitleaks, TruffleHog) or a rule tag with `secret` | `kind` Secret |
//! | a CVE or GHSA id in the rule id or a tag | `kind` Vulnerability, `vulnerability_ids` |
//! | otherwise | `kind` CodeWeakness |
//! | rule tags (`external/cwe/cwe-79`, `CWE-79`), rule `relationships` to CWE, rule and result property `cwe` | `cwes` |
//! | Dependency-Check's `cvssv2_*` and `cvssv3_*` result properties | `cvss` |
//! | `physicalLocation.artifactLocation.uri` (resolved, see below), `region` | `location` |
//! | `region.snippet.text` (secrets masked) | `evidence` |
//! | `fixes[].description.text` | `fix.description` |
//! | rule `helpUri`, a rule `help` that is an URL, result property `reference` | `references` |
//! | `suppressions` (any not `rejected`) | `source_status` Suppressed (UnderInvestigation when all are `underReview`) |
//! | `fingerprints`, else `partialFingerprints` | `tool_fingerprint` |
//! | `baselineState`, `logicalLocations[0].fullyQualifiedName`, `rank` | `attributes` |
//!
//! Severity is the first of these that the result has:
//!
//! 1. the result property `security-severity` or `severity`;
//! 2. the rule property `security-severity`, a score as GitHub defines it
//!    (9.0 and above Critical, 7.0 High, 4.0 Medium, above 0 Low) or a word;
//! 3. the highest CVSS score of the finding;
//! 4. the result `level`, else the rule's `defaultConfiguration.level`,
//!    else `warning` (the SARIF default): `error` High, `warning` Medium,
//!    `note` Low, `none` Info.
//!
//! DefectDojo maps `note` to Info. ctem keeps it above `none`, because
//! SARIF defines `note` as a minor problem and `none` as no problem.
//!
//! Results whose `kind` says they are no problem (`pass`, `notApplicable`,
//! `informational`) and results whose `baselineState` is `absent` (seen in
//! the baseline, gone from this run) are skipped.
//!
//! A uri with a `uriBaseId` is resolved through `originalUriBaseIds`, up to
//! the base that `versionControlProvenance[].mappedTo` names as the
//! repository root, so the path is relative to the repository. A base with
//! an absolute uri that is not the repository root is prefixed.
//!
//! Secret scanners put the secret in the region snippet, and Gitleaks 7
//! also in the result property `offender`: that value becomes a
//! [`ctem_model::MaskedSecret`] and every occurrence of it is masked.
//!
//! # Scope target
//!
//! `versionControlProvenance[0].repositoryUri` where the run gives it, else
//! [`ParseContext::default_target`]; one scope per run, as (tool, target),
//! so a clean run of one tool closes only that tool's findings. The asset
//! is a [`AssetKind::Repository`] with that identifier.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, normalized path, and the tool
//! fingerprint where the result has one, else the start line.
//! `fingerprints` are complete identities: the method that sorts first is
//! used, at its highest version (`contextHash/v1`), value only.
//! `partialFingerprints` are parts of one identity, so all of them are
//! joined, sorted by key, as `key:value|key:value` (the form DefectDojo
//! uses); taking one part alone would give every result in a file the same
//! id where the first part is a hash of the file. Only the first location
//! of a result carries the tool fingerprint; further locations use their
//! line. Tools repeat fingerprints for distinct results (Flawfinder's
//! `contextHash` for two calls with the same context, SnykCode's
//! `fingerprints["0"]` for two results at one line and different columns),
//! so a tool fingerprint that the run has already given the same rule and
//! path at another position (line and column) gets `#2`, `#3`, ... in the
//! order the results come.
//!
//! # Not read yet
//!
//! `codeFlows`, `stacks`, `graphs`, `relatedLocations`, `threadFlows`,
//! `invocations` (the scan time), `taxonomies` other than CWE relationships,
//! `webRequest`/`webResponse`, `globalMessageStrings`, and external property
//! files. Percent-encoded uris are kept as written.
//!
//! # Memory
//!
//! Runs are read one at a time, and memory stays flat whatever the order
//! of a run's properties. SARIF does not fix that order: writers that sort
//! keys (Semgrep) put `results` before `tool`, and many writers (CodeQL)
//! leave out `artifacts` or `originalUriBaseIds`, so no parser can know
//! that a property still to come will not come. Results stream straight
//! into findings when the run's `tool`, `versionControlProvenance`,
//! `originalUriBaseIds` and `artifacts` precede them (the schema's order).
//! Otherwise each result's raw JSON is kept: up to 32 MiB in memory,
//! beyond that in an anonymous temporary file (in `TMPDIR`) that the system
//! removes when it is closed. When the run object closes, the kept results
//! are read and become findings in their order. An invalid one is reported
//! by its path (`runs[0].results[7]`) and the line and column within it.
//! Such a run scans each result twice and writes it to disk once, so it is
//! slower, not bigger. Rules and artifact locations of
//! one run are held, and so is one small entry per result that has a tool
//! fingerprint, to number repeats.
//!
//! # Reference
//!
//! <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html> and
//! GitHub's `security-severity` convention:
//! <https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning>

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, MaskedSecret, Severity};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

mod fields;
mod schema;
mod spill;

use fields::*;
use schema::*;

const FORMAT_ID: &str = "sarif";
const SUPPORTED_VERSION: &str = "2.1.0";

/// The SARIF 2.1.0 parser.
pub struct Sarif;

impl Parser for Sarif {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "SARIF",
            tool: "any SARIF producer (CodeQL, Semgrep, Gitleaks, Grype, Dependency-Check...)",
            versions: "SARIF 2.1.0",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        if schema_value(head).is_some_and(|schema| schema.to_ascii_lowercase().contains("sarif")) {
            return Detection::Certain;
        }
        let has_version =
            util::contains(head, b"\"version\": \"2.1.0\"") || util::contains(head, b"\"version\":\"2.1.0\"");
        if has_version && util::contains(head, b"\"runs\"") {
            return Detection::Certain;
        }
        Detection::No
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        parse_with_bound(context, reader, sink, spill::MEMORY_BOUND)
    }
}

/// Parses a log, keeping up to `spill_bound` bytes of early results of a
/// run in memory (see "Memory" in the module doc).
fn parse_with_bound(
    context: &ParseContext<'_>,
    reader: &mut dyn BufRead,
    sink: &mut dyn Sink,
    spill_bound: usize,
) -> Result<(), ParseError> {
    let mut deserializer = util::json_deserializer(reader);
    let mut state = LogState {
        context,
        sink,
        assets: BTreeSet::new(),
        spill_bound,
    };
    deserializer
        .deserialize_map(LogVisitor { state: &mut state })
        .and_then(|()| deserializer.end())
        .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
}

/// Returns the text of the `$schema` value in the head, if there is one.
fn schema_value(head: &[u8]) -> Option<String> {
    let key = b"\"$schema\"";
    let start = head.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &head[start..];
    let open = rest.iter().position(|&b| b == b'"')? + 1;
    let close = rest[open..].iter().position(|&b| b == b'"')? + open;
    Some(String::from_utf8_lossy(&rest[open..close]).into_owned())
}

/// State of one log's parse: the sink and the assets already sent.
struct LogState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    assets: BTreeSet<AssetKey>,
    /// The bytes of early results a run keeps in memory before it spills
    /// them to a temporary file.
    spill_bound: usize,
}

/// Reads the root object: the version, then each run.
struct LogVisitor<'s, 'a, 'c> {
    state: &'s mut LogState<'a, 'c>,
}

impl<'de> Visitor<'de> for LogVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a SARIF log: an object with \"version\" and \"runs\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut version: Option<String> = None;
        let mut schema: Option<String> = None;
        let mut seen_runs = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => {
                    let value = map.next_value_seed(LooseTextSeed)?.unwrap_or_default();
                    check_version(&value).map_err(de::Error::custom)?;
                    version = Some(value);
                }
                "$schema" => schema = map.next_value_seed(LooseTextSeed)?,
                "runs" => {
                    seen_runs = true;
                    map.next_value_seed(RunsSeed { state: self.state })?;
                }
                _ => {
                    if other_keys.len() < 5 {
                        other_keys.push(key);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if !seen_runs {
            return Err(de::Error::custom(format!(
                "expected a SARIF log with a \"runs\" array, found an object with keys {other_keys:?}; \
                 is this another tool's report?"
            )));
        }
        let schema_names_version = schema.as_deref().is_some_and(|s| s.contains(SUPPORTED_VERSION));
        if version.is_none() && !schema_names_version {
            return Err(de::Error::custom(format!(
                "the SARIF log declares no \"version\"; expected \"{SUPPORTED_VERSION}\""
            )));
        }
        Ok(())
    }
}

/// Rejects every SARIF version but 2.1.0.
fn check_version(version: &str) -> Result<(), String> {
    if version.trim() == SUPPORTED_VERSION {
        return Ok(());
    }
    Err(format!(
        "unsupported SARIF version {version:?}: this parser reads SARIF {SUPPORTED_VERSION}; \
         convert older logs with the SARIF multitool (`sarif transform --sarif-output-version Current`)"
    ))
}

/// Streams the `runs` array, one run at a time.
struct RunsSeed<'s, 'a, 'c> {
    state: &'s mut LogState<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for RunsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of runs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(RunSeed {
                state: self.state,
                index,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Reading a run.
// ---------------------------------------------------------------------------

/// Run metadata read so far.
#[derive(Default)]
struct RunMeta {
    tool: Option<Tool>,
    version_control: Option<Vec<VersionControl>>,
    base_ids: Option<BTreeMap<String, ArtifactLocation>>,
    artifacts: Option<Vec<Artifact>>,
}

impl RunMeta {
    /// Returns true when every run property that a finding needs has been
    /// read, so results can become findings as they arrive.
    fn complete(&self) -> bool {
        self.tool.is_some() && self.version_control.is_some() && self.base_ids.is_some() && self.artifacts.is_some()
    }
}

/// Reads one run object.
struct RunSeed<'s, 'a, 'c> {
    state: &'s mut LogState<'a, 'c>,
    /// The run's index in `runs`, for error messages.
    index: usize,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a SARIF run object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut meta = RunMeta::default();
        let mut spill = spill::Spill::new(self.state.spill_bound);
        let mut run: Option<Run> = None;

        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => meta.tool = Some(map.next_value()?),
                "versionControlProvenance" => meta.version_control = Some(map.next_value()?),
                "originalUriBaseIds" => meta.base_ids = Some(map.next_value()?),
                "artifacts" => meta.artifacts = Some(map.next_value()?),
                "results" => {
                    // Spilled results come first, so findings keep the
                    // order of the results in the file.
                    if run.is_none() && meta.complete() && spill.is_empty() {
                        run = Some(Run::start(std::mem::take(&mut meta), self.state));
                    }
                    let target = match run.as_mut() {
                        Some(run) => ResultsTarget::Run(run),
                        None => ResultsTarget::Spill(&mut spill),
                    };
                    map.next_value_seed(ResultsSeed {
                        state: self.state,
                        run_index: self.index,
                        target,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let mut run = match run {
            Some(run) => run,
            None => Run::start(meta, self.state),
        };
        let run_index = self.index;
        spill
            .replay(|index, raw| {
                let result = read_result(raw, run_index, index).map_err(ReplayError::Result)?;
                run.emit(self.state, result);
                Ok(())
            })
            .map_err(|error| match error {
                ReplayError::Result(message) => de::Error::custom(message),
                ReplayError::Io(error) => de::Error::custom(spill_failed(run_index, &error)),
            })
    }
}

/// The reason a replay of spilled results stopped.
enum ReplayError {
    /// A spilled result no longer reads, with the message that names it.
    Result(String),
    /// The temporary file failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for ReplayError {
    fn from(error: std::io::Error) -> ReplayError {
        ReplayError::Io(error)
    }
}

/// Reads one result from its raw JSON. The error names the result by its
/// JSON path and gives the position within it.
fn read_result(raw: &[u8], run: usize, index: u64) -> Result<SarifResult, String> {
    serde_json::from_slice(raw).map_err(|error| {
        let reason = error.to_string();
        let reason = match reason.rfind(" at line ") {
            Some(at) => &reason[..at],
            None => &reason,
        };
        format!(
            "runs[{run}].results[{index}] is not a valid SARIF result: {reason} (line {}, column {} of the result)",
            error.line(),
            error.column()
        )
    })
}

fn spill_failed(run: usize, error: &std::io::Error) -> String {
    format!(
        "runs[{run}] lists results before its tool or paths, and keeping them in a temporary file failed: \
         {error}; check the free space of the temporary folder (TMPDIR)"
    )
}

/// The destination of a `results` array: findings, or the spill buffer.
enum ResultsTarget<'r> {
    Run(&'r mut Run),
    Spill(&'r mut spill::Spill),
}

/// Streams a `results` array: each result becomes findings at once when
/// the run is known; otherwise it is checked and its raw JSON spilled.
struct ResultsSeed<'s, 'a, 'c, 'r> {
    state: &'s mut LogState<'a, 'c>,
    /// The run's index in `runs`, for error messages.
    run_index: usize,
    target: ResultsTarget<'r>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of results, or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let spill = match self.target {
            ResultsTarget::Run(run) => {
                while let Some(result) = seq.next_element::<SarifResult>()? {
                    run.emit(self.state, result);
                }
                return Ok(());
            }
            ResultsTarget::Spill(spill) => spill,
        };

        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            // Read as a result only when the run closes: reading it twice
            // cost a third of the parse of a sorted log. A result that is
            // no valid SARIF result fails then, named by its index and the
            // line and column within it.
            let raw = raw.get().as_bytes();
            spill
                .push(raw)
                .map_err(|error| de::Error::custom(spill_failed(self.run_index, &error)))?;
        }
        Ok(())
    }
}

/// A run whose metadata is known: the tool, its rules, the scope and how
/// to resolve paths.
struct Run {
    tool: String,
    /// True for secret scanners, whose results are all secrets.
    secret_scanner: bool,
    rules: RuleTable,
    target: String,
    asset: AssetKey,
    base_ids: BTreeMap<String, ArtifactLocation>,
    /// Base ids that `versionControlProvenance` maps to the repository root.
    repository_roots: BTreeSet<String>,
    artifacts: Vec<Artifact>,
    /// The first position (line, column; 0 when absent) at which each
    /// (rule, path, tool fingerprint) was seen in this run, by hash, so that
    /// repeats at other positions get a number. One small entry per result
    /// keeps the memory of a run of millions of results in tens of MB.
    first_positions: HashMap<u64, (u32, u32)>,
    /// The later positions of the keys that repeat, in the order seen.
    later_positions: HashMap<u64, Vec<(u32, u32)>>,
}

impl Run {
    /// Builds the run from its metadata and declares its scope and asset.
    fn start(meta: RunMeta, state: &mut LogState<'_, '_>) -> Run {
        let tool_parts = meta.tool.unwrap_or_default();
        let tool = tool_name(tool_parts.driver.name.as_deref());
        let secret_scanner = ["gitleaks", "trufflehog"].iter().any(|name| tool.contains(name));
        let rules = RuleTable::new(tool_parts);

        let version_control = meta.version_control.unwrap_or_default();
        let repository = version_control.first();
        let target = repository
            .and_then(|vc| util::non_empty(vc.repository_uri.as_deref()))
            .unwrap_or_else(|| state.context.default_target.to_string());
        let asset = AssetKey::new(AssetKind::Repository, &target);
        if state.assets.insert(asset.clone()) {
            let mut repository_asset = Asset::new(AssetKind::Repository, &target, target.clone());
            if let Some(vc) = repository.filter(|vc| vc.repository_uri.is_some()) {
                repository_asset.add_identifier("repo_url", target.clone());
                if let Some(revision) = util::non_empty(vc.revision_id.as_deref()) {
                    repository_asset.attributes.insert("revision".to_string(), revision);
                }
                if let Some(branch) = util::non_empty(vc.branch.as_deref()) {
                    repository_asset.attributes.insert("branch".to_string(), branch);
                }
            }
            state.sink.asset(repository_asset);
        }
        state.sink.target(&tool, &target);

        let repository_roots = version_control
            .iter()
            .filter_map(|vc| vc.mapped_to.as_ref()?.uri_base_id.clone())
            .collect();
        Run {
            tool,
            secret_scanner,
            rules,
            target,
            asset,
            base_ids: meta.base_ids.unwrap_or_default(),
            repository_roots,
            artifacts: meta.artifacts.unwrap_or_default(),
            first_positions: HashMap::new(),
            later_positions: HashMap::new(),
        }
    }

    /// Sends the findings of one result: one per location.
    fn emit(&mut self, state: &mut LogState<'_, '_>, result: SarifResult) {
        if !is_current_problem(&result) {
            return;
        }
        let rule = self.rules.find(&result);
        let base = self.base_finding(&result, rule, result.properties.commit.as_deref());

        let locations: Vec<Option<&ResultLocation>> = if result.locations.is_empty() {
            vec![None]
        } else {
            result.locations.iter().map(Some).collect()
        };
        let BaseFinding {
            finding: template,
            secret,
            commit,
        } = base;
        let extras = ResultExtras { secret, commit };
        let mut findings = Vec::with_capacity(locations.len());
        if let Some((last, earlier)) = locations.split_last() {
            for (index, location) in earlier.iter().enumerate() {
                findings.push(extras.finish(template.clone(), *location, index == 0, self));
            }
            // The last location takes the finding itself: most results
            // have one location, and a clone per result showed in profiles.
            findings.push(extras.finish(template, *last, earlier.is_empty(), self));
        }
        for mut finding in findings {
            self.number_repeat(&mut finding);
            state.sink.finding(finding);
        }
    }

    /// Appends `#N` to the tool fingerprint of a result whose rule, path and
    /// tool fingerprint match an earlier result of the run at another
    /// position (line and column): the N-th such position gets `#N`.
    /// Flawfinder's `contextHash` hashes the code around a line, so two
    /// calls with the same context in one file share it (CodeQL numbers its
    /// line hashes the same way). SnykCode gives two results on one line,
    /// at different columns, the same `fingerprints["0"]`. A repeat at the
    /// same position is the same finding and keeps the same number.
    fn number_repeat(&mut self, finding: &mut Finding) {
        let Some(tool_fingerprint) = finding.tool_fingerprint.as_mut() else {
            return;
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&finding.rule_id, &finding.location.path, &*tool_fingerprint).hash(&mut hasher);
        let key = hasher.finish();
        let position = (
            finding.location.start_line.unwrap_or(0),
            finding.location.start_column.unwrap_or(0),
        );
        let number = match self.first_positions.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(position);
                1
            }
            Entry::Occupied(first) if *first.get() == position => 1,
            Entry::Occupied(_) => {
                let later = self.later_positions.entry(key).or_default();
                match later.iter().position(|&seen| seen == position) {
                    Some(index) => index + 2,
                    None => {
                        later.push(position);
                        later.len() + 1
                    }
                }
            }
        };
        if number > 1 {
            tool_fingerprint.push_str(&format!("#{number}"));
        }
    }

    /// Builds everything of a result's findings but the location.
    fn base_finding(&self, result: &SarifResult, rule: Option<&Rule>, commit: Option<&str>) -> BaseFinding {
        let message = resolve_message(&result.message, rule);
        let rule_id = util::non_empty(result.rule_id.as_deref())
            .or_else(|| result.rule.as_ref().and_then(|r| util::non_empty(r.id.as_deref())))
            .or_else(|| rule.and_then(|r| util::non_empty(r.id.as_deref())));
        let title = message
            .as_deref()
            .map(first_paragraph)
            .filter(|t| !t.is_empty())
            .or_else(|| rule.and_then(rule_title))
            .or_else(|| rule_id.clone())
            .unwrap_or_else(|| format!("{} result", self.tool));
        // A result that names no rule is known by its message, which is
        // stable where the tool writes one message per rule (Gitleaks 7).
        let rule_id = rule_id.unwrap_or_else(|| title.clone());

        let tags: Vec<&str> = rule
            .into_iter()
            .flat_map(|r| r.properties.tags.iter())
            .chain(result.properties.tags.iter())
            .map(String::as_str)
            .collect();
        let vulnerability_ids: Vec<String> = std::iter::once(rule_id.as_str())
            .chain(tags.iter().copied())
            .flat_map(find_advisory_ids)
            .collect();
        let is_secret = self.secret_scanner || tags.iter().any(|t| t.to_ascii_lowercase().contains("secret"));
        let kind = if is_secret {
            FindingKind::Secret
        } else if !vulnerability_ids.is_empty() {
            FindingKind::Vulnerability
        } else {
            FindingKind::CodeWeakness
        };

        let mut finding = Finding::new(&self.tool, rule_id, kind, title, Severity::Info, self.asset.clone());
        finding.target = Some(self.target.clone());
        for id in &vulnerability_ids {
            util::add_vulnerability_id(&mut finding, id);
        }
        add_cwes(&mut finding, rule, result, &tags);
        add_cvss(&mut finding, &result.properties);
        finding.severity = severity(result, rule, &finding);
        finding.description = describe(message.as_deref(), rule);
        finding.fix.description = fix_text(&result.fixes);
        finding.references = references(rule, result);
        finding.source_status = suppression_status(&result.suppressions);
        finding.tool_fingerprint = tool_fingerprint(result);
        let attributes = [
            ("baseline_state", util::non_empty(result.baseline_state.as_deref())),
            ("rank", util::non_empty(result.rank.as_deref())),
            ("rule_name", rule.and_then(|r| util::non_empty(r.name.as_deref()))),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                finding.attributes.insert(name.to_string(), value);
            }
        }

        let secret = match kind {
            FindingKind::Secret => util::non_empty(result.properties.offender.as_deref()),
            _ => None,
        };
        let commit = util::non_empty(commit);
        BaseFinding {
            finding,
            secret,
            commit,
        }
    }

    /// Resolves an artifact location to a path, through the artifacts table
    /// and `originalUriBaseIds`.
    fn path(&self, location: &ArtifactLocation) -> Option<String> {
        let from_table = location
            .index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.artifacts.get(i))
            .and_then(|artifact| artifact.location.as_ref());
        let (uri, base_id) = match util::non_empty(location.uri.as_deref()) {
            Some(uri) => (uri, location.uri_base_id.clone()),
            None => {
                let listed = from_table?;
                (util::non_empty(listed.uri.as_deref())?, listed.uri_base_id.clone())
            }
        };
        Some(self.resolve(uri, base_id))
    }

    /// Prefixes a relative uri with its base, and that base with its own,
    /// until the repository root, an absolute uri or an unknown base.
    fn resolve(&self, mut uri: String, mut base_id: Option<String>) -> String {
        // SARIF forbids cycles among bases; the bound keeps a hostile log
        // that has one from looping.
        for _ in 0..16 {
            let Some(id) = base_id.as_deref() else { break };
            if has_scheme(&uri) || self.repository_roots.contains(id) {
                break;
            }
            let Some(base) = self.base_ids.get(id) else { break };
            let prefix = base.uri.as_deref().map(str::trim).unwrap_or_default();
            if !prefix.is_empty() {
                uri = if prefix.ends_with('/') {
                    format!("{prefix}{uri}")
                } else {
                    format!("{prefix}/{uri}")
                };
            }
            base_id = base.uri_base_id.clone();
        }
        uri
    }
}

/// A result's finding before its location is set, with the clear secret
/// that its evidence must not show.
struct BaseFinding {
    finding: Finding,
    /// The secret the result property `offender` names (Gitleaks 7).
    secret: Option<String>,
    /// The commit the result property `commit` names (Gitleaks 7).
    commit: Option<String>,
}

/// The parts of a result that its findings take besides the finding itself.
struct ResultExtras {
    /// The secret the result property `offender` names (Gitleaks 7).
    secret: Option<String>,
    /// The commit the result property `commit` names (Gitleaks 7).
    commit: Option<String>,
}

impl ResultExtras {
    /// Completes the finding with one location. Only the first
    /// location keeps the tool fingerprint, so that the findings of one
    /// result's locations stay apart.
    fn finish(&self, mut finding: Finding, location: Option<&ResultLocation>, first: bool, run: &Run) -> Finding {
        if !first {
            finding.tool_fingerprint = None;
        }
        let physical = location.and_then(|l| l.physical_location.as_ref());
        let region = physical.and_then(|p| p.region.as_ref());
        finding.location.path = physical
            .and_then(|p| p.artifact_location.as_ref())
            .and_then(|a| run.path(a));
        finding.location.start_line = region.and_then(|r| positive(r.start_line));
        finding.location.end_line = region.and_then(|r| positive(r.end_line));
        finding.location.start_column = region.and_then(|r| positive(r.start_column));
        if let Some(logical) = location.and_then(|l| l.logical_locations.first()) {
            let name = util::non_empty(logical.fully_qualified_name.as_deref())
                .or_else(|| util::non_empty(logical.name.as_deref()));
            if let Some(name) = name {
                finding.attributes.insert("logical_location".to_string(), name);
            }
        }
        let snippet = region
            .and_then(|r| r.snippet.as_ref())
            .and_then(|s| util::non_empty(s.text.as_deref()));

        if finding.kind != FindingKind::Secret {
            finding.evidence = snippet;
            return finding;
        }

        // The same secret in two commits is two findings, as the Gitleaks
        // parser has them; Gitleaks 7 SARIF names the commit only here.
        if let (None, Some(commit)) = (&finding.tool_fingerprint, &self.commit) {
            let path = finding.location.path.clone().unwrap_or_default();
            let line = finding.location.start_line.map(|l| l.to_string()).unwrap_or_default();
            finding.tool_fingerprint = Some(format!("{commit}:{path}:{}:{line}", finding.rule_id));
        }

        // A secret scanner's snippet is the secret itself (Gitleaks 8) or
        // the line around it (Gitleaks 7, which also names it `offender`).
        let clear = self.secret.clone().or(snippet.as_ref().map(|s| s.trim().to_string()));
        if let Some(clear) = clear.filter(|c| !c.is_empty()) {
            let secret = MaskedSecret::new(&clear);
            let hide = |text: &str| text.replace(&clear, &secret.masked);
            finding.evidence = snippet.map(|s| hide(&s));
            finding.title = hide(&finding.title);
            finding.description = finding.description.as_deref().map(hide);
            finding.tool_fingerprint = finding.tool_fingerprint.as_deref().map(hide);
            for value in finding.attributes.values_mut() {
                *value = hide(value);
            }
            finding.secret = Some(secret);
        }
        finding
    }
}

/// The rules of a run's driver and extensions, found by id or by index.
struct RuleTable {
    driver: Vec<Rule>,
    extensions: Vec<Vec<Rule>>,
    /// (extension index or `None` for the driver, rule index) by rule id.
    by_id: HashMap<String, (Option<usize>, usize)>,
}

impl RuleTable {
    fn new(tool: Tool) -> RuleTable {
        let mut by_id = HashMap::new();
        for (index, rule) in tool.driver.rules.iter().enumerate() {
            if let Some(id) = &rule.id {
                by_id.entry(id.clone()).or_insert((None, index));
            }
        }
        for (extension, component) in tool.extensions.iter().enumerate() {
            for (index, rule) in component.rules.iter().enumerate() {
                if let Some(id) = &rule.id {
                    by_id.entry(id.clone()).or_insert((Some(extension), index));
                }
            }
        }
        RuleTable {
            driver: tool.driver.rules,
            extensions: tool.extensions.into_iter().map(|e| e.rules).collect(),
            by_id,
        }
    }

    /// Finds the rule of a result: by `rule.toolComponent` and index, by
    /// `ruleIndex` into the driver when that rule has the result's id, by
    /// id, and by the first segment of a hierarchical id (`C2001/1`).
    fn find(&self, result: &SarifResult) -> Option<&Rule> {
        let id = result
            .rule_id
            .as_deref()
            .or_else(|| result.rule.as_ref().and_then(|r| r.id.as_deref()));
        let index = result.rule_index.or_else(|| result.rule.as_ref().and_then(|r| r.index));
        let index = index.and_then(|i| usize::try_from(i).ok());
        let component = result
            .rule
            .as_ref()
            .and_then(|r| r.tool_component.as_ref())
            .and_then(|c| c.index)
            .and_then(|i| usize::try_from(i).ok());

        let by_index = match component {
            Some(extension) => index.and_then(|i| self.extensions.get(extension)?.get(i)),
            None => index.and_then(|i| self.driver.get(i)),
        };
        let id_matches = |rule: &&Rule| id.is_none() || rule.id.as_deref() == id;
        if let Some(rule) = by_index.filter(id_matches) {
            return Some(rule);
        }

        let id = id?;
        let lookup = |id: &str| {
            self.by_id.get(id).and_then(|&(extension, index)| match extension {
                Some(extension) => self.extensions.get(extension)?.get(index),
                None => self.driver.get(index),
            })
        };
        lookup(id).or_else(|| id.split_once('/').and_then(|(head, _)| lookup(head)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{CollectingSink, ParsedReport};

    /// Parses with the given spill bound.
    fn parse(bytes: &[u8], bound: usize) -> Result<ParsedReport, ParseError> {
        let context = ParseContext {
            path: "gen.sarif",
            default_target: "sarif:gen.sarif",
        };
        let mut sink = CollectingSink::default();
        let mut reader = bytes;
        parse_with_bound(&context, &mut reader, &mut sink, bound)?;
        Ok(sink.into_report())
    }

    fn output(report: &ParsedReport) -> serde_json::Value {
        json!({"targets": report.targets, "assets": report.assets, "findings": report.findings})
    }

    /// Writes a log of `count` results before the tool and the paths, and
    /// the same log in the schema's order.
    fn logs(count: usize, bad: Option<usize>) -> (Vec<u8>, Vec<u8>) {
        let results: Vec<serde_json::Value> = (0..count)
            .map(|i| {
                let locations = match bad {
                    Some(bad) if bad == i => json!(42),
                    _ => json!([{"physicalLocation": {
                        "artifactLocation": {"uri": format!("f{}.py", i % 5), "uriBaseId": "SRC"},
                        "region": {"startLine": i % 40 + 1}}}]),
                };
                json!({"ruleId": "R1", "message": {"text": format!("issue {i}")},
                       "fingerprints": {"contextHash/v1": format!("h{}", i % 11)}, "locations": locations})
            })
            .collect();
        let results = serde_json::to_string(&results).unwrap();
        let tool = r#""tool": {"driver": {"name": "Semgrep OSS", "rules": [{"id": "R1", "defaultConfiguration": {"level": "error"}}]}}"#;
        let paths = r#""versionControlProvenance": [{"repositoryUri": "https://git.example/acme/app"}],
            "originalUriBaseIds": {"SRC": {"uri": "app/"}}, "artifacts": []"#;
        let sorted = format!(r#"{{"version": "2.1.0", "runs": [{{"results": {results}, {tool}, {paths}}}]}}"#);
        let schema = format!(r#"{{"version": "2.1.0", "runs": [{{{tool}, {paths}, "results": {results}}}]}}"#);
        (sorted.into_bytes(), schema.into_bytes())
    }

    #[test]
    fn spill_above_bound_gives_same_output() {
        let (sorted, schema) = logs(500, None);
        let expected = output(&parse(&schema, 0).unwrap());
        assert_eq!(expected["findings"].as_array().map(Vec::len), Some(500));
        // All in memory, all in the file, and split between them.
        for bound in [spill::MEMORY_BOUND, 0, 4096] {
            let report = parse(&sorted, bound).unwrap();
            assert_eq!(output(&report), expected, "bound {bound}");
        }
    }

    #[test]
    fn invalid_result_in_file_is_named() {
        let (sorted, _) = logs(300, Some(250));
        let error = parse(&sorted, 1024).unwrap_err();
        assert!(error.message.contains("runs[0].results[250]"), "{}", error.message);
        assert!(error.position.is_some(), "{error}");
    }

    #[test]
    fn truncated_spill_errors() {
        let (sorted, _) = logs(300, None);
        let cut = &sorted[..sorted.len() - 40];
        let error = parse(cut, 0).unwrap_err();
        assert!(error.message.contains("truncated"), "{}", error.message);
    }
}
