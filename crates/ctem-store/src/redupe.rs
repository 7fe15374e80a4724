//! Re-applying the merge rules to stored findings, after the merge key
//! scheme changed or for findings stored before findings were merged.

use std::collections::BTreeMap;

use ctem_model::fingerprint::{component_identity, primary_vulnerability_id};
use ctem_model::{Finding, LifecycleStatus, MergeKey};
use rusqlite::params;

use crate::codec::{parse_json, status_from_sql};
use crate::error::sql_error;
use crate::lifecycle::{corrupt_status, refresh_tools};
use crate::{Store, StoreError};

/// The counts of what [`Store::redupe`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RedupeSummary {
    /// Findings before.
    pub before: u64,
    /// Findings after: `before - merged`.
    pub after: u64,
    /// Findings merged into another one.
    pub merged: u64,
    /// Findings left whose merge key, component or vulnerability id changed.
    pub rekeyed: u64,
}

/// One stored finding as the merge needs it.
struct Row {
    id: i64,
    fingerprint: String,
    status: LifecycleStatus,
    status_source: String,
    last_seen: String,
    key: MergeKey,
    component: Option<String>,
    vuln_id: String,
    changed: bool,
}

impl Store {
    /// Recomputes every finding's merge key from its stored report and
    /// merges the findings that now share one, in one transaction. The
    /// oldest finding (lowest id) of each group keeps its fingerprint and
    /// takes the others' sources, history and scores; each merge is
    /// recorded in its history with the values that matched.
    ///
    /// The merged finding's status: a status that somebody set (risk
    /// accepted, false positive, not affected) wins, the oldest finding's
    /// first; otherwise the status of the finding seen most recently.
    pub fn redupe(&mut self) -> Result<RedupeSummary, StoreError> {
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the redupe transaction")?;

        let mut rows = Vec::new();
        {
            let mut select = tx
                .prepare(
                    "SELECT id, fingerprint, status, status_source, last_seen, data, merge_key, component, vuln_id
                     FROM findings JOIN finding_json ON finding_json.finding_id = findings.id ORDER BY id",
                )
                .map_err(sql_error(path, "preparing the finding scan"))?;
            let mut cursor = select.query([]).map_err(sql_error(path, "scanning findings"))?;
            while let Some(row) = cursor.next().map_err(sql_error(path, "reading findings"))? {
                #[allow(clippy::type_complexity)]
                let (id, fingerprint, status, status_source, last_seen, data, key, component, vuln_id): (
                    i64,
                    String,
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                ) = (|| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                    ))
                })()
                .map_err(sql_error(path, "reading findings"))?;
                let finding: Finding = parse_json(&data, "finding_json", "data", &fingerprint)?;
                let status = status_from_sql(&status).ok_or_else(|| corrupt_status(&fingerprint, &status))?;
                let merge_key = MergeKey::of(&finding);
                let new_component = finding.component.as_ref().map(component_identity);
                let new_vuln = primary_vulnerability_id(&finding).unwrap_or_else(|| finding.rule_id.clone());
                let changed = key.as_deref() != Some(merge_key.as_str())
                    || component != new_component
                    || vuln_id.as_deref() != Some(new_vuln.as_str());
                rows.push(Row {
                    id,
                    fingerprint,
                    status,
                    status_source,
                    last_seen,
                    key: merge_key,
                    component: new_component,
                    vuln_id: new_vuln,
                    changed,
                });
            }
        }

        let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for row in &rows {
            groups.entry(row.key.as_str()).or_default().push(row);
        }

        let mut summary = RedupeSummary {
            before: rows.len() as u64,
            ..RedupeSummary::default()
        };
        // Clear every key first, so that no update meets the UNIQUE index
        // halfway through.
        tx.execute("UPDATE findings SET merge_key = NULL", [])
            .map_err(sql_error(path, "clearing merge keys"))?;
        for members in groups.values() {
            let survivor = members[0];
            for loser in &members[1..] {
                merge_into(&tx, path, survivor, loser)?;
                summary.merged += 1;
            }
            if members.len() > 1 {
                let status = merged_status(members);
                tx.execute(
                    "UPDATE findings SET status = ?2,
                         first_seen = (SELECT min(first_seen) FROM findings WHERE id = ?1),
                         last_seen = ?3
                     WHERE id = ?1",
                    params![
                        survivor.id,
                        status.as_str(),
                        members.iter().map(|row| row.last_seen.as_str()).max().unwrap_or("")
                    ],
                )
                .map_err(sql_error(path, "updating a merged finding"))?;
                refresh_tools(&tx, path, survivor.id)?;
            }
            summary.rekeyed += u64::from(survivor.changed);
            tx.execute(
                "UPDATE findings SET merge_key = ?2, component = ?3, vuln_id = ?4 WHERE id = ?1",
                params![survivor.id, survivor.key.as_str(), survivor.component, survivor.vuln_id],
            )
            .map_err(sql_error(path, "writing a merge key"))?;
        }
        summary.after = summary.before - summary.merged;
        tx.commit(path, "committing the redupe")?;
        Ok(summary)
    }
}

