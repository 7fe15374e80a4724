//! Writing a run: the run's own rows, its assets and relationships, and
//! the order of the steps. The finding lifecycle is in `lifecycle`.
//!
//! A run is written in one IMMEDIATE transaction: it takes the write lock
//! before reading anything, so two writers cannot interleave, and any error
//! rolls the whole run back.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use ctem_model::{Asset, AssetKey, Criticality, Relationship, RiskAssessment};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::codec::{check_storable_time, format_time, parse_json, parse_time, relationship_kind_name, to_sql_count};
use crate::error::sql_error;
use crate::lifecycle::{Lifecycle, write_run_stats};
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
    /// stored run, triage or end of a risk acceptance,
    /// [`StoreError::InvalidRun`] for a score that is not a
    /// finite number, and any database error. On every error the database
    /// is left as it was.
    pub fn record_run(&mut self, run: &RunInput) -> Result<RunSummary, StoreError> {
        self.record(run, false)
    }

    /// Records a run observed now, like [`Store::record_run`], but takes
    /// the observation time once it holds the write lock: the later of
    /// `run.observed_at` and the clock. Two processes that record runs at
    /// once then record them in the order they write, where times taken
    /// before waiting for the lock could be out of order.
    pub fn record_current_run(&mut self, run: &RunInput) -> Result<RunSummary, StoreError> {
        self.record(run, true)
    }

    fn record(&mut self, run: &RunInput, now_at_lock: bool) -> Result<RunSummary, StoreError> {
        check_storable_time(run.observed_at)?;
        let findings = distinct_findings(&run.findings)?;
        let assets = merge_run_assets(&run.assets);

        // SQLite starts the log over only when a write begins after a
        // checkpoint copied all of it. A run that began while the previous
        // run's checkpoint was still copying would append to the log
        // instead, and back-to-back runs would grow it without bound.
        self.wait_for_checkpoint();

        let path = self.path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the run transaction")?;
        let observed_at = if now_at_lock {
            run.observed_at.max(Utc::now())
        } else {
            run.observed_at
        };
        check_storable_time(observed_at)?;
        let at = format_time(observed_at);
        check_order(&tx, path, observed_at)?;

        let run_id = insert_run(&tx, path, &at)?;
        insert_sources(&tx, path, run_id, &run.sources)?;
        insert_scopes(&tx, path, run_id, &run.scopes)?;
        let crown_jewels: HashSet<AssetKey> = assets
            .iter()
            .filter(|asset| asset.criticality == Some(Criticality::CrownJewel))
            .map(|asset| asset.key.clone())
            .collect();
        let targets = scope_assets(&assets, &run.scopes);
        upsert_assets(&tx, path, &at, assets)?;
        upsert_relationships(&tx, path, &at, &run.relationships)?;

        let lifecycle = Lifecycle::new(&tx, path, run_id, &at, observed_at, &crown_jewels);
        let (summary, mut assessed) = lifecycle.apply(&findings, &run.scopes)?;
        assessed.extend(targets);
        mark_assessed(&tx, path, &at, &assessed)?;
        update_run_counts(&tx, path, &summary)?;
        write_run_stats(&tx, path, run_id)?;

        tx.commit(path, "committing the run")?;
        self.start_checkpoint();
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
    let latest_run: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, observed_at FROM runs ORDER BY observed_at DESC, id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql_error(path, "reading the latest run"))?;
    if let Some((id, text)) = latest_run {
        let latest = parse_time(&text, "runs", "observed_at", &id.to_string())?;
        if observed_at < latest {
            return Err(StoreError::OutOfOrder {
                observed_at,
                latest,
                latest_change: "run",
            });
        }
    }

    // A run applies its statuses on top of every triage and expiry already
    // stored, so a run observed before them would write its history out of
    // order. An example is a run on an acceptance that a listing has already ended.
    let latest_change: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT id, at, cause FROM finding_history WHERE cause IN ('triage', 'validation', 'expiry')
             ORDER BY at DESC, id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()
        .map_err(sql_error(path, "reading the latest triage"))?;
    if let Some((id, text, cause)) = latest_change {
        let latest = parse_time(&text, "finding_history", "at", &id.to_string())?;
        if observed_at < latest {
            let latest_change = if cause == "expiry" {
                "end of a risk acceptance"
            } else {
                "triage"
            };
            return Err(StoreError::OutOfOrder {
                observed_at,
                latest,
                latest_change,
            });
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

/// Returns the run's assets that are the targets of its scopes: a scope's target
/// is the asset's key, its name or the identifier in its key. A scan that
/// covered them assessed them, even where it found nothing.
fn scope_assets(assets: &[Asset], scopes: &BTreeSet<Scope>) -> BTreeSet<AssetKey> {
    let targets: HashSet<&str> = scopes.iter().map(|scope| scope.target.as_str()).collect();
    assets
        .iter()
        .filter(|asset| {
            targets.contains(asset.key.as_str())
                || targets.contains(asset.name.as_str())
                || targets.contains(asset.key.identifier())
        })
        .map(|asset| asset.key.clone())
        .collect()
}

/// Sets the time of the latest assessment of the assets the run assessed,
/// and of what they host or contain: a scan of a host assesses its
/// services, a scan of an image or repository its components.
fn mark_assessed(tx: &Transaction, path: &Path, at: &str, assessed: &BTreeSet<AssetKey>) -> Result<(), StoreError> {
    let mut update = tx
        .prepare_cached("UPDATE assets SET last_assessed = ?2 WHERE key = ?1")
        .map_err(sql_error(path, "preparing the assessment update"))?;
    let mut update_parts = tx
        .prepare_cached(
            "UPDATE assets SET last_assessed = ?2
             WHERE key IN (SELECT to_key FROM relationships
                           WHERE from_key = ?1 AND kind IN ('hosts', 'contains'))",
        )
        .map_err(sql_error(path, "preparing the assessment update"))?;
    for key in assessed {
        update
            .execute(params![key.as_str(), at])
            .map_err(sql_error(path, "marking an asset assessed"))?;
        update_parts
            .execute(params![key.as_str(), at])
            .map_err(sql_error(path, "marking an asset's parts assessed"))?;
    }
    Ok(())
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
