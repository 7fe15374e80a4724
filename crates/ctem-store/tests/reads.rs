//! Reading back findings, runs, assets and relationships.

mod common;

use std::collections::BTreeMap;

use common::{TestStore, day, image_scan, run, scope, scored, vulnerability};
use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Criticality, CvssVector, Cwe, Deadline, Decision, Factor, Finding,
    FindingKind, Fix, LifecycleStatus, Location, MaskedSecret, Relationship, RelationshipKind, RiskAssessment,
    Severity, SourceStatus, Tier,
};
use ctem_store::{FindingFilter, ScoredFinding, SourceRecord, StoreError};

/// Three images, mixed severities and scores, one finding fixed:
///
/// | target | rule | severity | score | status after day 2 |
/// | --- | --- | --- | --- | --- |
/// | shop:1 | CVE-1 | critical | 95 | open |
/// | shop:1 | CVE-2 | low | 20 | fixed |
/// | shop:1 | CVE-3 | medium | 55 | new |
/// | cart:1 | CVE-1 | high | 75 | open |
/// | cart:1 | CVE-4 | info | 5 | open |
fn filter_fixture() -> TestStore {
    let mut test = TestStore::new();
    let finding = |target: &str, rule: &str, severity: Severity, score: f64| {
        let mut finding = vulnerability(target, rule);
        finding.severity = severity;
        scored(finding, score)
    };
    let scopes = [scope("trivy", "shop:1"), scope("trivy", "cart:1")];
    let day_one = run(
        day(1),
        &scopes,
        vec![
            finding("shop:1", "CVE-1", Severity::Critical, 95.0),
            finding("shop:1", "CVE-2", Severity::Low, 20.0),
            finding("cart:1", "CVE-1", Severity::High, 75.0),
            finding("cart:1", "CVE-4", Severity::Info, 5.0),
        ],
    );
    test.store.record_run(&day_one).unwrap();
    let day_two = run(
        day(2),
        &scopes,
        vec![
            finding("shop:1", "CVE-1", Severity::Critical, 95.0),
            finding("shop:1", "CVE-3", Severity::Medium, 55.0),
            finding("cart:1", "CVE-1", Severity::High, 75.0),
            finding("cart:1", "CVE-4", Severity::Info, 5.0),
        ],
    );
    test.store.record_run(&day_two).unwrap();
    test
}

/// The findings a filter returns, as `target/rule`, in the returned order.
fn names(test: &TestStore, filter: FindingFilter) -> Vec<String> {
    test.store
        .findings(&filter)
        .unwrap()
        .iter()
        .map(|f| format!("{}/{}", f.finding.target.as_deref().unwrap_or(""), f.finding.rule_id))
        .collect()
}

#[test]
fn default_filter_returns_all_by_score() {
    let test = filter_fixture();
    assert_eq!(
        names(&test, FindingFilter::default()),
        [
            "shop:1/CVE-1",
            "cart:1/CVE-1",
            "shop:1/CVE-3",
            "shop:1/CVE-2",
            "cart:1/CVE-4"
        ]
    );
}

#[test]
fn filter_by_status() {
    let test = filter_fixture();
    let only = |statuses: Vec<LifecycleStatus>| {
        names(
            &test,
            FindingFilter {
                statuses,
                ..FindingFilter::default()
            },
        )
    };
    assert_eq!(only(vec![LifecycleStatus::Fixed]), ["shop:1/CVE-2"]);
    assert_eq!(only(vec![LifecycleStatus::New]), ["shop:1/CVE-3"]);
    assert_eq!(
        only(vec![LifecycleStatus::New, LifecycleStatus::Fixed]),
        ["shop:1/CVE-3", "shop:1/CVE-2"]
    );
    assert!(only(vec![LifecycleStatus::Reopened]).is_empty());
}

