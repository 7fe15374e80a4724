//! The finding lifecycle of a run, inside the run's transaction.
//!
//! A run brings reports of findings, each under its fingerprint. A stored
//! finding has one or more sources, one per report that named it, and the
//! lifecycle follows the sources scope by scope:
//!
//! 1. One indexed range scan per scope loads the active sources of every
//!    scope that the run saw reports in or covered, with the status of
//!    their findings.
//! 2. Each report is matched to a source. An active source with its
//!    fingerprint comes first, then a stored one, which becomes active
//!    again. A code finding whose line moved takes the unmatched active
//!    source of the same scope, rule and file within [`DRIFT_LINES`] lines.
//!    Any other report is a new source: it joins the stored finding with
//!    the same [`MergeKey`], or creates a finding.
//! 3. Each finding seen is written once, from its report with the highest
//!    score, with the status that follows from its previous status.
//! 4. The active sources of covered scopes that the run did not see become
//!    inactive. A finding without an active source left is fixed (or, if
//!    a person had marked it fixed, its fix is verified).
//! 5. Risk acceptances that ended by the run's time reopen, Nuclei and DAST
//!    matches confirm the exploitability of findings with the same
//!    vulnerability on the same asset, and the run's statistics are
//!    written.
//!
//! No statement uses RETURNING or a trigger: SQLite would then keep a
//! statement journal and copy every page the statement touches. A rescan
//! that changes nothing writes no status, score or tier, so the indexes on
//! them are not rewritten, and no JSON (see [`json_hash`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::mpsc;

use chrono::{DateTime, SecondsFormat, Utc};
use ctem_model::fingerprint::{component_identity, primary_vulnerability_id};
use ctem_model::{AssetKey, Fingerprint, LifecycleStatus, MergeKey, SourceStatus, Tier};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::codec::{format_time, json_hash, status_from_sql};
use crate::error::sql_error;
use crate::{Cause, RunSummary, Scope, ScoredFinding, StoreError};

/// The distance, in lines, that a code finding without a tool fingerprint may move
/// between two runs and still be the same finding: code added or removed
/// above it moves it. Within one file and rule, reports are paired with
/// the nearest unmatched source, in line order, so two findings of one
/// rule in one file that both moved stay two findings.
pub const DRIFT_LINES: i64 = 15;

/// Tools whose match of a vulnerability on an asset shows it exploitable
/// there: they send the attack and see it work.
const VALIDATING_TOOLS: &[&str] = &["nuclei", "zap", "burp"];

/// A stored finding's state before the run.
#[derive(Clone, Copy)]
struct Prior {
    status: LifecycleStatus,
    score: f64,
    tier: Tier,
    crown: bool,
    /// The status came from a VEX statement.
    by_vex: bool,
    /// For `fixed`: whether a run confirmed it.
    verified: bool,
    /// `findings.json_hash`: the hash of the stored JSON, if a run wrote it.
    json_hash: Option<i64>,
}

/// An active source of one of the scopes that a run touches.
struct ActiveSource {
    id: i64,
    finding_id: i64,
    /// Its scope, as an index into [`ActiveSources::scopes`].
    scope: usize,
    drift: Option<(String, i64)>,
}

/// The active sources of every scope that a run saw reports in or
/// covered, read with one indexed range scan per scope. Entries are taken
/// out as the run matches them; those left in a covered scope become
/// inactive.
pub(crate) struct ActiveSources {
    /// (tool, target, covered by the run)
    scopes: Vec<(String, String, bool)>,
    scope_index: HashMap<(String, String), usize>,
    by_fingerprint: HashMap<String, ActiveSource>,
    priors: HashMap<i64, Prior>,
}

impl ActiveSources {
    /// Loads the active sources of the scopes of `findings` and of the
    /// `covered` scopes.
    pub(crate) fn load(
        tx: &Transaction,
        path: &Path,
        findings: &[&ScoredFinding],
        covered: &BTreeSet<Scope>,
    ) -> Result<ActiveSources, StoreError> {
        let mut touched: BTreeSet<(&str, &str)> = findings
            .iter()
            .map(|scored| {
                let finding = &scored.finding;
                (finding.tool.as_str(), finding.target.as_deref().unwrap_or(""))
            })
            .collect();
        touched.extend(covered.iter().map(|scope| (scope.tool.as_str(), scope.target.as_str())));

        let mut select = tx
            .prepare_cached(
                "SELECT source.fingerprint, source.id, source.finding_id, source.drift_key, source.line,
                        finding.status, finding.score, finding.tier, finding.crown_jewel,
                        finding.status_source, finding.verified_at IS NOT NULL, finding.json_hash
                 FROM finding_sources AS source JOIN findings AS finding ON finding.id = source.finding_id
                 WHERE source.tool = ?1 AND source.target = ?2 AND source.active = 1",
            )
            .map_err(sql_error(path, "preparing the active source load"))?;
        let failed = || sql_error(path, "loading active sources");

        let mut active = ActiveSources {
            scopes: Vec::with_capacity(touched.len()),
            scope_index: HashMap::with_capacity(touched.len()),
            by_fingerprint: HashMap::new(),
            priors: HashMap::new(),
        };
        for (tool, target) in touched {
            let scope = active.scopes.len();
            let is_covered = covered.contains(&Scope {
                tool: tool.to_string(),
                target: target.to_string(),
            });
            active.scopes.push((tool.to_string(), target.to_string(), is_covered));
            active.scope_index.insert((tool.to_string(), target.to_string()), scope);

            let mut rows = select.query([tool, target]).map_err(failed())?;
            while let Some(row) = rows.next().map_err(failed())? {
                let fingerprint: String = row.get(0).map_err(failed())?;
                let id: i64 = row.get(1).map_err(failed())?;
                let finding_id: i64 = row.get(2).map_err(failed())?;
                let drift_key: Option<String> = row.get(3).map_err(failed())?;
                let line: Option<i64> = row.get(4).map_err(failed())?;
                let prior = read_prior(row, 5, &fingerprint).map_err(|error| match error {
                    PriorError::Sql(error) => failed()(error),
                    PriorError::Corrupt(error) => error,
                })?;
                active.priors.insert(finding_id, prior);
                active.by_fingerprint.insert(
                    fingerprint,
                    ActiveSource {
                        id,
                        finding_id,
                        scope,
                        drift: drift_key.zip(line),
                    },
                );
            }
        }
        Ok(active)
    }

