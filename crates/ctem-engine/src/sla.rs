//! Remediation deadlines: how many days a finding may stay open, by tier
//! and by the criticality of its asset, and whether it was fixed in time.
//!
//! The clock starts when ctem first saw the finding (`first_seen`) and
//! stops only when a run that covers its scope confirms the fix
//! (`verified_at`). A finding in `risk_accepted`, `false_positive` or
//! `not_affected` is exempt while it has that status. `docs/metrics.md`
//! gives the full definitions.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ctem_engine::config::Config;
//! use ctem_model::{Criticality, Tier};
//!
//! let config = Config::parse("[sla]\nP1 = 5\n[sla.criticality.crown_jewel]\nP1 = 2\n").unwrap();
//! let policy = config.sla.policy();
//! let first_seen = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
//! let due = policy.due_date(Tier::P1, Some(Criticality::CrownJewel), first_seen);
//! assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 3, 8, 0, 0).unwrap());
//! assert_eq!(policy.days_to_fix(Tier::P2, None), 30);
//! ```

use chrono::{DateTime, TimeDelta, Utc};
use ctem_model::{Criticality, LifecycleStatus, Tier};
use serde::{Deserialize, Deserializer};

/// The default days to fix, by tier: P1 7, P2 30, P3 90, P4 180.
pub const DEFAULT_DAYS: [u32; 4] = [7, 30, 90, 180];

/// The largest number of days to fix that the configuration accepts: 100
/// years. A larger value is a typo, and it keeps every due date inside the
/// range of a timestamp.
pub const MAX_DAYS: u32 = 36_500;

/// The milliseconds in a day: the SLA counts days as 24 hours of UTC.
pub(crate) const MS_PER_DAY: f64 = 86_400_000.0;

/// A number of days to fix, from 1 to [`MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlaDays(u32);

impl SlaDays {
    /// Checks a number of days. The error names the value and the allowed range.
    pub fn new(days: i64) -> Result<SlaDays, String> {
        if days < 1 {
            return Err(format!("invalid days to fix {days}: must be at least 1"));
        }
        if days > i64::from(MAX_DAYS) {
            return Err(format!(
                "invalid days to fix {days}: must be at most {MAX_DAYS} (100 years)"
            ));
        }
        Ok(SlaDays(days as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for SlaDays {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_i64(DaysVisitor)
    }
}

/// Reads an integer, so that `7.5` or `"7"` is reported as "expected a
/// whole number of days" rather than "expected i64".
struct DaysVisitor;

impl serde::de::Visitor<'_> for DaysVisitor {
    type Value = SlaDays;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(formatter, "a whole number of days from 1 to {MAX_DAYS}")
    }

    fn visit_i64<E: serde::de::Error>(self, days: i64) -> Result<SlaDays, E> {
        SlaDays::new(days).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, days: u64) -> Result<SlaDays, E> {
        SlaDays::new(i64::try_from(days).unwrap_or(i64::MAX)).map_err(E::custom)
    }
}

/// Days to fix for some tiers. A tier left out keeps the value it would
/// otherwise have.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierDays {
    #[serde(rename = "P1")]
    pub p1: Option<SlaDays>,
    #[serde(rename = "P2")]
    pub p2: Option<SlaDays>,
    #[serde(rename = "P3")]
    pub p3: Option<SlaDays>,
    #[serde(rename = "P4")]
    pub p4: Option<SlaDays>,
}

impl TierDays {
    fn by_tier(&self) -> [Option<SlaDays>; 4] {
        [self.p1, self.p2, self.p3, self.p4]
    }
}

/// Overrides of the days to fix for the assets of one criticality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalityDays {
    pub low: Option<TierDays>,
    pub medium: Option<TierDays>,
    pub high: Option<TierDays>,
    pub crown_jewel: Option<TierDays>,
}

