//! Ticket sync: one ticket per remediation action (or per finding), kept
//! in step with ctem's lifecycle in both directions.
//!
//! A sync first reads back what changed in the tracker, then pushes:
//!
//! - **Back from the tracker.** A ticket closed as won't fix, or moved to a
//!   risk accepted state, becomes a risk acceptance of its open findings,
//!   approved by the tracker user who changed the status, for
//!   `accept_days`. A ticket closed as done becomes `fixed` (a claimed fix
//!   that the next run covering the findings verifies or reopens).
//! - **Create.** A subject without a ticket gets one, unless the tracker
//!   already has a ticket with its marker (ctem's record was lost), which
//!   is adopted instead. The record is claimed before the create and
//!   completed after it, so that a rerun, a crash between the tracker's
//!   reply and ctem's commit, or a concurrent sync never creates a
//!   duplicate. At most `max_create` tickets are created per sync.
//! - **Update.** A ticket whose content changed (findings, owner, due
//!   date) is updated; an unchanged one is left alone.
//! - **Close.** A ticket whose findings are all closed, at least one by a
//!   verified fix, is closed with a comment.
//! - **Reopen.** A ticket that ctem closed is reopened, with a comment,
//!   when one of its findings is active again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ctem_model::{Fingerprint, LifecycleStatus, Tier};
use ctem_store::{Claim, Store, StoreError, SubjectKind, TicketRecord, TicketState, TriageAction, TriageRequest};
use sha2::{Digest, Sha256};

use crate::config::TicketsConfig;
use crate::tracker::{RemoteTicket, StatusCategory, TicketDraft, Tracker, TrackerError};

/// One subject that should have a ticket: an action, or a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub kind: SubjectKind,
    /// The action key or the finding fingerprint.
    pub key: String,
    pub title: String,
    /// Why it matters, in one sentence.
    pub explanation: String,
    /// The most urgent tier of its findings.
    pub tier: Tier,
    pub risk: f64,
    pub owner: Option<WorkOwner>,
    pub due: Option<NaiveDate>,
    pub findings: Vec<WorkFinding>,
}

/// The owner of a work item and the rule that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOwner {
    pub team: String,
    pub contacts: Vec<String>,
    pub rule: String,
}

/// One finding of a work item.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkFinding {
    pub fingerprint: String,
    pub title: String,
    pub asset: String,
    pub tier: Tier,
    pub score: f64,
}

/// The lifecycle of a stored finding, as sync reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingState {
    pub status: LifecycleStatus,
    /// Whether a run that covered the finding confirmed its fix.
    pub verified: bool,
}

/// Reads the lifecycle of every stored finding, by fingerprint.
pub fn finding_states(store: &Store) -> Result<HashMap<String, FindingState>, StoreError> {
    let stored = store.findings(&ctem_store::FindingFilter::default())?;
    Ok(stored
        .into_iter()
        .map(|finding| {
            let state = FindingState {
                status: finding.status,
                verified: finding.verified_at.is_some(),
            };
            (finding.fingerprint.as_str().to_string(), state)
        })
        .collect())
}

/// One change sync made, or would make with `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The action key or the finding fingerprint.
    pub subject: String,
    /// The tracker's key, when known.
    pub ticket: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Create,
    Adopt,
    Update,
    Close,
    Reopen,
    AcceptRisk,
    ClaimFixed,
    Skip,
    Fail,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Adopt => "adopt",
            ChangeKind::Update => "update",
            ChangeKind::Close => "close",
            ChangeKind::Reopen => "reopen",
            ChangeKind::AcceptRisk => "accept_risk",
            ChangeKind::ClaimFixed => "claim_fixed",
            ChangeKind::Skip => "skip",
            ChangeKind::Fail => "fail",
        }
    }
}

/// The outcome of one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub changes: Vec<Change>,
    /// Tickets left as they were.
    pub unchanged: usize,
}

