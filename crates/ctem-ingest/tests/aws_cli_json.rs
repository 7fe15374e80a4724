//! Tests of the AWS CLI export parser: fixtures of every command it reads,
//! hostile input, and the structural facts of the shared corpus.

mod inventory_common;

use std::collections::BTreeSet;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find, parse_bytes};
use ctem_model::{Asset, AssetKind, Finding, FindingKind, RelationshipKind, Severity};
use serde_json::json;

const FORMAT: &str = "aws-cli-json";

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

fn targets(report: &ParsedReport) -> Vec<&str> {
    assert!(
        report.targets.iter().all(|(tool, _)| tool == "aws"),
        "{:?}",
        report.targets
    );
    report.targets.iter().map(|(_, target)| target.as_str()).collect()
}

fn asset<'r>(report: &'r ParsedReport, key: &str) -> &'r Asset {
    report.assets.iter().find(|a| a.key.as_str() == key).unwrap_or_else(|| {
        panic!(
            "no asset {key} in {:?}",
            report.assets.iter().map(|a| &a.key).collect::<Vec<_>>()
        )
    })
}

fn attribute<'a>(asset: &'a Asset, name: &str) -> Option<&'a str> {
    asset.attributes.get(name).map(String::as_str)
}

fn identifiers<'a>(asset: &'a Asset, kind: &'a str) -> Vec<&'a str> {
    asset.identifier_values(kind).collect()
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

fn count_type(report: &ParsedReport, aws_type: &str) -> usize {
    report
        .assets
        .iter()
        .filter(|a| attribute(a, "aws_type") == Some(aws_type))
        .count()
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

const SHOP_ADMIN: &str = "cloud_resource:aws:ec2:security-group/sg-0a1b2c3d4e5f60718";
const SHOP_WEB_GROUP: &str = "cloud_resource:aws:ec2:security-group/sg-0b2c3d4e5f6071829";
const WEB_INSTANCE: &str = "cloud_resource:aws:ec2:instance/i-0aa11bb22cc33dd44";
const INTERNET: &str = "other:network:internet";

#[test]
fn empty_export_declares_default_target() {
    let report = parse_fixture("empty.json");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report), ["aws-cli-json:empty.json"]);
}

#[test]
fn one_group_snapshot() {
    let report = parse_fixture("one.json");
    assert_eq!(report.findings.len(), 1);
    assert_assets_unique(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_groups_snapshot() {
    let report = parse_fixture("many.json");
    assert_eq!(report.findings.len(), 4);
    assert_assets_unique(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn world_ssh_is_finding() {
    let report = parse_fixture("one.json");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "aws");
    assert_eq!(finding.rule_id, "aws-security-group-open-port");
    assert_eq!(finding.kind, FindingKind::Misconfiguration);
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.asset.as_str(), SHOP_ADMIN);
    assert_eq!(finding.location.port, Some(22));
    assert_eq!(finding.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        finding.title,
        "Security group shop-admin (sg-0a1b2c3d4e5f60718) allows SSH (22/tcp) from the internet"
    );
    let target = "aws:210987654321:vpc-0f1e2d3c4b5a69788:ec2-describe-security-groups";
    assert_eq!(finding.target.as_deref(), Some(target));
    assert_eq!(targets(&report), [target]);
}

#[test]
fn rule_sources_become_edges() {
    let report = parse_fixture("one.json");
    assert_eq!(
        edges(&report),
        [
            format!("{SHOP_ADMIN} MemberOf cloud_resource:aws:ec2:vpc/vpc-0f1e2d3c4b5a69788 - -"),
            format!("other:network:198.51.100.0/24 NetworkReach {SHOP_ADMIN} tcp 443"),
            format!("{INTERNET} NetworkReach {SHOP_ADMIN} tcp 22"),
        ]
    );
    let group = asset(&report, SHOP_ADMIN);
    assert_eq!(group.name, "shop-admin");
    assert_eq!(group.tags, ["tag:team=shop-platform"]);
    assert_eq!(identifiers(group, "account"), ["210987654321"]);
    assert_eq!(asset(&report, INTERNET).internet_exposed, Some(true));
}

#[test]
fn sensitive_ports_in_ranges() {
    let report = parse_fixture("many.json");
    let mut found: Vec<(String, Option<u16>)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.location.port))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("aws-security-group-open-all-ports".to_string(), None),
            ("aws-security-group-open-port".to_string(), Some(3306)),
            ("aws-security-group-open-port".to_string(), Some(3389)),
            ("aws-security-group-open-port".to_string(), Some(5432)),
        ]
    );
}

