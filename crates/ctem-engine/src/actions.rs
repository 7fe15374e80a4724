//! Remediation actions: the fixes that close groups of findings, ranked by
//! the risk each removes per unit of effort.
//!
//! [`plan`] groups the open scored findings of a run into actions and
//! ranks them. An action closes findings and may also cut attack paths.
//! [`path_fixes`] lists the fixes of [`AttackPaths`] that lie in a crown
//! jewel's minimal fix set or on its most likely path. The configuration
//! changes among them become actions of their own. docs/actions.md
//! describes the model; docs/json-output.md, section "Remediation
//! actions", the JSON shape.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use ctem_graph::FixRef;
use ctem_model::{Asset, Component, Finding, FindingKind, Tier};
use ctem_store::ScoredFinding;
use serde::Serialize;

use crate::owners::Ownership;
use crate::paths::{AttackPaths, is_open};
use crate::vex::range;

mod marginal;

pub use marginal::{CROWN_JEWEL_VALUE, action_fixes};

/// Risk points added for each crown jewel whose minimal fix set contains
/// a fix of the action. Half the maximum score of one finding: cutting
/// every path to a crown jewel takes all the fixes of its set, so one
/// member is worth less than a whole critical finding, yet it outranks a
/// few low findings.
pub const FIX_SET_BONUS: f64 = 50.0;

/// Risk points added for each crown jewel whose most likely path uses a
/// fix of the action that is not in its minimal fix set. Half the fix-set
/// bonus, because the attacker still has the other paths.
pub const MOST_LIKELY_PATH_BONUS: f64 = 25.0;

/// The kind of an action, which sets its effort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Upgrade a component to a fixed version on every asset that has it.
    Upgrade,
    /// Apply a vendor patch on one host (a host-scanner finding without a
    /// component).
    Patch,
    /// Rotate a leaked secret, wherever it was found.
    RotateSecret,
    /// Fix one misconfiguration rule on one asset.
    FixMisconfiguration,
    /// Close or restrict one reachable network service (a port-scanner
    /// or host-scanner finding of an exposed service).
    RestrictService,
    /// Fix the code or web weakness, or the license, of one rule on one
    /// asset.
    FixWeakness,
    /// Change the configuration that an attack step needs (close a port,
    /// remove a security group rule, detach a role).
    ChangeConfiguration,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Upgrade => "upgrade",
            ActionKind::Patch => "patch",
            ActionKind::RotateSecret => "rotate_secret",
            ActionKind::FixMisconfiguration => "fix_misconfiguration",
            ActionKind::RestrictService => "restrict_service",
            ActionKind::FixWeakness => "fix_weakness",
            ActionKind::ChangeConfiguration => "change_configuration",
        }
    }

    /// Estimates the effort of an action of this kind on `assets` assets.
    /// One effort unit is one configuration change; docs/actions.md
    /// explains the constants.
    pub fn effort(self, assets: usize) -> f64 {
        let extra = assets.saturating_sub(1) as f64;
        match self {
            // Rebuild, test and roll out one image, host or repository,
            // and one more unit for each further asset.
            ActionKind::Upgrade => 2.0 + extra,
            // A maintenance window on one host.
            ActionKind::Patch => 2.0,
            // Issue a new secret and revoke the old one, once.
            ActionKind::RotateSecret => 1.0,
            ActionKind::FixMisconfiguration | ActionKind::RestrictService => 1.0,
            // A code change with review and a release.
            ActionKind::FixWeakness => 3.0,
            ActionKind::ChangeConfiguration => 1.0,
        }
    }
}

/// How a fix of the attack graph matters to one crown jewel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathRole {
    /// The fix is in the crown jewel's minimal fix set.
    FixSet,
    /// The fix removes a step of the crown jewel's most likely path.
    MostLikelyPath,
}

impl PathRole {
    fn bonus(self) -> f64 {
        match self {
            PathRole::FixSet => FIX_SET_BONUS,
            PathRole::MostLikelyPath => MOST_LIKELY_PATH_BONUS,
        }
    }
}

/// One fix of the attack graph that matters to one crown jewel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFix {
    pub fix: FixRef,
    /// The crown jewel's configured name, else its asset name.
    pub crown_jewel: String,
    pub role: PathRole,
}

