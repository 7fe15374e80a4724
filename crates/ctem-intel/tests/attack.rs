//! CTID mappings of CVEs to ATT&CK techniques and the ATT&CK catalog from
//! STIX bundles, against the published KEV mappings, small fixtures and
//! malformed, truncated and hostile inputs.

mod common;

use chrono::NaiveDate;
use common::{fixture, shared_dir};
use ctem_intel::{AttackCatalog, CtidMappings, IntelError, MappingType, SourceKind, TechniqueId};
use ctem_model::CveId;

fn cve(text: &str) -> CveId {
    text.parse().expect("valid CVE id in test")
}

fn technique(text: &str) -> TechniqueId {
    text.parse().expect("valid technique id in test")
}

/// Returns the (technique, mapping type) pairs of a CVE, sorted.
fn pairs(mappings: &CtidMappings, id: &str) -> Vec<(String, MappingType)> {
    let mut pairs: Vec<(String, MappingType)> = mappings
        .get(&cve(id))
        .iter()
        .map(|fact| (fact.value.id.to_string(), fact.value.mapping_type))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn shared_kev_mappings_load() {
    let Some(shared) = shared_dir("shared_kev_mappings_load") else {
        return;
    };
    let path = shared.join("intel/ctid/kev-07.28.2025_attack-16.1-enterprise.json");
    let mappings = CtidMappings::load(&path).unwrap();
    assert_eq!(mappings.len(), 419);
    assert_eq!(mappings.mapping_count(), 1183);
    assert_eq!(mappings.attack_version(), "16.1");
    assert_eq!(mappings.technology_domain(), Some("enterprise"));
    assert_eq!(mappings.framework(), Some("kev"));
    assert_eq!(mappings.date(), NaiveDate::from_ymd_opt(2025, 8, 28));
}

#[test]
fn shared_confluence_cve_techniques() {
    let Some(shared) = shared_dir("shared_confluence_cve_techniques") else {
        return;
    };
    let path = shared.join("intel/ctid/kev-07.28.2025_attack-16.1-enterprise.json");
    let mappings = CtidMappings::load(&path).unwrap();

    let expected = vec![
        ("T1059".to_string(), MappingType::SecondaryImpact),
        ("T1059.007".to_string(), MappingType::PrimaryImpact),
        ("T1078".to_string(), MappingType::SecondaryImpact),
        ("T1136".to_string(), MappingType::PrimaryImpact),
        ("T1190".to_string(), MappingType::ExploitationTechnique),
    ];
    assert_eq!(pairs(&mappings, "CVE-2023-22515"), expected);

    let facts = mappings.get(&cve("CVE-2023-22515"));
    let exploit = facts.iter().find(|fact| fact.value.id.as_str() == "T1190").unwrap();
    assert_eq!(exploit.value.name, "Exploit Public-Facing Application");
    assert_eq!(exploit.value.attack_version, "16.1");
    assert!(exploit.value.comments.contains("Storm-0062"));
    assert_eq!(exploit.value.references.len(), 2);
    assert_eq!(exploit.source.kind, SourceKind::CtidMappings);
    assert_eq!(exploit.source.date, NaiveDate::from_ymd_opt(2025, 8, 28));
    assert_eq!(exploit.source.path, path.display().to_string());
}

#[test]
fn ctid_small_file() {
    let mappings = CtidMappings::load(fixture("attack/ctid_small.json")).unwrap();
    assert_eq!(mappings.len(), 2, "the non_mappable CVE has no technique");
    assert_eq!(mappings.mapping_count(), 4, "the duplicate is kept once");
    assert_eq!(mappings.framework_version(), Some("07/28/2025"));
    assert!(mappings.get(&cve("CVE-2020-0601")).is_empty());

    let expected = vec![
        ("T1059.004".to_string(), MappingType::PrimaryImpact),
        ("T1059.004".to_string(), MappingType::SecondaryImpact),
        ("T1190".to_string(), MappingType::ExploitationTechnique),
    ];
    assert_eq!(pairs(&mappings, "CVE-2021-44228"), expected);
    assert_eq!(
        pairs(&mappings, "CVE-2024-3400"),
        [("T1068".to_string(), MappingType::Uncategorized)]
    );
}

#[test]
fn ctid_keeps_file_order() {
    let mappings = CtidMappings::load(fixture("attack/ctid_small.json")).unwrap();
    let types: Vec<MappingType> = mappings
        .get(&cve("CVE-2021-44228"))
        .iter()
        .map(|fact| fact.value.mapping_type)
        .collect();
    let expected = [
        MappingType::ExploitationTechnique,
        MappingType::PrimaryImpact,
        MappingType::SecondaryImpact,
    ];
    assert_eq!(types, expected);
}

#[test]
fn ctid_fields_of_fact() {
    let mappings = CtidMappings::load(fixture("attack/ctid_small.json")).unwrap();
    let facts = mappings.get(&cve("CVE-2021-44228"));
    let first = &facts[0].value;
    assert_eq!(first.name, "Exploit Public-Facing Application");
    assert!(first.comments.starts_with("Attackers send"));
    assert_eq!(first.references, ["https://logging.apache.org/log4j/2.x/security.html"]);
    let last = &facts[2].value;
    assert!(last.comments.is_empty(), "null comments read as empty");
    assert!(last.references.is_empty());
}

#[test]
fn ctid_date_falls_back_to_creation() {
    let mappings = CtidMappings::load(fixture("attack/ctid_creation_date_only.json")).unwrap();
    assert_eq!(mappings.date(), NaiveDate::from_ymd_opt(2025, 7, 28));
}

/// Loads an invalid CTID fixture; the error must name the file.
fn ctid_error(name: &str) -> (IntelError, String) {
    let path = fixture(&format!("attack/{name}"));
    let error = CtidMappings::load(&path).expect_err("the fixture is invalid");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "names the file: {message}"
    );
    (error, message)
}

