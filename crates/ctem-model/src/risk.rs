//! The result of scoring a finding and its place in the finding lifecycle.
//! The scoring itself lives in `ctem-risk`; these types let the store and
//! the reports keep and show it.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// A priority band derived from the score: `P1` is fixed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    P1,
    P2,
    P3,
    P4,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::P1, Tier::P2, Tier::P3, Tier::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::P1 => "P1",
            Tier::P2 => "P2",
            Tier::P3 => "P3",
            Tier::P4 => "P4",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("invalid tier {s:?}: expected P1, P2, P3 or P4"))
    }
}

/// One input that moved a finding's score, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// A stable name such as `kev`, `epss`, `cvss_exploitability`,
    /// `internet_exposure`, `asset_criticality`, `cvss_impact`, `severity`.
    pub name: CompactString,
    /// The input's value as people read it (`listed 2021-12-10`, `0.94`).
    pub value: CompactString,
    /// What the input added to (or, where negative, took from) the score, in score points.
    pub contribution: f64,
    /// Where the value came from: a feed and its date, the report, the configuration.
    pub source: CompactString,
    /// The number the model uses for the input, on 0..=1 (an EPSS
    /// probability, a criticality weight, a control factor). `None` in
    /// assessments stored before the model recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// The day the value is from (`YYYY-MM-DD`): a KEV listing, an EPSS
    /// score date. `None` when the source gives no date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<CompactString>,
}

/// A finding's score from 0 to 100, its tier and the factors behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskAssessment {
    pub score: f64,
    pub tier: Tier,
    pub likelihood: f64,
    pub impact: f64,
    pub factors: Vec<Factor>,
    /// The SSVC deployer decision that set the tier. `None` in assessments
    /// stored before the model recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The remediation deadline band of CISA BOD 26-04. `None` for findings
    /// that the directive's criteria do not apply to (suppressed findings)
    /// and in assessments stored before the model recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
}

impl RiskAssessment {
    /// Returns an assessment without decision and deadline.
    pub fn new(score: f64, tier: Tier, likelihood: f64, impact: f64, factors: Vec<Factor>) -> RiskAssessment {
        RiskAssessment {
            score,
            tier,
            likelihood,
            impact,
            factors,
            decision: None,
            deadline: None,
        }
    }

    /// Returns the expected loss, likelihood times impact, on 0..=1: the
    /// order of findings within a tier.
    pub fn expected_loss(&self) -> f64 {
        let loss = self.likelihood * self.impact;
        if loss.is_nan() { 0.0 } else { loss }
    }
}

/// The outcome of the SSVC deployer decision (Deployer Patch Application
/// Priority), from the latest to the soonest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Do not act now; revisit when the information changes.
    Defer,
    /// Act in the regular maintenance cycle.
    Scheduled,
    /// Act before the next regular cycle.
    OutOfCycle,
    /// Act now, with all resources needed.
    Immediate,
}

impl Decision {
    pub const ALL: [Decision; 4] = [
        Decision::Defer,
        Decision::Scheduled,
        Decision::OutOfCycle,
        Decision::Immediate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Defer => "defer",
            Decision::Scheduled => "scheduled",
            Decision::OutOfCycle => "out_of_cycle",
            Decision::Immediate => "immediate",
        }
    }

    /// Returns the tier of the decision: immediate is `P1`, out-of-cycle
    /// `P2`, scheduled `P3` and defer `P4`.
    pub fn tier(self) -> Tier {
        match self {
            Decision::Immediate => Tier::P1,
            Decision::OutOfCycle => Tier::P2,
            Decision::Scheduled => Tier::P3,
            Decision::Defer => Tier::P4,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Decision::ALL
            .into_iter()
            .find(|decision| decision.as_str() == name)
            .ok_or_else(|| format!("invalid decision {s:?}: expected defer, scheduled, out_of_cycle or immediate"))
    }
}

/// A remediation deadline band of CISA BOD 26-04.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Deadline {
    /// Remediate within 3 days and look for signs of a prior compromise.
    #[serde(rename = "3d_forensic")]
    ThreeDaysForensic,
    /// Remediate within 3 days.
    #[serde(rename = "3d")]
    ThreeDays,
    /// Remediate within 14 days.
    #[serde(rename = "14d")]
    FourteenDays,
    /// Remediate within 60 days.
    #[serde(rename = "60d")]
    SixtyDays,
    /// Remediate at the next scheduled upgrade of the system.
    #[serde(rename = "next_upgrade")]
    NextUpgrade,
}

