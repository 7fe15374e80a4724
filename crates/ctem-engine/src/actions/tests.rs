use ctem_model::{AssetKey, AssetKind, Component, MaskedSecret, RiskAssessment, Severity, SourceStatus};

use super::*;

fn scored(finding: Finding, score: f64) -> ScoredFinding {
    ScoredFinding {
        fingerprint: finding.fingerprint(),
        finding,
        risk: RiskAssessment {
            score,
            tier: Tier::P2,
            likelihood: 0.5,
            impact: 0.5,
            factors: Vec::new(),
            decision: None,
            deadline: None,
        },
        published: None,
    }
}

fn image(name: &str) -> AssetKey {
    AssetKey::new(AssetKind::ContainerImage, name)
}

fn host(address: &str) -> AssetKey {
    AssetKey::new(AssetKind::Host, address)
}

fn vulnerability(cve: &str, asset: AssetKey, component: Option<(&str, &str, &str)>, fixed: &[&str]) -> Finding {
    let mut finding = Finding::new("trivy", cve, FindingKind::Vulnerability, cve, Severity::High, asset);
    finding.component = component.map(|(name, version, ecosystem)| Component {
        name: name.into(),
        version: Some(version.into()),
        purl: None,
        ecosystem: Some(ecosystem.into()),
    });
    finding.fix.fixed_versions = fixed.iter().map(ToString::to_string).collect();
    finding
}

fn secret(asset: AssetKey, path: &str) -> Finding {
    let mut finding = Finding::new(
        "gitleaks",
        "aws-access-token",
        FindingKind::Secret,
        "AWS key",
        Severity::High,
        asset,
    );
    finding.secret = Some(MaskedSecret::new("AKIAIOSFODNN7EXAMPLE"));
    finding.location.path = Some(path.into());
    finding
}

fn misconfiguration(asset: AssetKey, line: u32) -> Finding {
    let mut finding = Finding::new(
        "checkov",
        "CKV_AWS_20",
        FindingKind::Misconfiguration,
        "S3 bucket is public",
        Severity::Medium,
        asset,
    );
    finding.location.path = Some("main.tf".into());
    finding.location.start_line = Some(line);
    finding
}

const LOG4J: Option<(&str, &str, &str)> = Some(("log4j-core", "2.14.1", "maven"));

/// The run of the ranking test: a log4j-core upgrade over two images
/// (scores 90 + 80 + 60), a Nessus patch (70) that cuts paths, one secret
/// in two repositories (40 + 40), one misconfiguration rule twice on one
/// asset (30 + 20), a finding the report marks fixed, and a configuration
/// change in a minimal fix set.
fn run() -> (Vec<ScoredFinding>, Vec<Asset>, Vec<PathFix>) {
    let shop = image("ghcr.io/acme/shop");
    let billing = image("ghcr.io/acme/billing");
    let repo = AssetKey::new(AssetKind::Repository, "github.com/acme/shop");
    let bucket = AssetKey::new(AssetKind::DataStore, "exports");
    let mut fixed = vulnerability("CVE-2020-0001", shop.clone(), Some(("zlib", "1.2", "deb")), &["1.3"]);
    fixed.source_status = Some(SourceStatus::Fixed);
    let mut patch = vulnerability("177412", host("10.20.0.5"), None, &[]);
    patch.tool = "nessus".into();
    let patch = scored(patch, 70.0);

    let findings = vec![
        scored(vulnerability("CVE-2021-44228", shop.clone(), LOG4J, &["2.15.0"]), 90.0),
        scored(
            vulnerability("CVE-2021-45046", shop.clone(), LOG4J, &["2.16.0", "2.12.2"]),
            80.0,
        ),
        scored(
            vulnerability("CVE-2021-44832", billing.clone(), LOG4J, &["2.17.1"]),
            60.0,
        ),
        patch.clone(),
        scored(secret(repo.clone(), "config/prod.env"), 40.0),
        scored(secret(shop.clone(), "/app/.env"), 40.0),
        scored(misconfiguration(bucket.clone(), 10), 30.0),
        scored(misconfiguration(bucket.clone(), 42), 20.0),
        scored(fixed, 99.0),
    ];

    let mut shop_asset = Asset::new(AssetKind::ContainerImage, "ghcr.io/acme/shop", "shop");
    shop_asset.owner = Some("web-team".into());
    let mut billing_asset = Asset::new(AssetKind::ContainerImage, "ghcr.io/acme/billing", "billing");
    billing_asset.owner = Some("payments-team".into());
    let patch_fix = FixRef::Finding {
        fingerprint: patch.fingerprint.as_str().to_string(),
    };
    let path_fixes = vec![
        PathFix {
            fix: FixRef::Configuration {
                asset: AssetKey::new(AssetKind::CloudResource, "sg-1"),
                change: "remove the 0.0.0.0/0 rule on port 22".into(),
            },
            crown_jewel: "Payments database".into(),
            role: PathRole::FixSet,
        },
        PathFix {
            fix: patch_fix.clone(),
            crown_jewel: "Payments database".into(),
            role: PathRole::FixSet,
        },
        PathFix {
            fix: patch_fix,
            crown_jewel: "Shop front".into(),
            role: PathRole::MostLikelyPath,
        },
    ];
    (findings, vec![shop_asset, billing_asset], path_fixes)
}

