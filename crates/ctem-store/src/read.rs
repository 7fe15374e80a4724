//! Reading runs, assets and findings back.

use std::collections::BTreeSet;

use ctem_model::{Asset, AssetKey, Finding, Fingerprint, Relationship, RiskAssessment, Severity};
use rusqlite::types::Value;
use rusqlite::{Row, params, params_from_iter};

use crate::codec::{from_sql_count, parse_json, parse_name, parse_relationship_kind, parse_time, status_from_sql};
use crate::error::sql_error;
use crate::{
    Cause, FindingFilter, HistoryEntry, RunRecord, RunSummary, Scope, SourceEntry, SourceRecord, Store, StoreError,
    StoredFinding,
};

const FINDING_COLUMNS: &str = "SELECT fingerprint, status, first_seen, last_seen, fixed_at, data, risk, tools, \
                               validation, verified_at, accepted_until, introduced_at \
                               FROM findings JOIN finding_json ON finding_json.finding_id = findings.id";

impl Store {
    /// Returns the findings that match `filter`, the most urgent tier first
    /// (P1), then the highest score (which orders as the expected loss
    /// does), then by fingerprint.
    pub fn findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>, StoreError> {
        let (sql, values) = finding_query(filter);
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(&sql)
            .map_err(sql_error(path, "preparing the finding query"))?;
        let mut rows = select
            .query(params_from_iter(values.iter()))
            .map_err(sql_error(path, "querying findings"))?;

        let mut findings = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading findings"))? {
            findings.push(self.decode_finding(row)?);
        }
        Ok(findings)
    }

    /// Counts the findings that match `filter`, ignoring its limit, without
    /// reading them.
    pub fn count_findings(&self, filter: &FindingFilter) -> Result<u64, StoreError> {
        let (clause, values) = finding_conditions(filter);
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM findings{clause}"))
            .map_err(sql_error(path, "preparing the finding count"))?;
        let count: i64 = select
            .query_row(params_from_iter(values.iter()), |row| row.get(0))
            .map_err(sql_error(path, "counting findings"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Returns one finding by its fingerprint or by the fingerprint of any
    /// of its sources, if the store has it.
    pub fn finding(&self, fingerprint: &Fingerprint) -> Result<Option<StoredFinding>, StoreError> {
        match self.finding_id(fingerprint)? {
            Some(id) => Ok(self.findings_by_id(&[id])?.pop()),
            None => Ok(None),
        }
    }

    /// Returns every change of a finding, oldest first: status changes by
    /// runs, triage, VEX and expiry, merges and validation marks (see the
    /// crate documentation). The fingerprint may be the finding's or any
    /// of its sources'.
    pub fn finding_history(&self, fingerprint: &Fingerprint) -> Result<Vec<HistoryEntry>, StoreError> {
        let path = self.path.as_path();
        let key = fingerprint.as_str();
        let Some(id) = self.finding_id(fingerprint)? else {
            return Ok(Vec::new());
        };
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT run_id, at, status, cause, reason, actor, approver, expires_at, validation
                 FROM finding_history WHERE finding_id = ?1 ORDER BY id",
            )
            .map_err(sql_error(path, "preparing the history query"))?;
        let mut rows = select
            .query([id])
            .map_err(sql_error(path, "querying finding history"))?;

        let mut history = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading finding history"))? {
            #[allow(clippy::type_complexity)]
            let (run_id, at, status, cause, reason, actor, approver, expires_at, validation): (
                Option<i64>,
                String,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            ) = read_columns(row).map_err(sql_error(path, "reading finding history"))?;
            let cause = Cause::parse(&cause).ok_or_else(|| StoreError::Corrupt {
                table: "finding_history",
                column: "cause",
                key: key.to_string(),
                reason: format!("{cause:?} is not a cause of change"),
            })?;
            history.push(HistoryEntry {
                run_id,
                at: parse_time(&at, "finding_history", "at", key)?,
                status: parse_name(&status, "finding_history", "status", key)?,
                cause,
                reason,
                actor,
                approver,
                expires_at: expires_at
                    .map(|text| parse_time(&text, "finding_history", "expires_at", key))
                    .transpose()?,
                validation: validation
                    .map(|text| parse_name(&text, "finding_history", "validation", key))
                    .transpose()?,
            });
        }
        Ok(history)
    }

    /// Returns the reports (sources) of a finding, the first first.
    pub fn finding_sources(&self, fingerprint: &Fingerprint) -> Result<Vec<SourceEntry>, StoreError> {
        let path = self.path.as_path();
        let key = fingerprint.as_str();
        let Some(id) = self.finding_id(fingerprint)? else {
            return Ok(Vec::new());
        };
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT fingerprint, tool, target, active, first_seen, merged_by, basis
                 FROM finding_sources WHERE finding_id = ?1 ORDER BY id",
            )
            .map_err(sql_error(path, "preparing the source query"))?;
        let mut rows = select.query([id]).map_err(sql_error(path, "querying sources"))?;
        let mut sources = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading sources"))? {
            #[allow(clippy::type_complexity)]
            let (fingerprint, tool, target, active, first_seen, merged_by, basis): (
                String,
                String,
                String,
                bool,
                String,
                String,
                Option<String>,
            ) = read_columns(row).map_err(sql_error(path, "reading sources"))?;
            sources.push(SourceEntry {
                fingerprint: Fingerprint::from_stored(fingerprint),
                tool,
                target,
                active,
                first_seen: parse_time(&first_seen, "finding_sources", "first_seen", key)?,
                merged_by,
                basis,
            });
        }
        Ok(sources)
    }

    /// Returns the row id of the finding with this fingerprint, or whose
    /// source has it.
    pub(crate) fn finding_id(&self, fingerprint: &Fingerprint) -> Result<Option<i64>, StoreError> {
        finding_id(&self.conn, &self.path, fingerprint.as_str())
    }

    /// Returns every run, the most recently observed first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read_runs(None)
    }

    /// Returns the most recently observed run, if any.
    pub fn latest_run(&self) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.read_runs(Some(1))?.into_iter().next())
    }

    /// Returns every asset, by key, as merged across runs.
    pub fn assets(&self) -> Result<Vec<Asset>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached("SELECT key, data FROM assets ORDER BY key")
            .map_err(sql_error(path, "preparing the asset query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying assets"))?;

        let mut assets = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading assets"))? {
            let (key, data): (String, String) = read_columns(row).map_err(sql_error(path, "reading assets"))?;
            assets.push(parse_json(&data, "assets", "data", &key)?);
        }
        Ok(assets)
    }

    /// Returns every distinct relationship, ordered by its endpoints.
    pub fn relationships(&self) -> Result<Vec<Relationship>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT from_key, to_key, kind, protocol, port FROM relationships
                 ORDER BY from_key, to_key, kind, protocol, port",
            )
            .map_err(sql_error(path, "preparing the relationship query"))?;
        let mut rows = select.query([]).map_err(sql_error(path, "querying relationships"))?;

        let mut relationships = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading relationships"))? {
            let (from, to, kind, protocol, port): (String, String, String, Option<String>, Option<u16>) =
                read_columns(row).map_err(sql_error(path, "reading relationships"))?;
            let kind = parse_relationship_kind(&kind, &format!("{from} -> {to}"))?;
            relationships.push(Relationship {
                from: AssetKey::from_stored(from),
                to: AssetKey::from_stored(to),
                kind,
                protocol,
                port,
            });
        }
        Ok(relationships)
    }

    pub(crate) fn decode_finding(&self, row: &Row<'_>) -> Result<StoredFinding, StoreError> {
        let path = self.path.as_path();
        let (fingerprint, status, first_seen, last_seen, fixed_at, data, risk): (
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
        ) = read_columns(row).map_err(sql_error(path, "reading a finding"))?;
        let (tools, validation, verified_at, accepted_until, introduced_at): (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = (|| Ok((row.get(7)?, row.get(8)?, row.get(9)?, row.get(10)?, row.get(11)?)))()
            .map_err(sql_error(path, "reading a finding"))?;

        let key = fingerprint.as_str();
        let status = status_from_sql(&status).ok_or_else(|| StoreError::Corrupt {
            table: "findings",
            column: "status",
            key: key.to_string(),
            reason: format!("{status:?} is not a finding status"),
        })?;
        let time =
            |text: Option<String>, column| text.map(|text| parse_time(&text, "findings", column, key)).transpose();
        let verified_at = time(verified_at, "verified_at")?;
        let accepted_until = time(accepted_until, "accepted_until")?;
        let introduced_at = time(introduced_at, "introduced_at")?;
        let validation = validation
            .map(|text| parse_name(&text, "findings", "validation", key))
            .transpose()?;
        let tools = tools
            .split(',')
            .filter(|tool| !tool.is_empty())
            .map(str::to_string)
            .collect();
        let finding: Finding = parse_json(&data, "finding_json", "data", key)?;
        let risk: Option<RiskAssessment> = risk
            .map(|text| parse_json(&text, "finding_json", "risk", key))
            .transpose()?;
        let first_seen = parse_time(&first_seen, "findings", "first_seen", key)?;
        let last_seen = parse_time(&last_seen, "findings", "last_seen", key)?;
        let fixed_at = fixed_at
            .map(|text| parse_time(&text, "findings", "fixed_at", key))
            .transpose()?;

        Ok(StoredFinding {
            fingerprint: Fingerprint::from_stored(fingerprint),
            finding,
            status,
            tools,
            validation,
            verified_at,
            accepted_until,
            introduced_at,
            first_seen,
            last_seen,
            fixed_at,
            risk,
        })
    }

    fn read_runs(&self, limit: Option<usize>) -> Result<Vec<RunRecord>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT id, observed_at, recorded_at, finding_count, new_count, open_count,
                        reopened_count, fixed_count
                 FROM runs ORDER BY observed_at DESC, id DESC LIMIT ?1",
            )
            .map_err(sql_error(path, "preparing the run query"))?;
        // SQLite reads a negative LIMIT as no limit.
        let limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let mut rows = select.query([limit]).map_err(sql_error(path, "querying runs"))?;

        let mut runs = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading runs"))? {
            let (id, observed_at, recorded_at, seen, new, still_open, reopened, fixed): (
                i64,
                String,
                String,
                i64,
                i64,
                i64,
                i64,
                i64,
            ) = read_columns(row).map_err(sql_error(path, "reading runs"))?;
            let key = id.to_string();
            let count = |value, column| from_sql_count(value, "runs", column, &key);
            let summary = RunSummary {
                run_id: id,
                observed_at: parse_time(&observed_at, "runs", "observed_at", &key)?,
                seen: count(seen, "finding_count")?,
                new: count(new, "new_count")?,
                still_open: count(still_open, "open_count")?,
                reopened: count(reopened, "reopened_count")?,
                fixed: count(fixed, "fixed_count")?,
            };
            runs.push(RunRecord {
                summary,
                recorded_at: parse_time(&recorded_at, "runs", "recorded_at", &key)?,
                sources: Vec::new(),
                scopes: BTreeSet::new(),
            });
        }
        drop(rows);

        for run in &mut runs {
            run.sources = self.run_sources(run.summary.run_id)?;
            run.scopes = self.run_scopes(run.summary.run_id)?;
        }
        Ok(runs)
    }

    fn run_sources(&self, run_id: i64) -> Result<Vec<SourceRecord>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT path, format, sha256, finding_count, error FROM run_sources
                 WHERE run_id = ?1 ORDER BY rowid",
            )
            .map_err(sql_error(path, "preparing the run source query"))?;
        let mut rows = select
            .query([run_id])
            .map_err(sql_error(path, "querying run sources"))?;

        let mut sources = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error(path, "reading run sources"))? {
            let (source_path, format, sha256, finding_count, error): (String, String, String, i64, Option<String>) =
                read_columns(row).map_err(sql_error(path, "reading run sources"))?;
            let finding_count = from_sql_count(finding_count, "run_sources", "finding_count", &source_path)?;
            sources.push(SourceRecord {
                path: source_path,
                format,
                sha256,
                finding_count,
                error,
            });
        }
        Ok(sources)
    }

    fn run_scopes(&self, run_id: i64) -> Result<BTreeSet<Scope>, StoreError> {
        let path = self.path.as_path();
        let mut select = self
            .conn
            .prepare_cached("SELECT tool, target FROM run_scopes WHERE run_id = ?1")
            .map_err(sql_error(path, "preparing the run scope query"))?;
        let scopes = select
            .query_map(params![run_id], |row| {
                Ok(Scope {
                    tool: row.get(0)?,
                    target: row.get(1)?,
                })
            })
            .map_err(sql_error(path, "querying run scopes"))?
            .collect::<Result<BTreeSet<Scope>, _>>()
            .map_err(sql_error(path, "reading run scopes"))?;
        Ok(scopes)
    }
}