    fn scope_of(&self, tool: &str, target: &str) -> Option<usize> {
        self.scope_index.get(&(tool.to_string(), target.to_string())).copied()
    }
}

enum PriorError {
    Sql(rusqlite::Error),
    Corrupt(StoreError),
}

/// Reads status, score, tier, crown_jewel, status_source, whether
/// verified_at is set and json_hash, from column `first` on.
fn read_prior(row: &rusqlite::Row<'_>, first: usize, key: &str) -> Result<Prior, PriorError> {
    let status = row
        .get_ref(first)
        .and_then(|value| Ok(value.as_str()?))
        .map_err(PriorError::Sql)?;
    let status = status_from_sql(status).ok_or_else(|| PriorError::Corrupt(corrupt_status(key, status)))?;
    let score: f64 = row.get(first + 1).map_err(PriorError::Sql)?;
    let tier = row
        .get_ref(first + 2)
        .and_then(|value| Ok(value.as_str()?))
        .map_err(PriorError::Sql)?;
    let tier = tier_from_sql(tier).ok_or_else(|| {
        PriorError::Corrupt(StoreError::Corrupt {
            table: "findings",
            column: "tier",
            key: key.to_string(),
            reason: format!("{tier:?} is not one of P1, P2, P3 or P4"),
        })
    })?;
    let crown: bool = row.get(first + 3).map_err(PriorError::Sql)?;
    let source = row
        .get_ref(first + 4)
        .and_then(|value| Ok(value.as_str()?))
        .map_err(PriorError::Sql)?;
    let verified: bool = row.get(first + 5).map_err(PriorError::Sql)?;
    let json_hash: Option<i64> = row.get(first + 6).map_err(PriorError::Sql)?;
    Ok(Prior {
        status,
        score,
        tier,
        crown,
        by_vex: source == "vex",
        verified,
        json_hash,
    })
}

fn tier_from_sql(name: &str) -> Option<Tier> {
    match name {
        "P1" => Some(Tier::P1),
        "P2" => Some(Tier::P2),
        "P3" => Some(Tier::P3),
        "P4" => Some(Tier::P4),
        _ => None,
    }
}

/// The finding that a report belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    /// A stored finding, by id.
    Stored(i64),
    /// A finding that the run creates from the report at this index.
    Created(usize),
}

/// The write that a report's source needs.
enum SourceWrite {
    /// Nothing: the source is stored and active.
    None,
    /// A new source joining its finding by this merge key.
    Insert { key: MergeKey },
}

/// The matching of a run's reports to sources and findings.
struct Matching {
    target: Vec<Target>,
    source: Vec<SourceWrite>,
}

/// The shared state of one run's lifecycle pass.
pub(crate) struct Lifecycle<'a> {
    tx: &'a Transaction<'a>,
    path: &'a Path,
    run_id: i64,
    at: &'a str,
    observed_at: DateTime<Utc>,
    /// Asset keys that are crown jewels in this run.
    crown_jewels: &'a HashSet<AssetKey>,
}

