//! The SSVC deployer decision that sets a finding's tier, and the CISA BOD
//! 26-04 deadline table. Both tables come from the SSVC decision tables
//! that `ctem-intel` ships, read once into arrays so that a decision costs
//! an index lookup.

use std::sync::OnceLock;

use ctem_intel::{BuiltinTable, Inputs};
use ctem_model::{Deadline, Decision};

use crate::context::{BodCriteria, DeadlineTable};

/// SSVC `Exploitation`: the evidence that the vulnerability is exploited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Exploitation {
    None,
    /// A public proof of concept or exploit exists.
    Poc,
    /// Exploitation was seen in the wild.
    Active,
}

impl Exploitation {
    pub(crate) const ALL: [Exploitation; 3] = [Exploitation::None, Exploitation::Poc, Exploitation::Active];

    fn ssvc_name(self) -> &'static str {
        match self {
            Exploitation::None => "None",
            Exploitation::Poc => "Public PoC",
            Exploitation::Active => "Active",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Exploitation::None => "none",
            Exploitation::Poc => "public PoC",
            Exploitation::Active => "active",
        }
    }
}

/// SSVC `System Exposure`: how far the system is accessible to an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SystemExposure {
    /// Local or isolated: reached only after a foothold close to it.
    Small,
    /// Reachable under some conditions, or unknown.
    Controlled,
    /// Reachable from the internet.
    Open,
}

impl SystemExposure {
    pub(crate) const ALL: [SystemExposure; 3] =
        [SystemExposure::Small, SystemExposure::Controlled, SystemExposure::Open];

    fn ssvc_name(self) -> &'static str {
        match self {
            SystemExposure::Small => "Small",
            SystemExposure::Controlled => "Controlled",
            SystemExposure::Open => "Open",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            SystemExposure::Small => "small",
            SystemExposure::Controlled => "controlled",
            SystemExposure::Open => "open",
        }
    }

    /// Returns the next lower exposure, where a compensating control applies.
    pub(crate) fn lowered(self) -> SystemExposure {
        match self {
            SystemExposure::Open => SystemExposure::Controlled,
            SystemExposure::Controlled | SystemExposure::Small => SystemExposure::Small,
        }
    }
}

/// SSVC `Human Impact`: the consequence for the mission and for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HumanImpact {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl HumanImpact {
    pub(crate) const ALL: [HumanImpact; 4] = [
        HumanImpact::Low,
        HumanImpact::Medium,
        HumanImpact::High,
        HumanImpact::VeryHigh,
    ];

    fn ssvc_name(self) -> &'static str {
        match self {
            HumanImpact::Low => "Low",
            HumanImpact::Medium => "Medium",
            HumanImpact::High => "High",
            HumanImpact::VeryHigh => "Very High",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            HumanImpact::Low => "low",
            HumanImpact::Medium => "medium",
            HumanImpact::High => "high",
            HumanImpact::VeryHigh => "very high",
        }
    }
}

/// The decision points of the deployer decision for one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeployerPoints {
    pub exploitation: Exploitation,
    pub exposure: SystemExposure,
    pub automatable: bool,
    pub human_impact: HumanImpact,
}

impl DeployerPoints {
    fn index(self) -> usize {
        ((self.exploitation as usize * 3 + self.exposure as usize) * 2 + usize::from(self.automatable)) * 4
            + self.human_impact as usize
    }
}

/// Decides with the SSVC Deployer Patch Application Priority table 1.0.0.
pub(crate) fn deployer_decision(points: DeployerPoints) -> Decision {
    static CELLS: OnceLock<[Decision; 72]> = OnceLock::new();
    CELLS.get_or_init(read_deployer_table)[points.index()]
}

/// Reads every cell of the built-in deployer table into an array indexed by
/// [`DeployerPoints::index`].
fn read_deployer_table() -> [Decision; 72] {
    let table = BuiltinTable::DeployerPatchApplicationPriority.table();
    let mut cells = [Decision::Defer; 72];
    for exploitation in Exploitation::ALL {
        for exposure in SystemExposure::ALL {
            for automatable in [false, true] {
                for human_impact in HumanImpact::ALL {
                    let points = DeployerPoints {
                        exploitation,
                        exposure,
                        automatable,
                        human_impact,
                    };
                    let inputs = Inputs::new()
                        .with("Exploitation", exploitation.ssvc_name())
                        .with("System Exposure", exposure.ssvc_name())
                        .with("Automatable", if automatable { "Yes" } else { "No" })
                        .with("Human Impact", human_impact.ssvc_name());
                    // The unit test `deployer_table_reads` decides every cell,
                    // so a change of the data file fails the tests, not a run.
                    let outcome = table.decide(&inputs).unwrap_or_else(|error| panic!("{error}"));
                    cells[points.index()] = outcome
                        .value
                        .parse()
                        .unwrap_or_else(|error| panic!("deployer table outcome: {error}"));
                }
            }
        }
    }
    cells
}