#[test]
fn filter_active_only() {
    let test = filter_fixture();
    let active = names(
        &test,
        FindingFilter {
            active_only: true,
            ..FindingFilter::default()
        },
    );
    assert_eq!(active, ["shop:1/CVE-1", "cart:1/CVE-1", "shop:1/CVE-3", "cart:1/CVE-4"]);
}

#[test]
fn filter_by_tool_and_target() {
    let test = filter_fixture();
    let cart = names(
        &test,
        FindingFilter {
            target: Some("cart:1".into()),
            ..FindingFilter::default()
        },
    );
    assert_eq!(cart, ["cart:1/CVE-1", "cart:1/CVE-4"]);
    let trivy = names(
        &test,
        FindingFilter {
            tool: Some("trivy".into()),
            ..FindingFilter::default()
        },
    );
    assert_eq!(trivy.len(), 5);
    let grype = names(
        &test,
        FindingFilter {
            tool: Some("grype".into()),
            ..FindingFilter::default()
        },
    );
    assert!(grype.is_empty());
}

#[test]
fn filter_by_min_severity() {
    let test = filter_fixture();
    let at_least = |severity| {
        names(
            &test,
            FindingFilter {
                min_severity: Some(severity),
                ..FindingFilter::default()
            },
        )
    };
    assert_eq!(at_least(Severity::Critical), ["shop:1/CVE-1"]);
    assert_eq!(at_least(Severity::High), ["shop:1/CVE-1", "cart:1/CVE-1"]);
    assert_eq!(at_least(Severity::Medium).len(), 3);
    assert_eq!(at_least(Severity::Info).len(), 5);
}

#[test]
fn filter_by_tier_and_asset() {
    let test = filter_fixture();
    let p1 = names(
        &test,
        FindingFilter {
            tier: Some(Tier::P1),
            ..FindingFilter::default()
        },
    );
    assert_eq!(p1, ["shop:1/CVE-1"]);
    let p4 = names(
        &test,
        FindingFilter {
            tier: Some(Tier::P4),
            ..FindingFilter::default()
        },
    );
    assert_eq!(p4, ["shop:1/CVE-2", "cart:1/CVE-4"]);

    let asset = AssetKey::new(AssetKind::ContainerImage, "cart:1").to_string();
    let on_cart = names(
        &test,
        FindingFilter {
            asset: Some(asset),
            ..FindingFilter::default()
        },
    );
    assert_eq!(on_cart, ["cart:1/CVE-1", "cart:1/CVE-4"]);
}

#[test]
fn filter_limit_and_combination() {
    let test = filter_fixture();
    let top_two = names(
        &test,
        FindingFilter {
            limit: Some(2),
            ..FindingFilter::default()
        },
    );
    assert_eq!(top_two, ["shop:1/CVE-1", "cart:1/CVE-1"]);
    let none = names(
        &test,
        FindingFilter {
            limit: Some(0),
            ..FindingFilter::default()
        },
    );
    assert!(none.is_empty());

    let combined = names(
        &test,
        FindingFilter {
            active_only: true,
            target: Some("shop:1".into()),
            min_severity: Some(Severity::Medium),
            limit: Some(10),
            ..FindingFilter::default()
        },
    );
    assert_eq!(combined, ["shop:1/CVE-1", "shop:1/CVE-3"]);
}

#[test]
fn count_ignores_limit_and_applies_filter() {
    let test = filter_fixture();
    let count = |filter: FindingFilter| test.store.count_findings(&filter).unwrap();
    assert_eq!(count(FindingFilter::default()), 5);
    assert_eq!(
        count(FindingFilter {
            active_only: true,
            limit: Some(1),
            ..FindingFilter::default()
        }),
        4
    );
    assert_eq!(
        count(FindingFilter {
            target: Some("shop:1".into()),
            min_severity: Some(Severity::Medium),
            ..FindingFilter::default()
        }),
        2
    );
}

