//! Ticket records: which tracker ticket tracks which remediation action or
//! finding, and what ticket sync last saw of it.
//!
//! A record is claimed before the tracker creates the ticket
//! ([`Store::claim_ticket`]), so that two syncs racing on one subject
//! create one ticket, and completed once the tracker returns its key
//! ([`Store::save_ticket`]).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use crate::codec::{check_storable_time, format_time, parse_time};
use crate::error::sql_error;
use crate::{Store, StoreError};

/// The kind of subject a ticket tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    /// A remediation action, by its key (`upgrade:pkg:maven/...`).
    Action,
    /// A finding, by its fingerprint.
    Finding,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Action => "action",
            SubjectKind::Finding => "finding",
        }
    }

    fn parse(text: &str) -> Option<SubjectKind> {
        match text {
            "action" => Some(SubjectKind::Action),
            "finding" => Some(SubjectKind::Finding),
            _ => None,
        }
    }
}

/// The state of a ticket as ctem last left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TicketState {
    /// Claimed; the tracker's key is not stored yet. Either a create is
    /// under way or a sync stopped between the tracker's reply and its
    /// commit.
    Creating,
    Open,
    Closed,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Creating => "creating",
            TicketState::Open => "open",
            TicketState::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Option<TicketState> {
        match text {
            "creating" => Some(TicketState::Creating),
            "open" => Some(TicketState::Open),
            "closed" => Some(TicketState::Closed),
            _ => None,
        }
    }
}

/// One ticket record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// The tracker's name in the configuration, such as `jira`.
    pub tracker: String,
    pub subject_kind: SubjectKind,
    /// The action key or the finding fingerprint.
    pub subject_key: String,
    /// The idempotency marker that the ticket carries, by which ticket
    /// sync finds a ticket it created when this record was lost.
    pub marker: String,
    /// The tracker's key, such as `SEC-12`. `None` while [`TicketState::Creating`].
    pub key: Option<String>,
    /// The ticket's web page.
    pub url: Option<String>,
    pub state: TicketState,
    /// The tracker's status name at the last sync, such as `In Progress`.
    pub remote_status: Option<String>,
    /// A hash of the ticket content last sent, so that an unchanged
    /// ticket is not updated again.
    pub content_hash: Option<String>,
    /// The fingerprints of the findings the ticket lists.
    pub findings: Vec<String>,
    /// When the record was claimed.
    pub claimed_at: DateTime<Utc>,
    /// When ticket sync last wrote or read the ticket.
    pub synced_at: Option<DateTime<Utc>>,
}

/// The result of [`Store::claim_ticket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The record was created in state [`TicketState::Creating`]: this
    /// caller may create the ticket.
    Claimed,
    /// A record exists already, as it is now.
    Exists(Box<TicketRecord>),
}

const COLUMNS: &str = "tracker, subject_kind, subject_key, marker, key, url, state, remote_status, content_hash,
                       findings, claimed_at, synced_at";

impl Store {
    /// Lists the ticket records, of one tracker or of all, by tracker and
    /// subject.
    pub fn tickets(&self, tracker: Option<&str>) -> Result<Vec<TicketRecord>, StoreError> {
        let path = self.path.as_path();
        let sql = format!(
            "SELECT {COLUMNS} FROM tickets WHERE ?1 IS NULL OR tracker = ?1
             ORDER BY tracker, subject_kind, subject_key"
        );
        let mut statement = self.conn.prepare(&sql).map_err(sql_error(path, "listing tickets"))?;
        let rows = statement
            .query_map([tracker], read_row)
            .map_err(sql_error(path, "listing tickets"))?;
        let mut records = Vec::new();
        for row in rows {
            records.push(row.map_err(sql_error(path, "reading a ticket"))??);
        }
        Ok(records)
    }