/// Lists the fixes in each crown jewel's minimal fix set and on its most
/// likely path. A fix in both is listed once, as [`PathRole::FixSet`].
pub fn path_fixes(paths: &AttackPaths) -> Vec<PathFix> {
    let mut fixes = Vec::new();
    for jewel in &paths.crown_jewels {
        let crown_jewel = paths.crown_jewel_name(jewel.asset);
        let in_set: BTreeSet<u32> = jewel
            .fix_set
            .iter()
            .filter(|set| !set.uncuttable)
            .flat_map(|set| set.fixes.iter().copied())
            .collect();
        let on_path: BTreeSet<u32> = jewel
            .most_likely
            .iter()
            .flat_map(|path| path.edges.iter())
            .flat_map(|&edge| paths.graph.fixes_of(edge).iter().copied())
            .filter(|fix| !in_set.contains(fix))
            .collect();

        let roles = in_set
            .iter()
            .map(|&fix| (fix, PathRole::FixSet))
            .chain(on_path.iter().map(|&fix| (fix, PathRole::MostLikelyPath)));
        for (fix, role) in roles {
            fixes.push(PathFix {
                fix: paths.graph.fixes[fix as usize].clone(),
                crown_jewel: crown_jewel.clone(),
                role,
            });
        }
    }
    fixes
}

/// One remediation action, ranked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// 1 for the action to take first.
    pub rank: usize,
    pub kind: ActionKind,
    /// A stable key of the group, such as
    /// `upgrade:pkg:maven/org.apache.logging.log4j/log4j-core`.
    pub key: String,
    /// The action in one line of text.
    pub summary: String,
    /// The component and its target version, for an upgrade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// The change, for a configuration change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ConfigurationChange>,
    /// The findings the action closes, highest score first.
    pub findings: Vec<ClosedFinding>,
    /// The keys of the assets the action touches, sorted.
    pub assets: Vec<String>,
    /// The owners of those assets, sorted. Empty when none has one.
    pub owners: Vec<String>,
    /// The team that takes the action: the owner of its highest-scored
    /// finding, or of its asset for a configuration change. Set by
    /// [`crate::owners::assign_owners`]; `None` when no rule claims it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Ownership>,
    /// The crown jewels whose attack paths the action cuts.
    pub cuts: Vec<PathCut>,
    /// The sum of the scores of the closed findings.
    pub finding_risk: f64,
    /// The attack path bonus: [`FIX_SET_BONUS`] or
    /// [`MOST_LIKELY_PATH_BONUS`] per crown jewel in `cuts`, plus
    /// [`CROWN_JEWEL_VALUE`] (or the configured value) times
    /// `success_removed`.
    pub path_bonus: f64,
    /// How much the action lowers the attacker's success, the sum over
    /// crown jewels of the most likely path's probability, given the
    /// actions ranked above it. It may exceed 1. 0 without attack paths.
    pub success_removed: f64,
    /// `finding_risk + path_bonus`.
    pub risk_removed: f64,
    /// [`ActionKind::effort`] of the action.
    pub effort: f64,
    /// `risk_removed / effort`: what the ranking sorts by.
    pub priority: f64,
    /// The reason for the action's rank, in one sentence.
    pub explanation: String,
}

/// A component upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// The component name as the first closed finding's report gives it.
    pub component: String,
    /// The purl type when the report gives a purl, else the ecosystem as
    /// the report names it.
    pub ecosystem: Option<String>,
    /// The installed versions seen, sorted.
    pub installed: Vec<String>,
    /// The highest of the versions that the closed findings need, so that
    /// it fixes each finding that names a fixed version. `None` when no
    /// finding names one.
    pub target_version: Option<String>,
    /// `semver` when every fixed version parsed as SemVer, so the target
    /// was chosen in SemVer order. `text` when one did not: the target is
    /// then the highest in text order and needs a check by a person.
    pub version_order: Option<&'static str>,
    /// Closed findings whose report names no fixed version.
    pub without_fixed_version: usize,
}

/// A configuration change from the attack graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigurationChange {
    pub asset: String,
    pub change: String,
}