/// A finding whose tier a policy raised to P1 lists before higher-scored
/// P2 findings, and a top-N read follows the same order.
#[test]
fn reads_order_by_tier_then_score() {
    let mut test = TestStore::new();
    let with_tier = |rule: &str, score: f64, tier: Tier| {
        let mut finding = scored(vulnerability("shop:1", rule), score);
        finding.risk.tier = tier;
        finding
    };
    let findings = vec![
        with_tier("CVE-1", 90.0, Tier::P2),
        with_tier("CVE-2", 40.0, Tier::P1),
        with_tier("CVE-3", 60.0, Tier::P1),
        with_tier("CVE-4", 95.0, Tier::P3),
    ];
    test.store
        .record_run(&run(day(1), &[scope("trivy", "shop:1")], findings))
        .unwrap();

    let all = names(&test, FindingFilter::default());
    assert_eq!(all, ["shop:1/CVE-3", "shop:1/CVE-2", "shop:1/CVE-1", "shop:1/CVE-4"]);
    let top = names(
        &test,
        FindingFilter {
            limit: Some(2),
            ..FindingFilter::default()
        },
    );
    assert_eq!(top, ["shop:1/CVE-3", "shop:1/CVE-2"]);
}

/// A top-N read walks the rank index instead of sorting every finding.
#[test]
fn top_read_uses_rank_index() {
    let test = filter_fixture();
    let conn = test.raw_connection();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT fingerprint, data FROM findings \
             JOIN finding_json ON finding_json.finding_id = findings.id \
             ORDER BY tier, score DESC, fingerprint LIMIT 10",
        )
        .unwrap()
        .query_map([], |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("findings_rank"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn equal_scores_order_by_fingerprint() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2", "CVE-3", "CVE-4"]))
        .unwrap();

    let fingerprints: Vec<String> = test
        .store
        .findings(&FindingFilter::default())
        .unwrap()
        .into_iter()
        .map(|f| f.fingerprint.to_string())
        .collect();
    let mut sorted = fingerprints.clone();
    sorted.sort();
    assert_eq!(fingerprints, sorted);
}

fn rich_finding() -> ScoredFinding {
    let mut finding = Finding::new(
        "trivy",
        "CVE-2021-44228",
        FindingKind::Vulnerability,
        "log4j-core: remote code execution",
        Severity::Critical,
        AssetKey::new(AssetKind::ContainerImage, "acme/shop:1.0"),
    );
    finding.description = Some("JNDI lookups\nwith \"quotes\" and ünïcode".into());
    finding.add_vulnerability_id("CVE-2021-44228".parse().unwrap());
    finding.add_vulnerability_id("GHSA-jfh8-c2jp-5v3q".parse().unwrap());
    finding.add_cwe(Cwe(502));
    let vector: CvssVector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".parse().unwrap();
    finding.add_cvss(vector);
    finding.location = Location {
        path: Some("app/lib/log4j-core-2.14.1.jar".into()),
        start_line: Some(1),
        port: Some(8080),
        protocol: Some("tcp".into()),
        ..Location::default()
    };
    finding.component = Some(Component {
        name: "org.apache.logging.log4j:log4j-core".into(),
        version: Some("2.14.1".into()),
        purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".parse().unwrap()),
        ecosystem: Some("jar".into()),
    });
    finding.fix = Fix {
        fixed_versions: vec!["2.15.0".into()],
        description: Some("upgrade".into()),
    };
    finding.evidence = Some("log4j-core-2.14.1.jar".into());
    finding.secret = Some(MaskedSecret::new("AKIAIOSFODNN7EXAMPLE"));
    finding.references = vec!["https://logging.apache.org/log4j/2.x/security.html".into()];
    finding.source_status = Some(SourceStatus::Affected);
    finding.tool_fingerprint = Some("abc123".into());
    finding.target = Some("acme/shop:1.0".into());
    finding.attributes = BTreeMap::from([("layer".into(), "sha256:00".into())]);

    let risk = RiskAssessment {
        score: 97.25,
        tier: Tier::P1,
        likelihood: 0.975,
        impact: 1.0,
        factors: vec![
            Factor {
                name: "kev".into(),
                value: "listed 2021-12-10".into(),
                contribution: 40.0,
                source: "CISA KEV 2024-05-01".into(),
                weight: Some(0.9),
                date: Some("2021-12-10".into()),
            },
            Factor {
                name: "epss".into(),
                value: "0.97".into(),
                contribution: -0.125,
                source: "FIRST EPSS 2024-05-01".into(),
                weight: None,
                date: None,
            },
        ],
        decision: Some(Decision::Immediate),
        deadline: Some(Deadline::ThreeDays),
    };
    ScoredFinding {
        fingerprint: finding.fingerprint(),
        finding,
        risk,
        published: None,
    }
}

#[test]
fn finding_and_risk_round_trip() {
    let mut test = TestStore::new();
    let original = rich_finding();
    test.store
        .record_run(&run(day(1), &[scope("trivy", "acme/shop:1.0")], vec![original.clone()]))
        .unwrap();

    let stored = test.store.finding(&original.fingerprint).unwrap().unwrap();

    assert_eq!(stored.fingerprint, original.fingerprint);
    assert_eq!(stored.finding, original.finding);
    assert_eq!(stored.risk, Some(original.risk));
    assert_eq!(stored.first_seen, day(1));
}

#[test]
fn unknown_fingerprint_is_none() {
    let test = TestStore::new();
    let missing = vulnerability("shop:1", "CVE-404").fingerprint();
    assert!(test.store.finding(&missing).unwrap().is_none());
    assert!(test.store.finding_history(&missing).unwrap().is_empty());
}

#[test]
fn runs_newest_first_with_sources_and_scopes() {
    let mut test = TestStore::new();
    let mut first = image_scan(day(1), "shop:1", &["CVE-1"]);
    first.sources = vec![
        SourceRecord {
            path: "scans/shop.json".into(),
            format: "trivy-json".into(),
            sha256: "ab".repeat(32),
            finding_count: 1,
            error: None,
        },
        SourceRecord {
            path: "scans/broken.xml".into(),
            format: "nessus".into(),
            sha256: "cd".repeat(32),
            finding_count: 0,
            error: Some("truncated XML at line 3".into()),
        },
    ];
    let first_summary = test.store.record_run(&first).unwrap();
    let second = run(
        day(2),
        &[scope("trivy", "shop:1"), scope("semgrep", "repo")],
        Vec::new(),
    );
    let second_summary = test.store.record_run(&second).unwrap();

    let runs = test.store.runs().unwrap();

    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].summary, second_summary);
    assert_eq!(runs[1].summary, first_summary);
    assert_eq!(runs[1].sources, first.sources);
    assert_eq!(runs[0].scopes, second.scopes);
    assert!(runs[0].sources.is_empty());
    assert!(runs[0].recorded_at >= runs[1].recorded_at);
    assert_eq!(test.store.latest_run().unwrap().unwrap().summary, second_summary);
}