/// Reads the deadline of every combination from the built-in CISA BOD
/// 26-04 table.
pub(crate) fn default_deadlines() -> DeadlineTable {
    static TABLE: OnceLock<DeadlineTable> = OnceLock::new();
    *TABLE.get_or_init(|| {
        let table = BuiltinTable::CisaBod2604.table();
        let mut cells = [Deadline::NextUpgrade; 16];
        for criteria in BodCriteria::all() {
            let yes_no = |held: bool| if held { "Yes" } else { "No" };
            let inputs = Inputs::new()
                .with("In KEV", yes_no(criteria.kev))
                .with("Publicly Exposed", yes_no(criteria.public))
                .with("Automatable", yes_no(criteria.automatable))
                .with("Technical Impact", if criteria.total { "Total" } else { "Partial" });
            // The unit test `default_deadlines_read` reads every cell.
            let outcome = table.decide(&inputs).unwrap_or_else(|error| panic!("{error}"));
            cells[criteria.index()] = match outcome.rank {
                0 => Deadline::NextUpgrade,
                1 => Deadline::SixtyDays,
                2 => Deadline::FourteenDays,
                3 => Deadline::ThreeDays,
                _ => Deadline::ThreeDaysForensic,
            };
        }
        DeadlineTable::from_cells(cells)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(exploitation: Exploitation, exposure: SystemExposure, automatable: bool, human: HumanImpact) -> Decision {
        deployer_decision(DeployerPoints {
            exploitation,
            exposure,
            automatable,
            human_impact: human,
        })
    }

    #[test]
    fn deployer_table_reads() {
        use Exploitation::*;
        use HumanImpact::*;
        use SystemExposure::*;

        // Cells of the SSVC Deployer Patch Application Priority table 1.0.0.
        let cases = [
            (None, Small, false, Low, Decision::Defer),
            (None, Open, true, VeryHigh, Decision::OutOfCycle),
            (None, Open, false, High, Decision::Scheduled),
            (Poc, Controlled, false, Low, Decision::Defer),
            (Poc, Open, true, High, Decision::OutOfCycle),
            (Poc, Open, false, Low, Decision::Scheduled),
            (Active, Small, false, Low, Decision::Scheduled),
            (Active, Controlled, true, Low, Decision::OutOfCycle),
            (Active, Open, false, VeryHigh, Decision::Immediate),
            (Active, Open, true, High, Decision::Immediate),
            (Active, Open, false, Low, Decision::Scheduled),
        ];
        for (exploitation, exposure, automatable, human, expected) in cases {
            assert_eq!(
                points(exploitation, exposure, automatable, human),
                expected,
                "{exploitation:?} {exposure:?} automatable {automatable} {human:?}"
            );
        }
    }

    #[test]
    fn deployer_decision_is_monotone() {
        for exploitation in Exploitation::ALL {
            for exposure in SystemExposure::ALL {
                for automatable in [false, true] {
                    for human in HumanImpact::ALL {
                        let here = points(exploitation, exposure, automatable, human);
                        if exploitation != Exploitation::Active {
                            let next = Exploitation::ALL[exploitation as usize + 1];
                            assert!(points(next, exposure, automatable, human) >= here);
                        }
                        if human != HumanImpact::VeryHigh {
                            let next = HumanImpact::ALL[human as usize + 1];
                            assert!(points(exploitation, exposure, automatable, next) >= here);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn default_deadlines_read() {
        let table = default_deadlines();
        let cell = |kev, public, automatable, total| {
            table.get(BodCriteria {
                kev,
                public,
                automatable,
                total,
            })
        };
        // All 16 cells of the SSVC project's BOD2604 1.0.0 table.
        let cases = [
            ((false, false, false, false), Deadline::NextUpgrade),
            ((true, false, false, false), Deadline::FourteenDays),
            ((false, true, false, false), Deadline::SixtyDays),
            ((false, false, true, false), Deadline::SixtyDays),
            ((false, false, false, true), Deadline::NextUpgrade),
            ((true, true, false, false), Deadline::FourteenDays),
            ((true, false, true, false), Deadline::FourteenDays),
            ((false, true, true, false), Deadline::FourteenDays),
            ((true, false, false, true), Deadline::FourteenDays),
            ((false, true, false, true), Deadline::FourteenDays),
            ((false, false, true, true), Deadline::SixtyDays),
            ((true, true, true, false), Deadline::ThreeDays),
            ((true, true, false, true), Deadline::ThreeDaysForensic),
            ((true, false, true, true), Deadline::ThreeDaysForensic),
            ((false, true, true, true), Deadline::ThreeDays),
            ((true, true, true, true), Deadline::ThreeDaysForensic),
        ];
        for ((kev, public, automatable, total), expected) in cases {
            assert_eq!(
                cell(kev, public, automatable, total),
                expected,
                "kev {kev} public {public} automatable {automatable} total {total}"
            );
        }
    }

    #[test]
    fn criteria_keys_are_distinct() {
        let keys: std::collections::BTreeSet<String> = BodCriteria::all().map(BodCriteria::key).collect();
        assert_eq!(keys.len(), 16);
        assert!(keys.contains("none"));
        assert!(keys.contains("kev_public_automatable_total"));
    }
}