impl SyncReport {
    /// Counts the changes of a kind.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|change| change.kind == kind).count()
    }

    /// Counts a ticket as left as it was, unless reading back the tracker
    /// already listed a change of it.
    fn push_unchanged(&mut self, ticket: &str) {
        if !self
            .changes
            .iter()
            .any(|change| change.ticket.as_deref() == Some(ticket))
        {
            self.unchanged += 1;
        }
    }

    fn push(&mut self, kind: ChangeKind, subject: &str, ticket: Option<&str>, detail: impl Into<String>) {
        self.changes.push(Change {
            kind,
            subject: subject.to_string(),
            ticket: ticket.map(str::to_string),
            detail: detail.into(),
        });
    }
}

/// A sync failure that stops the whole sync: the store failed, or the
/// tracker failed while reading back its changes.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tracker(#[from] TrackerError),
}

/// Returns the idempotency marker of a subject: a Jira-label-safe token
/// derived from the tracker, the kind and the key, so that it is the same
/// in every sync.
pub fn marker(tracker: &str, kind: SubjectKind, key: &str) -> String {
    let digest = Sha256::digest(format!("{tracker}\n{}\n{key}", kind.as_str()));
    format!("ctem-{}", &hex::encode(digest)[..20])
}

/// Options of one sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Print what would change, and change nothing in the tracker or
    /// the store. A dry run reads only the store.
    pub dry_run: bool,
    /// The time of the sync.
    pub now: DateTime<Utc>,
}