#[test]
fn empty_store_has_no_latest_run() {
    let test = TestStore::new();
    assert!(test.store.latest_run().unwrap().is_none());
    assert!(test.store.runs().unwrap().is_empty());
    assert!(test.store.assets().unwrap().is_empty());
    assert!(test.store.findings(&FindingFilter::default()).unwrap().is_empty());
}

#[test]
fn assets_merge_across_runs() {
    let mut test = TestStore::new();
    let mut first = Asset::new(AssetKind::Host, "10.0.0.5", "db-1").with_identifier("ip", "10.0.0.5");
    first.criticality = Some(Criticality::CrownJewel);
    first.owner = Some("team-data".into());
    first.attributes.insert("os".into(), "debian 11".into());
    let mut day_one = run(day(1), &[], Vec::new());
    day_one.assets = vec![first];
    test.store.record_run(&day_one).unwrap();

    let mut second = Asset::new(AssetKind::Host, "10.0.0.5", "db-1").with_identifier("hostname", "db-1.acme.example");
    second.criticality = Some(Criticality::Medium);
    second.internet_exposed = Some(true);
    second.attributes.insert("os".into(), "debian 12".into());
    // The same host twice in one run is merged first.
    let mut again = Asset::new(AssetKind::Host, "10.0.0.5", "");
    again.tags.push("pci".into());
    let mut day_two = run(day(2), &[], Vec::new());
    day_two.assets = vec![second, again];
    test.store.record_run(&day_two).unwrap();

    let assets = test.store.assets().unwrap();

    assert_eq!(assets.len(), 1);
    let host = &assets[0];
    assert_eq!(host.key.as_str(), "host:10.0.0.5");
    assert_eq!(host.name, "db-1");
    assert_eq!(host.criticality, Some(Criticality::CrownJewel));
    assert_eq!(host.owner.as_deref(), Some("team-data"));
    assert_eq!(host.internet_exposed, Some(true));
    assert_eq!(host.attributes["os"], "debian 12", "the newer run's value wins");
    assert_eq!(host.tags, ["pci"]);
    assert_eq!(host.identifier_values("ip").collect::<Vec<_>>(), ["10.0.0.5"]);
    assert_eq!(
        host.identifier_values("hostname").collect::<Vec<_>>(),
        ["db-1.acme.example"]
    );

    let (first_seen, last_seen): (String, String) = test
        .raw_connection()
        .query_row("SELECT first_seen, last_seen FROM assets", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert!(first_seen.starts_with("2024-05-01"), "{first_seen}");
    assert!(last_seen.starts_with("2024-05-02"), "{last_seen}");
}

#[test]
fn relationships_are_deduplicated() {
    let mut test = TestStore::new();
    let web = AssetKey::new(AssetKind::Host, "10.0.0.1");
    let db = AssetKey::new(AssetKind::Host, "10.0.0.5");
    let reach = |port: Option<u16>| {
        let mut edge = Relationship::new(web.clone(), RelationshipKind::NetworkReach, db.clone());
        edge.port = port;
        edge.protocol = port.map(|_| "tcp".to_string());
        edge
    };
    let hosts = Relationship::new(web.clone(), RelationshipKind::Hosts, db.clone());
    let mut day_one = run(day(1), &[], Vec::new());
    day_one.relationships = vec![
        reach(Some(5432)),
        reach(Some(5432)),
        reach(None),
        reach(None),
        hosts.clone(),
    ];
    test.store.record_run(&day_one).unwrap();
    let mut day_two = run(day(2), &[], Vec::new());
    day_two.relationships = vec![reach(Some(5432)), reach(Some(22)), hosts.clone()];
    test.store.record_run(&day_two).unwrap();

    let relationships = test.store.relationships().unwrap();

    assert_eq!(relationships.len(), 4, "{relationships:#?}");
    assert!(relationships.contains(&reach(Some(5432))));
    assert!(relationships.contains(&reach(Some(22))));
    assert!(relationships.contains(&reach(None)));
    assert!(relationships.contains(&hosts));
}

#[test]
fn corrupt_finding_json_names_table_and_key() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();
    test.raw_connection()
        .execute("UPDATE finding_json SET data = '{\"tool\": 42}'", [])
        .unwrap();

    let error = test.store.findings(&FindingFilter::default()).unwrap_err();

    assert!(
        matches!(&error, StoreError::Corrupt { table: "finding_json", column: "data", key, .. } if key == fingerprint.as_str()),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("finding_json.data"), "{message}");
    assert!(message.contains(fingerprint.as_str()), "{message}");
    assert!(message.contains("invalid type"), "{message}");
}

