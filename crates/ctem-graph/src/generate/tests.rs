use std::collections::HashSet;

use ctem_model::{AssetKind, CvssVector, FindingKind, RelationshipKind};

use super::*;

fn small(seed: u64) -> Environment {
    generate(&GenerateOptions::new(seed, 3_000))
}

#[test]
fn same_seed_same_environment() {
    let first = small(11);
    let second = small(11);
    assert_eq!(first.assets, second.assets);
    assert_eq!(first.relationships, second.relationships);
    assert_eq!(first.findings, second.findings);
    assert_eq!(first.fingerprints, second.fingerprints);
    assert_eq!(first.signals, second.signals);
}

#[test]
fn other_seed_other_environment() {
    let first = small(11);
    let second = small(12);
    assert_eq!(first.assets.len(), second.assets.len());
    assert_ne!(first.relationships, second.relationships);
    assert_ne!(first.fingerprints, second.fingerprints);
}

#[test]
fn asset_count_is_exact() {
    for assets in [1_000, 1_234, 10_000, 50_000] {
        let environment = generate(&GenerateOptions::new(5, assets));
        assert_eq!(environment.assets.len(), assets, "{assets} assets asked");
    }
    let raised = generate(&GenerateOptions::new(5, 10));
    assert_eq!(raised.assets.len(), MIN_ASSETS);
}

#[test]
fn records_grow_linearly() {
    let small = generate(&GenerateOptions::new(3, 10_000));
    let large = generate(&GenerateOptions::new(3, 100_000));
    let ratio = |a: usize, b: usize| b as f64 / a as f64;
    let relationships = ratio(small.relationships.len(), large.relationships.len());
    let findings = ratio(small.findings.len(), large.findings.len());
    assert!(
        (7.0..13.0).contains(&relationships),
        "relationships grew {relationships}x"
    );
    assert!((7.0..13.0).contains(&findings), "findings grew {findings}x");
}

#[test]
fn asset_keys_are_unique() {
    let environment = small(1);
    let keys: HashSet<_> = environment.assets.iter().map(|asset| &asset.key).collect();
    assert_eq!(keys.len(), environment.assets.len());
}

#[test]
fn keys_match_kinds() {
    for asset in &small(1).assets {
        assert_eq!(asset.key.kind(), Some(asset.kind), "{}", asset.key);
        assert_eq!(
            AssetKey::new(asset.kind, asset.key.identifier()),
            asset.key,
            "not normalized"
        );
    }
}

#[test]
fn relationship_ends_exist() {
    let environment = small(2);
    let keys: HashSet<_> = environment.assets.iter().map(|asset| &asset.key).collect();
    for relationship in &environment.relationships {
        assert!(keys.contains(&relationship.from), "missing from {}", relationship.from);
        assert!(keys.contains(&relationship.to), "missing to {}", relationship.to);
    }
}

#[test]
fn finding_assets_exist() {
    let environment = small(3);
    let keys: HashSet<_> = environment.assets.iter().map(|asset| &asset.key).collect();
    for finding in &environment.findings {
        assert!(keys.contains(&finding.asset), "missing {}", finding.asset);
        assert!(finding.target.is_some(), "{} has no target", finding.rule_id);
    }
}

#[test]
fn fingerprints_and_signals_align() {
    let environment = small(4);
    assert_eq!(environment.fingerprints.len(), environment.findings.len());
    assert_eq!(environment.signals.len(), environment.findings.len());
    for (finding, fingerprint) in environment.findings.iter().zip(&environment.fingerprints) {
        assert_eq!(finding.fingerprint().as_str(), fingerprint);
    }
    let distinct: HashSet<_> = environment.fingerprints.iter().collect();
    assert_eq!(distinct.len(), environment.fingerprints.len(), "duplicate findings");
}

#[test]
fn crown_jewels_are_data_stores() {
    let environment = small(5);
    let jewels: Vec<_> = environment.crown_jewels().collect();
    assert!(jewels.iter().any(|asset| asset.attributes["aws_type"] == "bucket"));
    assert!(jewels.iter().any(|asset| asset.attributes["aws_type"] == "db-instance"));
    assert!(jewels.iter().all(|asset| asset.kind == AssetKind::DataStore));
}

#[test]
fn internet_reaches_the_estate() {
    let environment = small(6);
    let internet = AssetKey::new(AssetKind::Other, fixed::INTERNET);
    let reached = |kind: AssetKind| {
        environment
            .relationships
            .iter()
            .any(|r| r.from == internet && r.kind == RelationshipKind::NetworkReach && r.to.kind() == Some(kind))
    };
    assert!(reached(AssetKind::CloudResource), "no security group or load balancer");
    assert!(reached(AssetKind::Service), "no Kubernetes service");
    let public_instances = environment
        .assets
        .iter()
        .filter(|asset| asset.identifier_values("public_ip").next().is_some())
        .count();
    assert!(public_instances > 0);
    let open_ssh = environment
        .findings
        .iter()
        .filter(|f| f.rule_id == "aws-security-group-open-port")
        .count();
    assert!(open_ssh > 0);
}