    /// Returns the record of one subject at one tracker.
    pub fn ticket(
        &self,
        tracker: &str,
        kind: SubjectKind,
        subject_key: &str,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let path = self.path.as_path();
        let sql =
            format!("SELECT {COLUMNS} FROM tickets WHERE tracker = ?1 AND subject_kind = ?2 AND subject_key = ?3");
        let record = self
            .conn
            .query_row(&sql, params![tracker, kind.as_str(), subject_key], read_row)
            .optional()
            .map_err(sql_error(path, "reading a ticket"))?;
        record.transpose()
    }

    /// Claims a subject before its ticket is created: inserts a record in
    /// state [`TicketState::Creating`] unless one exists, in one
    /// transaction, so that of two concurrent callers exactly one gets
    /// [`Claim::Claimed`].
    pub fn claim_ticket(
        &mut self,
        tracker: &str,
        kind: SubjectKind,
        subject_key: &str,
        marker: &str,
        at: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        check_storable_time(at)?;
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the ticket claim")?;
        let inserted = tx
            .execute(
                "INSERT INTO tickets (tracker, subject_kind, subject_key, marker, state, claimed_at)
                 VALUES (?1, ?2, ?3, ?4, 'creating', ?5)
                 ON CONFLICT DO NOTHING",
                params![tracker, kind.as_str(), subject_key, marker, format_time(at)],
            )
            .map_err(sql_error(path, "claiming a ticket"))?;
        let claim = if inserted == 1 {
            Claim::Claimed
        } else {
            let sql = format!(
                "SELECT {COLUMNS} FROM tickets WHERE tracker = ?1 AND
                 ((subject_kind = ?2 AND subject_key = ?3) OR marker = ?4)"
            );
            let existing = tx
                .query_row(&sql, params![tracker, kind.as_str(), subject_key, marker], read_row)
                .map_err(sql_error(path, "reading a claimed ticket"))??;
            Claim::Exists(Box::new(existing))
        };
        tx.commit(path, "committing the ticket claim")?;
        Ok(claim)
    }

    /// Takes over a claim in state [`TicketState::Creating`] whose
    /// `claimed_at` is still `seen_at`, by moving it to `at`. Returns
    /// false when another caller changed the record first.
    pub fn renew_claim(
        &mut self,
        tracker: &str,
        kind: SubjectKind,
        subject_key: &str,
        seen_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        check_storable_time(at)?;
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the claim renewal")?;
        let changed = tx
            .execute(
                "UPDATE tickets SET claimed_at = ?5
                 WHERE tracker = ?1 AND subject_kind = ?2 AND subject_key = ?3 AND state = 'creating'
                   AND claimed_at = ?4",
                params![
                    tracker,
                    kind.as_str(),
                    subject_key,
                    format_time(seen_at),
                    format_time(at)
                ],
            )
            .map_err(sql_error(path, "renewing a ticket claim"))?;
        tx.commit(path, "committing the claim renewal")?;
        Ok(changed == 1)
    }

    /// Writes a record, replacing the one of the same tracker and subject.
    pub fn save_ticket(&mut self, record: &TicketRecord) -> Result<(), StoreError> {
        check_storable_time(record.claimed_at)?;
        if let Some(at) = record.synced_at {
            check_storable_time(at)?;
        }
        let findings = serde_json::to_string(&record.findings).expect("a list of strings serializes");
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the ticket write")?;
        tx.execute(
            "INSERT INTO tickets (tracker, subject_kind, subject_key, marker, key, url, state, remote_status,
                                  content_hash, findings, claimed_at, synced_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (tracker, subject_kind, subject_key) DO UPDATE SET
                 marker = excluded.marker, key = excluded.key, url = excluded.url, state = excluded.state,
                 remote_status = excluded.remote_status, content_hash = excluded.content_hash,
                 findings = excluded.findings, claimed_at = excluded.claimed_at, synced_at = excluded.synced_at",
            params![
                record.tracker,
                record.subject_kind.as_str(),
                record.subject_key,
                record.marker,
                record.key,
                record.url,
                record.state.as_str(),
                record.remote_status,
                record.content_hash,
                findings,
                format_time(record.claimed_at),
                record.synced_at.map(format_time),
            ],
        )
        .map_err(sql_error(path, "writing a ticket"))?;
        tx.commit(path, "committing the ticket write")?;
        Ok(())
    }