#[test]
fn corrupt_risk_json_names_column() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    test.raw_connection()
        .execute("UPDATE finding_json SET risk = '{\"score\": ' ", [])
        .unwrap();

    let error = test.store.findings(&FindingFilter::default()).unwrap_err();

    assert!(error.to_string().contains("finding_json.risk"), "{error}");
}

#[test]
fn corrupt_asset_json_fails_reads_and_merges() {
    let mut test = TestStore::new();
    let mut day_one = run(day(1), &[], Vec::new());
    day_one.assets = vec![Asset::new(AssetKind::Host, "10.0.0.5", "db-1")];
    test.store.record_run(&day_one).unwrap();
    test.raw_connection()
        .execute("UPDATE assets SET data = 'not json'", [])
        .unwrap();

    let read_error = test.store.assets().unwrap_err();
    assert!(
        read_error.to_string().contains("assets.data for host:10.0.0.5"),
        "{read_error}"
    );

    let mut day_two = day_one.clone();
    day_two.observed_at = day(2);
    let write_error = test.store.record_run(&day_two).unwrap_err();
    assert!(
        write_error.to_string().contains("assets.data for host:10.0.0.5"),
        "{write_error}"
    );
    assert_eq!(test.store.runs().unwrap().len(), 1);
}

#[test]
fn corrupt_status_is_reported() {
    let mut test = TestStore::new();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1"]))
        .unwrap();
    test.raw_connection()
        .execute("UPDATE findings SET status = 'resolved'", [])
        .unwrap();

    let error = test.store.findings(&FindingFilter::default()).unwrap_err();

    assert!(error.to_string().contains("\"resolved\""), "{error}");
}

