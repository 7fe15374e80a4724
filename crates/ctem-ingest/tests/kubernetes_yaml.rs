//! Tests of the Kubernetes manifest parser: fixtures, hostile YAML and
//! JSON, and the structural facts of the shared corpus.

mod inventory_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{Asset, AssetKind, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "kubernetes-yaml";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{FORMAT}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    parse_bytes(find(FORMAT).expect("registered"), name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    parse(name, &fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Converts the report to JSON for snapshots, with each finding's fingerprint.
fn normalized(report: &ParsedReport) -> serde_json::Value {
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| json!({"fingerprint": f.fingerprint(), "finding": f}))
        .collect();
    json!({
        "targets": report.targets,
        "assets": report.assets,
        "relationships": report.relationships,
        "findings": findings,
    })
}

fn asset<'r>(report: &'r ParsedReport, key: &str) -> &'r Asset {
    report.assets.iter().find(|a| a.key.as_str() == key).unwrap_or_else(|| {
        panic!(
            "no asset {key} in {:?}",
            report.assets.iter().map(|a| &a.key).collect::<Vec<_>>()
        )
    })
}

/// Formats the relationships as sorted `from kind to protocol port` lines.
fn edges(report: &ParsedReport) -> Vec<String> {
    let mut lines: Vec<String> = report
        .relationships
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {} {} {}",
                r.from,
                r.kind,
                r.to,
                r.protocol.as_deref().unwrap_or("-"),
                r.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into())
            )
        })
        .collect();
    lines.sort();
    lines
}

fn has_edge(report: &ParsedReport, from: &str, kind: RelationshipKind, to: &str) -> bool {
    report
        .relationships
        .iter()
        .any(|r| r.from.as_str() == from && r.kind == kind && r.to.as_str() == to)
}

fn assert_assets_unique(report: &ParsedReport) {
    let keys: BTreeSet<_> = report.assets.iter().map(|a| &a.key).collect();
    assert_eq!(keys.len(), report.assets.len(), "each asset is sent once");
    for relationship in &report.relationships {
        for key in [&relationship.from, &relationship.to] {
            assert!(keys.contains(key), "{key} has no asset");
        }
    }
}

fn serialized(report: &ParsedReport) -> String {
    normalized(report).to_string()
}

fn findings(report: &ParsedReport) -> Vec<String> {
    let mut found: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f.rule_id,
                f.severity,
                f.asset,
                f.location.parameter.as_deref().unwrap_or("-")
            )
        })
        .collect();
    found.sort();
    found
}

const SHOP_WEB: &str = "kubernetes_workload:k8s:shop/Deployment/shop-web";
const ORDERS: &str = "kubernetes_workload:k8s:shop/Deployment/orders";
const INTERNET: &str = "other:network:internet";

#[test]
fn empty_manifest_declares_target() {
    let report = parse_fixture("empty.yaml");
    assert!(report.assets.is_empty());
    assert!(report.findings.is_empty());
    let targets: Vec<_> = report.targets.iter().cloned().collect();
    assert_eq!(
        targets,
        [("kubernetes".to_string(), "kubernetes-yaml:empty.yaml".to_string())]
    );
}