/// A finding that an action closes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClosedFinding {
    pub fingerprint: String,
    pub title: String,
    pub asset: String,
    pub score: f64,
    pub tier: Tier,
    /// Set by [`crate::owners::assign_owners`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Ownership>,
}

/// A crown jewel whose attack paths an action cuts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PathCut {
    pub crown_jewel: String,
    pub role: PathRole,
}

/// Plans the remediation actions of a run as `ctem actions` lists them:
/// [`plan`] with the [`path_fixes`] of `paths`, at the default
/// [`CROWN_JEWEL_VALUE`].
pub fn rank(findings: &[ScoredFinding], assets: &[Asset], paths: Option<&AttackPaths>) -> Vec<Action> {
    rank_with_value(findings, assets, paths, CROWN_JEWEL_VALUE)
}

/// Plans the remediation actions as [`rank`] does, with `crown_jewel_value`
/// risk points for each unit of attacker success an action removes.
pub fn rank_with_value(
    findings: &[ScoredFinding],
    assets: &[Asset],
    paths: Option<&AttackPaths>,
    crown_jewel_value: f64,
) -> Vec<Action> {
    let fixes = paths.map(path_fixes).unwrap_or_default();
    let actions = plan(findings, assets, &fixes);
    let Some(paths) = paths else {
        return actions;
    };
    let mut actions = marginal::rerank(actions, paths, crown_jewel_value);
    number(&mut actions);
    actions
}

/// Groups the open findings into actions, adds the configuration changes
/// of `path_fixes` and ranks them all by priority, highest first. Ties go
/// to the action that removes more risk, then to the lower key.
///
/// `assets` supplies the owners. Findings that the report marks not
/// affected, fixed, suppressed or false positive close no action, and
/// neither do findings whose risk a policy accepted (`accept`).
pub fn plan(findings: &[ScoredFinding], assets: &[Asset], path_fixes: &[PathFix]) -> Vec<Action> {
    let owners: HashMap<&str, &str> = assets
        .iter()
        .filter_map(|asset| Some((asset.key.as_str(), asset.owner.as_deref()?)))
        .collect();

    let mut groups: BTreeMap<(ActionKind, String), Vec<&ScoredFinding>> = BTreeMap::new();
    let to_fix =
        |scored: &&ScoredFinding| is_open(&scored.finding) && crate::policy::accepted_by_policy(&scored.risk).is_none();
    for scored in findings.iter().filter(to_fix) {
        let (kind, key) = group_of(&scored.finding);
        groups.entry((kind, key)).or_default().push(scored);
    }

    let mut actions: Vec<Action> = groups
        .into_iter()
        .map(|((kind, key), members)| finding_action(kind, key, &members, path_fixes))
        .collect();
    actions.extend(configuration_actions(path_fixes));
    for action in &mut actions {
        action.owners = action
            .assets
            .iter()
            .filter_map(|asset| owners.get(asset.as_str()))
            .map(|owner| owner.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    }

    actions.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then(b.risk_removed.total_cmp(&a.risk_removed))
            .then_with(|| a.key.cmp(&b.key))
    });
    number(&mut actions);
    actions
}

/// Sets the rank and the explanation of each action from its position.
fn number(actions: &mut [Action]) {
    let count = actions.len();
    for (index, action) in actions.iter_mut().enumerate() {
        action.rank = index + 1;
        action.explanation = explain(action, count);
    }
}

/// Chooses the action kind and group key of a finding.
fn group_of(finding: &Finding) -> (ActionKind, String) {
    let asset = finding.asset.as_str();
    match finding.kind {
        FindingKind::Vulnerability => match &finding.component {
            Some(component) => (ActionKind::Upgrade, format!("upgrade:{}", package_identity(component))),
            None => (
                ActionKind::Patch,
                format!("patch:{asset}:{}:{}", finding.tool, finding.rule_id),
            ),
        },
        FindingKind::Secret => match &finding.secret {
            Some(secret) => (ActionKind::RotateSecret, format!("rotate:{}", secret.sha256)),
            // NOTE: a secret finding without a hash cannot be matched to
            // the same secret elsewhere, so it is rotated on its own.
            None => (ActionKind::RotateSecret, format!("rotate:{asset}:{}", finding.rule_id)),
        },
        FindingKind::Misconfiguration => (
            ActionKind::FixMisconfiguration,
            format!("configure:{asset}:{}", finding.rule_id),
        ),
        FindingKind::ExposedService => (
            ActionKind::RestrictService,
            format!("restrict:{asset}:{}", finding.rule_id),
        ),
        FindingKind::CodeWeakness | FindingKind::WebWeakness | FindingKind::License => {
            (ActionKind::FixWeakness, format!("fix:{asset}:{}", finding.rule_id))
        }
    }
}