#[test]
fn hostile_text_is_stored_as_data() {
    let mut test = TestStore::new();
    let hostile = "x'; DROP TABLE findings; --";
    let mut finding = vulnerability(hostile, "CVE-1");
    finding.tool = "trivy\u{0}\"".into();
    finding.title = "\u{202e}reversed \u{1F600} and \\ backslash".into();
    let input = run(
        day(1),
        &[scope(&finding.tool, hostile)],
        vec![scored(finding.clone(), 50.0)],
    );
    test.store.record_run(&input).unwrap();

    let found = test
        .store
        .findings(&FindingFilter {
            tool: Some(finding.tool.clone()),
            target: Some(hostile.into()),
            ..FindingFilter::default()
        })
        .unwrap();

    assert_eq!(found.len(), 1);
    assert_eq!(found[0].finding, finding);
    assert_eq!(test.store.runs().unwrap()[0].scopes, input.scopes);
}

#[test]
fn large_evidence_round_trips() {
    let mut test = TestStore::new();
    let mut finding = vulnerability("shop:1", "CVE-1");
    finding.evidence = Some("A".repeat(4 * 1024 * 1024));
    finding.references = (0..1_000).map(|i| format!("https://example.test/{i}")).collect();
    test.store
        .record_run(&run(
            day(1),
            &[scope("trivy", "shop:1")],
            vec![scored(finding.clone(), 50.0)],
        ))
        .unwrap();

    let stored = test.store.finding(&finding.fingerprint()).unwrap().unwrap();

    assert_eq!(stored.finding, finding);
}

/// More findings than one batch of the fact reader, so that rows cross
/// from the reading thread to the decoding thread in several batches.
fn many_findings(count: usize) -> TestStore {
    let mut test = TestStore::new();
    let rules: Vec<String> = (0..count).map(|i| format!("CVE-2024-{i:05}")).collect();
    let rule_refs: Vec<&str> = rules.iter().map(String::as_str).collect();
    test.store
        .record_run(&image_scan(day(1), "shop:1", &rule_refs))
        .unwrap();
    test
}