#[test]
fn one_manifest_snapshot() {
    let report = parse_fixture("one.yaml");
    assert_eq!(report.findings.len(), 1);
    assert_assets_unique(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_manifests_snapshot() {
    let report = parse_fixture("many.yaml");
    assert_eq!(report.findings.len(), 3);
    assert_assets_unique(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn privileged_container_is_finding() {
    let report = parse_fixture("one.yaml");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "kubernetes");
    assert_eq!(finding.rule_id, "k8s-privileged-container");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.asset.as_str(), SHOP_WEB);
    assert_eq!(finding.location.parameter.as_deref(), Some("web"));
    assert_eq!(
        finding.title,
        "Container web of Deployment shop/shop-web runs privileged"
    );
    assert_eq!(finding.target.as_deref(), Some("kubernetes-yaml:one.yaml"));
}

#[test]
fn workload_maps() {
    let report = parse_fixture("one.yaml");
    let workload = asset(&report, SHOP_WEB);
    assert_eq!(workload.kind, AssetKind::KubernetesWorkload);
    assert_eq!(workload.name, "shop-web");
    assert_eq!(workload.tags, ["label:app=shop-web", "label:tier=frontend"]);
    assert_eq!(workload.attributes.get("replicas").map(String::as_str), Some("3"));
    assert_eq!(
        workload.attributes.get("service_account").map(String::as_str),
        Some("shop-web")
    );
    assert!(has_edge(
        &report,
        SHOP_WEB,
        RelationshipKind::RunsOn,
        "container_image:ghcr.io/acme/shop-web:1.4.2"
    ));
    assert!(has_edge(
        &report,
        SHOP_WEB,
        RelationshipKind::CanAssume,
        "identity:k8s:shop/ServiceAccount/shop-web"
    ));
}

#[test]
fn load_balancer_is_exposed() {
    let report = parse_fixture("one.yaml");
    let service = "service:k8s:shop/service/shop-web";
    assert_eq!(asset(&report, service).internet_exposed, Some(true));
    assert_eq!(
        edges(&report)
            .into_iter()
            .filter(|line| line.contains(service))
            .collect::<Vec<_>>(),
        [
            format!("{INTERNET} NetworkReach {service} tcp 80"),
            format!("{service} RoutesTo {SHOP_WEB} tcp 8080"),
        ]
    );
}

#[test]
fn pod_findings() {
    let report = parse_fixture("many.yaml");
    assert_eq!(
        findings(&report),
        [
            format!("k8s-host-network medium {ORDERS} -"),
            format!("k8s-host-path-node high {ORDERS} docker"),
            format!("k8s-run-as-root medium {ORDERS} api"),
        ]
    );
}

#[test]
fn secrets_never_leave() {
    let report = parse_fixture("many.yaml");
    let output = serialized(&report);
    for clear in [
        "Sup3rS3cretOrdersPassw0rd",
        "b3JkZXJzLWFwcA==",
        "literal-token-EXAMPLEvalue-0000",
    ] {
        assert!(!output.contains(clear), "the output quotes {clear}");
    }
    let secret = asset(&report, "credential:k8s:shop/Secret/orders-db");
    assert_eq!(secret.attributes.get("secret_type").map(String::as_str), Some("Opaque"));
}

#[test]
fn workload_secrets_are_credentials() {
    let report = parse_fixture("many.yaml");
    for secret in ["orders-db", "orders-env", "orders-tls", "registry-pull"] {
        let key = format!("credential:k8s:shop/Secret/{secret}");
        assert!(
            has_edge(&report, ORDERS, RelationshipKind::HasCredential, &key),
            "{secret}"
        );
    }
    assert!(has_edge(
        &report,
        ORDERS,
        RelationshipKind::RunsOn,
        "container_image:ghcr.io/acme/orders-migrate@sha256:2f1e0d9c8b7a69584f3e2d1c0b9a89786f5e4d3c2b1a09f8e7d6c5b4a3928170"
    ));
    let image = asset(
        &report,
        "container_image:ghcr.io/acme/orders-migrate@sha256:2f1e0d9c8b7a69584f3e2d1c0b9a89786f5e4d3c2b1a09f8e7d6c5b4a3928170",
    );
    assert_eq!(
        image.identifier_values("image_digest").collect::<Vec<_>>(),
        ["sha256:2f1e0d9c8b7a69584f3e2d1c0b9a89786f5e4d3c2b1a09f8e7d6c5b4a3928170"]
    );
}

#[test]
fn node_port_and_ingress_route() {
    let report = parse_fixture("many.yaml");
    let lines = edges(&report);
    let orders_service = "service:k8s:shop/service/orders";
    let ingress = "service:k8s:shop/ingress/shop";
    for expected in [
        format!("{INTERNET} NetworkReach {orders_service} tcp 30900"),
        format!("{orders_service} RoutesTo {ORDERS} tcp 9000"),
        format!("{INTERNET} NetworkReach {ingress} tcp 80"),
        format!("{INTERNET} NetworkReach {ingress} tcp 443"),
        format!("{ingress} RoutesTo {orders_service} tcp 9000"),
        format!("{ingress} RoutesTo service:k8s:shop/service/shop-web tcp -"),
    ] {
        assert!(lines.contains(&expected), "{expected} not in {lines:#?}");
    }
    assert_eq!(asset(&report, orders_service).internet_exposed, None);
    let shop = asset(&report, ingress);
    assert_eq!(shop.internet_exposed, Some(true));
    assert_eq!(
        shop.identifier_values("hostname").collect::<Vec<_>>(),
        ["shop.acme.example"]
    );
}

#[test]
fn rbac_edges() {
    let report = parse_fixture("many.yaml");
    let orders_account = "identity:k8s:shop/ServiceAccount/orders";
    let reader = "identity:k8s:shop/Role/secret-reader";
    let admin = "identity:k8s:/ClusterRole/cluster-admin";
    assert!(has_edge(&report, ORDERS, RelationshipKind::CanAssume, orders_account));
    assert!(has_edge(&report, orders_account, RelationshipKind::CanAssume, reader));
    assert!(has_edge(
        &report,
        reader,
        RelationshipKind::CanRead,
        "other:k8s-pattern:shop/Secret/*"
    ));
    assert!(
        !report
            .relationships
            .iter()
            .any(|r| r.from.as_str() == reader && r.kind == RelationshipKind::CanWrite)
    );
    assert!(has_edge(
        &report,
        "identity:k8s:/Group/ops",
        RelationshipKind::CanAssume,
        admin
    ));
    assert!(has_edge(
        &report,
        "identity:k8s:ci/ServiceAccount/deployer",
        RelationshipKind::CanAssume,
        admin
    ));
}

#[test]
fn cron_job_without_token() {
    let report = parse_fixture("many.yaml");
    let job = "kubernetes_workload:k8s:shop/CronJob/nightly-report";
    assert!(has_edge(
        &report,
        job,
        RelationshipKind::RunsOn,
        "container_image:ghcr.io/acme/reports:0.9.0"
    ));
    assert!(
        !report
            .relationships
            .iter()
            .any(|r| r.from.as_str() == job && r.kind == RelationshipKind::CanAssume),
        "automountServiceAccountToken: false"
    );
}

#[test]
fn json_list_streams_items() {
    let report = parse_fixture("list.json");
    assert_assets_unique(&report);
    let cache = "kubernetes_workload:k8s:shop/StatefulSet/cache";
    assert_eq!(asset(&report, cache).tags, ["label:app=cache", "label:version=7"]);
    assert_eq!(
        findings(&report),
        [
            format!("k8s-host-path-node high {cache} host"),
            format!("k8s-run-as-root medium {cache} redis"),
        ]
    );
    let service = "service:k8s:shop/service/cache";
    assert_eq!(
        asset(&report, service).internet_exposed,
        Some(false),
        "source ranges close it"
    );
    assert!(has_edge(
        &report,
        "other:network:198.51.100.0/24",
        RelationshipKind::NetworkReach,
        service
    ));
    assert!(!has_edge(&report, INTERNET, RelationshipKind::NetworkReach, service));
    assert!(has_edge(&report, service, RelationshipKind::RoutesTo, cache));
}

#[test]
fn yaml_list_and_internal_balancer() {
    let report = parse_fixture("list.yaml");
    let agent = "kubernetes_workload:k8s:monitoring/DaemonSet/node-agent";
    let service = "service:k8s:monitoring/service/node-agent";
    assert_eq!(findings(&report), [format!("k8s-host-network medium {agent} -")]);
    assert_eq!(asset(&report, service).internet_exposed, Some(false));
    assert!(!report.relationships.iter().any(|r| r.from.as_str() == INTERNET));
    assert!(
        edges(&report).contains(&format!("{service} RoutesTo {agent} tcp -")),
        "a named target port has no number"
    );
}

#[test]
fn legacy_ingress_routes() {
    let report = parse_fixture("ingress-v1beta1.yaml");
    let ingress = "service:k8s:shop/ingress/legacy";
    let lines = edges(&report);
    assert!(lines.contains(&format!(
        "{ingress} RoutesTo service:k8s:shop/service/legacy-web tcp 8080"
    )));
    assert!(lines.contains(&format!("{ingress} RoutesTo service:k8s:shop/service/shop-web tcp 80")));
    assert!(!lines.iter().any(|line| line.contains(" tcp 443")), "no tls");
}

#[test]
fn anchors_expand() {
    let report = parse_fixture("anchors.yaml");
    let worker = asset(&report, "kubernetes_workload:k8s:default/Pod/worker");
    assert_eq!(
        worker.attributes.get("containers").map(String::as_str),
        Some("worker,sidecar")
    );
    assert_eq!(worker.tags, ["label:app=worker", "label:team=data"]);
    assert!(report.findings.is_empty());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "one.yaml",
        "many.yaml",
        "list.json",
        "list.yaml",
        "ingress-v1beta1.yaml",
        "anchors.yaml",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(b"services:\n  web:\n    image: nginx\n"), Detection::No);
    assert_eq!(
        parser.detect(br#"{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport"}"#),
        Detection::No
    );
    assert_eq!(
        parser.detect(br#"{"kind": "List", "apiVersion": "v1", "items": [{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport", "metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet"}]}}]}"#),
        Detection::No
    );
    assert_eq!(
        parser.detect(b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"),
        Detection::No
    );
}

#[test]
fn truncated_yaml_names_line() {
    let error = parse(
        "cut.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: [{name: web, image: \"ng",
    )
    .unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.starts_with("invalid YAML"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 6, .. })),
        "{error}"
    );
}

#[test]
fn truncated_json_names_position() {
    let bytes = fixture("list.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
}

#[test]
fn invalid_yaml_is_rejected() {
    let error = parse("tabs.yaml", b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: web\n").unwrap_err();
    assert!(error.message.starts_with("invalid YAML"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 4, .. })),
        "{error}"
    );
}

#[test]
fn other_yaml_is_wrong_format() {
    let error = parse("compose.yaml", b"services:\n  web:\n    image: nginx\n").unwrap_err();
    assert!(error.message.contains("has no kind"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 1 }));

    let error = parse("scalar.yaml", b"apiVersion: v1\nkind: Pod\n---\njust text\n").unwrap_err();
    assert!(error.message.contains("found a string"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));

    let error = parse("noversion.yaml", b"kind: Pod\nmetadata:\n  name: x\n").unwrap_err();
    assert!(error.message.contains("no apiVersion"), "{}", error.message);
}