impl Deadline {
    pub const ALL: [Deadline; 5] = [
        Deadline::ThreeDaysForensic,
        Deadline::ThreeDays,
        Deadline::FourteenDays,
        Deadline::SixtyDays,
        Deadline::NextUpgrade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::ThreeDaysForensic => "3d_forensic",
            Deadline::ThreeDays => "3d",
            Deadline::FourteenDays => "14d",
            Deadline::SixtyDays => "60d",
            Deadline::NextUpgrade => "next_upgrade",
        }
    }

    /// Returns the number of days to remediate, or `None` for the next
    /// scheduled upgrade.
    pub fn days(self) -> Option<u32> {
        match self {
            Deadline::ThreeDaysForensic | Deadline::ThreeDays => Some(3),
            Deadline::FourteenDays => Some(14),
            Deadline::SixtyDays => Some(60),
            Deadline::NextUpgrade => None,
        }
    }

    /// Describes the band in words, such as `14 days`.
    pub fn describe(self) -> &'static str {
        match self {
            Deadline::ThreeDaysForensic => "3 days and forensic triage",
            Deadline::ThreeDays => "3 days",
            Deadline::FourteenDays => "14 days",
            Deadline::SixtyDays => "60 days",
            Deadline::NextUpgrade => "next scheduled upgrade",
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Deadline {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        Deadline::ALL
            .into_iter()
            .find(|deadline| deadline.as_str() == name)
            .ok_or_else(|| format!("invalid deadline {s:?}: expected 3d_forensic, 3d, 14d, 60d or next_upgrade"))
    }
}

/// The status of a finding, set by the runs that cover its scope and by
/// people who triage it (`ctem triage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStatus {
    /// First seen in that run.
    New,
    /// Seen in that run and in the run before.
    Open,
    /// Seen again after it was fixed, or open again after a risk acceptance
    /// expired.
    Reopened,
    /// A run covered its scope and no longer saw it, or a person marked it
    /// fixed and no covering run has confirmed it yet.
    Fixed,
    /// A person accepted the risk, with a reason, an approver and an expiry
    /// date, after which it reopens.
    RiskAccepted,
    /// A person found that the tool was wrong. Later sightings keep it so.
    FalsePositive,
    /// A VEX statement or a person states that the product is not affected.
    NotAffected,
}

impl LifecycleStatus {
    pub const ALL: [LifecycleStatus; 7] = [
        LifecycleStatus::New,
        LifecycleStatus::Open,
        LifecycleStatus::Reopened,
        LifecycleStatus::Fixed,
        LifecycleStatus::RiskAccepted,
        LifecycleStatus::FalsePositive,
        LifecycleStatus::NotAffected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStatus::New => "new",
            LifecycleStatus::Open => "open",
            LifecycleStatus::Reopened => "reopened",
            LifecycleStatus::Fixed => "fixed",
            LifecycleStatus::RiskAccepted => "risk_accepted",
            LifecycleStatus::FalsePositive => "false_positive",
            LifecycleStatus::NotAffected => "not_affected",
        }
    }

    /// Whether the finding still needs fixing: new, open or reopened.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            LifecycleStatus::New | LifecycleStatus::Open | LifecycleStatus::Reopened
        )
    }

    /// Tells whether runs keep the finding in this status while they report
    /// it, so that a run that no longer reports it fixes it. These are the
    /// active statuses and an accepted risk.
    pub fn is_tracked_by_runs(self) -> bool {
        self.is_active() || self == LifecycleStatus::RiskAccepted
    }
}

impl fmt::Display for LifecycleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LifecycleStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace('-', "_");
        LifecycleStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "invalid status {s:?}: expected new, open, reopened, fixed, risk_accepted, \
                     false_positive or not_affected"
                )
            })
    }
}

/// Whether a finding was shown to be exploitable where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    /// An attack was seen to work: a DAST or Nuclei match, a pentest.
    Confirmed,
    /// A test showed it cannot be exploited where it is.
    Refuted,
}

impl Validation {
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Confirmed => "confirmed",
            Validation::Refuted => "refuted",
        }
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Validation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "confirmed" => Ok(Validation::Confirmed),
            "refuted" => Ok(Validation::Refuted),
            _ => Err(format!("invalid validation {s:?}: expected confirmed or refuted")),
        }
    }
}