#[test]
fn plan_ranks_by_risk_per_effort() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);

    // Priorities by hand: rotate 80/1 = 80; upgrade 230/(2+1) = 76.67;
    // patch (70+50+25)/2 = 72.5; change 50/1 = 50 and misconfiguration
    // 50/1 = 50, tied on priority and risk, so by key ("change" < "configure").
    let keys: Vec<&str> = actions.iter().map(|action| action.kind.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rotate_secret",
            "upgrade",
            "patch",
            "change_configuration",
            "fix_misconfiguration"
        ]
    );
    let priorities: Vec<f64> = actions
        .iter()
        .map(|action| (action.priority * 100.0).round() / 100.0)
        .collect();
    assert_eq!(priorities, [80.0, 76.67, 72.5, 50.0, 50.0]);
    let ranks: Vec<usize> = actions.iter().map(|action| action.rank).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5]);
}

#[test]
fn upgrade_groups_component_across_assets() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);
    let upgrade = actions
        .iter()
        .find(|action| action.kind == ActionKind::Upgrade)
        .unwrap();

    assert_eq!(upgrade.key, "upgrade:maven:log4j-core");
    assert_eq!(target_ecosystem(upgrade), Some("maven"));
    assert_eq!(upgrade.findings.len(), 3);
    assert_eq!(upgrade.finding_risk, 230.0);
    assert_eq!(upgrade.effort, 3.0);
    assert_eq!(
        upgrade.assets,
        [
            "container_image:ghcr.io/acme/billing",
            "container_image:ghcr.io/acme/shop"
        ]
    );
    assert_eq!(upgrade.owners, ["payments-team", "web-team"]);
    let titles: Vec<&str> = upgrade.findings.iter().map(|finding| finding.title.as_str()).collect();
    assert_eq!(titles, ["CVE-2021-44228", "CVE-2021-45046", "CVE-2021-44832"]);
    let target = upgrade.upgrade.as_ref().unwrap();
    // 2.12.2 is a backport below the installed 2.14.1, so CVE-2021-45046
    // needs 2.16.0, and CVE-2021-44832 needs 2.17.1: the highest need.
    assert_eq!(target.target_version.as_deref(), Some("2.17.1"));
    assert_eq!(target.version_order, Some("semver"));
    assert_eq!(target.installed, ["2.14.1"]);
    assert_eq!(target.without_fixed_version, 0);
}

#[test]
fn secret_grouped_by_hash() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);
    let rotate = &actions[0];

    assert_eq!(rotate.kind, ActionKind::RotateSecret);
    assert_eq!(rotate.findings.len(), 2);
    assert_eq!(rotate.assets.len(), 2);
    assert_eq!(rotate.owners, ["web-team"]);
    assert_eq!(rotate.summary, "Rotate the aws-access-token secret AKIA********");
}

#[test]
fn patch_collects_path_bonus() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);
    let patch = actions.iter().find(|action| action.kind == ActionKind::Patch).unwrap();

    assert_eq!(patch.finding_risk, 70.0);
    assert_eq!(patch.path_bonus, FIX_SET_BONUS + MOST_LIKELY_PATH_BONUS);
    assert_eq!(
        patch.cuts,
        [
            PathCut {
                crown_jewel: "Payments database".into(),
                role: PathRole::FixSet
            },
            PathCut {
                crown_jewel: "Shop front".into(),
                role: PathRole::MostLikelyPath
            },
        ]
    );
    assert!(patch.owners.is_empty());
    assert!(
        patch
            .explanation
            .starts_with("Ranks 3 of 5 because it closes 1 finding(s)"),
        "{}",
        patch.explanation
    );
    assert!(patch.explanation.contains("minimal fix set of Payments database (+50)"));
    assert!(patch.explanation.contains("most likely path to Shop front (+25)"));
}