impl<'a> Lifecycle<'a> {
    pub(crate) fn new(
        tx: &'a Transaction<'a>,
        path: &'a Path,
        run_id: i64,
        at: &'a str,
        observed_at: DateTime<Utc>,
        crown_jewels: &'a HashSet<AssetKey>,
    ) -> Lifecycle<'a> {
        Lifecycle {
            tx,
            path,
            run_id,
            at,
            observed_at,
            crown_jewels,
        }
    }

    /// Runs the whole lifecycle of the run and returns its counts.
    pub(crate) fn apply(
        &self,
        findings: &[&ScoredFinding],
        covered: &BTreeSet<Scope>,
    ) -> Result<(RunSummary, BTreeSet<AssetKey>), StoreError> {
        let mut active = ActiveSources::load(self.tx, self.path, findings, covered)?;
        let matching = self.match_reports(findings, &mut active)?;
        let mut summary = self.write_findings(findings, &matching, &mut active)?;
        summary.fixed = self.close_unseen(&active)?;
        self.expire_acceptances()?;
        self.confirm_exploitability(findings)?;
        let assessed = findings.iter().map(|scored| scored.finding.asset.clone()).collect();
        Ok((summary, assessed))
    }

    /// Step 2: matches each report to a source or decides to create one.
    fn match_reports(&self, findings: &[&ScoredFinding], active: &mut ActiveSources) -> Result<Matching, StoreError> {
        let path = self.path;
        let mut lookup = self
            .tx
            .prepare_cached("SELECT id, finding_id, active FROM finding_sources WHERE fingerprint = ?1")
            .map_err(sql_error(path, "preparing the source lookup"))?;
        let mut reactivate = self
            .tx
            .prepare_cached("UPDATE finding_sources SET active = 1, tool = ?2, target = ?3 WHERE id = ?1")
            .map_err(sql_error(path, "preparing the source update"))?;

        let mut target: Vec<Option<Target>> = vec![None; findings.len()];
        let mut source: Vec<SourceWrite> = Vec::with_capacity(findings.len());
        let mut drifting: Vec<usize> = Vec::new();
        let mut unmatched: Vec<usize> = Vec::new();

        for (index, scored) in findings.iter().enumerate() {
            source.push(SourceWrite::None);
            let fingerprint = scored.fingerprint.as_str();
            let finding = &scored.finding;
            let scope_target = finding.target.as_deref().unwrap_or("");
            if let Some(stored) = active.by_fingerprint.remove(fingerprint) {
                let (tool, stored_target, _) = &active.scopes[stored.scope];
                if tool != &finding.tool || stored_target != scope_target {
                    reactivate
                        .execute(params![stored.id, finding.tool, scope_target])
                        .map_err(sql_error(path, "moving a source to its scope"))?;
                }
                target[index] = Some(Target::Stored(stored.finding_id));
                continue;
            }
            let stored: Option<(i64, i64, bool)> = lookup
                .query_row([fingerprint], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
                .map_err(sql_error(path, "looking up a source"))?;
            if let Some((id, finding_id, _)) = stored {
                reactivate
                    .execute(params![id, finding.tool, scope_target])
                    .map_err(sql_error(path, "reactivating a source"))?;
                target[index] = Some(Target::Stored(finding_id));
            } else if Fingerprint::drift_key(finding).is_some() {
                drifting.push(index);
            } else {
                unmatched.push(index);
            }
        }

        unmatched.extend(self.match_drift(findings, &drifting, active, &mut target)?);
        unmatched.sort_unstable();

        let mut by_key = self
            .tx
            .prepare_cached("SELECT id FROM findings WHERE merge_key = ?1")
            .map_err(sql_error(path, "preparing the merge key lookup"))?;
        let mut created: HashMap<String, usize> = HashMap::new();
        for index in unmatched {
            let key = MergeKey::of(&findings[index].finding);
            let stored: Option<i64> = by_key
                .query_row([key.as_str()], |row| row.get(0))
                .optional()
                .map_err(sql_error(path, "looking up a merge key"))?;
            target[index] = Some(match stored {
                Some(id) => Target::Stored(id),
                None => match created.get(key.as_str()) {
                    Some(&creator) => Target::Created(creator),
                    None => {
                        created.insert(key.as_str().to_string(), index);
                        Target::Created(index)
                    }
                },
            });
            source[index] = SourceWrite::Insert { key };
        }

        let target = target
            .into_iter()
            .map(|target| target.expect("every report is matched or created"))
            .collect();
        Ok(Matching { target, source })
    }

    /// Pairs reports of code findings whose fingerprint is new with the
    /// unmatched active sources of the same scope, rule and file whose line
    /// is within [`DRIFT_LINES`], the nearest first. Returns the reports
    /// left unpaired.
    fn match_drift(
        &self,
        findings: &[&ScoredFinding],
        drifting: &[usize],
        active: &mut ActiveSources,
        target: &mut [Option<Target>],
    ) -> Result<Vec<usize>, StoreError> {
        if drifting.is_empty() {
            return Ok(Vec::new());
        }
        // The unmatched active sources that a moved line could match, by
        // scope and drift key, sorted by line.
        let mut candidates: HashMap<(usize, String), Vec<(i64, String)>> = HashMap::new();
        for (fingerprint, stored) in &active.by_fingerprint {
            if let Some((key, line)) = &stored.drift {
                candidates
                    .entry((stored.scope, key.clone()))
                    .or_default()
                    .push((*line, fingerprint.clone()));
            }
        }
        for lines in candidates.values_mut() {
            lines.sort_unstable();
        }

        let mut order: Vec<(usize, String, i64)> = Vec::with_capacity(drifting.len());
        for &index in drifting {
            let finding = &findings[index].finding;
            let key = Fingerprint::drift_key(finding).expect("drifting reports have a drift key");
            let line = i64::from(finding.location.start_line.unwrap_or(0));
            order.push((index, key, line));
        }
        order.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));

        let mut pairs: Vec<(usize, String, i64)> = Vec::new();
        let mut left = Vec::new();
        for (index, key, line) in order {
            let finding = &findings[index].finding;
            let scope = active.scope_of(&finding.tool, finding.target.as_deref().unwrap_or(""));
            let nearest = scope.and_then(|scope| {
                let lines = candidates.get_mut(&(scope, key.clone()))?;
                let (position, _) = lines
                    .iter()
                    .enumerate()
                    .map(|(position, (stored_line, _))| (position, (stored_line - line).abs()))
                    .filter(|(_, distance)| *distance <= DRIFT_LINES)
                    .min_by_key(|(_, distance)| *distance)?;
                Some(lines.remove(position))
            });
            match nearest {
                Some((stored_line, fingerprint)) => pairs.push((index, fingerprint, stored_line)),
                None => left.push(index),
            }
        }

        let mut moved = self
            .tx
            .prepare_cached(
                "UPDATE finding_sources SET fingerprint = ?2, line = ?3, merged_by = 'drift', basis = ?4
                 WHERE id = ?1",
            )
            .map_err(sql_error(self.path, "preparing the moved source update"))?;
        for (index, fingerprint, stored_line) in pairs {
            let stored = active
                .by_fingerprint
                .remove(&fingerprint)
                .expect("paired sources are active");
            let scored = findings[index];
            let line = i64::from(scored.finding.location.start_line.unwrap_or(0));
            let status = active.priors[&stored.finding_id].status;
            let reason = format!(
                "{} moved from line {stored_line} to line {line} of {}; same tool, rule and file \
                 within {DRIFT_LINES} lines",
                scored.finding.rule_id,
                scored.finding.location.path.as_deref().unwrap_or("the file"),
            );
            moved
                .execute(params![stored.id, scored.fingerprint.as_str(), line, reason])
                .map_err(sql_error(self.path, "moving a source"))?;
            self.event(stored.finding_id, status, Cause::Merge, Some(&reason))?;
            target[index] = Some(Target::Stored(stored.finding_id));
        }
        Ok(left)
    }

    /// Step 3: writes every finding seen, and the sources that are new,
    /// in report order while a helper thread serializes the reports.
    fn write_findings(
        &self,
        findings: &[&ScoredFinding],
        matching: &Matching,
        active: &mut ActiveSources,
    ) -> Result<RunSummary, StoreError> {
        // The report with the highest score represents its finding; on a
        // tie, the first.
        let mut best: HashMap<Target, usize> = HashMap::with_capacity(findings.len());
        for (index, target) in matching.target.iter().enumerate() {
            best.entry(*target)
                .and_modify(|current| {
                    if findings[index].risk.score > findings[*current].risk.score {
                        *current = index;
                    }
                })
                .or_insert(index);
        }

        std::thread::scope(|threads| {
            let (sender, receiver) = mpsc::sync_channel(ENCODE_QUEUE);
            threads.spawn(move || encode_batches(findings, &sender));
            // Returning drops the receiver, which stops the encoder at its
            // next send if the writes failed early.
            self.write_in_order(findings, matching, &best, active, receiver)
        })
    }

    fn write_in_order(
        &self,
        findings: &[&ScoredFinding],
        matching: &Matching,
        best: &HashMap<Target, usize>,
        active: &mut ActiveSources,
        encoded: mpsc::Receiver<EncodedBatch>,
    ) -> Result<RunSummary, StoreError> {
        let mut writer = FindingWriter::prepare(self)?;
        let mut created_ids: HashMap<usize, i64> = HashMap::new();
        let mut new_sources: BTreeSet<i64> = BTreeSet::new();
        let mut summary = RunSummary {
            run_id: self.run_id,
            observed_at: self.observed_at,
            seen: 0,
            new: 0,
            still_open: 0,
            reopened: 0,
            fixed: 0,
        };

        let mut batch = Vec::new().into_iter();
        for (index, scored) in findings.iter().enumerate() {
            let encoded_json = match batch.next() {
                Some(encoded) => encoded,
                None => {
                    batch = encoded.recv().map_err(|_| encoder_stopped())??.into_iter();
                    batch.next().ok_or_else(encoder_stopped)?
                }
            };
            let target = matching.target[index];
            let is_best = best[&target] == index;

            let finding_id = match target {
                Target::Created(creator) if creator == index => {
                    let id = writer.insert_finding(self, scored, &encoded_json)?;
                    created_ids.insert(index, id);
                    summary.new += 1;
                    summary.seen += 1;
                    if let SourceWrite::Insert { .. } = &matching.source[index] {
                        writer.insert_source(self, id, scored, "first", None)?;
                    }
                    // When a later report of the same finding scores higher,
                    // it rewrites the finding below.
                    writer.insert_score(self, id, scored)?;
                    continue;
                }
                Target::Created(creator) => created_ids[&creator],
                Target::Stored(id) => id,
            };

            if let SourceWrite::Insert { key } = &matching.source[index] {
                let merged_by = key.rule().as_str();
                let basis = format!("{} (reported by {})", key.basis(), scored.finding.tool);
                writer.insert_source(self, finding_id, scored, merged_by, Some(&basis))?;
                new_sources.insert(finding_id);
                let status = match target {
                    Target::Created(_) => LifecycleStatus::New,
                    Target::Stored(id) => self.prior(active, id)?.status,
                };
                self.event(finding_id, status, Cause::Merge, Some(&basis))?;
            }

            if !is_best {
                continue;
            }
            match target {
                Target::Created(_) => {
                    // The creating report was not the best: rewrite the
                    // finding from this one. It stays new, or not affected
                    // where a VEX statement covers it.
                    let (status, source) = if scored.finding.source_status == Some(SourceStatus::NotAffected) {
                        (LifecycleStatus::NotAffected, "vex")
                    } else {
                        (LifecycleStatus::New, "run")
                    };
                    let json = StoredJson::Replace(&encoded_json);
                    writer.rewrite(self, finding_id, scored, json, status, source)?;
                }
                Target::Stored(id) => {
                    let prior = self.prior(active, id)?;
                    let (status, cause, reason) = next_status(prior, scored);
                    match status {
                        LifecycleStatus::Reopened => summary.reopened += 1,
                        _ => summary.still_open += 1,
                    }
                    summary.seen += 1;
                    let crown = self.crown_jewels.contains(&scored.finding.asset);
                    let unchanged = status == prior.status
                        && prior.score == scored.risk.score
                        && prior.tier == scored.risk.tier
                        && prior.crown == crown;
                    let json = StoredJson::Compare(&encoded_json, prior.json_hash);
                    if unchanged {
                        writer.touch(self, id, scored, json)?;
                    } else {
                        let source = match cause {
                            Cause::Vex => "vex",
                            _ if status == prior.status && !prior.by_vex => "keep",
                            _ => "run",
                        };
                        writer.rewrite(self, id, scored, json, status, source)?;
                    }
                    if status != prior.status {
                        self.event(id, status, cause, reason.as_deref())?;
                    }
                    writer.insert_score(self, id, scored)?;
                }
            }
        }

        for finding_id in new_sources {
            writer.refresh_tools(self, finding_id)?;
        }
        Ok(summary)
    }

    /// Returns the state of a stored finding before the run, from the
    /// active load or else from the database.
    fn prior(&self, active: &mut ActiveSources, id: i64) -> Result<Prior, StoreError> {
        if let Some(prior) = active.priors.get(&id) {
            return Ok(*prior);
        }
        let mut select = self
            .tx
            .prepare_cached(
                "SELECT status, score, tier, crown_jewel, status_source, verified_at IS NOT NULL, json_hash
                 FROM findings WHERE id = ?1",
            )
            .map_err(sql_error(self.path, "preparing the finding lookup"))?;
        let mut rows = select
            .query([id])
            .map_err(sql_error(self.path, "looking up a finding"))?;
        let row = rows
            .next()
            .map_err(sql_error(self.path, "reading a finding"))?
            .ok_or_else(|| StoreError::Corrupt {
                table: "finding_sources",
                column: "finding_id",
                key: id.to_string(),
                reason: "no finding has this id".to_string(),
            })?;
        let prior = read_prior(row, 0, &id.to_string()).map_err(|error| match error {
            PriorError::Sql(error) => sql_error(self.path, "reading a finding")(error),
            PriorError::Corrupt(error) => error,
        })?;
        active.priors.insert(id, prior);
        Ok(prior)
    }

    /// Step 4: deactivates the unmatched sources of covered scopes and
    /// fixes the findings left without an active source. Returns how many
    /// findings the run fixed.
    fn close_unseen(&self, active: &ActiveSources) -> Result<u64, StoreError> {
        let path = self.path;
        let mut unseen: Vec<(i64, i64)> = active
            .by_fingerprint
            .values()
            .filter(|stored| active.scopes[stored.scope].2)
            .map(|stored| (stored.finding_id, stored.id))
            .collect();
        if unseen.is_empty() {
            return Ok(0);
        }
        unseen.sort_unstable();

        let mut deactivate = self
            .tx
            .prepare_cached("UPDATE finding_sources SET active = 0 WHERE id = ?1")
            .map_err(sql_error(path, "preparing the source close"))?;
        for (_, source_id) in &unseen {
            deactivate
                .execute([source_id])
                .map_err(sql_error(path, "closing a source"))?;
        }

        let mut remaining = self
            .tx
            .prepare_cached("SELECT count(*) FROM finding_sources WHERE finding_id = ?1 AND active = 1")
            .map_err(sql_error(path, "preparing the source count"))?;
        let mut close = self
            .tx
            .prepare_cached(
                "UPDATE findings SET status = 'fixed', status_source = 'run', fixed_at = ?2,
                                     verified_at = ?2, accepted_until = NULL
                 WHERE id = ?1",
            )
            .map_err(sql_error(path, "preparing the finding close"))?;
        let mut verify = self
            .tx
            .prepare_cached("UPDATE findings SET verified_at = ?2 WHERE id = ?1")
            .map_err(sql_error(path, "preparing the fix verification"))?;

        let mut fixed = 0;
        let mut last = None;
        for (finding_id, _) in unseen {
            if last == Some(finding_id) {
                continue;
            }
            last = Some(finding_id);
            let left: i64 = remaining
                .query_row([finding_id], |row| row.get(0))
                .map_err(sql_error(path, "counting active sources"))?;
            if left > 0 {
                continue;
            }
            // Findings seen in this run keep an active source, so the
            // prior state is still the state.
            let prior = active.priors[&finding_id];
            if prior.status.is_tracked_by_runs() {
                close
                    .execute(params![finding_id, self.at])
                    .map_err(sql_error(path, "marking a finding fixed"))?;
                self.event(finding_id, LifecycleStatus::Fixed, Cause::Run, None)?;
                fixed += 1;
            } else if prior.status == LifecycleStatus::Fixed && !prior.verified {
                verify
                    .execute(params![finding_id, self.at])
                    .map_err(sql_error(path, "verifying a fix"))?;
                self.event(
                    finding_id,
                    LifecycleStatus::Fixed,
                    Cause::Run,
                    Some("fix verified: a run that covered its scope no longer saw it"),
                )?;
            }
        }
        Ok(fixed)
    }

    /// Reopens the findings whose risk acceptance ended by the run's time.
    fn expire_acceptances(&self) -> Result<(), StoreError> {
        let expired = expired_acceptances(self.tx, self.path, self.at)?;
        for (id, until) in expired {
            reopen_expired(self.tx, self.path, id)?;
            let reason = expiry_reason(&until);
            self.event(id, LifecycleStatus::Reopened, Cause::Expiry, Some(&reason))?;
        }
        Ok(())
    }

    /// Marks exploitability confirmed on the findings with the same
    /// vulnerability on the same asset as a report of a validating tool
    /// (Nuclei, ZAP, Burp), unless a person marked them already.
    fn confirm_exploitability(&self, findings: &[&ScoredFinding]) -> Result<(), StoreError> {
        let mut matches: BTreeMap<(String, String), String> = BTreeMap::new();
        for scored in findings {
            let finding = &scored.finding;
            if !VALIDATING_TOOLS.iter().any(|tool| finding.tool.starts_with(tool)) {
                continue;
            }
            if let Some(id) = primary_vulnerability_id(finding) {
                matches
                    .entry((finding.asset.as_str().to_string(), id))
                    .or_insert_with(|| finding.tool.clone());
            }
        }
        if matches.is_empty() {
            return Ok(());
        }
        let path = self.path;
        let mut select = self
            .tx
            .prepare_cached(
                "SELECT id, status FROM findings
                 WHERE asset_key = ?1 AND vuln_id = ?2 AND validation IS NULL",
            )
            .map_err(sql_error(path, "preparing the validation lookup"))?;
        let mut update = self
            .tx
            .prepare_cached("UPDATE findings SET validation = 'confirmed' WHERE id = ?1")
            .map_err(sql_error(path, "preparing the validation update"))?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO finding_history (finding_id, run_id, at, status, cause, reason, validation)
                 VALUES (?1, ?2, ?3, ?4, 'validation', ?5, 'confirmed')",
            )
            .map_err(sql_error(path, "preparing the validation event"))?;
        for ((asset, vuln), tool) in matches {
            let rows: Vec<(i64, String)> = select
                .query_map(params![asset, vuln], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(sql_error(path, "looking up findings to validate"))?
                .collect::<Result<_, _>>()
                .map_err(sql_error(path, "reading findings to validate"))?;
            for (id, status) in rows {
                update
                    .execute([id])
                    .map_err(sql_error(path, "marking exploitability confirmed"))?;
                let reason = format!("{tool} matched {vuln} on {asset}");
                insert
                    .execute(params![id, self.run_id, self.at, status, reason])
                    .map_err(sql_error(path, "inserting a validation event"))?;
            }
        }
        Ok(())
    }

    fn event(
        &self,
        finding_id: i64,
        status: LifecycleStatus,
        cause: Cause,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO finding_history (finding_id, run_id, at, status, cause, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(sql_error(self.path, "preparing the event insert"))?;
        insert
            .execute(params![
                finding_id,
                self.run_id,
                self.at,
                status.as_str(),
                cause.as_str(),
                reason
            ])
            .map_err(sql_error(self.path, "inserting a finding event"))?;
        Ok(())
    }
}