#[test]
fn fact_table_reads_every_batch_in_order() {
    let test = many_findings(10_000);
    let facts = test.store.fact_table().unwrap();
    assert_eq!(facts.findings.len(), 10_000);
    assert!(facts.findings.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert_eq!(facts.assets.len(), 1);
    assert!(facts.findings.iter().all(|fact| fact.first_seen == day(1)));
}

#[test]
fn fact_table_names_corrupt_row_in_late_batch() {
    let test = many_findings(10_000);
    let bad_id: i64 = test
        .raw_connection()
        .query_row("SELECT id FROM findings ORDER BY id LIMIT 1 OFFSET 9000", [], |row| {
            row.get(0)
        })
        .unwrap();
    test.raw_connection()
        .execute("UPDATE findings SET tier = 'P9' WHERE id = ?1", [bad_id])
        .unwrap();

    let error = test.store.fact_table().unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&format!("findings.tier for {bad_id}")), "{message}");
    assert!(message.contains("\"P9\""), "{message}");
}

#[test]
fn fact_table_rejects_blob_in_text_column() {
    let test = many_findings(5_000);
    // A blob keeps its type in a TEXT column, where a number would be
    // stored as its text.
    test.raw_connection()
        .execute(
            "UPDATE findings SET last_seen = x'00ff' WHERE id = (SELECT max(id) FROM findings)",
            [],
        )
        .unwrap();

    let message = test.store.fact_table().unwrap_err().to_string();
    assert!(message.contains("findings.last_seen"), "{message}");
    assert!(message.contains("expected text, found Blob"), "{message}");
}

/// Runs over four images, with Grype joining on one, so that assets and
/// tool sets appear in both halves of a split scan and in new ones.
fn mixed_history() -> TestStore {
    let mut test = TestStore::new();
    for (index, target) in ["shop:1", "shop:2", "cart:1", "shop:1"].into_iter().enumerate() {
        let rules: Vec<String> = (0..300).map(|i| format!("CVE-2024-{index}{i:04}")).collect();
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        test.store
            .record_run(&image_scan(day(index as u32 + 1), target, &refs))
            .unwrap();
    }
    let mut grype = vulnerability("cart:1", "CVE-2024-20000");
    grype.tool = "grype".into();
    test.store
        .record_run(&run(day(6), &[scope("grype", "cart:1")], vec![scored(grype, 70.0)]))
        .unwrap();
    test
}

#[test]
fn split_fact_scan_equals_one_scan() {
    let test = mixed_history();
    let whole = test.store.fact_table_split(i64::MAX).unwrap();
    assert_eq!(whole.findings.len(), 1_200);
    assert_eq!(whole.assets.len(), 3);
    assert_eq!(whole.tool_sets.len(), 2, "{:?}", whole.tool_sets);

    for min_span in [0, 1, 599, 1_199] {
        let split = test.store.fact_table_split(min_span).unwrap();
        assert_eq!(split, whole, "split at a span of {min_span}");
    }
}

#[test]
fn split_scan_names_upper_corrupt_row() {
    let test = many_findings(10_000);
    let bad_id: i64 = test
        .raw_connection()
        .query_row("SELECT max(id) - 3 FROM findings", [], |row| row.get(0))
        .unwrap();
    test.raw_connection()
        .execute("UPDATE findings SET severity = 'dire' WHERE id = ?1", [bad_id])
        .unwrap();

    let message = test.store.fact_table_split(1).unwrap_err().to_string();
    assert!(
        message.contains(&format!("findings.severity for {bad_id}")),
        "{message}"
    );
    // The failed scan left no read transaction open: a write goes through.
    let mut test = test;
    test.store
        .record_run(&image_scan(day(2), "shop:9", &["CVE-1"]))
        .unwrap();
}

#[test]
fn split_fact_scan_of_empty_store_is_empty() {
    let test = TestStore::new();
    assert_eq!(
        test.store.fact_table_split(0).unwrap(),
        ctem_store::FactTable::default()
    );
}