#[test]
fn port_ranges_shape_edges() {
    let report = parse_fixture("many.json");
    let lines = edges(&report);
    let web = |rest: &str| format!("{SHOP_WEB_GROUP} {rest}");
    let prefix = "cloud_resource:aws:ec2:prefix-list/pl-0e5f60718293a4b5c NetworkReach";
    for port in 8080..=8082 {
        assert!(
            lines.contains(&format!("{prefix} {} tcp {port}", SHOP_WEB_GROUP)),
            "{lines:#?}"
        );
    }
    assert!(lines.contains(&format!(
        "other:network:10.20.0.0/16 NetworkReach {}",
        web("udp:1024-65535 -")
    )));
    let load_test = "cloud_resource:aws:ec2:security-group/sg-0d4e5f60718293a4b";
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {load_test} all -")));
    let orders = "cloud_resource:aws:ec2:security-group/sg-0c3d4e5f607182930";
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {orders} icmp -")));
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {orders} tcp:3000-3400 -")));
    assert!(lines.contains(&format!("{SHOP_WEB_GROUP} NetworkReach {orders} tcp 5432")));
}

#[test]
fn groups_scope_by_vpc() {
    let report = parse_fixture("many.json");
    assert_eq!(
        targets(&report),
        [
            "aws:210987654321:vpc-0a9b8c7d6e5f40312:ec2-describe-security-groups",
            "aws:210987654321:vpc-0f1e2d3c4b5a69788:ec2-describe-security-groups",
        ]
    );
}

#[test]
fn instances_map() {
    let report = parse_fixture("instances.json");
    assert_assets_unique(&report);
    assert_eq!(targets(&report), ["aws:210987654321:eu-west-1:ec2-describe-instances"]);
    assert!(report.findings.is_empty());

    let web = asset(&report, WEB_INSTANCE);
    assert_eq!(web.kind, AssetKind::CloudResource);
    assert_eq!(web.name, "shop-web-1");
    assert_eq!(identifiers(web, "instance_id"), ["i-0aa11bb22cc33dd44"]);
    assert_eq!(identifiers(web, "public_ip"), ["203.0.113.25"]);
    assert_eq!(identifiers(web, "private_ip"), ["10.20.1.15", "10.20.1.16"]);
    assert_eq!(
        identifiers(web, "ip"),
        ["10.20.1.15", "203.0.113.25", "10.20.1.16", "2001:db8:20::15"]
    );
    assert_eq!(identifiers(web, "account"), ["210987654321"]);
    assert_eq!(identifiers(web, "eni_id"), ["eni-0123456789abcdef1"]);
    assert_eq!(attribute(web, "region"), Some("eu-west-1"));
    assert_eq!(attribute(web, "state"), Some("running"));
    assert_eq!(attribute(web, "instance_type"), Some("t3.medium"));
    assert_eq!(attribute(web, "metadata_http_tokens"), Some("optional"));
    assert_eq!(web.tags, ["tag:Name=shop-web-1", "tag:environment=production"]);
    // The rules of the instance's groups are in another export.
    assert_eq!(web.internet_exposed, None);

    assert!(has_edge(
        &report,
        WEB_INSTANCE,
        RelationshipKind::MemberOf,
        SHOP_WEB_GROUP
    ));
    assert!(has_edge(&report, WEB_INSTANCE, RelationshipKind::MemberOf, SHOP_ADMIN));
    assert!(has_edge(
        &report,
        WEB_INSTANCE,
        RelationshipKind::MemberOf,
        "cloud_resource:aws:ec2:subnet/subnet-0123abcd4567ef890"
    ));
    let profile = "identity:arn:aws:iam::210987654321:instance-profile/shop-web";
    assert!(has_edge(&report, WEB_INSTANCE, RelationshipKind::CanAssume, profile));

    let stopped = asset(&report, "cloud_resource:aws:ec2:instance/i-0ee55ff66aa77bb88");
    assert_eq!(stopped.name, "i-0ee55ff66aa77bb88");
    assert_eq!(attribute(stopped, "state"), Some("stopped"));
    assert!(identifiers(stopped, "public_dns").is_empty(), "empty names are skipped");
}