/// Syncs `items` with `tracker`. `findings` contains the lifecycle of every
/// stored finding, by fingerprint.
///
/// # Errors
///
/// A store failure, or a tracker failure while reading back changes. A
/// tracker failure on one ticket is reported as a [`ChangeKind::Fail`]
/// change and the sync goes on with the others.
pub fn sync(
    store: &mut Store,
    tracker: &dyn Tracker,
    config: &TicketsConfig,
    items: &[WorkItem],
    findings: &HashMap<String, FindingState>,
    options: SyncOptions,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    if options.dry_run {
        return preview(store, tracker.name(), config, items, findings);
    }

    let mut findings = findings.clone();
    pull(store, tracker, config, &mut findings, options.now, &mut report)?;
    let findings = &findings;

    let mut created = 0;
    let tracked: BTreeSet<&str> = items.iter().map(|item| item.key.as_str()).collect();
    for item in items {
        let draft = draft_of(tracker.name(), item);
        match push_item(
            store,
            tracker,
            config,
            item,
            &draft,
            findings,
            options.now,
            &mut created,
            &mut report,
        ) {
            Ok(()) => {}
            Err(SyncError::Tracker(error)) => {
                tracing::error!(tracker = tracker.name(), subject = %item.key, %error, "ticket sync failed for one subject");
                report.push(ChangeKind::Fail, &item.key, None, error.to_string());
            }
            Err(error) => return Err(error),
        }
    }

    for record in store.tickets(Some(tracker.name()))? {
        if record.state != TicketState::Open || tracked.contains(record.subject_key.as_str()) {
            continue;
        }
        match close_if_verified(store, tracker, &record, findings, options.now, &mut report) {
            Ok(()) => {}
            Err(SyncError::Tracker(error)) => {
                tracing::error!(tracker = tracker.name(), subject = %record.subject_key, %error, "closing a ticket failed");
                report.push(
                    ChangeKind::Fail,
                    &record.subject_key,
                    record.key.as_deref(),
                    error.to_string(),
                );
            }
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

/// Reads back the tickets changed since the last sync and turns won't fix,
/// risk accepted and done into triage of their findings.
fn pull(
    store: &mut Store,
    tracker: &dyn Tracker,
    config: &TicketsConfig,
    findings: &mut HashMap<String, FindingState>,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let since = store.tickets_pulled_at(tracker.name())?;
    let changed = tracker.changed_since(since)?;
    let records: HashMap<String, TicketRecord> = store
        .tickets(Some(tracker.name()))?
        .into_iter()
        .map(|record| (record.marker.clone(), record))
        .collect();

    for ticket in changed {
        let Some(mut record) = ticket.labels.iter().find_map(|label| records.get(label)).cloned() else {
            continue;
        };
        let accepted = tracker.means_risk_accepted(&ticket);
        if ticket.category != StatusCategory::Done && !accepted {
            // Reopened by a person in the tracker: ctem treats it as open.
            if record.state == TicketState::Closed {
                record.state = TicketState::Open;
                record.remote_status = Some(ticket.status.clone());
                store.save_ticket(&record)?;
            }
            continue;
        }
        if record.state == TicketState::Closed {
            // Closed by ctem, or a change already applied.
            if record.remote_status.as_deref() != Some(ticket.status.as_str()) {
                record.remote_status = Some(ticket.status.clone());
                store.save_ticket(&record)?;
            }
            continue;
        }

        let active: Vec<String> = record
            .findings
            .iter()
            .filter(|fingerprint| findings.get(*fingerprint).is_some_and(|state| state.status.is_active()))
            .cloned()
            .collect();
        let by = ticket
            .status_changed_by
            .clone()
            .unwrap_or_else(|| format!("{} user", tracker.name()));
        if !active.is_empty() {
            let (action, kind, reason) = if accepted {
                (
                    TriageAction::AcceptRisk {
                        approver: by.clone(),
                        until: now + Duration::days(i64::from(config.accept_days)),
                    },
                    ChangeKind::AcceptRisk,
                    match ticket.resolution.as_deref() {
                        Some(resolution) => format!(
                            "{} {} set to {} ({resolution}) by {by}",
                            tracker.name(),
                            ticket.key,
                            ticket.status
                        ),
                        None => format!("{} {} set to {} by {by}", tracker.name(), ticket.key, ticket.status),
                    },
                )
            } else {
                (
                    TriageAction::Fixed,
                    ChangeKind::ClaimFixed,
                    match ticket.resolution.as_deref() {
                        Some(resolution) => format!(
                            "{} {} closed as {resolution} by {by}; awaiting a verifying rescan",
                            tracker.name(),
                            ticket.key
                        ),
                        None => format!(
                            "{} {} set to {} by {by}; awaiting a verifying rescan",
                            tracker.name(),
                            ticket.key,
                            ticket.status
                        ),
                    },
                )
            };
            let after = match action {
                TriageAction::AcceptRisk { .. } => LifecycleStatus::RiskAccepted,
                _ => LifecycleStatus::Fixed,
            };
            let request = TriageRequest {
                fingerprints: active
                    .iter()
                    .map(|fingerprint| Fingerprint::from_stored(fingerprint.clone()))
                    .collect(),
                action,
                reason: reason.clone(),
                actor: Some(by.clone()),
                at: now,
            };
            match store.triage(&request) {
                Ok(_) => {
                    for fingerprint in &active {
                        findings.insert(
                            fingerprint.clone(),
                            FindingState {
                                status: after,
                                verified: false,
                            },
                        );
                    }
                    report.push(kind, &record.subject_key, Some(&ticket.key), reason);
                }
                // A finding whose history moved past `now` or whose status
                // changed meanwhile: reported, and the sync goes on.
                Err(StoreError::InvalidTriage { reason }) => {
                    tracing::warn!(tracker = tracker.name(), ticket = %ticket.key, %reason, "a tracker change was not applied");
                    report.push(ChangeKind::Fail, &record.subject_key, Some(&ticket.key), reason);
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
        }
        record.state = TicketState::Closed;
        record.remote_status = Some(ticket.status.clone());
        record.synced_at = Some(now);
        store.save_ticket(&record)?;
    }
    store.set_tickets_pulled_at(tracker.name(), now)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // The steps of one sync share its state.
fn push_item(
    store: &mut Store,
    tracker: &dyn Tracker,
    config: &TicketsConfig,
    item: &WorkItem,
    draft: &TicketDraft,
    findings: &HashMap<String, FindingState>,
    now: DateTime<Utc>,
    created: &mut usize,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let hash = content_hash(draft);
    let fingerprints: Vec<String> = item
        .findings
        .iter()
        .map(|finding| finding.fingerprint.clone())
        .collect();
    let existing = store.ticket(tracker.name(), item.kind, &item.key)?;

    let record = match existing {
        Some(record) if record.state != TicketState::Creating => record,
        Some(claim) => {
            // A create was claimed and never completed: the tracker may hold
            // the ticket already.
            if let Some(ticket) = tracker.find_by_marker(&draft.marker)? {
                adopt(store, tracker.name(), item, &claim, &ticket, &fingerprints, now, report)?;
                return Ok(());
            }
            let stale = now - claim.claimed_at >= Duration::seconds(config.claim_timeout_secs as i64);
            if !stale {
                report.push(ChangeKind::Skip, &item.key, None, "another sync is creating its ticket");
                return Ok(());
            }
            if *created >= config.max_create {
                report.push(ChangeKind::Skip, &item.key, None, cap_reached(config));
                return Ok(());
            }
            if !store.renew_claim(tracker.name(), item.kind, &item.key, claim.claimed_at, now)? {
                report.push(ChangeKind::Skip, &item.key, None, "another sync took over its claim");
                return Ok(());
            }
            return create(
                store,
                tracker,
                item,
                draft,
                &claim.marker,
                &fingerprints,
                now,
                created,
                report,
            );
        }
        None => {
            if let Some(ticket) = tracker.find_by_marker(&draft.marker)? {
                let claim = new_record(tracker.name(), item, &draft.marker, now);
                adopt(store, tracker.name(), item, &claim, &ticket, &fingerprints, now, report)?;
                return Ok(());
            }
            if *created >= config.max_create {
                report.push(ChangeKind::Skip, &item.key, None, cap_reached(config));
                return Ok(());
            }
            match store.claim_ticket(tracker.name(), item.kind, &item.key, &draft.marker, now)? {
                Claim::Claimed => {}
                Claim::Exists(_) => {
                    report.push(ChangeKind::Skip, &item.key, None, "another sync claimed it first");
                    return Ok(());
                }
            }
            return create(
                store,
                tracker,
                item,
                draft,
                &draft.marker,
                &fingerprints,
                now,
                created,
                report,
            );
        }
    };

    let key = record.key.clone().unwrap_or_default();
    let reactivated = item.findings.iter().any(|finding| {
        findings
            .get(&finding.fingerprint)
            .is_some_and(|state| state.status.is_active())
    });
    let mut record = record;
    let mut changed = false;
    if record.state == TicketState::Closed {
        if !reactivated {
            report.push_unchanged(&key);
            return Ok(());
        }
        let comment = format!(
            "ctem reopened this ticket: {} finding(s) are active again.",
            item.findings.len()
        );
        tracker.reopen(&key, &comment)?;
        record.state = TicketState::Open;
        report.push(ChangeKind::Reopen, &item.key, Some(&key), comment);
        changed = true;
    }
    if record.content_hash.as_deref() != Some(hash.as_str()) {
        tracker.update(&key, draft)?;
        report.push(
            ChangeKind::Update,
            &item.key,
            Some(&key),
            format!("{} finding(s), due {}", item.findings.len(), due_text(item.due)),
        );
        record.content_hash = Some(hash);
    } else if !changed {
        report.unchanged += 1;
    }
    record.findings = fingerprints;
    record.synced_at = Some(now);
    store.save_ticket(&record)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // The steps of one sync share its state.
fn create(
    store: &mut Store,
    tracker: &dyn Tracker,
    item: &WorkItem,
    draft: &TicketDraft,
    marker: &str,
    fingerprints: &[String],
    now: DateTime<Utc>,
    created: &mut usize,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let ticket = match tracker.create(draft) {
        Ok(ticket) => ticket,
        Err(error) => {
            // Only a response that shows the create was not processed frees
            // the claim. After an unknown outcome the claim stays, and the
            // next sync searches for the marker before it creates again.
            if !error.maybe_processed() {
                store.forget_ticket(tracker.name(), item.kind, &item.key)?;
            }
            return Err(error.into());
        }
    };
    *created += 1;
    let mut record = new_record(tracker.name(), item, marker, now);
    record.key = Some(ticket.key.clone());
    record.url = Some(ticket.url.clone());
    record.state = TicketState::Open;
    record.content_hash = Some(content_hash(draft));
    record.findings = fingerprints.to_vec();
    record.synced_at = Some(now);
    store.save_ticket(&record)?;
    tracing::info!(tracker = tracker.name(), subject = %item.key, ticket = %ticket.key, "created a ticket");
    report.push(
        ChangeKind::Create,
        &item.key,
        Some(&ticket.key),
        format!(
            "{}: {} finding(s), owner {}, due {}",
            item.title,
            item.findings.len(),
            item.owner.as_ref().map_or("none", |owner| owner.team.as_str()),
            due_text(item.due)
        ),
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)] // The steps of one sync share its state.
fn adopt(
    store: &mut Store,
    tracker: &str,
    item: &WorkItem,
    claim: &TicketRecord,
    ticket: &RemoteTicket,
    fingerprints: &[String],
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut record = claim.clone();
    record.key = Some(ticket.key.clone());
    record.url = Some(ticket.url.clone());
    record.state = match ticket.category {
        StatusCategory::Done => TicketState::Closed,
        StatusCategory::Open => TicketState::Open,
    };
    record.remote_status = Some(ticket.status.clone());
    // Unknown content: the next sync compares and updates it.
    record.content_hash = None;
    record.findings = fingerprints.to_vec();
    record.synced_at = Some(now);
    store.save_ticket(&record)?;
    report.push(
        ChangeKind::Adopt,
        &item.key,
        Some(&ticket.key),
        format!("found the existing ticket by its marker {}", record.marker),
    );
    tracing::info!(tracker, subject = %item.key, ticket = %ticket.key, "adopted a ticket found by its marker");
    Ok(())
}

/// Closes a ticket whose findings are all closed, at least one by a
/// verified fix.
fn close_if_verified(
    store: &mut Store,
    tracker: &dyn Tracker,
    record: &TicketRecord,
    findings: &HashMap<String, FindingState>,
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let states: Vec<FindingState> = record
        .findings
        .iter()
        .filter_map(|fingerprint| findings.get(fingerprint).copied())
        .collect();
    let all_closed = states.iter().all(|state| !state.status.is_active());
    let verified = states
        .iter()
        .filter(|state| state.status == LifecycleStatus::Fixed && state.verified)
        .count();
    let Some(key) = record.key.as_deref() else {
        return Ok(());
    };
    // NOTE: a ticket whose findings all closed without a verified fix
    // (accepted or marked false positive in ctem) stays open for a person
    // to close, because nothing confirmed that the work is done.
    if !all_closed || verified == 0 {
        report.push_unchanged(key);
        return Ok(());
    }
    let comment = format!(
        "ctem closed this ticket: a rescan verified the fix of {verified} of its {} finding(s), and none is open.",
        record.findings.len()
    );
    tracker.close(key, &comment)?;
    let mut record = record.clone();
    record.state = TicketState::Closed;
    record.synced_at = Some(now);
    store.save_ticket(&record)?;
    tracing::info!(tracker = tracker.name(), subject = %record.subject_key, ticket = key, "closed a ticket after a verified fix");
    report.push(ChangeKind::Close, &record.subject_key, Some(key), comment);
    Ok(())
}

/// Lists what a sync would do from the store alone, without the tracker:
/// changes made in the tracker since the last sync are not read.
pub fn preview(
    store: &Store,
    tracker: &str,
    config: &TicketsConfig,
    items: &[WorkItem],
    findings: &HashMap<String, FindingState>,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let mut created = 0;
    let records: BTreeMap<String, TicketRecord> = store
        .tickets(Some(tracker))?
        .into_iter()
        .map(|record| (record.subject_key.clone(), record))
        .collect();
    for item in items {
        let draft = draft_of(tracker, item);
        match records.get(&item.key) {
            None if created >= config.max_create => {
                report.push(ChangeKind::Skip, &item.key, None, cap_reached(config));
            }
            None => {
                created += 1;
                report.push(
                    ChangeKind::Create,
                    &item.key,
                    None,
                    format!(
                        "{}: {} finding(s), owner {}, due {}",
                        item.title,
                        item.findings.len(),
                        item.owner.as_ref().map_or("none", |owner| owner.team.as_str()),
                        due_text(item.due)
                    ),
                );
            }
            Some(record) if record.state == TicketState::Creating => {
                report.push(
                    ChangeKind::Adopt,
                    &item.key,
                    None,
                    "search the tracker for its marker, else create",
                );
            }
            Some(record) => {
                let key = record.key.as_deref();
                let active = item.findings.iter().any(|finding| {
                    findings
                        .get(&finding.fingerprint)
                        .is_some_and(|state| state.status.is_active())
                });
                if record.state == TicketState::Closed && active {
                    report.push(ChangeKind::Reopen, &item.key, key, "findings are active again");
                } else if record.state == TicketState::Open
                    && record.content_hash.as_deref() != Some(content_hash(&draft).as_str())
                {
                    report.push(ChangeKind::Update, &item.key, key, "content changed");
                } else {
                    report.unchanged += 1;
                }
            }
        }
    }
    let tracked: BTreeSet<&str> = items.iter().map(|item| item.key.as_str()).collect();
    for record in records.values() {
        if record.state != TicketState::Open || tracked.contains(record.subject_key.as_str()) {
            continue;
        }
        let closable = record
            .findings
            .iter()
            .all(|fingerprint| findings.get(fingerprint).is_none_or(|state| !state.status.is_active()))
            && record.findings.iter().any(|fingerprint| {
                findings
                    .get(fingerprint)
                    .is_some_and(|state| state.status == LifecycleStatus::Fixed && state.verified)
            });
        if closable {
            report.push(
                ChangeKind::Close,
                &record.subject_key,
                record.key.as_deref(),
                "verified fix",
            );
        }
    }
    Ok(report)
}

fn new_record(tracker: &str, item: &WorkItem, marker: &str, now: DateTime<Utc>) -> TicketRecord {
    TicketRecord {
        tracker: tracker.to_string(),
        subject_kind: item.kind,
        subject_key: item.key.clone(),
        marker: marker.to_string(),
        key: None,
        url: None,
        state: TicketState::Creating,
        remote_status: None,
        content_hash: None,
        findings: Vec::new(),
        claimed_at: now,
        synced_at: None,
    }
}

/// Builds the ticket content of a work item.
pub fn draft_of(tracker: &str, item: &WorkItem) -> TicketDraft {
    let mut facts = vec![
        ("Tier".to_string(), item.tier.as_str().to_string()),
        ("Risk removed".to_string(), format!("{:.1}", item.risk)),
        ("Due".to_string(), due_text(item.due)),
    ];
    match &item.owner {
        Some(owner) => {
            facts.push((
                "Owner".to_string(),
                format!("{} (chosen by {})", owner.team, owner.rule),
            ));
            if !owner.contacts.is_empty() {
                facts.push(("Contacts".to_string(), owner.contacts.join(", ")));
            }
        }
        None => facts.push(("Owner".to_string(), "none; no owner rule matches".to_string())),
    }
    facts.push((format!("ctem {}", item.kind.as_str()), item.key.clone()));
    let findings = item
        .findings
        .iter()
        .map(|finding| {
            format!(
                "{} on {} ({}, score {:.1}, fingerprint {})",
                finding.title, finding.asset, finding.tier, finding.score, finding.fingerprint
            )
        })
        .collect();
    TicketDraft {
        summary: format!("[{}] {}", item.tier, item.title),
        lead: item.explanation.clone(),
        facts,
        findings,
        tier: item.tier,
        risk: item.risk,
        owner: item.owner.as_ref().map(|owner| owner.team.clone()),
        contacts: item
            .owner
            .as_ref()
            .map(|owner| owner.contacts.clone())
            .unwrap_or_default(),
        due: item.due,
        subject: item.key.clone(),
        marker: marker(tracker, item.kind, &item.key),
    }
}

fn cap_reached(config: &TicketsConfig) -> String {
    format!("max_create ({}) reached; the next sync creates it", config.max_create)
}

fn due_text(due: Option<NaiveDate>) -> String {
    due.map_or_else(|| "none".to_string(), |due| due.format("%Y-%m-%d").to_string())
}

/// Hashes what a ticket shows, so that an unchanged ticket is not updated.
fn content_hash(draft: &TicketDraft) -> String {
    let text = format!(
        "{}\n{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        draft.summary, draft.lead, draft.facts, draft.findings, draft.owner, draft.contacts, draft.due
    );
    hex::encode(&Sha256::digest(text)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_stable_and_label_safe() {
        let first = marker("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j");
        assert_eq!(first, marker("jira", SubjectKind::Action, "upgrade:pkg:maven/log4j"));
        assert_ne!(first, marker("jira", SubjectKind::Finding, "upgrade:pkg:maven/log4j"));
        assert!(first.starts_with("ctem-"));
        assert_eq!(first.len(), 25);
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-'));
    }
}