#[test]
fn every_part_is_present() {
    let environment = small(7);
    let kinds: HashSet<_> = environment.assets.iter().map(|asset| asset.kind).collect();
    for kind in [
        AssetKind::Host,
        AssetKind::Service,
        AssetKind::ContainerImage,
        AssetKind::Component,
        AssetKind::Repository,
        AssetKind::CloudResource,
        AssetKind::Identity,
        AssetKind::KubernetesWorkload,
        AssetKind::Credential,
        AssetKind::DataStore,
        AssetKind::Other,
    ] {
        assert!(kinds.contains(&kind), "no {kind} asset");
    }
    let relationship_kinds: HashSet<_> = environment.relationships.iter().map(|r| r.kind).collect();
    for kind in [
        RelationshipKind::NetworkReach,
        RelationshipKind::Hosts,
        RelationshipKind::RunsOn,
        RelationshipKind::Contains,
        RelationshipKind::Builds,
        RelationshipKind::CanAssume,
        RelationshipKind::HasCredential,
        RelationshipKind::CanRead,
        RelationshipKind::CanWrite,
        RelationshipKind::MemberOf,
        RelationshipKind::RoutesTo,
    ] {
        assert!(relationship_kinds.contains(&kind), "no {kind:?} relationship");
    }
    let finding_kinds: HashSet<_> = environment.findings.iter().map(|f| f.kind).collect();
    for kind in [
        FindingKind::Vulnerability,
        FindingKind::Misconfiguration,
        FindingKind::Secret,
        FindingKind::ExposedService,
    ] {
        assert!(finding_kinds.contains(&kind), "no {kind:?} finding");
    }
}

#[test]
fn vulnerabilities_have_realistic_signals() {
    let environment = generate(&GenerateOptions::new(8, 50_000));
    let vulnerabilities: Vec<usize> = (0..environment.findings.len())
        .filter(|&i| environment.findings[i].kind == FindingKind::Vulnerability)
        .collect();
    assert!(vulnerabilities.len() > 1_000);

    let vectors: Vec<&CvssVector> = vulnerabilities
        .iter()
        .map(|&i| environment.findings[i].cvss.first().expect("a vector"))
        .collect();
    let share =
        |part: &str| vectors.iter().filter(|v| v.to_string().contains(part)).count() as f64 / vectors.len() as f64;
    assert!((0.4..0.7).contains(&share("AV:N")), "AV:N share {}", share("AV:N"));
    assert!((0.2..0.5).contains(&share("AV:L")), "AV:L share {}", share("AV:L"));

    // Signals belong to CVEs, so count each CVE once.
    let mut by_cve = std::collections::HashMap::new();
    for &i in &vulnerabilities {
        let id = environment.findings[i].vulnerability_ids[0].as_str().to_string();
        by_cve.insert(id, environment.signals[i]);
    }
    let kev = by_cve.values().filter(|s| s.kev).count() as f64 / by_cve.len() as f64;
    assert!((0.003..0.04).contains(&kev), "KEV share {kev}");
    let mut epss: Vec<f64> = by_cve.values().filter_map(|s| s.epss).collect();
    epss.sort_by(f64::total_cmp);
    let median = epss[epss.len() / 2];
    assert!(median < 0.01, "EPSS median {median}");
    assert!(epss.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn input_borrows_everything() {
    let environment = small(9);
    let findings = environment.graph_findings();
    let input = environment.input(&findings);
    assert_eq!(input.assets.len(), environment.assets.len());
    assert_eq!(input.relationships.len(), environment.relationships.len());
    assert_eq!(input.findings.len(), environment.findings.len());
    assert_eq!(input.findings[0].fingerprint, environment.fingerprints[0]);
}

#[test]
fn native_document_round_trips() {
    let environment = small(10);
    let text = serde_json::to_string(&environment.native_document()).expect("serializes");
    let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
    assert_eq!(value["ctem_format"], "1");

    let assets: Vec<Asset> = serde_json::from_value(value["assets"].clone()).expect("assets");
    assert_eq!(assets, environment.assets);
    let relationships: Vec<Relationship> = serde_json::from_value(value["relationships"].clone()).expect("edges");
    assert_eq!(relationships, environment.relationships);
    let findings: Vec<Finding> = serde_json::from_value(value["findings"].clone()).expect("findings");
    assert_eq!(findings, environment.findings);

    let scopes: HashSet<(String, String)> = value["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|scope| {
            (
                scope["tool"].as_str().unwrap().into(),
                scope["target"].as_str().unwrap().into(),
            )
        })
        .collect();
    for finding in &environment.findings {
        let scope = (finding.tool.clone(), finding.target.clone().unwrap());
        assert!(scopes.contains(&scope), "no scope {scope:?}");
    }
}

#[test]
fn leaks_match_their_credentials() {
    let environment = small(13);
    let digests: HashSet<&str> = environment
        .assets
        .iter()
        .filter(|asset| asset.kind == AssetKind::Credential)
        .flat_map(|asset| asset.identifier_values("secret_sha256"))
        .collect();
    let leaks: Vec<_> = environment.findings.iter().filter_map(|f| f.secret.as_ref()).collect();
    assert!(!leaks.is_empty());
    for secret in leaks {
        assert!(digests.contains(secret.sha256.as_str()), "leak of no credential");
    }
}