/// Builds the WHERE clause (empty when nothing filters) and the parameters
/// of a finding filter.
fn finding_conditions(filter: &FindingFilter) -> (String, Vec<Value>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();

    if !filter.statuses.is_empty() {
        let names = filter.statuses.iter().map(|status| status.as_str());
        conditions.push(format!("status IN ({})", placeholders(&mut values, names)));
    }
    if filter.active_only {
        conditions.push("status IN ('new', 'open', 'reopened')".to_string());
    }
    // A finding is of a tool or target when one of its sources is.
    let mut source_conditions = Vec::new();
    if let Some(tool) = &filter.tool {
        let tool = placeholder(&mut values, Value::Text(tool.clone()));
        source_conditions.push(format!("tool = {tool}"));
    }
    if let Some(target) = &filter.target {
        let target = placeholder(&mut values, Value::Text(target.clone()));
        source_conditions.push(format!("target = {target}"));
    }
    if !source_conditions.is_empty() {
        conditions.push(format!(
            "id IN (SELECT finding_id FROM finding_sources WHERE {})",
            source_conditions.join(" AND ")
        ));
    }
    if let Some(min_severity) = filter.min_severity {
        let names = Severity::ALL
            .into_iter()
            .filter(|severity| *severity >= min_severity)
            .map(Severity::as_str);
        conditions.push(format!("severity IN ({})", placeholders(&mut values, names)));
    }
    if let Some(tier) = filter.tier {
        let tier = Value::Text(tier.as_str().to_string());
        conditions.push(format!("tier = {}", placeholder(&mut values, tier)));
    }
    if let Some(asset) = &filter.asset {
        conditions.push(format!(
            "asset_key = {}",
            placeholder(&mut values, Value::Text(asset.clone()))
        ));
    }

    let mut clause = String::new();
    if !conditions.is_empty() {
        clause.push_str(" WHERE ");
        clause.push_str(&conditions.join(" AND "));
    }
    (clause, values)
}

