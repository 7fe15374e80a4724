//! The interface between ticket sync and one issue tracker.
//!
//! A [`Tracker`] creates, updates, comments on, closes and reopens the
//! tickets ctem opened, finds one by its idempotency marker, and lists the
//! tickets changed since a time. Ticket sync ([`crate::sync`]) decides
//! what to do; a tracker only translates each operation into its API.
//! Jira keeps the marker in a label. GitHub and GitLab keep it in an HTML
//! comment in the body and report it among the ticket's labels, so that
//! sync matches tickets the same way.

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::Tier;
use serde_json::Value;

/// The content of a ticket, before a tracker renders it in its format.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDraft {
    /// The one-line title.
    pub summary: String,
    /// The lead paragraph.
    pub lead: String,
    /// Named values shown as a list: owner, due date, risk, ctem's key.
    pub facts: Vec<(String, String)>,
    /// One line per finding.
    pub findings: Vec<String>,
    pub tier: Tier,
    /// The risk points the fix removes.
    pub risk: f64,
    /// The owning team and its contacts.
    pub owner: Option<String>,
    pub contacts: Vec<String>,
    /// The SLA due date.
    pub due: Option<NaiveDate>,
    /// The action key or the finding fingerprint.
    pub subject: String,
    /// The idempotency marker: a label-safe token unique to the subject.
    pub marker: String,
}

/// The tracker's broad category of a ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCategory {
    Open,
    Done,
}

/// A ticket as the tracker returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTicket {
    /// The tracker's key, such as `SEC-12`.
    pub key: String,
    /// The ticket's web page.
    pub url: String,
    /// The status name, such as `In Progress`.
    pub status: String,
    pub category: StatusCategory,
    /// The resolution name of a done ticket, such as `Won't Do`.
    pub resolution: Option<String>,
    pub labels: Vec<String>,
    pub updated: Option<DateTime<Utc>>,
    /// The person who last changed the status, as the tracker names them.
    pub status_changed_by: Option<String>,
}

/// A tracker operation that failed. Every variant names the tracker's URL
/// or ticket involved.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// Credentials are missing from the environment and from the file.
    #[error("{tracker}: missing credentials: {reason}")]
    Credentials { tracker: String, reason: String },
    /// The tracker rejected the credentials (401) or the permission (403).
    #[error(
        "{url}: the tracker rejected the credentials (HTTP {status}); check the user and token variables and the project permissions"
    )]
    Unauthorized { url: String, status: u16 },
    /// A response with an error status that retrying does not fix.
    #[error("{url}: HTTP {status}: {message}")]
    Status { url: String, status: u16, message: String },
    /// Every attempt failed with a status or error that a retry might fix.
    #[error("{url}: failed after {attempts} attempt(s): {last}")]
    Exhausted { url: String, attempts: u32, last: String },
    /// The tracker asked to wait longer than the configured maximum.
    #[error("{url}: rate limited; the tracker asked to wait {seconds} s, more than max_retry_after_secs ({max} s)")]
    RateLimited { url: String, seconds: u64, max: u64 },
    /// A response that is not what the tracker's API documents.
    #[error("{url}: malformed response at {path}: {reason}")]
    Malformed { url: String, path: String, reason: String },
    /// The ticket's workflow has no transition to the configured state.
    #[error(
        "{key}: no transition to {state:?}; the workflow offers {available:?}; set the state names in [tickets.jira.states]"
    )]
    Transition {
        key: String,
        state: String,
        available: Vec<String>,
    },
}

impl TrackerError {
    /// Tells whether the request may have reached the tracker and been
    /// processed, so that a create must be checked before it is sent again.
    pub fn maybe_processed(&self) -> bool {
        matches!(self, TrackerError::Exhausted { .. })
    }
}

/// One issue tracker.
pub trait Tracker {
    /// Returns the tracker's name in the configuration, such as `jira`.
    fn name(&self) -> &str;

    /// Creates a ticket. An implementation that retries after a response
    /// that leaves the outcome unknown (a timeout, a 5xx) searches for the
    /// marker first, so that a retry never creates a second ticket.
    fn create(&self, draft: &TicketDraft) -> Result<RemoteTicket, TrackerError>;

    /// Replaces the content of a ticket with the draft's.
    fn update(&self, key: &str, draft: &TicketDraft) -> Result<(), TrackerError>;

    /// Adds a comment.
    fn comment(&self, key: &str, text: &str) -> Result<(), TrackerError>;

    /// Moves a ticket to the configured done state, with a comment.
    fn close(&self, key: &str, comment: &str) -> Result<(), TrackerError>;

    /// Moves a ticket back to the configured open state, with a comment.
    fn reopen(&self, key: &str, comment: &str) -> Result<(), TrackerError>;

    /// Finds the ticket that carries a marker, if any.
    fn find_by_marker(&self, marker: &str) -> Result<Option<RemoteTicket>, TrackerError>;

    /// Lists the tickets created by ctem that changed at or after `since`,
    /// or all of them.
    fn changed_since(&self, since: Option<DateTime<Utc>>) -> Result<Vec<RemoteTicket>, TrackerError>;

    /// Tells whether a done ticket's status or resolution means that the
    /// risk was accepted (won't fix, risk accepted).
    fn means_risk_accepted(&self, ticket: &RemoteTicket) -> bool;
}

/// The outcome of [`create_once`].
pub(crate) enum Created {
    /// The tracker's reply to the create.
    Answer(Value),
    /// The ticket that an earlier attempt with an unknown outcome created.
    Found(RemoteTicket),
}

/// Sends a create up to `attempts` times. After a failure that leaves the
/// outcome unknown (a timeout, a 5xx), it searches for the marker before it
/// sends the create again, so that a retry never creates a second ticket.
pub(crate) fn create_once(
    tracker: &str,
    attempts: u32,
    marker: &str,
    send: impl Fn() -> Result<Value, TrackerError>,
    find: impl Fn() -> Result<Option<RemoteTicket>, TrackerError>,
) -> Result<Created, TrackerError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match send() {
            Ok(answer) => return Ok(Created::Answer(answer)),
            Err(error) if error.maybe_processed() && attempt < attempts => {
                if let Some(existing) = find()? {
                    return Ok(Created::Found(existing));
                }
                tracing::warn!(tracker, marker, %error, "retrying a ticket create");
            }
            Err(error) => return Err(error),
        }
    }
}