/// A wrong type is reported without quoting the value, which may be a
/// credential.
#[test]
fn wrong_type_quotes_no_value() {
    let manifest = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  hostNetwork: \"hunter2-EXAMPLE\"\n";
    let error = parse("types.yaml", manifest).unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[test]
fn invalid_utf8_names_line() {
    let error = parse(
        "latin1.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n",
    )
    .unwrap_err();
    assert!(error.message.contains("invalid UTF-8"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 4, column: 12 }));
}

/// The YAML reader stops exponential alias expansion (the billion laughs)
/// before it costs memory or time.
#[test]
fn billion_laughs_is_rejected() {
    let mut text = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut previous = "a".to_string();
    for level in 0..9 {
        let name = format!("l{level}");
        let aliases = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
        previous = name;
    }
    let started = Instant::now();
    let error = parse("lol.yaml", text.as_bytes()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(error.message.contains("repetition limit"), "{}", error.message);
}

/// One large anchor named by many aliases grows quadratically, below the
/// reader's repetition limit: the node budget stops it.
#[test]
fn quadratic_aliases_are_rejected() {
    let anchor: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    let aliases = vec!["*big"; 3000].join(",");
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\nbig: &big [{}]\ncopies: [{aliases}]\n",
        anchor.join(",")
    );
    let error = parse("big.yaml", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("more than 500000 nodes"), "{}", error.message);
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.yaml", yaml.as_bytes()).unwrap_err();
    assert!(error.message.contains("recursion limit"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::LineColumn { line: 3, .. })),
        "{error}"
    );

    let json = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"x\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", json.as_bytes()).unwrap_err();
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn huge_document_is_rejected() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n");
    let line = format!("  key: {}\n", "x".repeat(1024));
    while text.len() <= 17 * 1024 * 1024 {
        text.push_str(&line);
    }
    let error = parse("huge.yaml", text.as_bytes()).unwrap_err();
    assert!(error.message.contains("larger than 16 MiB"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 1 }));
}

