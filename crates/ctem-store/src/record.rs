//! Writing a run: the finding lifecycle.
//!
//! A run is written in one IMMEDIATE transaction: it takes the write lock
//! before reading anything, so two writers cannot interleave, and any error
//! rolls the whole run back. The lifecycle needs no query per finding in
//! the common cases:
//!
//! 1. One indexed range scan per scope loads the active findings of every
//!    scope that the run saw findings in or covered.
//! 2. Each distinct finding seen is written. An active one is updated to
//!    `open`, and any other is inserted as `new`. Only when the insert
//!    finds the fingerprint stored already (a fixed finding, or one stored
//!    under another target) does one lookup by fingerprint decide between
//!    `reopened` and `open`.
//! 3. The active findings of covered scopes that the run did not see are
//!    marked `fixed`.
//!
//! No statement uses RETURNING or a trigger: SQLite would then keep a
//! statement journal and copy every page the statement touches. In a
//! profile of the benchmark those copies took about a third of the
//! instructions of the finding writes.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use ctem_model::{Asset, AssetKey, LifecycleStatus, Relationship, RiskAssessment};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::codec::{
    check_storable_time, format_time, parse_json, parse_time, relationship_kind_name, status_from_sql, to_sql_count,
};
use crate::error::sql_error;
use crate::{RunInput, RunSummary, Scope, ScoredFinding, SourceRecord, Store, StoreError};

impl Store {
    /// Records a run and applies the finding lifecycle, all in one
    /// transaction.
    ///
    /// A finding seen that the store does not have is `new`. One stored as
    /// new, open or reopened is `open`, and one stored as `fixed` is
    /// `reopened`. An active stored finding that the run did not see
    /// becomes `fixed` only when its scope (tool and target) is one of
    /// `run.scopes`. Assets are merged with what the store has
    /// ([`Asset::merge`], the run's values first) and relationships are
    /// deduplicated.
    ///
    /// While the SQL runs on the calling thread, one helper thread
    /// serializes the findings to JSON.
    ///
    /// # Errors
    ///
    /// [`StoreError::OutOfOrder`] for a run observed before the latest
    /// stored run, [`StoreError::InvalidRun`] for a score that is not a
    /// finite number, and any database error. On every error the database
    /// is left as it was.
    pub fn record_run(&mut self, run: &RunInput) -> Result<RunSummary, StoreError> {
        check_storable_time(run.observed_at)?;
        let findings = distinct_findings(&run.findings)?;
        let assets = merge_run_assets(&run.assets);
        let at = format_time(run.observed_at);

        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error(path, "starting the run transaction"))?;
        check_order(&tx, path, run.observed_at)?;

        let run_id = insert_run(&tx, path, &at)?;
        insert_sources(&tx, path, run_id, &run.sources)?;
        insert_scopes(&tx, path, run_id, &run.scopes)?;
        upsert_assets(&tx, path, &at, assets)?;
        upsert_relationships(&tx, path, &at, &run.relationships)?;

        let mut active = ActiveFindings::load(&tx, path, &findings, &run.scopes)?;
        let mut summary = upsert_findings(&tx, path, run_id, &at, &findings, &mut active)?;
        summary.observed_at = run.observed_at;
        summary.fixed = close_unseen(&tx, path, run_id, &at, &active)?;
        update_run_counts(&tx, path, &summary)?;

        tx.commit().map_err(sql_error(path, "committing the run"))?;
        tracing::info!(
            run_id,
            observed_at = %at,
            seen = summary.seen,
            new = summary.new,
            still_open = summary.still_open,
            reopened = summary.reopened,
            fixed = summary.fixed,
            "recorded run"
        );
        Ok(summary)
    }
}

/// Merges entries with the same fingerprint, keeping the higher score, and
/// sorts the rest by fingerprint so that inserts walk the index in order.
fn distinct_findings(findings: &[ScoredFinding]) -> Result<Vec<&ScoredFinding>, StoreError> {
    let mut by_fingerprint: HashMap<&str, &ScoredFinding> = HashMap::with_capacity(findings.len());
    for scored in findings {
        if let Some(field) = non_finite_field(&scored.risk) {
            return Err(StoreError::InvalidRun {
                reason: format!(
                    "finding {} has a {field} that is not a finite number; fix the scoring \
                     before recording the run",
                    scored.fingerprint
                ),
            });
        }
        match by_fingerprint.entry(scored.fingerprint.as_str()) {
            Entry::Vacant(entry) => {
                entry.insert(scored);
            }
            Entry::Occupied(mut entry) => {
                if scored.risk.score > entry.get().risk.score {
                    entry.insert(scored);
                }
            }
        }
    }

    let mut distinct: Vec<&ScoredFinding> = by_fingerprint.into_values().collect();
    distinct.sort_unstable_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    Ok(distinct)
}