/// Moves a finding's sources, history and scores to the survivor, records
/// why, and deletes it.
fn merge_into(
    tx: &rusqlite::Transaction,
    path: &std::path::Path,
    survivor: &Row,
    loser: &Row,
) -> Result<(), StoreError> {
    let basis = format!(
        "merged {} into this finding: {} ({} rule)",
        loser.fingerprint,
        survivor.key.basis(),
        survivor.key.rule().as_str()
    );
    let statements: [(&str, &'static str); 7] = [
        (
            "UPDATE finding_sources SET finding_id = ?1, merged_by = ?3, basis = ?4 WHERE finding_id = ?2",
            "moving sources",
        ),
        (
            "UPDATE finding_history SET finding_id = ?1 WHERE finding_id = ?2",
            "moving history",
        ),
        (
            "INSERT INTO finding_scores (run_id, finding_id, score, tier)
             SELECT run_id, ?1, score, tier FROM finding_scores WHERE finding_id = ?2
             ON CONFLICT (run_id, finding_id) DO UPDATE SET score = max(score, excluded.score)",
            "moving scores",
        ),
        (
            "DELETE FROM finding_scores WHERE finding_id = ?2",
            "deleting moved scores",
        ),
        (
            "UPDATE findings SET first_seen = min(first_seen, (SELECT first_seen FROM findings WHERE id = ?2))
             WHERE id = ?1",
            "keeping the first detection",
        ),
        (
            "DELETE FROM finding_json WHERE finding_id = ?2",
            "deleting the JSON of a merged finding",
        ),
        ("DELETE FROM findings WHERE id = ?2", "deleting a merged finding"),
    ];
    for (sql, what) in statements {
        let result = if sql.contains("?4") {
            tx.execute(sql, params![survivor.id, loser.id, survivor.key.rule().as_str(), basis])
        } else {
            tx.execute(sql, params![survivor.id, loser.id])
        };
        result.map_err(sql_error(path, what))?;
    }
    let status: String = tx
        .query_row("SELECT status FROM findings WHERE id = ?1", [survivor.id], |row| {
            row.get(0)
        })
        .map_err(sql_error(path, "reading a merged finding"))?;
    tx.execute(
        "INSERT INTO finding_history (finding_id, run_id, at, status, cause, reason)
         VALUES (?1, NULL, strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now'), ?2, 'merge', ?3)",
        params![survivor.id, status, basis],
    )
    .map_err(sql_error(path, "recording a merge"))?;
    Ok(())
}

/// Returns the status of a merged group (see [`Store::redupe`]).
fn merged_status(members: &[&Row]) -> LifecycleStatus {
    let person_set = members.iter().find(|row| {
        row.status_source == "triage"
            && matches!(
                row.status,
                LifecycleStatus::RiskAccepted | LifecycleStatus::FalsePositive | LifecycleStatus::NotAffected
            )
    });
    if let Some(row) = person_set {
        return row.status;
    }
    members
        .iter()
        .max_by(|a, b| a.last_seen.cmp(&b.last_seen))
        .map_or(LifecycleStatus::Open, |row| row.status)
}