#[test]
fn configuration_change_is_own_action() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);
    let change = &actions[3];

    assert_eq!(change.kind, ActionKind::ChangeConfiguration);
    assert!(change.findings.is_empty());
    assert_eq!(change.risk_removed, FIX_SET_BONUS);
    assert_eq!(
        change.summary,
        "Remove the 0.0.0.0/0 rule on port 22 on cloud_resource:sg-1"
    );
}

#[test]
fn misconfiguration_grouped_by_rule_and_asset() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);
    let fix = &actions[4];

    assert_eq!(fix.kind, ActionKind::FixMisconfiguration);
    assert_eq!(fix.key, "configure:data_store:exports:CKV_AWS_20");
    assert_eq!(fix.finding_risk, 50.0);
}

#[test]
fn fixed_finding_closes_nothing() {
    let (findings, assets, path_fixes) = run();

    let actions = plan(&findings, &assets, &path_fixes);

    assert!(actions.iter().all(|action| !action.key.contains("zlib")));
    let closed: usize = actions.iter().map(|action| action.findings.len()).sum();
    assert_eq!(closed, 8);
}

#[test]
fn finding_accepted_by_policy_closes_nothing() {
    let (mut findings, assets, path_fixes) = run();
    let before = plan(&findings, &assets, &path_fixes);
    let accepted = findings
        .iter_mut()
        .find(|scored| scored.finding.kind == FindingKind::Secret)
        .expect("the run has a secret");
    let fingerprint = accepted.fingerprint.clone();
    let decision = crate::policy::Decision {
        accept: vec!["test keys are fake".into()],
        ..Default::default()
    };
    decision.apply(&mut accepted.risk, "policy/org.rego");

    let after = plan(&findings, &assets, &path_fixes);
    let closes = |actions: &[Action]| {
        actions.iter().any(|action| {
            action
                .findings
                .iter()
                .any(|closed| closed.fingerprint == fingerprint.as_str())
        })
    };
    assert!(closes(&before));
    assert!(!closes(&after));
}

#[test]
fn upgrade_effort_grows_with_assets() {
    assert_eq!(ActionKind::Upgrade.effort(1), 2.0);
    assert_eq!(ActionKind::Upgrade.effort(4), 5.0);
    assert_eq!(ActionKind::Patch.effort(4), 2.0);
}

/// Debian versions are not SemVer, so the target is chosen in the generic
/// order of dotted numbers and qualifiers.
#[test]
fn debian_versions_use_generic_order() {
    let openssl = Some(("openssl", "1.1.1f-1", "deb"));
    let findings = vec![
        scored(
            vulnerability("CVE-2022-0778", host("10.0.0.1"), openssl, &["1.1.1n-0+deb11u1"]),
            50.0,
        ),
        scored(
            vulnerability("CVE-2021-3711", host("10.0.0.1"), openssl, &["1.1.1k-1"]),
            50.0,
        ),
        scored(vulnerability("CVE-2021-0000", host("10.0.0.1"), openssl, &[]), 10.0),
    ];

    let actions = plan(&findings, &[], &[]);

    assert_eq!(actions.len(), 1);
    let upgrade = actions[0].upgrade.as_ref().unwrap();
    assert_eq!(upgrade.target_version.as_deref(), Some("1.1.1n-0+deb11u1"));
    assert_eq!(upgrade.version_order, Some("generic"));
    assert_eq!(upgrade.without_fixed_version, 1);
}

/// A four-part Maven version is not SemVer. In text order `2.9.10.8`
/// sorts above `2.10.1`, so the image on 2.10.0 would go back to a version
/// that leaves its finding open. The generic order takes 2.10.1.
#[test]
fn four_part_versions_compare_numerically() {
    let databind = |version| Some(("com.fasterxml.jackson.core:jackson-databind", version, "maven"));
    let findings = vec![
        scored(
            vulnerability("CVE-2020-1111", image("img0"), databind("2.9.10"), &["2.9.10.8"]),
            50.0,
        ),
        scored(
            vulnerability("CVE-2020-2222", image("img1"), databind("2.10.0"), &["2.10.1"]),
            50.0,
        ),
    ];

    let actions = plan(&findings, &[], &[]);

    assert_eq!(actions.len(), 1);
    let upgrade = actions[0].upgrade.as_ref().unwrap();
    assert_eq!(upgrade.target_version.as_deref(), Some("2.10.1"));
    assert_eq!(upgrade.version_order, Some("generic"));
}