/// Returns the status of a stored finding that a run reports, with the cause and
/// reason of a change.
fn next_status(prior: Prior, scored: &ScoredFinding) -> (LifecycleStatus, Cause, Option<String>) {
    let says_not_affected = scored.finding.source_status == Some(SourceStatus::NotAffected);
    match prior.status {
        LifecycleStatus::FalsePositive | LifecycleStatus::RiskAccepted => (prior.status, Cause::Run, None),
        LifecycleStatus::NotAffected if says_not_affected || !prior.by_vex => (prior.status, Cause::Run, None),
        LifecycleStatus::NotAffected => (
            LifecycleStatus::Open,
            Cause::Vex,
            Some("no VEX statement says the product is not affected any more".to_string()),
        ),
        _ if says_not_affected => (LifecycleStatus::NotAffected, Cause::Vex, Some(vex_reason(scored))),
        LifecycleStatus::Fixed => (LifecycleStatus::Reopened, Cause::Run, None),
        LifecycleStatus::New | LifecycleStatus::Open | LifecycleStatus::Reopened => {
            (LifecycleStatus::Open, Cause::Run, None)
        }
    }
}

/// Why a VEX statement made a finding not affected: its justification
/// and document, where the engine recorded them on the report.
fn vex_reason(scored: &ScoredFinding) -> String {
    let attributes = &scored.finding.attributes;
    let mut reason = "a VEX statement says the product is not affected".to_string();
    if let Some(justification) = attributes.get("vex_justification") {
        reason.push_str(&format!(" ({justification})"));
    }
    if let Some(source) = attributes.get("vex_source") {
        reason.push_str(&format!("; source: {source}"));
    }
    reason
}