/// Names a package without its version, in lowercase: the purl type,
/// namespace and name when the report gives a purl, so that scanners that
/// call the ecosystem `jar`, `java-archive` or `maven` and the package
/// `group:artifact` or `artifact` agree. Else the ecosystem and name.
fn package_identity(component: &Component) -> String {
    let identity = match &component.purl {
        Some(purl) => match purl.namespace() {
            Some(namespace) => format!("pkg:{}/{namespace}/{}", purl.ty(), purl.name()),
            None => format!("pkg:{}/{}", purl.ty(), purl.name()),
        },
        // NOTE: a product that a network scanner names without ecosystem,
        // such as Apache httpd, gets an empty segment (`upgrade::apache
        // httpd`). Tickets follow an action by its key from run to run, so
        // the form stays.
        None => format!("{}:{}", component.ecosystem.as_deref().unwrap_or(""), component.name),
    };
    identity.to_ascii_lowercase()
}

fn finding_action(kind: ActionKind, key: String, members: &[&ScoredFinding], path_fixes: &[PathFix]) -> Action {
    let mut closed: Vec<ClosedFinding> = members
        .iter()
        .map(|scored| ClosedFinding {
            fingerprint: scored.fingerprint.as_str().to_string(),
            title: scored.finding.title.clone(),
            asset: scored.finding.asset.to_string(),
            score: scored.risk.score,
            tier: scored.risk.tier,
            owner: None,
        })
        .collect();
    closed.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    closed.dedup_by(|a, b| a.fingerprint == b.fingerprint);

    let assets: Vec<String> = closed
        .iter()
        .map(|finding| finding.asset.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cuts = cuts_of(path_fixes, |fix| match fix {
        FixRef::Finding { fingerprint } => closed.iter().any(|finding| &finding.fingerprint == fingerprint),
        FixRef::Configuration { .. } => false,
    });
    let upgrade = (kind == ActionKind::Upgrade).then(|| upgrade_of(members));
    let first = &members[0].finding;
    let summary = match (&upgrade, kind) {
        (Some(upgrade), _) => {
            let target = match &upgrade.target_version {
                Some(version) => format!(" to {version}"),
                None => " to a fixed version".to_string(),
            };
            format!("Upgrade {}{target} on {} asset(s)", upgrade.component, assets.len())
        }
        (None, ActionKind::Patch) => format!("Patch {} on {}", first.title, first.asset),
        (None, ActionKind::RotateSecret) => {
            let masked = first.secret.as_ref().map_or("", |secret| secret.masked.as_str());
            format!("Rotate the {} secret {masked}", first.rule_id)
                .trim_end()
                .to_string()
        }
        (None, ActionKind::FixMisconfiguration) => format!("Fix {} on {}", first.title, first.asset),
        (None, ActionKind::RestrictService) => format!("Close or restrict {} on {}", first.title, first.asset),
        (None, _) => format!("Fix {} ({}) on {}", first.title, first.rule_id, first.asset),
    };

    let finding_risk = closed.iter().map(|finding| finding.score).sum();
    measured(Action {
        rank: 0,
        kind,
        key,
        summary,
        upgrade,
        change: None,
        findings: closed,
        effort: kind.effort(assets.len()),
        assets,
        owners: Vec::new(),
        owner: None,
        path_bonus: cuts.iter().map(|cut| cut.role.bonus()).sum(),
        success_removed: 0.0,
        cuts,
        finding_risk,
        risk_removed: 0.0,
        priority: 0.0,
        explanation: String::new(),
    })
}

/// Builds one action per configuration change of `path_fixes`.
fn configuration_actions(path_fixes: &[PathFix]) -> Vec<Action> {
    let changes: BTreeSet<(String, String)> = path_fixes
        .iter()
        .filter_map(|path_fix| match &path_fix.fix {
            FixRef::Configuration { asset, change } => Some((asset.to_string(), change.clone())),
            FixRef::Finding { .. } => None,
        })
        .collect();
    changes
        .into_iter()
        .map(|(asset, change)| {
            let cuts = cuts_of(path_fixes, |fix| {
                matches!(fix, FixRef::Configuration { asset: a, change: c } if a.as_str() == asset && *c == change)
            });
            measured(Action {
                rank: 0,
                kind: ActionKind::ChangeConfiguration,
                key: format!("change:{asset}:{change}"),
                summary: format!("{} on {asset}", capitalized(&change)),
                upgrade: None,
                effort: ActionKind::ChangeConfiguration.effort(1),
                assets: vec![asset.clone()],
                change: Some(ConfigurationChange { asset, change }),
                findings: Vec::new(),
                owners: Vec::new(),
                owner: None,
                path_bonus: cuts.iter().map(|cut| cut.role.bonus()).sum(),
                success_removed: 0.0,
                cuts,
                finding_risk: 0.0,
                risk_removed: 0.0,
                priority: 0.0,
                explanation: String::new(),
            })
        })
        .collect()
}

/// Lists the crown jewels whose fixes `matches` selects, each once with
/// its strongest role.
fn cuts_of(path_fixes: &[PathFix], matches: impl Fn(&FixRef) -> bool) -> Vec<PathCut> {
    let mut strongest: BTreeMap<&str, PathRole> = BTreeMap::new();
    for path_fix in path_fixes.iter().filter(|path_fix| matches(&path_fix.fix)) {
        let role = strongest.entry(&path_fix.crown_jewel).or_insert(path_fix.role);
        *role = (*role).min(path_fix.role);
    }
    strongest
        .into_iter()
        .map(|(crown_jewel, role)| PathCut {
            crown_jewel: crown_jewel.to_string(),
            role,
        })
        .collect()
}

fn measured(mut action: Action) -> Action {
    action.risk_removed = action.finding_risk + action.path_bonus;
    action.priority = action.risk_removed / action.effort;
    action
}

/// Chooses the target version of an upgrade. Each finding needs the lowest of its
/// fixed versions above its installed version (a backport to an older
/// branch does not count), and the target is the highest of those needs,
/// so that it fixes them all.
fn upgrade_of(members: &[&ScoredFinding]) -> Upgrade {
    let component = members[0].finding.component.clone().unwrap_or_default();
    let installed: BTreeSet<String> = members
        .iter()
        .filter_map(|scored| scored.finding.component.as_ref()?.version.clone())
        .collect();
    let with_fix: Vec<&Finding> = members
        .iter()
        .map(|scored| &scored.finding)
        .filter(|finding| !finding.fix.fixed_versions.is_empty())
        .collect();
    let without_fixed_version = members.len() - with_fix.len();

    let fixed = || with_fix.iter().flat_map(|finding| finding.fix.fixed_versions.iter());
    let order = if fixed().all(|version| parse_version(version).is_some()) {
        VersionOrder::Semver
    } else if fixed().all(|version| range::is_generic_version(version)) {
        VersionOrder::Generic
    } else {
        VersionOrder::Text
    };
    let target_version = with_fix
        .iter()
        .filter_map(|finding| need(finding, order))
        .max_by(|a, b| order.compare(a, b).unwrap_or(Ordering::Equal))
        .map(str::to_string);
    Upgrade {
        ecosystem: match &component.purl {
            Some(purl) => Some(purl.ty().to_string()),
            None => component.ecosystem,
        },
        component: component.name,
        installed: installed.into_iter().collect(),
        version_order: target_version.as_ref().map(|_| order.name()),
        target_version,
        without_fixed_version,
    }
}

/// The order in which the fixed versions of an upgrade are compared: the
/// most exact order that parses every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionOrder {
    /// SemVer, after [`parse_version`]'s padding.
    Semver,
    /// The generic order of dotted numbers and qualifiers of
    /// [`range`](crate::vex::range), which orders Maven's `2.9.10.8`
    /// below `2.10.1`.
    Generic,
    /// Text order, where `10.0` comes before `9.0`: the target needs a
    /// check by a person.
    Text,
}