#[test]
fn instances_snapshot() {
    insta::assert_json_snapshot!("instances", normalized(&parse_fixture("instances.json")));
}

/// One resource has one key in every export that names it.
#[test]
fn keys_agree_across_exports() {
    let instances = parse_fixture("instances.json");
    let interfaces = parse_fixture("network-interfaces.json");
    let balancers = parse_fixture("elb-classic.json");
    let groups = parse_fixture("one.json");
    let subnets = parse_fixture("subnets.json");

    asset(&instances, WEB_INSTANCE);
    assert!(interfaces.relationships.iter().any(|r| r.to.as_str() == WEB_INSTANCE));
    assert!(balancers.relationships.iter().any(|r| r.to.as_str() == WEB_INSTANCE));
    asset(&groups, SHOP_ADMIN);
    asset(&instances, SHOP_ADMIN);
    let subnet = "cloud_resource:aws:ec2:subnet/subnet-0123abcd4567ef890";
    asset(&subnets, subnet);
    asset(&instances, subnet);
    asset(&interfaces, subnet);

    let profile = "identity:arn:aws:iam::210987654321:instance-profile/shop-web";
    asset(&parse_fixture("iam-authorization-details.json"), profile);
    asset(&instances, profile);

    let bucket = "data_store:arn:aws:s3:::shop-invoices";
    asset(&parse_fixture("s3-list-buckets.json"), bucket);
    asset(&parse_fixture("iam-authorization-details.json"), bucket);
}

#[test]
fn subnets_and_vpcs_map() {
    let report = parse_fixture("subnets.json");
    let public = asset(&report, "cloud_resource:aws:ec2:subnet/subnet-0123abcd4567ef890");
    assert_eq!(public.name, "shop-public-b");
    assert_eq!(attribute(public, "map_public_ip_on_launch"), Some("true"));
    assert_eq!(identifiers(public, "cidr"), ["10.20.1.0/24", "2001:db8:20::/64"]);
    assert_eq!(
        identifiers(public, "arn"),
        ["arn:aws:ec2:eu-west-1:210987654321:subnet/subnet-0123abcd4567ef890"]
    );
    let vpc = "cloud_resource:aws:ec2:vpc/vpc-0f1e2d3c4b5a69788";
    assert!(has_edge(
        &report,
        "cloud_resource:aws:ec2:subnet/subnet-0456abcd7890ef123",
        RelationshipKind::MemberOf,
        vpc
    ));
    assert_eq!(targets(&report), ["aws:210987654321:eu-west-1:ec2-describe-subnets"]);

    let vpcs = parse_fixture("vpcs.json");
    let production = asset(&vpcs, vpc);
    assert_eq!(production.name, "shop-production");
    assert_eq!(identifiers(production, "cidr"), ["10.20.0.0/16", "10.21.0.0/16"]);
    assert_eq!(attribute(production, "is_default"), Some("false"));
    assert_eq!(
        targets(&vpcs),
        ["aws:210987654321:vpc-0f1e2d3c4b5a69788:ec2-describe-vpcs"]
    );
}

#[test]
fn interface_routes_to_instance() {
    let report = parse_fixture("network-interfaces.json");
    let key = "cloud_resource:aws:ec2:network-interface/eni-0123456789abcdef1";
    assert!(has_edge(&report, key, RelationshipKind::RoutesTo, WEB_INSTANCE));
    assert!(has_edge(&report, key, RelationshipKind::MemberOf, SHOP_WEB_GROUP));
    let interface = asset(&report, key);
    assert_eq!(identifiers(interface, "public_ip"), ["203.0.113.25"]);
    assert_eq!(attribute(interface, "description"), Some("Primary network interface"));
}