/// Builds the history reason of an ended acceptance from its stored end,
/// shown without the nine fractional digits of the stored form.
pub(crate) fn expiry_reason(until: &str) -> String {
    let end = DateTime::parse_from_rfc3339(until)
        .map(|end| end.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|_| until.to_string());
    format!("the risk acceptance ended on {end}")
}

/// Returns the findings whose risk acceptance ended by `at`, with its end.
pub(crate) fn expired_acceptances(tx: &Transaction, path: &Path, at: &str) -> Result<Vec<(i64, String)>, StoreError> {
    let mut select = tx
        .prepare_cached(
            "SELECT id, accepted_until FROM findings
             WHERE status = 'risk_accepted' AND accepted_until <= ?1 ORDER BY id",
        )
        .map_err(sql_error(path, "preparing the expiry lookup"))?;
    select
        .query_map([at], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(sql_error(path, "looking up ended risk acceptances"))?
        .collect::<Result<_, _>>()
        .map_err(sql_error(path, "reading ended risk acceptances"))
}

pub(crate) fn reopen_expired(tx: &Transaction, path: &Path, id: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE findings SET status = 'reopened', status_source = 'expiry', accepted_until = NULL WHERE id = ?1",
    )
    .and_then(|mut update| update.execute([id]))
    .map_err(sql_error(path, "reopening a finding"))?;
    Ok(())
}