/// Asserts that an error is [`IntelError::Invalid`] at `location`.
fn assert_invalid_at(error: &IntelError, expected: &str) {
    let IntelError::Invalid { location, .. } = error else {
        panic!("expected an invalid field: {error}");
    };
    assert_eq!(location, expected, "{error}");
}

#[test]
fn ctid_rejects_bad_cve() {
    let (error, message) = ctid_error("ctid_bad_cve.json");
    assert_invalid_at(&error, "mapping_objects[1].capability_id");
    assert!(message.contains("\"CVE-21-44228\""), "{message}");
}

#[test]
fn ctid_rejects_bad_technique() {
    let (error, message) = ctid_error("ctid_bad_technique.json");
    assert_invalid_at(&error, "mapping_objects[1].attack_object_id");
    assert!(message.contains("\"TA0001\""), "{message}");
}

#[test]
fn ctid_rejects_unknown_mapping_type() {
    let (error, message) = ctid_error("ctid_unknown_mapping_type.json");
    assert_invalid_at(&error, "mapping_objects[1].mapping_type");
    assert!(message.contains("\"tertiary_impact\""), "{message}");
    assert!(
        message.contains("exploitation_technique"),
        "lists the known types: {message}"
    );
}

#[test]
fn ctid_rejects_wrong_type() {
    let (error, message) = ctid_error("ctid_wrong_type.json");
    assert_invalid_at(&error, "mapping_objects[1].attack_object_id");
    assert!(message.contains("expected a string, found a number 1190"), "{message}");
}

#[test]
fn ctid_rejects_references_string() {
    let (error, _) = ctid_error("ctid_references_not_list.json");
    assert_invalid_at(&error, "mapping_objects[0].references");
}

#[test]
fn ctid_rejects_missing_name() {
    let (error, message) = ctid_error("ctid_missing_name.json");
    assert_invalid_at(&error, "mapping_objects[4].attack_object_name");
    assert!(message.contains("missing"), "{message}");
}

#[test]
fn ctid_rejects_missing_technique() {
    let (error, message) = ctid_error("ctid_missing_technique.json");
    assert_invalid_at(&error, "mapping_objects[4].attack_object_id");
    assert!(message.contains("non_mappable"), "{message}");
}

#[test]
fn ctid_rejects_bad_date() {
    let (error, message) = ctid_error("ctid_bad_date.json");
    assert_invalid_at(&error, "metadata.last_update");
    assert!(message.contains("MM/DD/YYYY"), "{message}");
}

#[test]
fn ctid_rejects_missing_parts() {
    for (name, reason) in [
        ("ctid_no_metadata.json", "metadata"),
        ("ctid_no_attack_version.json", "attack_version"),
    ] {
        let (error, message) = ctid_error(name);
        assert!(matches!(error, IntelError::NotFormat { .. }), "{name}: {message}");
        assert!(message.contains(reason), "{name}: {message}");
    }
}

#[test]
fn ctid_rejects_objects_map() {
    let (error, message) = ctid_error("ctid_objects_not_array.json");
    assert!(matches!(error, IntelError::Json { .. }), "{message}");
    assert!(message.contains("unexpected value"), "{message}");
}