    /// Deletes the record of a subject, such as a claim whose create
    /// failed. Returns whether one existed.
    pub fn forget_ticket(&mut self, tracker: &str, kind: SubjectKind, subject_key: &str) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the ticket deletion")?;
        let deleted = tx
            .execute(
                "DELETE FROM tickets WHERE tracker = ?1 AND subject_kind = ?2 AND subject_key = ?3",
                params![tracker, kind.as_str(), subject_key],
            )
            .map_err(sql_error(path, "deleting a ticket"))?;
        tx.commit(path, "committing the ticket deletion")?;
        Ok(deleted == 1)
    }

    /// Returns when the changes of a tracker were last read back.
    pub fn tickets_pulled_at(&self, tracker: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let path = self.path.as_path();
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT pulled_at FROM ticket_pulls WHERE tracker = ?1",
                [tracker],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error(path, "reading the last ticket pull"))?;
        text.map(|text| parse_time(&text, "ticket_pulls", "pulled_at", tracker))
            .transpose()
    }

    /// Records when the changes of a tracker were read back.
    pub fn set_tickets_pulled_at(&mut self, tracker: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        check_storable_time(at)?;
        let path = self.path.clone();
        let path = path.as_path();
        let tx = crate::store::begin_write(&mut self.conn, path, "starting the ticket pull record")?;
        tx.execute(
            "INSERT INTO ticket_pulls (tracker, pulled_at) VALUES (?1, ?2)
             ON CONFLICT (tracker) DO UPDATE SET pulled_at = excluded.pulled_at",
            params![tracker, format_time(at)],
        )
        .map_err(sql_error(path, "recording a ticket pull"))?;
        tx.commit(path, "committing the ticket pull record")?;
        Ok(())
    }
}

/// Reads one row of [`COLUMNS`]. The outer error is SQLite's, the inner
/// one a stored value that does not read back.
fn read_row(row: &Row) -> rusqlite::Result<Result<TicketRecord, StoreError>> {
    let tracker: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let subject_key: String = row.get(2)?;
    let state: String = row.get(6)?;
    let findings: String = row.get(9)?;
    let claimed_at: String = row.get(10)?;
    let synced_at: Option<String> = row.get(11)?;
    let marker: String = row.get(3)?;
    let key: Option<String> = row.get(4)?;
    let url: Option<String> = row.get(5)?;
    let remote_status: Option<String> = row.get(7)?;
    let content_hash: Option<String> = row.get(8)?;

    let corrupt = |column: &'static str, reason: String| StoreError::Corrupt {
        table: "tickets",
        column,
        key: format!("{tracker} {kind} {subject_key}"),
        reason,
    };
    let record = (|| -> Result<TicketRecord, StoreError> {
        Ok(TicketRecord {
            subject_kind: SubjectKind::parse(&kind)
                .ok_or_else(|| corrupt("subject_kind", format!("unknown subject kind {kind:?}")))?,
            state: TicketState::parse(&state).ok_or_else(|| corrupt("state", format!("unknown state {state:?}")))?,
            findings: serde_json::from_str(&findings).map_err(|error| corrupt("findings", error.to_string()))?,
            claimed_at: parse_time(&claimed_at, "tickets", "claimed_at", &subject_key)?,
            synced_at: synced_at
                .map(|text| parse_time(&text, "tickets", "synced_at", &subject_key))
                .transpose()?,
            tracker: tracker.clone(),
            subject_key: subject_key.clone(),
            marker,
            key,
            url,
            remote_status,
            content_hash,
        })
    })();
    Ok(record)
}