/// The prepared statements that write findings, sources and scores.
struct FindingWriter<'t> {
    insert: rusqlite::CachedStatement<'t>,
    insert_json: rusqlite::CachedStatement<'t>,
    touch: rusqlite::CachedStatement<'t>,
    rewrite: rusqlite::CachedStatement<'t>,
    update_json: rusqlite::CachedStatement<'t>,
    insert_source: rusqlite::CachedStatement<'t>,
    insert_score: rusqlite::CachedStatement<'t>,
    component_first: rusqlite::CachedStatement<'t>,
    scope_first: rusqlite::CachedStatement<'t>,
    /// The first observation of each scope, read once per run.
    scope_times: HashMap<(String, String), Option<String>>,
}

impl<'t> FindingWriter<'t> {
    fn prepare(run: &Lifecycle<'t>) -> Result<FindingWriter<'t>, StoreError> {
        let prepare = |sql: &str, what: &'static str| run.tx.prepare_cached(sql).map_err(sql_error(run.path, what));
        Ok(FindingWriter {
            insert: prepare(
                "INSERT INTO findings (fingerprint, tool, target, rule_id, kind, severity, title,
                                       asset_key, status, first_seen, last_seen, last_run_id,
                                       score, tier, merge_key, tools, component, vuln_id,
                                       introduced_at, crown_jewel, status_source, json_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14,
                         ?2, ?15, ?16, ?17, ?18, ?19, ?20)",
                "preparing the finding insert",
            )?,
            insert_json: prepare(
                "INSERT INTO finding_json (finding_id, data, risk) VALUES (?1, ?2, ?3)",
                "preparing the finding JSON insert",
            )?,
            // The common case of a rescan: the status, score, tier and
            // crown jewel flag stay, so no index is rewritten.
            touch: prepare(
                "UPDATE findings SET kind = ?2, severity = ?3, title = ?4, last_seen = ?5, last_run_id = ?6,
                                     json_hash = ?7
                 WHERE id = ?1",
                "preparing the finding refresh",
            )?,
            rewrite: prepare(
                "UPDATE findings SET kind = ?2, severity = ?3, title = ?4, last_seen = ?5,
                                     last_run_id = ?6, score = ?7, tier = ?8,
                                     crown_jewel = ?9, tool = ?10, target = ?11, status = ?12, json_hash = ?14,
                                     status_source = CASE ?13 WHEN 'keep' THEN status_source ELSE ?13 END,
                                     fixed_at = CASE ?12 WHEN 'fixed' THEN fixed_at ELSE NULL END,
                                     verified_at = CASE ?12 WHEN 'fixed' THEN verified_at ELSE NULL END
                 WHERE id = ?1",
                "preparing the finding update",
            )?,
            update_json: prepare(
                "UPDATE finding_json SET data = ?2, risk = ?3 WHERE finding_id = ?1",
                "preparing the finding JSON update",
            )?,
            insert_source: prepare(
                "INSERT INTO finding_sources (finding_id, fingerprint, tool, target, active, first_seen,
                                              merged_by, basis, drift_key, line)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9)",
                "preparing the source insert",
            )?,
            insert_score: prepare(
                "INSERT INTO finding_scores (run_id, finding_id, score, tier) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (run_id, finding_id) DO UPDATE SET score = max(score, excluded.score),
                     tier = CASE WHEN excluded.score > score THEN excluded.tier ELSE tier END",
                "preparing the score insert",
            )?,
            component_first: prepare(
                "SELECT min(first_seen) FROM findings WHERE asset_key = ?1 AND component = ?2",
                "preparing the component lookup",
            )?,
            scope_first: prepare(
                "SELECT min(run.observed_at) FROM run_scopes AS scope JOIN runs AS run ON run.id = scope.run_id
                 WHERE scope.tool = ?1 AND scope.target = ?2",
                "preparing the scope lookup",
            )?,
            scope_times: HashMap::new(),
        })
    }

    fn insert_finding(
        &mut self,
        run: &Lifecycle<'_>,
        scored: &ScoredFinding,
        json: &Encoded,
    ) -> Result<i64, StoreError> {
        let finding = &scored.finding;
        let target = finding.target.as_deref().unwrap_or("");
        let component = finding.component.as_ref().map(component_identity);
        let vuln_id = primary_vulnerability_id(finding).unwrap_or_else(|| finding.rule_id.clone());
        let introduced = self.introduced_at(run, scored, component.as_deref())?;
        let crown = run.crown_jewels.contains(&finding.asset);
        let says_not_affected = finding.source_status == Some(SourceStatus::NotAffected);
        let (status, source) = if says_not_affected {
            (LifecycleStatus::NotAffected, "vex")
        } else {
            (LifecycleStatus::New, "run")
        };
        self.insert
            .execute(params![
                scored.fingerprint.as_str(),
                finding.tool,
                target,
                finding.rule_id,
                finding.kind.as_str(),
                finding.severity.as_str(),
                finding.title,
                finding.asset.as_str(),
                status.as_str(),
                run.at,
                run.run_id,
                scored.risk.score,
                scored.risk.tier.as_str(),
                MergeKey::of(finding).as_str(),
                component,
                vuln_id,
                introduced,
                crown,
                source,
                json.hash,
            ])
            .map_err(sql_error(run.path, "inserting a finding"))?;
        let id = run.tx.last_insert_rowid();
        self.insert_json
            .execute(params![id, json.data, json.risk])
            .map_err(sql_error(run.path, "inserting a finding's JSON"))?;
        run.event(id, LifecycleStatus::New, Cause::Run, None)?;
        if says_not_affected {
            run.event(id, LifecycleStatus::NotAffected, Cause::Vex, Some(&vex_reason(scored)))?;
        }
        Ok(id)
    }

    /// Returns the introduction time of a finding the run creates (see
    /// `FindingFacts::introduced_at`), as stored text.
    fn introduced_at(
        &mut self,
        run: &Lifecycle<'_>,
        scored: &ScoredFinding,
        component: Option<&str>,
    ) -> Result<String, StoreError> {
        let finding = &scored.finding;
        let published = scored.published.map(format_time);
        let appeared = match component {
            Some(component) => {
                let stored: Option<String> = self
                    .component_first
                    .query_row(params![finding.asset.as_str(), component], |row| row.get(0))
                    .map_err(sql_error(run.path, "looking up a component"))?;
                Some(stored.unwrap_or_else(|| run.at.to_string()))
            }
            None => None,
        };
        let introduced = match (published, appeared) {
            (Some(published), Some(appeared)) => published.max(appeared),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => {
                let scope = (finding.tool.clone(), finding.target.clone().unwrap_or_default());
                let first = match self.scope_times.get(&scope) {
                    Some(first) => first.clone(),
                    None => {
                        let first: Option<String> = self
                            .scope_first
                            .query_row(params![scope.0, scope.1], |row| row.get(0))
                            .map_err(sql_error(run.path, "looking up a scope"))?;
                        self.scope_times.insert(scope, first.clone());
                        first
                    }
                };
                first.unwrap_or_else(|| run.at.to_string())
            }
        };
        // Text order is time order; never after detection.
        Ok(introduced.min(run.at.to_string()))
    }

    fn insert_source(
        &mut self,
        run: &Lifecycle<'_>,
        finding_id: i64,
        scored: &ScoredFinding,
        merged_by: &str,
        basis: Option<&str>,
    ) -> Result<(), StoreError> {
        let finding = &scored.finding;
        let drift_key = Fingerprint::drift_key(finding);
        let line = drift_key
            .as_ref()
            .map(|_| i64::from(finding.location.start_line.unwrap_or(0)));
        self.insert_source
            .execute(params![
                finding_id,
                scored.fingerprint.as_str(),
                finding.tool,
                finding.target.as_deref().unwrap_or(""),
                run.at,
                merged_by,
                basis,
                drift_key,
                line,
            ])
            .map_err(sql_error(run.path, "inserting a source"))?;
        Ok(())
    }

    fn insert_score(&mut self, run: &Lifecycle<'_>, id: i64, scored: &ScoredFinding) -> Result<(), StoreError> {
        self.insert_score
            .execute(params![run.run_id, id, scored.risk.score, scored.risk.tier.as_str()])
            .map_err(sql_error(run.path, "inserting a finding score"))?;
        Ok(())
    }

    fn touch(
        &mut self,
        run: &Lifecycle<'_>,
        id: i64,
        scored: &ScoredFinding,
        json: StoredJson<'_>,
    ) -> Result<(), StoreError> {
        let finding = &scored.finding;
        self.touch
            .execute(params![
                id,
                finding.kind.as_str(),
                finding.severity.as_str(),
                finding.title,
                run.at,
                run.run_id,
                json.encoded().hash,
            ])
            .map_err(sql_error(run.path, "updating a finding"))?;
        self.update_json(run, id, json)
    }

    fn rewrite(
        &mut self,
        run: &Lifecycle<'_>,
        id: i64,
        scored: &ScoredFinding,
        json: StoredJson<'_>,
        status: LifecycleStatus,
        status_source: &str,
    ) -> Result<(), StoreError> {
        let finding = &scored.finding;
        let crown = run.crown_jewels.contains(&finding.asset);
        self.rewrite
            .execute(params![
                id,
                finding.kind.as_str(),
                finding.severity.as_str(),
                finding.title,
                run.at,
                run.run_id,
                scored.risk.score,
                scored.risk.tier.as_str(),
                crown,
                finding.tool,
                finding.target.as_deref().unwrap_or(""),
                status.as_str(),
                status_source,
                json.encoded().hash,
            ])
            .map_err(sql_error(run.path, "updating a finding"))?;
        self.update_json(run, id, json)
    }

    /// Writes the finding's JSON unless the stored hash equals the
    /// report's.
    fn update_json(&mut self, run: &Lifecycle<'_>, id: i64, json: StoredJson<'_>) -> Result<(), StoreError> {
        let encoded = match json {
            StoredJson::Compare(encoded, stored) if stored == Some(encoded.hash) => return Ok(()),
            StoredJson::Compare(encoded, _) | StoredJson::Replace(encoded) => encoded,
        };
        self.update_json
            .execute(params![id, encoded.data, encoded.risk])
            .map_err(sql_error(run.path, "updating a finding's JSON"))?;
        Ok(())
    }

    /// Rewrites the tools of a finding that gained a source.
    fn refresh_tools(&mut self, run: &Lifecycle<'_>, id: i64) -> Result<(), StoreError> {
        refresh_tools(run.tx, run.path, id)
    }
}