impl VersionOrder {
    fn name(self) -> &'static str {
        match self {
            VersionOrder::Semver => "semver",
            VersionOrder::Generic => "generic",
            VersionOrder::Text => "text",
        }
    }

    /// Compares two versions, or returns `None` when this order cannot
    /// parse one of them.
    fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        match self {
            VersionOrder::Semver => Some(parse_version(a)?.cmp(&parse_version(b)?)),
            VersionOrder::Generic => range::compare_generic(a, b),
            VersionOrder::Text => Some(a.cmp(b)),
        }
    }
}

/// The lowest fixed version of a finding above its installed version, or
/// the lowest of all when the installed version is unknown, `order`
/// cannot parse it, or no fixed version is above it.
fn need(finding: &Finding, order: VersionOrder) -> Option<&str> {
    let installed = finding
        .component
        .as_ref()
        .and_then(|component| component.version.as_deref());
    let fixed = || finding.fix.fixed_versions.iter().map(String::as_str);
    let by_order = |a: &&str, b: &&str| order.compare(a, b).unwrap_or(Ordering::Equal);
    fixed()
        .filter(|version| {
            installed.is_none_or(|installed| order.compare(version, installed).is_none_or(Ordering::is_gt))
        })
        .min_by(by_order)
        .or_else(|| fixed().min_by(by_order))
}

