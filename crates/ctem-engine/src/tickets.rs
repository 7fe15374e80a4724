//! The subjects of ticket sync: the remediation actions of the store's
//! active findings (or the findings themselves), with owner and SLA due
//! date.
//!
//! The actions are planned from the stored findings and assets, so a sync
//! reads what the latest runs recorded. Attack path bonuses need the
//! reports themselves and are left out: an action's tier and findings
//! decide whether it gets a ticket, not its rank.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_mobilize::config::{Granularity, TicketsConfig};
use ctem_mobilize::sync::{WorkFinding, WorkItem, WorkOwner};
use ctem_model::{Criticality, Tier};
use ctem_store::{FindingFilter, ScoredFinding, Store, StoreError, SubjectKind};

use crate::actions::{Action, plan};
use crate::config::Config;
use crate::owners::{OwnerResolver, Ownership, assign_owners};

/// Lists the actions (or findings, per `tickets.per`) whose most urgent
/// finding is at `tickets.min_tier` or above, ranked as `ctem actions`
/// ranks them.
pub fn work_items(
    store: &Store,
    config: &Config,
    tickets: &TicketsConfig,
    resolver: &OwnerResolver,
) -> Result<Vec<WorkItem>, StoreError> {
    let active = store.findings(&FindingFilter {
        active_only: true,
        ..FindingFilter::default()
    })?;
    let assets = store.assets()?;
    let criticality: HashMap<String, Option<Criticality>> = assets
        .iter()
        .map(|asset| (asset.key.to_string(), asset.criticality))
        .collect();
    let first_seen: HashMap<String, DateTime<Utc>> = active
        .iter()
        .map(|stored| (stored.fingerprint.as_str().to_string(), stored.first_seen))
        .collect();
    let scored: Vec<ScoredFinding> = active
        .into_iter()
        .filter_map(|stored| {
            Some(ScoredFinding {
                risk: stored.risk?,
                fingerprint: stored.fingerprint,
                finding: stored.finding,
                published: None,
            })
        })
        .collect();

    let mut actions = plan(&scored, &assets, &[]);
    assign_owners(&mut actions, &scored, &assets, resolver);
    let policy = config.sla.policy();
    let due_of = |fingerprint: &str, asset: &str, tier: Tier| -> Option<NaiveDate> {
        let seen = first_seen.get(fingerprint)?;
        let criticality = criticality.get(asset).copied().flatten();
        Some(policy.due_date(tier, criticality, *seen).date_naive())
    };

    let mut items = Vec::new();
    for action in actions.iter().filter(|action| !action.findings.is_empty()) {
        let tier = action
            .findings
            .iter()
            .map(|finding| finding.tier)
            .min()
            .expect("not empty");
        if tier > tickets.min_tier {
            continue;
        }
        match tickets.per {
            Granularity::Action => items.push(action_item(action, tier, &due_of)),
            Granularity::Finding => {
                for finding in action
                    .findings
                    .iter()
                    .filter(|finding| finding.tier <= tickets.min_tier)
                {
                    items.push(WorkItem {
                        kind: SubjectKind::Finding,
                        key: finding.fingerprint.clone(),
                        title: format!("{} on {}", finding.title, finding.asset),
                        explanation: format!("Part of the remediation action: {}.", action.summary),
                        tier: finding.tier,
                        risk: finding.score,
                        owner: finding.owner.as_ref().map(work_owner),
                        due: due_of(&finding.fingerprint, &finding.asset, finding.tier),
                        findings: vec![work_finding(finding)],
                    });
                }
            }
        }
    }
    Ok(items)
}

fn action_item(action: &Action, tier: Tier, due_of: &dyn Fn(&str, &str, Tier) -> Option<NaiveDate>) -> WorkItem {
    let due = action
        .findings
        .iter()
        .filter_map(|finding| due_of(&finding.fingerprint, &finding.asset, finding.tier))
        .min();
    WorkItem {
        kind: SubjectKind::Action,
        key: action.key.clone(),
        title: action.summary.clone(),
        explanation: format!(
            "{} closes {} finding(s) on {} asset(s) worth {:.1} risk points.",
            action.summary,
            action.findings.len(),
            action.assets.len(),
            action.finding_risk
        ),
        tier,
        risk: action.risk_removed,
        owner: action.owner.as_ref().map(work_owner),
        due,
        findings: action.findings.iter().map(work_finding).collect(),
    }
}