/// Names the first number of an assessment that JSON cannot carry: serde
/// writes NaN and infinities as `null`, which would not read back.
fn non_finite_field(risk: &RiskAssessment) -> Option<&'static str> {
    if !risk.score.is_finite() {
        Some("score")
    } else if !risk.likelihood.is_finite() {
        Some("likelihood")
    } else if !risk.impact.is_finite() {
        Some("impact")
    } else if risk.factors.iter().any(|f| !f.contribution.is_finite()) {
        Some("factor contribution")
    } else {
        None
    }
}

/// Merges the run's entries for the same asset, the first entry first,
/// keeping the order in which keys first appear.
fn merge_run_assets(assets: &[Asset]) -> Vec<Asset> {
    let mut position: HashMap<&AssetKey, usize> = HashMap::with_capacity(assets.len());
    let mut merged: Vec<Asset> = Vec::with_capacity(assets.len());
    for asset in assets {
        match position.entry(&asset.key) {
            Entry::Occupied(entry) => merged[*entry.get()].merge(asset.clone()),
            Entry::Vacant(entry) => {
                entry.insert(merged.len());
                merged.push(asset.clone());
            }
        }
    }
    merged
}

fn check_order(tx: &Transaction, path: &Path, observed_at: DateTime<Utc>) -> Result<(), StoreError> {
    let latest: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, observed_at FROM runs ORDER BY observed_at DESC, id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error(path, "reading the latest run"))?;

    if let Some((id, text)) = latest {
        let latest = parse_time(&text, "runs", "observed_at", &id.to_string())?;
        if observed_at < latest {
            return Err(StoreError::OutOfOrder { observed_at, latest });
        }
    }
    Ok(())
}

fn insert_run(tx: &Transaction, path: &Path, at: &str) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO runs (observed_at, recorded_at, finding_count, new_count, open_count,
                           reopened_count, fixed_count)
         VALUES (?1, ?2, 0, 0, 0, 0, 0)",
        params![at, format_time(Utc::now())],
    )
    .map_err(sql_error(path, "inserting the run"))?;
    Ok(tx.last_insert_rowid())
}

fn insert_sources(tx: &Transaction, path: &Path, run_id: i64, sources: &[SourceRecord]) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO run_sources (run_id, path, format, sha256, finding_count, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sql_error(path, "preparing the source insert"))?;
    for source in sources {
        insert
            .execute(params![
                run_id,
                source.path,
                source.format,
                source.sha256,
                to_sql_count(source.finding_count),
                source.error,
            ])
            .map_err(sql_error(path, "inserting a run source"))?;
    }
    Ok(())
}

fn insert_scopes(tx: &Transaction, path: &Path, run_id: i64, scopes: &BTreeSet<Scope>) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached("INSERT INTO run_scopes (run_id, tool, target) VALUES (?1, ?2, ?3)")
        .map_err(sql_error(path, "preparing the scope insert"))?;
    for scope in scopes {
        insert
            .execute(params![run_id, scope.tool, scope.target])
            .map_err(sql_error(path, "inserting a run scope"))?;
    }
    Ok(())
}

/// Merges each asset with its stored version, the run's values first, and
/// writes it back. `first_seen` keeps the first run's time.
fn upsert_assets(tx: &Transaction, path: &Path, at: &str, assets: Vec<Asset>) -> Result<(), StoreError> {
    let mut select = tx
        .prepare_cached("SELECT data FROM assets WHERE key = ?1")
        .map_err(sql_error(path, "preparing the asset lookup"))?;
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO assets (key, kind, name, data, first_seen, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (key) DO UPDATE SET
                 kind = excluded.kind, name = excluded.name, data = excluded.data,
                 last_seen = excluded.last_seen",
        )
        .map_err(sql_error(path, "preparing the asset upsert"))?;

    for mut asset in assets {
        let stored: Option<String> = select
            .query_row([asset.key.as_str()], |row| row.get(0))
            .optional()
            .map_err(sql_error(path, "reading a stored asset"))?;
        if let Some(text) = stored {
            let stored: Asset = parse_json(&text, "assets", "data", asset.key.as_str())?;
            asset.merge(stored);
        }

        let data = serde_json::to_string(&asset).map_err(|error| StoreError::InvalidRun {
            reason: format!("asset {} cannot be serialized: {error}", asset.key),
        })?;
        upsert
            .execute(params![asset.key.as_str(), asset.kind.as_str(), asset.name, data, at])
            .map_err(sql_error(path, "writing an asset"))?;
    }
    Ok(())
}