/// Builds the SQL and the parameters of a finding query.
fn finding_query(filter: &FindingFilter) -> (String, Vec<Value>) {
    let (clause, mut values) = finding_conditions(filter);
    let mut sql = format!("{FINDING_COLUMNS}{clause} ORDER BY tier, score DESC, fingerprint");
    if let Some(limit) = filter.limit {
        let limit = Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX));
        sql.push_str(&format!(" LIMIT {}", placeholder(&mut values, limit)));
    }
    (sql, values)
}

/// Adds a parameter and returns its numbered placeholder (`?3`).
fn placeholder(values: &mut Vec<Value>, value: Value) -> String {
    values.push(value);
    format!("?{}", values.len())
}

/// Adds text parameters and returns their placeholders separated by commas.
fn placeholders<'a>(values: &mut Vec<Value>, texts: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = texts
        .map(|text| placeholder(values, Value::Text(text.to_string())))
        .collect();
    list.join(", ")
}

/// Reads a row's columns into a tuple, in order.
fn read_columns<'a, T>(row: &'a Row<'a>) -> rusqlite::Result<T>
where
    T: TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    T::try_from(row)
}

/// Returns the row id of the finding with this fingerprint, or whose source has it.
pub(crate) fn finding_id(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    fingerprint: &str,
) -> Result<Option<i64>, StoreError> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(
        "SELECT coalesce(
             (SELECT id FROM findings WHERE fingerprint = ?1),
             (SELECT finding_id FROM finding_sources WHERE fingerprint = ?1))",
    )
    .and_then(|mut select| {
        select
            .query_row([fingerprint], |row| row.get::<_, Option<i64>>(0))
            .optional()
    })
    .map(Option::flatten)
    .map_err(sql_error(path, "looking up a finding"))
}