fn work_owner(owner: &Ownership) -> WorkOwner {
    WorkOwner {
        team: owner.team.clone(),
        contacts: owner.contacts.clone(),
        rule: owner.rule.clone(),
    }
}

fn work_finding(finding: &crate::actions::ClosedFinding) -> WorkFinding {
    WorkFinding {
        fingerprint: finding.fingerprint.clone(),
        title: finding.title.clone(),
        asset: finding.asset.clone(),
        tier: finding.tier,
        score: finding.score,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use ctem_model::{Asset, AssetKind, Finding, FindingKind, RiskAssessment, Severity};
    use ctem_store::{RunInput, Scope};

    use super::*;

    fn scored(rule: &str, asset: &Asset, tier: Tier, score: f64) -> ScoredFinding {
        let mut finding = Finding::new(
            "nessus",
            rule,
            FindingKind::Vulnerability,
            format!("{rule} on db"),
            Severity::High,
            asset.key.clone(),
        );
        finding.target = Some("internal".into());
        ScoredFinding {
            fingerprint: finding.fingerprint(),
            finding,
            risk: RiskAssessment {
                score,
                tier,
                likelihood: 0.5,
                impact: 1.0,
                factors: vec![],
                decision: None,
                deadline: None,
            },
            published: None,
        }
    }

    /// Opens a store with a P1 and a P3 finding on a crown jewel, first
    /// seen on 2026-11-01.
    fn store(dir: &std::path::Path) -> Store {
        let mut store = Store::open(&dir.join("ctem.db")).unwrap();
        let mut asset = Asset::new(AssetKind::Host, "10.0.0.5", "db-pay01");
        asset.criticality = Some(Criticality::CrownJewel);
        let findings = vec![
            scored("CVE-2024-0001", &asset, Tier::P1, 95.0),
            scored("CVE-2024-0003", &asset, Tier::P3, 40.0),
        ];
        let run = RunInput {
            observed_at: Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap(),
            sources: vec![],
            scopes: BTreeSet::from([Scope::of(&findings[0].finding)]),
            assets: vec![asset],
            relationships: vec![],
            findings,
        };
        store.record_run(&run).unwrap();
        store
    }

    fn items(store: &Store, tickets: &str) -> Vec<WorkItem> {
        let text = format!(
            "[sla]\nP1 = 7\n[sla.criticality.crown_jewel]\nP1 = 3\n\n[ownership]\ndefault_team = \"security\"\n\n\
             [tickets]\n{tickets}\n[tickets.jira]\nurl = \"https://jira.example\"\nproject = \"SEC\"\n"
        );
        let config = Config::parse(&text).unwrap();
        let resolver = OwnerResolver::new(&config, std::path::Path::new(".")).unwrap();
        work_items(store, &config, config.tickets.as_ref().unwrap(), &resolver).unwrap()
    }

    #[test]
    fn top_tier_actions_with_due_date() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());

        let items = items(&store, "");

        assert_eq!(items.len(), 1, "{items:?}");
        let item = &items[0];
        assert_eq!(item.kind, SubjectKind::Action);
        assert_eq!(item.key, "patch:host:10.0.0.5:nessus:CVE-2024-0001");
        assert_eq!(item.tier, Tier::P1);
        // A crown jewel's P1 findings are due in 3 days, not 7.
        assert_eq!(item.due, NaiveDate::from_ymd_opt(2026, 11, 4));
        let owner = item.owner.as_ref().unwrap();
        assert_eq!(owner.team, "security");
        assert_eq!(owner.rule, "ownership.default_team");
        assert_eq!(item.findings.len(), 1);
    }

    #[test]
    fn per_finding_down_to_min_tier() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());

        let items = items(&store, "per = \"finding\"\nmin_tier = \"P3\"");

        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items.iter().all(|item| item.kind == SubjectKind::Finding));
        assert!(items.iter().all(|item| item.key == item.findings[0].fingerprint));
        let p3 = items.iter().find(|item| item.tier == Tier::P3).unwrap();
        // The default P3 SLA is 90 days.
        assert_eq!(p3.due, NaiveDate::from_ymd_opt(2027, 1, 30));
    }
}