/// The `[sla]` table of `ctem.toml`: days to fix by tier, and overrides by
/// asset criticality.
///
/// ```toml
/// [sla]
/// P1 = 7
/// P2 = 30
///
/// [sla.criticality.crown_jewel]
/// P1 = 3
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// Days to fix a P1 finding; default 7.
    #[serde(rename = "P1")]
    pub p1: Option<SlaDays>,
    /// Days to fix a P2 finding; default 30.
    #[serde(rename = "P2")]
    pub p2: Option<SlaDays>,
    /// Days to fix a P3 finding; default 90.
    #[serde(rename = "P3")]
    pub p3: Option<SlaDays>,
    /// Days to fix a P4 finding; default 180.
    #[serde(rename = "P4")]
    pub p4: Option<SlaDays>,
    /// Days to fix on assets of a criticality (low, medium, high,
    /// crown_jewel), by tier. An asset that no rule classified uses the
    /// `medium` overrides, as the risk score treats it as medium.
    #[serde(default)]
    pub criticality: CriticalityDays,
}

impl SlaConfig {
    /// Builds the policy. The values were checked when the file was read.
    pub fn policy(&self) -> SlaPolicy {
        let mut defaults = DEFAULT_DAYS;
        let configured = [self.p1, self.p2, self.p3, self.p4];
        for (slot, days) in defaults.iter_mut().zip(configured) {
            if let Some(days) = days {
                *slot = days.get();
            }
        }

        let overrides = [
            self.criticality.low,
            self.criticality.medium,
            self.criticality.high,
            self.criticality.crown_jewel,
        ];
        let mut days = [defaults; 4];
        for (row, tier_days) in days.iter_mut().zip(overrides) {
            let Some(tier_days) = tier_days else { continue };
            for (slot, value) in row.iter_mut().zip(tier_days.by_tier()) {
                if let Some(value) = value {
                    *slot = value.get();
                }
            }
        }
        SlaPolicy { days }
    }
}

/// Days to fix for every pair of criticality and tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaPolicy {
    /// Indexed by [`criticality_index`], then by tier (P1 first).
    days: [[u32; 4]; 4],
}

impl Default for SlaPolicy {
    /// Builds the policy with the default days to fix ([`DEFAULT_DAYS`])
    /// for every criticality.
    fn default() -> SlaPolicy {
        SlaConfig::default().policy()
    }
}

/// Returns the row of a criticality in the policy's table. An unclassified
/// asset counts as medium, as in the risk score.
fn criticality_index(criticality: Option<Criticality>) -> usize {
    match criticality {
        Some(Criticality::Low) => 0,
        Some(Criticality::Medium) | None => 1,
        Some(Criticality::High) => 2,
        Some(Criticality::CrownJewel) => 3,
    }
}

pub(crate) fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::P1 => 0,
        Tier::P2 => 1,
        Tier::P3 => 2,
        Tier::P4 => 3,
    }
}

impl SlaPolicy {
    /// Returns the days to fix a finding of this tier on an asset of this
    /// criticality (`None`: unclassified, which counts as medium).
    pub fn days_to_fix(&self, tier: Tier, criticality: Option<Criticality>) -> u32 {
        self.days[criticality_index(criticality)][tier_index(tier)]
    }

    /// Computes the due date: `first_seen` plus the days to fix, as days of
    /// 24 hours.
    pub fn due_date(&self, tier: Tier, criticality: Option<Criticality>, first_seen: DateTime<Utc>) -> DateTime<Utc> {
        let days = TimeDelta::days(i64::from(self.days_to_fix(tier, criticality)));
        // A first sighting within 100 years of the end of chrono's range
        // (year 262143) is not a real time. The last representable time
        // stands in for its due date.
        first_seen.checked_add_signed(days).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Classifies a finding against its due date at `now`.
    pub fn state(&self, finding: SlaInput, now: DateTime<Utc>) -> SlaState {
        let due = self.due_date(finding.tier, finding.criticality, finding.first_seen);
        sla_state(finding.status, finding.verified_at, due, now)
    }
}

/// The facts about a finding that [`SlaPolicy::state`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaInput {
    pub tier: Tier,
    /// The criticality of the finding's asset, or `None` when unclassified.
    pub criticality: Option<Criticality>,
    pub status: LifecycleStatus,
    pub first_seen: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// The state of a finding against its due date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlaState {
    /// Risk accepted, a false positive or not affected: no deadline while
    /// the finding keeps that status.
    Exempt,
    /// Not fixed, or fixed but not yet confirmed by a run, and not due yet.
    Running { due: DateTime<Utc> },
    /// Past its due date at `now` and not confirmed fixed: active, or
    /// marked fixed by hand without a run confirming it.
    Overdue { due: DateTime<Utc>, days_overdue: f64 },
    /// Confirmed fixed on or before its due date.
    Met {
        due: DateTime<Utc>,
        verified_at: DateTime<Utc>,
    },
    /// Confirmed fixed after its due date.
    Late {
        due: DateTime<Utc>,
        verified_at: DateTime<Utc>,
        days_overdue: f64,
    },
}