#[test]
fn ctid_rejects_truncated() {
    let (error, message) = ctid_error("ctid_truncated.json");
    assert!(matches!(error, IntelError::Json { .. }), "{message}");
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn ctid_rejects_malformed() {
    let (error, message) = ctid_error("ctid_malformed.json");
    let IntelError::Json { line, .. } = error else {
        panic!("expected a JSON error: {message}");
    };
    assert_eq!(line, 28, "{message}");
    assert!(message.contains("invalid JSON"), "{message}");
}

#[test]
fn ctid_rejects_deep_nesting() {
    let json = format!("{{\"metadata\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let error = CtidMappings::from_reader("deep.json", json.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
}

#[test]
fn ctid_shortens_huge_values() {
    let json = format!(
        r#"{{"metadata": {{"attack_version": "16.1"}}, "mapping_objects": [{{"capability_id": "{}",
        "mapping_type": "primary_impact", "attack_object_id": "T1190", "attack_object_name": "x"}}]}}"#,
        "A".repeat(1_000_000)
    );
    let error = CtidMappings::from_reader("huge.json", json.as_bytes()).unwrap_err();
    assert_invalid_at(&error, "mapping_objects[0].capability_id");
    assert!(error.to_string().len() < 400, "the message stays short");
}

#[test]
fn ctid_rejects_empty_input() {
    let error = CtidMappings::from_reader("empty.json", &b""[..]).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
}

#[test]
fn catalog_small_bundle() {
    let catalog = AttackCatalog::load(fixture("attack/enterprise_small.json")).unwrap();
    assert_eq!(catalog.version(), Some("16.1"));
    assert_eq!(
        catalog.len(),
        5,
        "T1190, T1059, T1059.004, T1078 and the deprecated T1064"
    );
    assert_eq!(catalog.tactics().len(), 3);
    assert!(catalog.path().ends_with("enterprise_small.json"));

    let exploit = catalog.technique(&technique("T1190")).unwrap();
    assert_eq!(exploit.name, "Exploit Public-Facing Application");
    assert_eq!(exploit.tactics, ["initial-access"]);
    assert_eq!(
        exploit.url.as_deref(),
        Some("https://attack.mitre.org/techniques/T1190")
    );
    assert!(exploit.is_current());
    assert_eq!(catalog.name(&technique("T1059.004")), Some("Unix Shell"));
}

#[test]
fn catalog_names_tactics() {
    let catalog = AttackCatalog::load(fixture("attack/enterprise_small.json")).unwrap();
    let initial = catalog.tactic("initial-access").unwrap();
    assert_eq!(initial.id, "TA0001");
    assert_eq!(initial.name, "Initial Access");
    assert_eq!(initial.url.as_deref(), Some("https://attack.mitre.org/tactics/TA0001"));

    // The bundle defines three of the four tactics of Valid Accounts.
    let names: Vec<&str> = catalog
        .tactics_of(&technique("T1078"))
        .iter()
        .map(|tactic| tactic.name.as_str())
        .collect();
    assert_eq!(names, ["Persistence", "Initial Access"]);
    assert_eq!(catalog.technique(&technique("T1078")).unwrap().tactics.len(), 4);
    assert!(catalog.tactics_of(&technique("T9999")).is_empty());
}

#[test]
fn catalog_prefers_current_over_revoked() {
    let catalog = AttackCatalog::load(fixture("attack/enterprise_small.json")).unwrap();
    let accounts = catalog.technique(&technique("T1078")).unwrap();
    assert_eq!(accounts.name, "Valid Accounts");
    assert!(!accounts.revoked);
}

#[test]
fn catalog_marks_deprecated() {
    let catalog = AttackCatalog::load(fixture("attack/enterprise_small.json")).unwrap();
    let scripting = catalog.technique(&technique("T1064")).unwrap();
    assert!(scripting.deprecated);
    assert!(!scripting.is_current());
}

#[test]
fn catalog_names_ctid_techniques() {
    let catalog = AttackCatalog::load(fixture("attack/enterprise_small.json")).unwrap();
    let mappings = CtidMappings::load(fixture("attack/ctid_small.json")).unwrap();
    for fact in mappings.get(&cve("CVE-2021-44228")) {
        let entry = catalog
            .technique(&fact.value.id)
            .expect("the catalog has the technique");
        assert_eq!(entry.name, fact.value.name);
        assert_eq!(catalog.tactics_of(&fact.value.id).len(), 1, "{}", fact.value.id);
    }
}