fn upsert_relationships(
    tx: &Transaction,
    path: &Path,
    at: &str,
    relationships: &[Relationship],
) -> Result<(), StoreError> {
    let mut upsert = tx
        .prepare_cached(
            "INSERT INTO relationships (from_key, to_key, kind, protocol, port, first_seen, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (from_key, to_key, kind, coalesce(protocol, ''), coalesce(port, -1))
             DO UPDATE SET last_seen = excluded.last_seen",
        )
        .map_err(sql_error(path, "preparing the relationship upsert"))?;
    for relationship in relationships {
        let kind = relationship_kind_name(relationship.kind);
        upsert
            .execute(params![
                relationship.from.as_str(),
                relationship.to.as_str(),
                kind,
                relationship.protocol,
                relationship.port,
                at,
            ])
            .map_err(sql_error(path, "writing a relationship"))?;
    }
    Ok(())
}

/// An active stored finding of one of the scopes that a run touches.
#[derive(Clone, Copy)]
struct Stored {
    id: i64,
    status: LifecycleStatus,
    /// Its scope, as an index into [`ActiveFindings::scopes`].
    scope: usize,
}

/// The active findings of every scope that a run saw findings in or
/// covered, read with one indexed range scan per scope. Entries are taken
/// out as the run sees them; those left in a covered scope are fixed.
struct ActiveFindings {
    /// (tool, target, covered by the run)
    scopes: Vec<(String, String, bool)>,
    by_fingerprint: HashMap<String, Stored>,
}

impl ActiveFindings {
    fn load(
        tx: &Transaction,
        path: &Path,
        findings: &[&ScoredFinding],
        covered: &BTreeSet<Scope>,
    ) -> Result<ActiveFindings, StoreError> {
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
                "SELECT fingerprint, id, status FROM findings
                 WHERE tool = ?1 AND target = ?2 AND status IN ('new', 'open', 'reopened')",
            )
            .map_err(sql_error(path, "preparing the active finding load"))?;
        let failed = || sql_error(path, "loading active findings");