/// Parses a version as SemVer after removing a leading `v`, padding `1.2`
/// to `1.2.0` and `1` to `1.0.0`.
fn parse_version(text: &str) -> Option<semver::Version> {
    let text = text.trim().trim_start_matches('v');
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    let parts = text.split('.').count();
    if parts < 3
        && text
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    {
        let padded = format!("{text}{}", ".0".repeat(3 - parts));
        return semver::Version::parse(&padded).ok();
    }
    None
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Writes why an action ranks where it does.
fn explain(action: &Action, count: usize) -> String {
    let mut reasons = Vec::new();
    if !action.findings.is_empty() {
        let top = action.findings[0].score;
        reasons.push(format!(
            "closes {} finding(s) worth {:.1} risk points (highest {top:.1})",
            action.findings.len(),
            action.finding_risk
        ));
    }
    let set: Vec<&str> = jewels_with(action, PathRole::FixSet);
    if !set.is_empty() {
        reasons.push(format!(
            "is in the minimal fix set of {} (+{:.0})",
            set.join(", "),
            FIX_SET_BONUS * set.len() as f64
        ));
    }
    let likely: Vec<&str> = jewels_with(action, PathRole::MostLikelyPath);
    if !likely.is_empty() {
        reasons.push(format!(
            "cuts the most likely path to {} (+{:.0})",
            likely.join(", "),
            MOST_LIKELY_PATH_BONUS * likely.len() as f64
        ));
    }
    if action.success_removed > 0.0 {
        let points = action.path_bonus - action.cuts.iter().map(|cut| cut.role.bonus()).sum::<f64>();
        // With a crown jewel value of 0 the cut is worth no points.
        let worth = if points.round() > 0.0 {
            format!(" (+{points:.0})")
        } else {
            String::new()
        };
        reasons.push(format!(
            "lowers the summed probability of the most likely path to each crown jewel by {:.3} \
             after the actions ranked above it{worth}",
            action.success_removed,
        ));
    }
    format!(
        "Ranks {} of {count} because it {}, for an effort of {:.1} ({}): {:.1} risk points per unit of effort.",
        action.rank,
        joined(&reasons),
        action.effort,
        action.kind.as_str(),
        action.priority
    )
}

/// Joins phrases as "a, b and c".
fn joined(phrases: &[String]) -> String {
    match phrases {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn jewels_with(action: &Action, role: PathRole) -> Vec<&str> {
    action
        .cuts
        .iter()
        .filter(|cut| cut.role == role)
        .map(|cut| cut.crown_jewel.as_str())
        .collect()
}

#[cfg(test)]
mod tests;