/// Sets a finding's `tools` to the sorted tools of its sources.
pub(crate) fn refresh_tools(tx: &Transaction, path: &Path, id: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE findings SET tools = (
             SELECT group_concat(tool, ',') FROM (
                 SELECT DISTINCT tool FROM finding_sources WHERE finding_id = ?1 ORDER BY tool))
         WHERE id = ?1",
    )
    .and_then(|mut update| update.execute([id]))
    .map_err(sql_error(path, "updating the tools of a finding"))?;
    Ok(())
}

/// Findings per batch that the encoder thread sends.
const ENCODE_BATCH: usize = 512;

/// Batches that the encoder thread may run ahead of the writes.
const ENCODE_QUEUE: usize = 8;

/// The JSON of one report and of its assessment, with their
/// [`json_hash`].
struct Encoded {
    data: String,
    risk: String,
    hash: i64,
}

/// The update that a finding's stored JSON needs.
#[derive(Clone, Copy)]
enum StoredJson<'e> {
    /// Written unless the stored hash, if any, equals the report's.
    Compare(&'e Encoded, Option<i64>),
    /// Written: the stored hash belongs to another report.
    Replace(&'e Encoded),
}

impl StoredJson<'_> {
    fn encoded(&self) -> &Encoded {
        match self {
            StoredJson::Compare(encoded, _) | StoredJson::Replace(encoded) => encoded,
        }
    }
}