impl SlaState {
    /// Tells whether the finding breaches its SLA: overdue at `now`, or
    /// confirmed fixed after its due date.
    pub fn is_breach(&self) -> bool {
        matches!(self, SlaState::Overdue { .. } | SlaState::Late { .. })
    }
}

/// Classifies a finding with its due date already computed. Only a run's
/// confirmation (`verified_at` on a finding whose status is `fixed`) stops
/// the clock. A `verified_at` left on a finding of another status belongs
/// to an earlier fix that did not hold, so it is ignored.
pub(crate) fn sla_state(
    status: LifecycleStatus,
    verified_at: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> SlaState {
    if matches!(
        status,
        LifecycleStatus::RiskAccepted | LifecycleStatus::FalsePositive | LifecycleStatus::NotAffected
    ) {
        return SlaState::Exempt;
    }

    if status == LifecycleStatus::Fixed
        && let Some(verified_at) = verified_at
    {
        if verified_at <= due {
            return SlaState::Met { due, verified_at };
        }
        return SlaState::Late {
            due,
            verified_at,
            days_overdue: days_between(due, verified_at),
        };
    }

    if now > due {
        SlaState::Overdue {
            due,
            days_overdue: days_between(due, now),
        }
    } else {
        SlaState::Running { due }
    }
}

/// Returns `to - from` in days, with the fraction.
pub(crate) fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / MS_PER_DAY
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::Config;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap()
    }

    fn policy(text: &str) -> SlaPolicy {
        Config::parse(text).unwrap().sla.policy()
    }

    #[test]
    fn defaults_apply_without_table() {
        let policy = policy("");
        let days: Vec<u32> = Tier::ALL.iter().map(|&tier| policy.days_to_fix(tier, None)).collect();
        assert_eq!(days, vec![7, 30, 90, 180]);
        assert_eq!(policy, SlaPolicy::default());
    }

    #[test]
    fn tier_days_replace_defaults() {
        let policy = policy("[sla]\nP1 = 3\nP4 = 365\n");
        assert_eq!(policy.days_to_fix(Tier::P1, Some(Criticality::High)), 3);
        assert_eq!(policy.days_to_fix(Tier::P2, Some(Criticality::High)), 30);
        assert_eq!(policy.days_to_fix(Tier::P4, Some(Criticality::Low)), 365);
    }

    #[test]
    fn criticality_overrides_one_tier() {
        let policy = policy("[sla]\nP1 = 10\n[sla.criticality.crown_jewel]\nP1 = 2\n[sla.criticality.low]\nP3 = 120\n");
        assert_eq!(policy.days_to_fix(Tier::P1, Some(Criticality::CrownJewel)), 2);
        assert_eq!(policy.days_to_fix(Tier::P2, Some(Criticality::CrownJewel)), 30);
        assert_eq!(policy.days_to_fix(Tier::P1, Some(Criticality::High)), 10);
        assert_eq!(policy.days_to_fix(Tier::P3, Some(Criticality::Low)), 120);
    }

    #[test]
    fn unclassified_asset_uses_medium() {
        let policy = policy("[sla.criticality.medium]\nP2 = 21\n");
        assert_eq!(policy.days_to_fix(Tier::P2, None), 21);
        assert_eq!(policy.days_to_fix(Tier::P2, Some(Criticality::Medium)), 21);
        assert_eq!(policy.days_to_fix(Tier::P2, Some(Criticality::High)), 30);
    }

    #[test]
    fn due_date_adds_whole_days() {
        let first_seen = Utc.with_ymd_and_hms(2026, 11, 1, 13, 30, 0).unwrap();
        let due = SlaPolicy::default().due_date(Tier::P1, None, first_seen);
        assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 8, 13, 30, 0).unwrap());
    }

    #[test]
    fn due_date_saturates_at_end_of_time() {
        let due = SlaPolicy::default().due_date(Tier::P4, None, DateTime::<Utc>::MAX_UTC);
        assert_eq!(due, DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn invalid_days_are_named() {
        let cases = [
            ("[sla]\nP1 = 0\n", "line 2"),
            ("[sla]\nP1 = 0\n", "at least 1"),
            ("[sla]\nP2 = -5\n", "-5"),
            ("[sla]\nP3 = 36501\n", "at most 36500"),
            ("[sla]\nP1 = 7.5\n", "whole number of days"),
            ("[sla]\nP1 = \"7\"\n", "line 2"),
            ("[sla.criticality.high]\nP2 = 0\n", "line 2"),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        let cases = [
            ("[sla]\nP5 = 10\n", "P5"),
            ("[sla]\nP5 = 10\n", "P4"),
            ("[sla]\ncritical = 10\n", "critical"),
            ("[sla.criticality.critical]\nP1 = 3\n", "critical"),
            ("[sla.criticality.critical]\nP1 = 3\n", "crown_jewel"),
            ("[sla.criticality.high]\nP0 = 3\n", "P0"),
            ("[sla]\np1 = 3\n", "p1"),
        ];
        for (text, expected) in cases {
            let error = Config::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?} gave {error}");
        }
    }

    fn input(status: LifecycleStatus, verified_at: Option<DateTime<Utc>>) -> SlaInput {
        SlaInput {
            tier: Tier::P1,
            criticality: None,
            status,
            first_seen: at(1),
            verified_at,
        }
    }

    #[test]
    fn state_of_each_case() {
        let policy = SlaPolicy::default();
        let due = at(8);
        let cases = [
            (input(LifecycleStatus::Open, None), at(5), SlaState::Running { due }),
            (input(LifecycleStatus::Open, None), at(8), SlaState::Running { due }),
            (
                input(LifecycleStatus::New, None),
                at(10),
                SlaState::Overdue { due, days_overdue: 2.0 },
            ),
            (
                input(LifecycleStatus::Fixed, Some(at(8))),
                at(20),
                SlaState::Met {
                    due,
                    verified_at: at(8),
                },
            ),
            (
                input(LifecycleStatus::Fixed, Some(at(11))),
                at(20),
                SlaState::Late {
                    due,
                    verified_at: at(11),
                    days_overdue: 3.0,
                },
            ),
            (
                input(LifecycleStatus::Fixed, None),
                at(9),
                SlaState::Overdue { due, days_overdue: 1.0 },
            ),
            (
                input(LifecycleStatus::Reopened, Some(at(3))),
                at(9),
                SlaState::Overdue { due, days_overdue: 1.0 },
            ),
            (input(LifecycleStatus::RiskAccepted, None), at(30), SlaState::Exempt),
            (input(LifecycleStatus::FalsePositive, None), at(30), SlaState::Exempt),
            (input(LifecycleStatus::NotAffected, None), at(30), SlaState::Exempt),
        ];
        for (finding, now, expected) in cases {
            assert_eq!(policy.state(finding, now), expected, "{finding:?} at {now}");
        }
    }

    #[test]
    fn breaches_are_overdue_and_late() {
        let policy = SlaPolicy::default();
        assert!(policy.state(input(LifecycleStatus::Open, None), at(9)).is_breach());
        assert!(
            policy
                .state(input(LifecycleStatus::Fixed, Some(at(9))), at(9))
                .is_breach()
        );
        assert!(
            !policy
                .state(input(LifecycleStatus::Fixed, Some(at(7))), at(9))
                .is_breach()
        );
        assert!(
            !policy
                .state(input(LifecycleStatus::RiskAccepted, None), at(9))
                .is_breach()
        );
    }
}