/// A fixed version that no order parses leaves text order, marked for a
/// check by a person.
#[test]
fn unreadable_versions_fall_back_to_text() {
    let tool = Some(("tool", "build-7", "generic"));
    let findings = vec![
        scored(
            vulnerability("CVE-2021-0001", host("10.0.0.1"), tool, &["build-9"]),
            50.0,
        ),
        scored(
            vulnerability("CVE-2021-0002", host("10.0.0.1"), tool, &["build-10"]),
            50.0,
        ),
    ];

    let actions = plan(&findings, &[], &[]);

    let upgrade = actions[0].upgrade.as_ref().unwrap();
    assert_eq!(upgrade.version_order, Some("text"));
    assert_eq!(upgrade.target_version.as_deref(), Some("build-9"));
}

#[test]
fn component_without_fix_has_no_target() {
    let httpd = Some(("Apache httpd", "2.4.49", ""));
    let findings = vec![
        scored(vulnerability("CVE-2021-41773", host("203.0.113.10"), httpd, &[]), 80.0),
        scored(vulnerability("CVE-2021-34798", host("203.0.113.10"), httpd, &[]), 40.0),
    ];

    let actions = plan(&findings, &[], &[]);

    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0].summary,
        "Upgrade Apache httpd to a fixed version on 1 asset(s)"
    );
    let upgrade = actions[0].upgrade.as_ref().unwrap();
    assert_eq!(upgrade.target_version, None);
    assert_eq!(upgrade.version_order, None);
    assert_eq!(upgrade.without_fixed_version, 2);
}

#[test]
fn version_parse_pads_and_strips() {
    let cases = [
        ("2.17.1", Some("2.17.1")),
        ("v1.2", Some("1.2.0")),
        ("3", Some("3.0.0")),
        ("1.1.1n-0+deb11u1", None),
        ("1..2", None),
    ];
    for (text, expected) in cases {
        let parsed = parse_version(text).map(|version| version.to_string());
        assert_eq!(parsed.as_deref(), expected, "{text}");
    }
}

fn target_ecosystem(action: &Action) -> Option<&str> {
    action.upgrade.as_ref()?.ecosystem.as_deref()
}

#[test]
fn upgrade_groups_by_purl() {
    let mut trivy = vulnerability(
        "CVE-2021-44228",
        image("shop"),
        Some(("org.apache.logging.log4j:log4j-core", "2.14.1", "jar")),
        &["2.15.0"],
    );
    let mut grype = vulnerability(
        "CVE-2021-45046",
        image("billing"),
        Some(("log4j-core", "2.14.1", "java-archive")),
        &["2.16.0"],
    );
    let purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
    trivy.component.as_mut().unwrap().purl = Some(purl.parse().unwrap());
    grype.component.as_mut().unwrap().purl = Some(purl.parse().unwrap());
    let findings = vec![scored(trivy, 90.0), scored(grype, 80.0)];

    let actions = plan(&findings, &[], &[]);

    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].key, "upgrade:pkg:maven/org.apache.logging.log4j/log4j-core");
    assert_eq!(actions[0].assets.len(), 2);
    assert_eq!(target_ecosystem(&actions[0]), Some("maven"));
    let upgrade = actions[0].upgrade.as_ref().unwrap();
    assert_eq!(upgrade.target_version.as_deref(), Some("2.16.0"));
}

/// Returns the findings of the sample attack paths: the exploited Apache
/// of the web server (10 points), whose fix removes the path, and a
/// misconfiguration elsewhere (90 points).
fn sample_path_findings() -> Vec<ScoredFinding> {
    let mut exploited = scored(
        Finding::new(
            "nmap",
            "exploit-www",
            FindingKind::Vulnerability,
            "Apache 2.4.49 path traversal",
            Severity::High,
            host("203.0.113.10"),
        ),
        10.0,
    );
    exploited.fingerprint = ctem_model::Fingerprint::from_stored("v1:nmap:exploit-www".to_string());
    vec![exploited, scored(misconfiguration(host("10.0.0.9"), 1), 90.0)]
}

/// On the sample attack paths (one path of probability 0.45, removed by
/// closing the port or by fixing the exploited finding), the port change
/// scores (25 + 10000 * 0.45) / 1 = 4525 and the exploited finding, a
/// patch, (10 + 50 + 10000 * 0.45) / 2 = 2280, both above the
/// misconfiguration's 90. Once the port is closed, nothing is left to cut, so the
/// misconfiguration (90) ranks above the patch (30).
#[test]
fn rank_greedy_by_marginal_success() {
    let paths = crate::paths::tests::sample_paths();
    let findings = sample_path_findings();

    let actions = rank(&findings, &[], Some(&paths));

    let keys: Vec<&str> = actions.iter().map(|action| action.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "change:host:203.0.113.10:close port 443/tcp to the internet",
            "configure:host:10.0.0.9:CKV_AWS_20",
            "patch:host:203.0.113.10:nmap:exploit-www",
        ]
    );
    assert!((actions[0].success_removed - 0.45).abs() < 1e-6);
    assert!((actions[0].priority - 4525.0).abs() < 1e-3);
    assert_eq!(actions[1].success_removed, 0.0);
    assert_eq!(actions[2].success_removed, 0.0);
    assert!((actions[2].priority - 30.0).abs() < 1e-9);
    assert_eq!(actions.iter().map(|action| action.rank).collect::<Vec<_>>(), [1, 2, 3]);
}