        let mut active = ActiveFindings {
            scopes: Vec::with_capacity(touched.len()),
            by_fingerprint: HashMap::new(),
        };
        for (tool, target) in touched {
            let scope = active.scopes.len();
            let is_covered = covered.contains(&Scope {
                tool: tool.to_string(),
                target: target.to_string(),
            });
            active.scopes.push((tool.to_string(), target.to_string(), is_covered));

            let mut rows = select.query([tool, target]).map_err(failed())?;
            while let Some(row) = rows.next().map_err(failed())? {
                let fingerprint: String = row.get(0).map_err(failed())?;
                let id: i64 = row.get(1).map_err(failed())?;
                let text = row.get_ref(2).and_then(|value| Ok(value.as_str()?)).map_err(failed())?;
                let status = status_from_sql(text).ok_or_else(|| corrupt_status(&fingerprint, text))?;
                active.by_fingerprint.insert(fingerprint, Stored { id, status, scope });
            }
        }
        Ok(active)
    }

    /// Takes out a finding that the run saw, telling whether it is stored
    /// under the scope it was seen in.
    fn take_seen(&mut self, fingerprint: &str, tool: &str, target: &str) -> Option<(Stored, bool)> {
        let stored = self.by_fingerprint.remove(fingerprint)?;
        let (stored_tool, stored_target, _) = &self.scopes[stored.scope];
        Some((stored, stored_tool == tool && stored_target == target))
    }

    /// Returns the ids of the findings left in covered scopes, which the run
    /// did not see, sorted so that the writes are deterministic.
    fn unseen_in_covered_scopes(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .by_fingerprint
            .values()
            .filter(|stored| self.scopes[stored.scope].2)
            .map(|stored| stored.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// Findings per batch that the encoder thread sends.
const ENCODE_BATCH: usize = 512;

/// Batches that the encoder thread may run ahead of the writes.
const ENCODE_QUEUE: usize = 8;

/// The JSON of one finding and of its assessment.
struct Encoded {
    data: String,
    risk: String,
}

type EncodedBatch = Result<Vec<Encoded>, StoreError>;

/// Writes every seen finding with its score and its status events, and
/// returns the counts of the run (all but `fixed`).
///
/// A helper thread serializes the findings to JSON, in order, while this
/// thread runs the SQL. Serialization is about a quarter of the work
/// (measured with callgrind on the benchmark's findings), and SQLite's
/// writes cannot use a second core.
fn upsert_findings(
    tx: &Transaction,
    path: &Path,
    run_id: i64,
    at: &str,
    findings: &[&ScoredFinding],
    active: &mut ActiveFindings,
) -> Result<RunSummary, StoreError> {
    std::thread::scope(|threads| {
        let (sender, receiver) = mpsc::sync_channel(ENCODE_QUEUE);
        threads.spawn(move || encode_batches(findings, &sender));
        // Returning drops the receiver, which stops the encoder at its next
        // send if the writes failed early.
        write_findings(tx, path, run_id, at, findings, active, receiver)
    })
}

/// Serializes the findings in batches, in order, until the first error or
/// until the receiver is gone.
fn encode_batches(findings: &[&ScoredFinding], sender: &mpsc::SyncSender<EncodedBatch>) {
    for chunk in findings.chunks(ENCODE_BATCH) {
        let batch: EncodedBatch = chunk
            .iter()
            .map(|scored| {
                let fingerprint = scored.fingerprint.as_str();
                Ok(Encoded {
                    data: to_json(&scored.finding, fingerprint)?,
                    risk: to_json(&scored.risk, fingerprint)?,
                })
            })
            .collect();
        let failed = batch.is_err();
        if sender.send(batch).is_err() || failed {
            return;
        }
    }
}

fn write_findings(
    tx: &Transaction,
    path: &Path,
    run_id: i64,
    at: &str,
    findings: &[&ScoredFinding],
    active: &mut ActiveFindings,
    encoded: mpsc::Receiver<EncodedBatch>,
) -> Result<RunSummary, StoreError> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO findings (fingerprint, tool, target, rule_id, kind, severity, title,
                                   asset_key, status, first_seen, last_seen, last_run_id,
                                   score, tier, data, risk)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'new', ?9, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (fingerprint) DO NOTHING",
        )
        .map_err(sql_error(path, "preparing the finding insert"))?;
    let mut lookup = tx
        .prepare_cached("SELECT id, status FROM findings WHERE fingerprint = ?1")
        .map_err(sql_error(path, "preparing the finding lookup"))?;
    // rule_id and asset_key are inputs of the fingerprint as they are, so
    // they never change for a stored finding and no update sets them. The
    // tool is lowercased for the fingerprint, so a change of its case is a
    // change of scope. The common case of a rescan, same status and same
    // scope, leaves status, tool and target out, which spares SQLite
    // rewriting the entries of findings_scope.
    let mut refresh = tx
        .prepare_cached(
            "UPDATE findings SET kind = ?2, severity = ?3, title = ?4, last_seen = ?5,
                                 last_run_id = ?6, score = ?7, tier = ?8, data = ?9, risk = ?10
             WHERE id = ?1",
        )
        .map_err(sql_error(path, "preparing the finding refresh"))?;
    let mut change = tx
        .prepare_cached(
            "UPDATE findings SET kind = ?2, severity = ?3, title = ?4, last_seen = ?5,
                                 last_run_id = ?6, score = ?7, tier = ?8, data = ?9, risk = ?10,
                                 tool = ?11, target = ?12, status = ?13, fixed_at = NULL
             WHERE id = ?1",
        )
        .map_err(sql_error(path, "preparing the finding update"))?;
    let mut insert_score = tx
        .prepare_cached("INSERT INTO finding_scores (run_id, finding_id, score, tier) VALUES (?1, ?2, ?3, ?4)")
        .map_err(sql_error(path, "preparing the score insert"))?;
    let mut insert_event = tx
        .prepare_cached("INSERT INTO finding_events (finding_id, run_id, status, at) VALUES (?1, ?2, ?3, ?4)")
        .map_err(sql_error(path, "preparing the event insert"))?;

    let mut summary = RunSummary {
        run_id,
        observed_at: DateTime::<Utc>::MIN_UTC,
        seen: 0,
        new: 0,
        still_open: 0,
        reopened: 0,
        fixed: 0,
    };
    let mut batch = Vec::new().into_iter();
    for scored in findings {
        let Encoded { data, risk } = match batch.next() {
            Some(encoded) => encoded,
            None => {
                batch = encoded.recv().map_err(|_| encoder_stopped())??.into_iter();
                batch.next().ok_or_else(encoder_stopped)?
            }
        };
        let fingerprint = scored.fingerprint.as_str();
        let finding = &scored.finding;
        let target = finding.target.as_deref().unwrap_or("");
        let kind = finding.kind.as_str();
        let severity = finding.severity.as_str();
        let score = scored.risk.score;
        let tier = scored.risk.tier.as_str();

        // An active finding comes from the bulk load. Any other is
        // inserted. If the fingerprint is stored already, the finding is
        // fixed or stored under a scope the run did not touch, and one
        // lookup reads its status.
        let stored = match active.take_seen(fingerprint, &finding.tool, target) {
            Some(found) => Some(found),
            None => {
                let inserted = insert
                    .execute(params![
                        fingerprint,
                        finding.tool,
                        target,
                        finding.rule_id,
                        kind,
                        severity,
                        finding.title,
                        finding.asset.as_str(),
                        at,
                        run_id,
                        score,
                        tier,
                        data,
                        risk,
                    ])
                    .map_err(sql_error(path, "inserting a finding"))?;
                if inserted == 1 {
                    None
                } else {
                    let (id, text): (i64, String) = lookup
                        .query_row([fingerprint], |row| Ok((row.get(0)?, row.get(1)?)))
                        .map_err(sql_error(path, "looking up a finding"))?;
                    let status = status_from_sql(&text).ok_or_else(|| corrupt_status(fingerprint, &text))?;
                    Some((
                        Stored {
                            id,
                            status,
                            scope: usize::MAX,
                        },
                        false,
                    ))
                }
            }
        };

        let (id, status) = match stored {
            None => {
                summary.new += 1;
                (tx.last_insert_rowid(), LifecycleStatus::New)
            }
            Some((stored, same_scope)) => {
                let status = if stored.status == LifecycleStatus::Fixed {
                    summary.reopened += 1;
                    LifecycleStatus::Reopened
                } else {
                    summary.still_open += 1;
                    LifecycleStatus::Open
                };
                let columns = params![
                    stored.id,
                    kind,
                    severity,
                    finding.title,
                    at,
                    run_id,
                    score,
                    tier,
                    data,
                    risk,
                ];
                if same_scope && stored.status == status {
                    refresh
                        .execute(columns)
                        .map_err(sql_error(path, "updating a finding"))?;
                } else {
                    let mut values = columns.to_vec();
                    let status_name = status.as_str();
                    values.push(&finding.tool);
                    values.push(&target);
                    values.push(&status_name);
                    change
                        .execute(values.as_slice())
                        .map_err(sql_error(path, "updating a finding"))?;
                }
                (stored.id, status)
            }
        };
        summary.seen += 1;

        insert_score
            .execute(params![run_id, id, score, tier])
            .map_err(sql_error(path, "inserting a finding score"))?;
        if stored.map(|(stored, _)| stored.status) != Some(status) {
            insert_event
                .execute(params![id, run_id, status.as_str(), at])
                .map_err(sql_error(path, "inserting a finding event"))?;
        }
    }
    Ok(summary)
}

