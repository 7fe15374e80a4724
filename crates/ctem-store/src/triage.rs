//! Changes that people make to findings: triage statuses and validation
//! marks, each recorded in the finding's history with the reason and the person.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use ctem_model::{Fingerprint, LifecycleStatus};
use rusqlite::{OptionalExtension, params};

use crate::codec::{check_storable_time, format_time, parse_time, status_from_sql};
use crate::error::sql_error;
use crate::lifecycle::{corrupt_status, expired_acceptances, expiry_reason, reopen_expired};
use crate::read::finding_id;
use crate::{Store, StoreError, TriageAction, TriageRequest};

/// The result of a triage call for one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageOutcome {
    /// The fingerprint as given.
    pub fingerprint: Fingerprint,
    pub before: LifecycleStatus,
    pub after: LifecycleStatus,
}

impl Store {
    /// Applies a triage action to every finding named, in one transaction:
    /// if any finding is unknown or cannot take the action, nothing is
    /// written. A finding named more than once, by one fingerprint or by
    /// the fingerprints of several of its sources, is changed once and has
    /// one outcome, under the first fingerprint that named it.
    ///
    /// | action | allowed from | result |
    /// | --- | --- | --- |
    /// | accept risk | new, open, reopened, risk_accepted | `risk_accepted` until the date |
    /// | false positive | any status | `false_positive` |
    /// | not affected | any status | `not_affected` |
    /// | fixed | new, open, reopened, risk_accepted | `fixed`, unverified until a covering run |
    /// | reopen | fixed, risk_accepted, false_positive, not_affected | `open` |
    /// | validate | any status | status unchanged, validation mark set |
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidTriage`] for an empty reason or approver, an
    /// acceptance that ends before `at`, an unknown fingerprint or an
    /// action the status does not allow; any database error.
    pub fn triage(&mut self, request: &TriageRequest) -> Result<Vec<TriageOutcome>, StoreError> {
        let invalid = |reason: String| StoreError::InvalidTriage { reason };
        check_storable_time(request.at)?;
        if request.reason.trim().is_empty() {
            return Err(invalid(
                "give a reason (--reason): the history keeps why each change was made".into(),
            ));
        }
        if request.fingerprints.is_empty() {
            return Err(invalid("name at least one finding by its fingerprint".into()));
        }
        if let TriageAction::AcceptRisk { approver, until } = &request.action {
            if approver.trim().is_empty() {
                return Err(invalid("a risk acceptance needs an approver (--approver)".into()));
            }
            if *until <= request.at {
                return Err(invalid(format!(
                    "the acceptance would end on {until}, which is not after {}; give a later --expires",
                    request.at
                )));
            }
            check_storable_time(*until)?;
        }

        let path = self.path.clone();
        let path = path.as_path();
        let at = format_time(request.at);
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the triage transaction")?;

        let mut outcomes = Vec::with_capacity(request.fingerprints.len());
        let mut changed = HashSet::with_capacity(request.fingerprints.len());
        for fingerprint in &request.fingerprints {
            let id = finding_id(&tx, path, fingerprint.as_str())?
                .ok_or_else(|| invalid(format!("no finding has the fingerprint {fingerprint}")))?;
            if !changed.insert(id) {
                continue;
            }
            check_after_last_change(&tx, path, id, fingerprint, request.at)?;
            let text: String = tx
                .query_row("SELECT status FROM findings WHERE id = ?1", [id], |row| row.get(0))
                .map_err(sql_error(path, "reading a finding"))?;
            let before = status_from_sql(&text).ok_or_else(|| corrupt_status(fingerprint.as_str(), &text))?;
            let after = next_status(before, &request.action).ok_or_else(|| {
                invalid(format!(
                    "finding {fingerprint} is {before}, which cannot take the action {}",
                    action_name(&request.action)
                ))
            })?;

            let (approver, until) = match &request.action {
                TriageAction::AcceptRisk { approver, until } => (Some(approver.as_str()), Some(format_time(*until))),
                _ => (None, None),
            };
            match &request.action {
                TriageAction::Validate(validation) => {
                    tx.execute(
                        "UPDATE findings SET validation = ?2 WHERE id = ?1",
                        params![id, validation.as_str()],
                    )
                    .map_err(sql_error(path, "setting a validation mark"))?;
                }
                TriageAction::AcceptRisk { .. } => {
                    tx.execute(
                        "UPDATE findings SET status = 'risk_accepted', status_source = 'triage',
                                             accepted_until = ?2 WHERE id = ?1",
                        params![id, until],
                    )
                    .map_err(sql_error(path, "accepting a risk"))?;
                }
                TriageAction::Fixed => {
                    tx.execute(
                        "UPDATE findings SET status = 'fixed', status_source = 'triage', fixed_at = ?2,
                                             verified_at = NULL, accepted_until = NULL WHERE id = ?1",
                        params![id, at],
                    )
                    .map_err(sql_error(path, "marking a finding fixed"))?;
                }
                TriageAction::FalsePositive | TriageAction::NotAffected | TriageAction::Reopen => {
                    tx.execute(
                        "UPDATE findings SET status = ?2, status_source = 'triage', fixed_at = NULL,
                                             verified_at = NULL, accepted_until = NULL WHERE id = ?1",
                        params![id, after.as_str()],
                    )
                    .map_err(sql_error(path, "changing a finding's status"))?;
                }
            }
            let (cause, validation) = match &request.action {
                TriageAction::Validate(validation) => ("validation", Some(validation.as_str())),
                _ => ("triage", None),
            };
            tx.execute(
                "INSERT INTO finding_history (finding_id, run_id, at, status, cause, reason, actor, approver,
                                              expires_at, validation)
                 VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    at,
                    after.as_str(),
                    cause,
                    request.reason.trim(),
                    request.actor,
                    approver,
                    until,
                    validation
                ],
            )
            .map_err(sql_error(path, "recording a triage event"))?;
            outcomes.push(TriageOutcome {
                fingerprint: fingerprint.clone(),
                before,
                after,
            });
        }
        tx.commit(path, "committing the triage")?;
        Ok(outcomes)
    }

    /// Reopens the findings whose risk acceptance ended by `now`, as a run
    /// does, and returns their fingerprints. Commands that show findings
    /// call it so that an ended acceptance never shows as accepted.
    pub fn expire_acceptances(&mut self, now: DateTime<Utc>) -> Result<Vec<Fingerprint>, StoreError> {
        check_storable_time(now)?;
        let path = self.path.clone();
        let path = path.as_path();
        let at = format_time(now);
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the expiry transaction")?;
        let mut reopened = Vec::new();
        for (id, until) in expired_acceptances(&tx, path, &at)? {
            reopen_expired(&tx, path, id)?;
            tx.execute(
                "INSERT INTO finding_history (finding_id, run_id, at, status, cause, reason)
                 VALUES (?1, NULL, ?2, 'reopened', 'expiry', ?3)",
                params![id, until, expiry_reason(&until)],
            )
            .map_err(sql_error(path, "recording an expiry"))?;
            let fingerprint: Option<String> = tx
                .query_row("SELECT fingerprint FROM findings WHERE id = ?1", [id], |row| row.get(0))
                .optional()
                .map_err(sql_error(path, "reading a finding"))?;
            reopened.extend(fingerprint.map(Fingerprint::from_stored));
        }
        tx.commit(path, "committing the expiry")?;
        Ok(reopened)
    }
}

/// Rejects a triage dated before the finding's last recorded change: the
/// action applies to the current status, so an older date would put the
/// history out of order (a decision recorded before the run that found it).
fn check_after_last_change(
    tx: &rusqlite::Transaction,
    path: &std::path::Path,
    id: i64,
    fingerprint: &Fingerprint,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let last: Option<String> = tx
        .query_row(
            "SELECT MAX(at) FROM finding_history WHERE finding_id = ?1",
            [id],
            |row| row.get(0),
        )
        .map_err(sql_error(path, "reading a finding's history"))?;
    let Some(text) = last else {
        return Ok(());
    };
    let last = parse_time(&text, "finding_history", "at", &id.to_string())?;
    if at < last {
        return Err(StoreError::InvalidTriage {
            reason: format!(
                "finding {fingerprint} last changed at {}, after the triage time {}; \
                 give a later --at (`ctem finding {fingerprint}` shows its history)",
                last.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
        });
    }
    Ok(())
}

/// Returns the status after a triage action, or `None` where the status does not
/// allow it.
fn next_status(before: LifecycleStatus, action: &TriageAction) -> Option<LifecycleStatus> {
    use LifecycleStatus::*;
    match action {
        TriageAction::AcceptRisk { .. } => (before.is_active() || before == RiskAccepted).then_some(RiskAccepted),
        TriageAction::FalsePositive => Some(FalsePositive),
        TriageAction::NotAffected => Some(NotAffected),
        TriageAction::Fixed => (before.is_active() || before == RiskAccepted).then_some(Fixed),
        TriageAction::Reopen => (!before.is_active()).then_some(Open),
        TriageAction::Validate(_) => Some(before),
    }
}

fn action_name(action: &TriageAction) -> &'static str {
    match action {
        TriageAction::AcceptRisk { .. } => "accept-risk",
        TriageAction::FalsePositive => "false-positive",
        TriageAction::NotAffected => "not-affected",
        TriageAction::Fixed => "fixed",
        TriageAction::Reopen => "reopen",
        TriageAction::Validate(_) => "validate",
    }
}