#[test]
fn classic_balancer_maps() {
    let report = parse_fixture("elb-classic.json");
    assert_assets_unique(&report);
    let key = "cloud_resource:aws:unknown:eu-west-1:elb/shop-legacy";
    let balancer = asset(&report, key);
    assert_eq!(balancer.internet_exposed, Some(true));
    assert_eq!(
        identifiers(balancer, "dns"),
        ["shop-legacy-1234567890.eu-west-1.elb.amazonaws.com"]
    );
    let lines = edges(&report);
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {key} http 80")));
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {key} https 443")));
    assert!(lines.contains(&format!("{key} RoutesTo {WEB_INSTANCE} http 8080")));
    assert!(lines.contains(&format!("{key} MemberOf {SHOP_WEB_GROUP} - -")));

    let internal = "cloud_resource:aws:unknown:eu-west-1:elb/shop-batch";
    assert_eq!(asset(&report, internal).internet_exposed, Some(false));
    assert!(!report.relationships.iter().any(|r| r.to.as_str() == internal));
}

#[test]
fn elbv2_balancer_maps() {
    let report = parse_fixture("elbv2.json");
    let key =
        "cloud_resource:arn:aws:elasticloadbalancing:eu-west-1:210987654321:loadbalancer/app/shop-web/50dc6c495c0c9188";
    let balancer = asset(&report, key);
    assert_eq!(balancer.internet_exposed, Some(true));
    assert_eq!(attribute(balancer, "load_balancer_type"), Some("application"));
    assert_eq!(attribute(balancer, "state"), Some("active"));
    let lines = edges(&report);
    assert!(lines.contains(&format!("{INTERNET} NetworkReach {key} - -")));
    assert!(lines.contains(&format!("{key} MemberOf {SHOP_WEB_GROUP} - -")));
    assert_eq!(
        targets(&report),
        ["aws:210987654321:eu-west-1:elbv2-describe-load-balancers"]
    );
}

#[test]
fn iam_permissions_become_edges() {
    let report = parse_fixture("iam-authorization-details.json");
    assert_assets_unique(&report);
    let dana = "identity:arn:aws:iam::210987654321:user/dana.reyes";
    let deployer = "identity:arn:aws:iam::210987654321:role/deployer";
    let shop_web = "identity:arn:aws:iam::210987654321:role/shop-web";
    let support = "identity:arn:aws:iam::210987654321:group/teams/support";
    let invoices = "data_store:arn:aws:s3:::shop-invoices";
    let assets_bucket = "data_store:arn:aws:s3:::shop-static-assets";
    let orders = "data_store:arn:aws:dynamodb:eu-west-1:210987654321:table/orders";

    assert!(has_edge(&report, dana, RelationshipKind::CanAssume, deployer));
    assert!(
        has_edge(&report, dana, RelationshipKind::MemberOf, support),
        "group found by name, with its path"
    );
    assert!(has_edge(&report, support, RelationshipKind::CanRead, invoices));
    assert!(
        !has_edge(&report, support, RelationshipKind::CanWrite, invoices),
        "only the default version counts"
    );
    assert!(
        has_edge(&report, deployer, RelationshipKind::CanRead, assets_bucket),
        "URL-encoded document"
    );
    assert!(has_edge(&report, deployer, RelationshipKind::CanWrite, assets_bucket));
    assert!(has_edge(&report, shop_web, RelationshipKind::CanRead, orders));
    assert!(has_edge(&report, shop_web, RelationshipKind::CanWrite, orders));
    assert!(has_edge(&report, shop_web, RelationshipKind::CanRead, invoices));

    let root = "identity:arn:aws:iam::210987654321:root";
    let ci_runner = "identity:arn:aws:iam::109876543210:role/ci-runner";
    assert!(has_edge(&report, root, RelationshipKind::CanAssume, deployer));
    assert!(has_edge(&report, ci_runner, RelationshipKind::CanAssume, deployer));
    let ec2 = "identity:aws:service:ec2.amazonaws.com";
    assert!(has_edge(&report, ec2, RelationshipKind::CanAssume, shop_web));
    let profile = "identity:arn:aws:iam::210987654321:instance-profile/shop-web";
    assert!(has_edge(&report, profile, RelationshipKind::CanAssume, shop_web));

    let user = asset(&report, dana);
    assert_eq!(attribute(user, "groups"), Some("support"));
    assert_eq!(attribute(user, "inline_policies"), Some("assume-deployer"));
    assert_eq!(user.tags, ["tag:team=platform"]);
    let policy = asset(&report, "cloud_resource:arn:aws:iam::210987654321:policy/invoices-read");
    assert_eq!(attribute(policy, "aws_type"), Some("iam-policy"));
    assert_eq!(attribute(policy, "default_version_id"), Some("v2"));
    assert_eq!(
        targets(&report),
        ["aws:210987654321:iam-get-account-authorization-details"]
    );
}