/// Loads an invalid bundle fixture; the error must name the file.
fn stix_error(name: &str) -> (IntelError, String) {
    let path = fixture(&format!("attack/{name}"));
    let error = AttackCatalog::load(&path).expect_err("the fixture is invalid");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "names the file: {message}"
    );
    (error, message)
}

#[test]
fn stix_rejects_wrong_type() {
    let (error, message) = stix_error("stix_wrong_type.json");
    assert_invalid_at(&error, "objects[1].x_mitre_deprecated");
    assert!(message.contains("expected a boolean"), "{message}");
}

#[test]
fn stix_rejects_bad_technique_id() {
    let (error, message) = stix_error("stix_bad_technique_id.json");
    assert_invalid_at(&error, "objects[2].external_references");
    assert!(message.contains("\"T59\""), "{message}");
}

#[test]
fn stix_rejects_phases_string() {
    let (error, _) = stix_error("stix_phases_not_array.json");
    assert_invalid_at(&error, "objects[3].kill_chain_phases");
}

#[test]
fn stix_rejects_missing_name() {
    let (error, _) = stix_error("stix_missing_name.json");
    assert_invalid_at(&error, "objects[4].name");
}

#[test]
fn stix_rejects_non_object_entry() {
    let (error, message) = stix_error("stix_object_not_object.json");
    assert!(matches!(error, IntelError::Json { .. }), "{message}");
    assert!(message.contains("a STIX object"), "{message}");
}

#[test]
fn stix_rejects_other_documents() {
    for (name, reason) in [
        ("stix_not_bundle.json", "\"x-mitre-collection\""),
        ("stix_no_objects.json", "objects array is missing"),
    ] {
        let (error, message) = stix_error(name);
        assert!(matches!(error, IntelError::NotFormat { .. }), "{name}: {message}");
        assert!(message.contains(reason), "{name}: {message}");
    }
}

#[test]
fn stix_rejects_objects_map() {
    let (error, message) = stix_error("stix_objects_not_array.json");
    assert!(matches!(error, IntelError::Json { .. }), "{message}");
    assert!(message.contains("an array of STIX objects"), "{message}");
}

#[test]
fn stix_rejects_truncated() {
    let (error, message) = stix_error("stix_truncated.json");
    assert!(matches!(error, IntelError::Json { .. }), "{message}");
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn stix_rejects_deep_nesting() {
    let json = format!(
        "{{\"type\": \"bundle\", \"objects\": [{{\"type\": \"attack-pattern\", \"name\": {}{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let error = AttackCatalog::from_reader("deep.json", json.as_bytes()).unwrap_err();
    assert!(matches!(error, IntelError::Json { .. }), "{error}");
    assert!(error.to_string().contains("recursion limit"), "{error}");
}

#[test]
fn stix_skips_deep_unread_field() {
    // serde_json skips an unread value without recursion, so depth costs no stack.
    let json = format!(
        "{{\"type\": \"bundle\", \"objects\": [{{\"type\": \"note\", \"x\": {}{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let catalog = AttackCatalog::from_reader("deep.json", json.as_bytes()).unwrap();
    assert!(catalog.is_empty());
}

#[test]
fn stix_rejects_top_level_array() {
    let error = AttackCatalog::from_reader("array.json", &b"[]"[..]).unwrap_err();
    assert!(error.to_string().contains("a STIX 2.1 bundle object"), "{error}");
}

#[test]
fn stix_streams_many_objects() {
    // 200,000 skipped objects and 10,000 techniques: the catalog keeps only the techniques.
    let mut json = String::from("{\"objects\": [");
    for index in 0..200_000 {
        json.push_str(&format!(
            "{{\"type\": \"relationship\", \"id\": \"relationship--{index}\", \"description\": \"{}\"}},",
            "x".repeat(64)
        ));
    }
    for index in 0..10_000 {
        json.push_str(&format!(
            "{{\"type\": \"attack-pattern\", \"name\": \"T{index}\", \"external_references\": \
             [{{\"source_name\": \"mitre-attack\", \"external_id\": \"T{:04}.{:03}\"}}]}},",
            index / 1000 + 1000,
            index % 1000
        ));
    }
    json.pop();
    json.push_str("], \"type\": \"bundle\"}");

    let catalog = AttackCatalog::from_reader("many.json", json.as_bytes()).unwrap();
    assert_eq!(catalog.len(), 10_000);
    assert_eq!(catalog.name(&technique("T1009.999")), Some("T9999"));
}