/// With no value for attacker success, the same actions rank by their
/// findings and fixed bonuses alone: the misconfiguration (90 per unit of
/// effort) before the patch ((10 + 50) / 2 = 30) and the port change (25).
#[test]
fn rank_without_value_follows_finding_risk() {
    let paths = crate::paths::tests::sample_paths();
    let findings = sample_path_findings();

    let actions = rank_with_value(&findings, &[], Some(&paths), 0.0);

    let keys: Vec<&str> = actions.iter().map(|action| action.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "configure:host:10.0.0.9:CKV_AWS_20",
            "patch:host:203.0.113.10:nmap:exploit-www",
            "change:host:203.0.113.10:close port 443/tcp to the internet",
        ]
    );
    assert!((actions[0].priority - 90.0).abs() < 1e-9);
    // The patch still removes the path, but earns nothing for it.
    assert!((actions[1].success_removed - 0.45).abs() < 1e-6);
    assert!((actions[1].priority - 30.0).abs() < 1e-9);
}

/// On two parallel paths of probability 0.9 (see
/// `paths::tests::parallel_paths`), closing one port removes nothing
/// alone, so it scores only its bonus: 50 for the minimal fix set and, for
/// the port on the most likely path, 25. A misconfiguration elsewhere
/// scores 100. One greedy rank at a time would take the misconfiguration
/// first. The lookahead finds that the two ports together remove 0.9,
/// (75 + 50 + 10000 * 0.9) / 2 = 4562.5 per unit of effort, against 175 / 2
/// for the misconfiguration and a port, so a port goes first and its
/// partner second, with the 0.9 credited to the second.
#[test]
fn rank_looks_ahead_across_parallel_paths() {
    let paths = crate::paths::tests::parallel_paths();
    let findings = vec![scored(misconfiguration(host("10.0.0.9"), 1), 100.0)];

    let actions = rank(&findings, &[], Some(&paths));

    let keys: Vec<&str> = actions.iter().map(|action| action.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "change:host:203.0.113.10:close port 443/tcp to the internet",
            "change:host:203.0.113.11:close port 8443/tcp to the internet",
            "configure:host:10.0.0.9:CKV_AWS_20",
        ]
    );
    assert_eq!(actions[0].success_removed, 0.0);
    assert!((actions[1].success_removed - 0.9).abs() < 1e-6);
    assert_eq!(actions[2].success_removed, 0.0);
}

/// The payments database has three parallel paths of 0.9 (see
/// `paths::tests::two_jewels_parallel_paths`), so each of its ports
/// removes nothing alone. Each port of the HR database removes its own
/// path, 0.1 in turn. Growing a group by the best action overall adds the
/// HR ports, each worth about 1,000 points. Grown on the payments
/// database alone, the three payments ports remove 0.9 together, (3 * 75 +
/// 10000 * 0.9) / 3 = 3075 per unit of effort, so they go first, and the
/// third is credited with the 0.9.
#[test]
fn rank_closes_parallel_paths_first() {
    let paths = crate::paths::tests::two_jewels_parallel_paths();

    let actions = rank(&[], &[], Some(&paths));

    let keys: Vec<&str> = actions.iter().map(|action| action.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "change:host:203.0.113.21:close port 8001/tcp to the internet",
            "change:host:203.0.113.22:close port 8002/tcp to the internet",
            "change:host:203.0.113.23:close port 8003/tcp to the internet",
            "change:host:198.51.100.21:close port 9001/tcp to the internet",
            "change:host:198.51.100.22:close port 9002/tcp to the internet",
            "change:host:198.51.100.23:close port 9003/tcp to the internet",
        ]
    );
    assert_eq!(actions[0].success_removed, 0.0);
    assert_eq!(actions[1].success_removed, 0.0);
    assert!((actions[2].success_removed - 0.9).abs() < 1e-6);
    for action in &actions[3..] {
        assert!((action.success_removed - 0.1).abs() < 1e-6, "{}", action.key);
    }
}