#[test]
fn trust_in_anyone_is_finding() {
    let report = parse_fixture("iam-authorization-details.json");
    assert_eq!(
        report.findings.len(),
        1,
        "the conditional trust of deployer is no finding"
    );
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "aws-iam-role-trusts-any-principal");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(
        finding.asset.as_str(),
        "identity:arn:aws:iam::210987654321:role/vendor-audit"
    );
    assert_eq!(
        finding.title,
        "IAM role vendor-audit can be assumed by any AWS principal"
    );
}

#[test]
fn iam_snapshot() {
    insta::assert_json_snapshot!("iam", normalized(&parse_fixture("iam-authorization-details.json")));
}

fn credential_findings(report: &ParsedReport) -> Vec<String> {
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

#[test]
fn credential_report_findings() {
    let report = parse_fixture("credential-report.json");
    assert_eq!(
        credential_findings(&report),
        [
            "aws-iam-access-key-not-rotated medium identity:arn:aws:iam::210987654321:user/automation/ci-deployer access_key_1",
            "aws-iam-access-key-not-rotated medium identity:arn:aws:iam::210987654321:user/automation/ci-deployer access_key_2",
            "aws-iam-root-without-mfa critical identity:arn:aws:iam::210987654321:root -",
            "aws-iam-user-console-without-mfa high identity:arn:aws:iam::210987654321:user/sam.ortiz -",
        ]
    );
    let key_two = report
        .findings
        .iter()
        .find(|f| f.location.parameter.as_deref() == Some("access_key_2"))
        .expect("the key rotated 92 days before the report");
    assert_eq!(key_two.attributes.get("age_days").map(String::as_str), Some("92"));
    assert_eq!(targets(&report), ["aws:210987654321:iam-get-credential-report"]);
    let dana = asset(&report, "identity:arn:aws:iam::210987654321:user/dana.reyes");
    assert_eq!(attribute(dana, "mfa_active"), Some("true"));
    assert_eq!(attribute(dana, "password_next_rotation"), None, "N/A is no value");
}

/// The bare CSV has no generation time, so its latest date is used
/// instead, and the same keys are old.
#[test]
fn credential_report_csv_matches_json() {
    let csv = parse_fixture("credential-report.csv");
    let json = parse_fixture("credential-report.json");
    assert_eq!(credential_findings(&csv), credential_findings(&json));
    assert_eq!(csv.targets, json.targets);
}

#[test]
fn public_database_is_exposed() {
    let report = parse_fixture("rds.json");
    let key = "data_store:arn:aws:rds:eu-west-1:210987654321:db:orders";
    let database = asset(&report, key);
    assert_eq!(database.kind, AssetKind::DataStore);
    assert_eq!(database.internet_exposed, Some(true));
    assert_eq!(
        identifiers(database, "dns"),
        ["orders.c1x2y3z4.eu-west-1.rds.amazonaws.com"]
    );
    assert_eq!(attribute(database, "engine"), Some("postgres"));
    assert_eq!(attribute(database, "port"), Some("5432"));
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert_eq!(finding.rule_id, "aws-rds-publicly-accessible");
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.location.port, Some(5432));
    assert!(has_edge(
        &report,
        key,
        RelationshipKind::MemberOf,
        "cloud_resource:aws:ec2:security-group/sg-0c3d4e5f607182930"
    ));
}