type EncodedBatch = Result<Vec<Encoded>, StoreError>;

/// Serializes the reports in batches, in order, until the first error or
/// until the receiver is gone. Serialization is about a quarter of the
/// work (measured with callgrind on the benchmark's findings), and
/// SQLite's writes cannot use a second core.
fn encode_batches(findings: &[&ScoredFinding], sender: &mpsc::SyncSender<EncodedBatch>) {
    for chunk in findings.chunks(ENCODE_BATCH) {
        let batch: EncodedBatch = chunk
            .iter()
            .map(|scored| {
                let fingerprint = scored.fingerprint.as_str();
                let data = to_json(&scored.finding, fingerprint)?;
                let risk = to_json(&scored.risk, fingerprint)?;
                let hash = json_hash(&data, &risk);
                Ok(Encoded { data, risk, hash })
            })
            .collect();
        let failed = batch.is_err();
        if sender.send(batch).is_err() || failed {
            return;
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T, fingerprint: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::InvalidRun {
        reason: format!("finding {fingerprint} cannot be serialized: {error}"),
    })
}

/// Builds the error for an encoder thread that sent fewer findings than it
/// was given, which only a panic in serialization can cause.
fn encoder_stopped() -> StoreError {
    StoreError::InvalidRun {
        reason: "serializing the findings to JSON stopped before the last finding".to_string(),
    }
}

pub(crate) fn corrupt_status(key: &str, text: &str) -> StoreError {
    StoreError::Corrupt {
        table: "findings",
        column: "status",
        key: key.to_string(),
        reason: format!("{text:?} is not a finding status"),
    }
}

/// Writes the state of the whole store after the run: active findings and
/// their scores by tier, on crown jewels, and accepted risks.
pub(crate) fn write_run_stats(tx: &Transaction, path: &Path, run_id: i64) -> Result<(), StoreError> {
    let mut open = [0_i64; 4];
    let mut risk = [0.0_f64; 4];
    let mut crown_open = 0_i64;
    let mut crown_risk = 0.0_f64;
    let mut accepted = 0_i64;
    {
        let mut select = tx
            .prepare_cached(
                "SELECT status, tier, crown_jewel, count(*), total(score) FROM findings
                 WHERE status IN ('new', 'open', 'reopened', 'risk_accepted')
                 GROUP BY status, tier, crown_jewel",
            )
            .map_err(sql_error(path, "preparing the run statistics"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "computing run statistics"))?;
        while let Some(row) = rows.next().map_err(sql_error(path, "reading run statistics"))? {
            let (status, tier, crown, count, sum): (String, String, bool, i64, f64) =
                (|| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))()
                    .map_err(sql_error(path, "reading run statistics"))?;
            if status == "risk_accepted" {
                accepted += count;
                continue;
            }
            let index = match tier_from_sql(&tier) {
                Some(tier) => tier as usize,
                None => {
                    return Err(StoreError::Corrupt {
                        table: "findings",
                        column: "tier",
                        key: format!("findings with status {status}"),
                        reason: format!("{tier:?} is not one of P1, P2, P3 or P4"),
                    });
                }
            };
            open[index] += count;
            risk[index] += sum;
            if crown {
                crown_open += count;
                crown_risk += sum;
            }
        }
    }
    tx.prepare_cached(
        "INSERT INTO run_stats (run_id, open_p1, open_p2, open_p3, open_p4, risk_p1, risk_p2, risk_p3,
                                risk_p4, crown_open, crown_risk, accepted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            run_id, open[0], open[1], open[2], open[3], risk[0], risk[1], risk[2], risk[3], crown_open, crown_risk,
            accepted
        ])
    })
    .map_err(sql_error(path, "writing run statistics"))?;
    Ok(())
}