/// Marks fixed the active findings of the run's scopes that the run did not
/// see, with one `fixed` event each, and returns how many there were.
fn close_unseen(
    tx: &Transaction,
    path: &Path,
    run_id: i64,
    at: &str,
    active: &ActiveFindings,
) -> Result<u64, StoreError> {
    let mut close = tx
        .prepare_cached("UPDATE findings SET status = 'fixed', fixed_at = ?2 WHERE id = ?1")
        .map_err(sql_error(path, "preparing the finding close"))?;
    let mut insert_event = tx
        .prepare_cached("INSERT INTO finding_events (finding_id, run_id, status, at) VALUES (?1, ?2, 'fixed', ?3)")
        .map_err(sql_error(path, "preparing the fixed event insert"))?;

    let unseen = active.unseen_in_covered_scopes();
    for &id in &unseen {
        close
            .execute(params![id, at])
            .map_err(sql_error(path, "marking a finding fixed"))?;
        insert_event
            .execute(params![id, run_id, at])
            .map_err(sql_error(path, "inserting a fixed event"))?;
    }
    Ok(unseen.len() as u64)
}

fn update_run_counts(tx: &Transaction, path: &Path, summary: &RunSummary) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE runs SET finding_count = ?2, new_count = ?3, open_count = ?4,
                         reopened_count = ?5, fixed_count = ?6
         WHERE id = ?1",
        params![
            summary.run_id,
            to_sql_count(summary.seen),
            to_sql_count(summary.new),
            to_sql_count(summary.still_open),
            to_sql_count(summary.reopened),
            to_sql_count(summary.fixed),
        ],
    )
    .map_err(sql_error(path, "writing the run counts"))?;
    Ok(())
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

fn corrupt_status(fingerprint: &str, text: &str) -> StoreError {
    StoreError::Corrupt {
        table: "findings",
        column: "status",
        key: fingerprint.to_string(),
        reason: format!("{text:?} is not one of new, open, reopened or fixed"),
    }
}