#[test]
fn many_documents_parse() {
    let count = 20_000;
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: load\nspec:\n  hostNetwork: true\n  containers:\n    - name: app\n      image: registry.acme.example/app:{}\n",
            i % 50
        ));
    }
    let report = parse("large.yaml", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    let workloads = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::KubernetesWorkload)
        .count();
    assert_eq!(workloads, count);
    let images = report
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::ContainerImage)
        .count();
    assert_eq!(images, 50);
}

#[test]
fn corpus_structural_facts() {
    let Some(corpus) = inventory_common::corpus_dir() else {
        return;
    };
    let rows = inventory_common::structural_rows(&corpus, "kubernetes");
    assert_eq!(rows.len(), 5);
    let mut failures = Vec::new();
    for row in &rows {
        let path = corpus.join("kubernetes").join(&row.file);
        let report = match inventory_common::parse_file(FORMAT, &path) {
            Ok(report) => report,
            Err(error) => {
                failures.push(format!("{}: {error}", row.file));
                continue;
            }
        };
        assert_assets_unique(&report);
        let workloads: Vec<&str> = report
            .assets
            .iter()
            .filter(|a| a.kind == AssetKind::KubernetesWorkload)
            .filter_map(|a| a.attributes.get("k8s_kind").map(String::as_str))
            .collect();
        for (fact, value) in &row.facts {
            let ok = match fact.as_str() {
                // One workload per document in these files.
                "YAML docs" => value.parse() == Ok(workloads.len()),
                "kinds" => *value == format!("{:?}", workloads).replace('"', "'"),
                other => {
                    failures.push(format!("{}: no check for the fact {other}", row.file));
                    continue;
                }
            };
            if !ok {
                failures.push(format!("{}: {fact}={value}, found workloads {workloads:?}", row.file));
            }
        }
        // None of these pods sets a field that the findings look for.
        if !report.findings.is_empty() {
            failures.push(format!("{}: unexpected findings {:?}", row.file, findings(&report)));
        }
    }
    assert!(failures.is_empty(), "structural facts:\n{}", failures.join("\n"));
}

#[test]
fn corpus_spot_checks() {
    let Some(corpus) = inventory_common::corpus_dir() else {
        return;
    };
    let file = |name: &str| {
        inventory_common::parse_file(FORMAT, &corpus.join("kubernetes").join(name)).unwrap_or_else(|e| panic!("{e}"))
    };
    let limited = file("trivy_limited-pod.yaml");
    assert!(has_edge(
        &limited,
        "kubernetes_workload:k8s:limitedns/Pod/limited-pod",
        RelationshipKind::RunsOn,
        "container_image:nginx:1.14.2"
    ));
    let evil = file("trivy_misconfig_multiple-failures.yaml");
    let pod = asset(&evil, "kubernetes_workload:k8s:default/Pod/evil-pod");
    assert_eq!(
        pod.attributes.get("containers").map(String::as_str),
        Some("evil1,evil2")
    );
    let nginx = file("trivy_test_nginx.yaml");
    let deployment = asset(&nginx, "kubernetes_workload:k8s:default/Deployment/nginx-deployment");
    assert_eq!(deployment.tags, ["label:app=nginx"]);
}

#[test]
fn corpus_detection_is_exclusive() {
    inventory_common::check_detection_everywhere(FORMAT, |folder, _| folder == "kubernetes");
}