#[test]
fn functions_assume_roles() {
    let report = parse_fixture("lambda.json");
    let resize = "cloud_resource:arn:aws:lambda:eu-west-1:210987654321:function:resize-images";
    assert!(has_edge(
        &report,
        resize,
        RelationshipKind::CanAssume,
        "identity:arn:aws:iam::210987654321:role/resize-images"
    ));
    assert!(has_edge(
        &report,
        resize,
        RelationshipKind::MemberOf,
        "cloud_resource:aws:ec2:subnet/subnet-0456abcd7890ef123"
    ));
    assert_eq!(attribute(asset(&report, resize), "runtime"), Some("python3.12"));
    assert_eq!(count_type(&report, "lambda-function"), 2);
    assert_eq!(count_type(&report, "iam-role"), 2);
}

#[test]
fn buckets_and_caller_map() {
    let report = parse_fixture("s3-list-buckets.json");
    assert_eq!(count_type(&report, "bucket"), 2);
    assert_eq!(
        asset(&report, "data_store:arn:aws:s3:::shop-invoices").name,
        "shop-invoices"
    );
    assert_eq!(
        targets(&report),
        ["aws:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef:s3api-list-buckets"]
    );

    let caller = parse_fixture("caller-identity.json");
    let identity = asset(
        &caller,
        "identity:arn:aws:sts::210987654321:assumed-role/inventory-reader/inventory",
    );
    assert_eq!(identifiers(identity, "account"), ["210987654321"]);
    assert_eq!(attribute(identity, "aws_type"), Some("sts-assumed-role"));
    assert_eq!(targets(&caller), ["aws:210987654321:sts-get-caller-identity"]);
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in [
        "one.json",
        "many.json",
        "instances.json",
        "network-interfaces.json",
        "subnets.json",
        "vpcs.json",
        "elb-classic.json",
        "elbv2.json",
        "iam-authorization-details.json",
        "credential-report.json",
        "credential-report.csv",
        "rds.json",
        "lambda.json",
        "s3-list-buckets.json",
        "caller-identity.json",
    ] {
        assert_eq!(parser.detect(&fixture(name)), Detection::Certain, "{name}");
        assert_eq!(
            ctem_ingest::detect(&fixture(name)).map(|p| p.info().id),
            Some(FORMAT),
            "{name}"
        );
    }
    assert_eq!(parser.detect(&fixture("empty.json")), Detection::Maybe);
    assert_eq!(parser.detect(br#"{"Buckets": [], "Extra": 1}"#), Detection::No);
    assert_eq!(
        parser.detect(br#"{"Account": "x", "Arn": "y", "UserId": "z"}"#),
        Detection::No
    );
    assert_eq!(parser.detect(br#"{"Content": "hello"}"#), Detection::No);
    assert_eq!(parser.detect(b"[{\"SecurityGroups\": []}]"), Detection::No);
}

#[test]
fn truncated_export_names_position() {
    let bytes = fixture("instances.json");
    let error = parse("cut.json", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { .. })), "{error}");
    assert!(error.to_string().starts_with("cut.json: line "), "{error}");
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.json", b"{\"Vpcs\": [{\"VpcId\": \"vpc-1\",, }]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 29 }));
}

#[test]
fn other_json_is_wrong_format() {
    let error = parse("trivy.json", br#"{"SchemaVersion": 2, "Results": []}"#).unwrap_err();
    assert!(error.message.contains("not an AWS CLI export"), "{}", error.message);
    assert!(error.message.contains("SchemaVersion, Results"), "{}", error.message);

    let error = parse("list.json", b"[1, 2]").unwrap_err();
    assert!(error.message.contains("expected a JSON object"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 1, column: 1 }));

    let error = parse("empty.json", b"  \n").unwrap_err();
    assert!(error.message.contains("empty"), "{}", error.message);
}

#[test]
fn wrong_field_type_is_rejected() {
    let error = parse(
        "types.json",
        br#"{"Subnets": [{"SubnetId": "subnet-1", "MapPublicIpOnLaunch": "yes"}]}"#,
    )
    .unwrap_err();
    assert!(error.message.contains("invalid type"), "{}", error.message);
}

#[test]
fn bad_credential_reports_are_rejected() {
    let error = parse("report.json", br#"{"Content": "!!!", "ReportFormat": "text/csv"}"#).unwrap_err();
    assert!(error.message.contains("neither CSV nor base64"), "{}", error.message);

    let error = parse(
        "report.json",
        br#"{"Content": "dXNlcixhcm4K", "ReportFormat": "application/pdf"}"#,
    )
    .unwrap_err();
    assert!(
        error.message.contains("unsupported credential report format"),
        "{}",
        error.message
    );

    let rows = "user,arn,password_enabled\nalice,arn:aws:iam::210987654321:user/alice,true\nbob,arn:aws:iam::210987654321:user/bob\n";
    let error = parse("report.csv", rows.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("2 fields where the header has 3"),
        "{}",
        error.message
    );
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));

    let error = parse("report.csv", b"user,name\nalice,Alice\n").unwrap_err();
    assert!(error.message.contains("no column \"arn\""), "{}", error.message);

    let error = parse(
        "report.csv",
        b"user,arn\nal\xffice,arn:aws:iam::210987654321:user/alice\n",
    )
    .unwrap_err();
    assert!(error.message.contains("not valid UTF-8"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn invalid_utf8_json_is_rejected() {
    let error = parse("latin1.json", b"{\"Vpcs\": [{\"VpcId\": \"vpc-\xe9\"}]}").unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn deep_nesting_errors() {
    let depth = 10_000;
    let text = format!(
        "{{\"Vpcs\": [{{\"Tags\": {}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let error = parse("deep.json", text.as_bytes()).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.position.is_some(), "{error}");
}

/// serde_json skips an unknown key without recursion, so depth there
/// costs no stack.
#[test]
fn deep_unknown_key_is_skipped() {
    let depth = 10_000;
    let text = format!(
        "{{\"Vpcs\": [{{\"VpcId\": \"vpc-1\", \"Extra\": {}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let report = parse("deep.json", text.as_bytes()).unwrap();
    assert_eq!(report.assets.len(), 1);
}

#[test]
fn long_line_parses() {
    let description = "x".repeat(4 * 1024 * 1024);
    let text = format!(r#"{{"Vpcs": [{{"VpcId": "vpc-1", "Tags": [{{"Key": "note", "Value": "{description}"}}]}}]}}"#);
    let report = parse("long.json", text.as_bytes()).unwrap();
    assert_eq!(report.assets[0].tags[0].len(), "tag:note=".len() + description.len());
}

#[test]
fn large_export_parses() {
    let count = 20_000;
    let mut text = String::from("{\"SecurityGroups\": [");
    for i in 0..count {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"GroupId": "sg-{i:017x}", "GroupName": "g{i}", "OwnerId": "210987654321", "VpcId": "vpc-0f1e2d3c4b5a69788",
               "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{{"CidrIp": "0.0.0.0/0"}}]}}]}}"#
        ));
    }
    text.push_str("]}");
    let report = parse("large.json", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), count);
    assert_eq!(count_type(&report, "security-group"), count);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), count);
}

/// Checks each structural fact of `STRUCTURAL_FACTS.tsv` against what the
/// parser read: a count of records against the assets of that type.
#[test]
fn corpus_structural_facts() {
    let Some(corpus) = inventory_common::corpus_dir() else {
        return;
    };
    let rows = inventory_common::structural_rows(&corpus, "aws_inventory");
    assert_eq!(rows.len(), 13);
    let mut failures = Vec::new();
    for row in &rows {
        let path = corpus.join("aws_inventory").join(&row.file);
        let report = match inventory_common::parse_file(FORMAT, &path) {
            Ok(report) => report,
            Err(error) => {
                failures.push(format!("{}: {error}", row.file));
                continue;
            }
        };
        assert_assets_unique(&report);
        for (fact, value) in &row.facts {
            let expected: Option<usize> = value.parse().ok();
            let found = match fact.as_str() {
                "Reservations" => report
                    .assets
                    .iter()
                    .filter_map(|a| attribute(a, "reservation_id"))
                    .collect::<BTreeSet<_>>()
                    .len(),
                "Instances" => count_type(&report, "instance"),
                "NetworkInterfaces" => count_type(&report, "network-interface"),
                "SecurityGroups" => count_type(&report, "security-group"),
                // Each rule of this file allows one port or all traffic,
                // and no two rules of a group allow the same port, so the
                // rules are the distinct (group, protocol, port) edges.
                "ingress rules" => report
                    .relationships
                    .iter()
                    .filter(|r| r.kind == RelationshipKind::NetworkReach)
                    .map(|r| (&r.to, &r.protocol, r.port))
                    .collect::<BTreeSet<_>>()
                    .len(),
                "Subnets" => count_type(&report, "subnet"),
                "Vpcs" => count_type(&report, "vpc"),
                "LoadBalancerDescriptions" | "LoadBalancers" => count_type(&report, "load-balancer"),
                "Users" => count_type(&report, "iam-user"),
                "Groups" => count_type(&report, "iam-group"),
                "Roles" => count_type(&report, "iam-role"),
                "Policies" => count_type(&report, "iam-policy"),
                "Functions" => count_type(&report, "lambda-function"),
                "DBInstances" => count_type(&report, "db-instance"),
                "Buckets" => count_type(&report, "bucket"),
                // The credential report's rows, one identity each.
                "Content" => usize::from(count_type(&report, "iam-user") + count_type(&report, "iam-root") == 3),
                "GeneratedTime" | "ReportFormat" => usize::from(!report.findings.is_empty()),
                "Owner" => usize::from(targets(&report)[0].starts_with("aws:ff023120a5d4")),
                "Account" | "Arn" | "UserId" => usize::from(
                    report
                        .assets
                        .iter()
                        .any(|a| a.kind == AssetKind::Identity && identifiers(a, "account") == ["123456789012"]),
                ),
                other => {
                    failures.push(format!("{}: no check for the fact {other}", row.file));
                    continue;
                }
            };
            let ok = match expected {
                Some(count) => found == count,
                None => found == 1,
            };
            if !ok {
                failures.push(format!("{}: {fact}={value}, found {found}", row.file));
            }
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
        inventory_common::parse_file(
            FORMAT,
            &corpus.join("aws_inventory").join(format!("cloudmapper-demo__{name}")),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };

    let instances = file("ec2-describe-instances.json");
    let bastion = asset(&instances, "cloud_resource:aws:ec2:instance/i-00000000000000000");
    assert_eq!(bastion.name, "Bastion");
    assert_eq!(identifiers(bastion, "public_ip"), ["1.2.3.4"]);
    assert_eq!(identifiers(bastion, "private_ip"), ["10.0.0.1"]);
    assert_eq!(attribute(bastion, "region"), Some("us-east-1"));

    let groups = file("ec2-describe-security-groups.json");
    assert!(groups.findings.is_empty(), "no sensitive port is open to the internet");
    assert!(has_edge(
        &groups,
        INTERNET,
        RelationshipKind::NetworkReach,
        "cloud_resource:aws:ec2:security-group/sg-00000003"
    ));

    let balancer = file("elb-describe-load-balancers.json");
    assert!(has_edge(
        &balancer,
        "cloud_resource:aws:unknown:us-east-1:elb/weblb",
        RelationshipKind::RoutesTo,
        "cloud_resource:aws:ec2:instance/i-00000000000000002"
    ));

    let iam = file("iam-get-account-authorization-details.json");
    assert_eq!(iam.findings.len(), 1);
    assert_eq!(
        iam.findings[0].asset.as_str(),
        "identity:arn:aws:iam::123456789012:role/bad_role"
    );
    assert!(has_edge(
        &iam,
        "identity:arn:aws:iam::123456789012:role/service-role/level1",
        RelationshipKind::CanRead,
        "data_store:arn:aws:s3:::level1.flaws2.cloud"
    ));

    let credentials = file("iam-get-credential-report.json");
    let rules: BTreeSet<_> = credentials.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            "aws-iam-access-key-not-rotated",
            "aws-iam-root-access-key",
            "aws-iam-user-console-without-mfa"
        ])
    );

    let database = file("rds-describe-db-instances.json");
    let db = asset(
        &database,
        "data_store:arn:aws:rds:us-east-1:123456789012:db:securitymonkey",
    );
    assert_eq!(db.internet_exposed, Some(false));
    assert!(database.findings.is_empty());
}

#[test]
fn corpus_detection_is_exclusive() {
    inventory_common::check_detection_everywhere(FORMAT, |folder, _| folder == "aws_inventory");
}