fn generation(test: &TestStore) -> i64 {
    test.raw_connection()
        .query_row("SELECT value FROM store_generation", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn every_write_increments_the_generation() {
    let mut test = TestStore::new();
    let mut last = generation(&test);
    let mut check = |test: &TestStore, what: &str| {
        let now = generation(test);
        assert!(now > last, "{what} left the generation at {now}");
        last = now;
    };

    test.store
        .record_run(&image_scan(day(1), "shop:1", &["CVE-1", "CVE-2"]))
        .unwrap();
    check(&test, "record_run");
    let fingerprint = vulnerability("shop:1", "CVE-1").fingerprint();
    test.store
        .triage(&ctem_store::TriageRequest {
            fingerprints: vec![fingerprint],
            action: ctem_store::TriageAction::AcceptRisk {
                approver: "ciso".into(),
                until: day(3),
            },
            reason: "compensated".into(),
            actor: None,
            at: day(2),
        })
        .unwrap();
    check(&test, "triage");
    test.store.expire_acceptances(day(4)).unwrap();
    check(&test, "expire_acceptances");
    test.store.redupe().unwrap();
    check(&test, "redupe");
}

/// A writer records runs of 500 new findings while the reader splits its
/// scans: every scan must see whole runs, which two snapshots would not
/// give.
#[test]
fn split_scan_during_commits_is_consistent() {
    let test = many_findings(500);
    let path = test.path();
    let writer = std::thread::spawn(move || {
        let mut store = ctem_store::Store::open(&path).unwrap();
        for run_index in 0..12_u32 {
            let rules: Vec<String> = (0..500).map(|i| format!("CVE-2025-{run_index:02}{i:03}")).collect();
            let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
            store
                .record_run(&image_scan(day(2 + run_index), &format!("img:{run_index}"), &refs))
                .unwrap();
        }
    });
    let mut scans = 0;
    while !writer.is_finished() || scans == 0 {
        let facts = test.store.fact_table_split(1).unwrap();
        assert_eq!(facts.findings.len() % 500, 0, "a scan saw part of a run");
        let runs = facts.findings.len() / 500;
        assert_eq!(facts.assets.len(), runs, "assets of {runs} runs");
        scans += 1;
    }
    writer.join().unwrap();
    assert_eq!(test.store.fact_table_split(1).unwrap().findings.len(), 6_500);
}

/// A run that fixes every finding commits after the scan's first snapshot
/// and before its second connection starts: the scan must not mix the
/// two states.
#[test]
fn split_scan_falls_back_after_write() {
    let test = many_findings(2_000);
    let path = test.path();
    let facts = test
        .store
        .fact_table_split_around(1, || {
            let mut writer = ctem_store::Store::open(&path).unwrap();
            writer.record_run(&image_scan(day(2), "shop:1", &[])).unwrap();
        })
        .unwrap();

    assert_eq!(facts.findings.len(), 2_000);
    assert!(
        facts.findings.iter().all(|fact| fact.status == LifecycleStatus::New),
        "the scan mixed snapshots"
    );
    let after = test.store.fact_table_split(1).unwrap();
    assert!(after.findings.iter().all(|fact| fact.status == LifecycleStatus::Fixed));
}

/// Missing ids leave each half with fewer findings than slots, so the
/// merge closes a gap; both halves lose some.
#[test]
fn split_fact_scan_closes_gaps_of_missing_ids() {
    let test = mixed_history();
    let conn = test.raw_connection();
    // The rows of other tables that refer to them stay: the fact scan
    // reads only findings.
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    let deleted = conn
        .execute("DELETE FROM findings WHERE id % 7 = 0 OR id BETWEEN 590 AND 610", [])
        .unwrap();
    assert!(deleted > 100, "{deleted}");

    let whole = test.store.fact_table_split(i64::MAX).unwrap();
    assert_eq!(whole.findings.len(), 1_200 - deleted);
    for min_span in [0, 1, 1_000] {
        assert_eq!(
            test.store.fact_table_split(min_span).unwrap(),
            whole,
            "split at a span of {min_span}"
        );
    }
}

#[test]
fn write_that_changes_nothing_keeps_generation() {
    let mut test = many_findings(3);
    let before = generation(&test);
    let reopened = test.store.expire_acceptances(day(9)).unwrap();
    assert!(reopened.is_empty());
    assert_eq!(generation(&test), before);
}
