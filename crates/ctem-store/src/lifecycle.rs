//! The finding lifecycle of a run, inside the run's transaction. It needs
//! no query per finding in the common cases:
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

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::mpsc;

use chrono::{DateTime, Utc};
use ctem_model::LifecycleStatus;
use rusqlite::{Transaction, params};

use crate::codec::status_from_sql;
use crate::error::sql_error;
use crate::{RunSummary, Scope, ScoredFinding, StoreError};

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
pub(crate) struct ActiveFindings {
    /// (tool, target, covered by the run)
    scopes: Vec<(String, String, bool)>,
    by_fingerprint: HashMap<String, Stored>,
}

impl ActiveFindings {
    /// Loads the active findings of the scopes of `findings` and of the
    /// `covered` scopes.
    pub(crate) fn load(
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
pub(crate) fn upsert_findings(
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
pub(crate) fn close_unseen(
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
