//! The JSON shapes of findings that `ctem parse` and `ctem findings` print.
//! `docs/json-output.md` documents them; keep both in step.

use chrono::{DateTime, Utc};
use ctem_model::{Deadline, Decision, Factor, Finding, Fingerprint, LifecycleStatus, Tier, Validation};
use ctem_store::StoredFinding;
use serde::Serialize;

use crate::owners::Ownership;

/// A finding as `ctem parse` prints it: the fingerprint, then every field
/// of the model's finding.
#[derive(Debug, Serialize)]
pub struct ParsedFindingJson<'a> {
    pub fingerprint: Fingerprint,
    #[serde(flatten)]
    pub finding: &'a Finding,
}

impl<'a> ParsedFindingJson<'a> {
    pub fn new(finding: &'a Finding) -> ParsedFindingJson<'a> {
        ParsedFindingJson {
            fingerprint: finding.fingerprint(),
            finding,
        }
    }
}

/// A stored finding as `ctem findings` prints it: the fields of
/// [`ParsedFindingJson`] plus its lifecycle and score.
#[derive(Debug, Serialize)]
pub struct StoredFindingJson<'a> {
    pub fingerprint: &'a Fingerprint,
    #[serde(flatten)]
    pub finding: &'a Finding,
    pub status: LifecycleStatus,
    /// Every tool that reported it; `tool` is the one whose report is shown.
    pub tools: &'a [String],
    pub validation: Option<Validation>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub introduced_at: Option<DateTime<Utc>>,
    pub fixed_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub accepted_until: Option<DateTime<Utc>>,
    pub score: Option<f64>,
    pub tier: Option<Tier>,
    pub likelihood: Option<f64>,
    pub impact: Option<f64>,
    /// The expected loss, likelihood times impact: the order within a tier.
    pub expected_loss: Option<f64>,
    /// The SSVC deployer decision behind the tier.
    pub decision: Option<Decision>,
    /// The CISA BOD 26-04 remediation deadline band.
    pub deadline: Option<Deadline>,
    /// The factors as one sentence ([`ctem_risk::explain`]).
    pub explanation: Option<String>,
    pub factors: &'a [Factor],
    /// The team that fixes the finding and the rule that chose it; `None`
    /// when no rule, inventory or default team names one.
    pub owner: Option<Ownership>,
}

impl<'a> StoredFindingJson<'a> {
    /// Sets the owner that [`crate::owners::OwnerResolver`] chose.
    pub fn with_owner(mut self, owner: Option<Ownership>) -> StoredFindingJson<'a> {
        self.owner = owner;
        self
    }

    pub fn new(stored: &'a StoredFinding) -> StoredFindingJson<'a> {
        let risk = stored.risk.as_ref();
        StoredFindingJson {
            fingerprint: &stored.fingerprint,
            finding: &stored.finding,
            status: stored.status,
            tools: &stored.tools,
            validation: stored.validation,
            first_seen: stored.first_seen,
            last_seen: stored.last_seen,
            introduced_at: stored.introduced_at,
            fixed_at: stored.fixed_at,
            verified_at: stored.verified_at,
            accepted_until: stored.accepted_until,
            score: risk.map(|r| r.score),
            tier: risk.map(|r| r.tier),
            likelihood: risk.map(|r| r.likelihood),
            impact: risk.map(|r| r.impact),
            expected_loss: risk.map(|r| r.expected_loss()),
            decision: risk.and_then(|r| r.decision),
            deadline: risk.and_then(|r| r.deadline),
            explanation: risk.map(ctem_risk::explain),
            factors: risk.map_or(&[], |r| r.factors.as_slice()),
            owner: None,
        }
    }
}
