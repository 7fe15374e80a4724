use ctem_model::Criticality;

use super::*;

/// A small BloodHound collection: a user who is admin of a server, and a
/// group the user belongs to, joined by name and by id.
const FIXTURE: &str = r#"{
  "metadata": { "source_kind": "Example" },
  "graph": {
    "nodes": [
      { "id": "S-1-5-21-1", "kinds": ["User", "Base"], "properties": { "name": "ALICE@CORP.EXAMPLE", "objectid": "S-1-5-21-1" } },
      { "id": "S-1-5-21-2", "kinds": ["Computer", "Base"], "properties": { "name": "web01.corp.example" } },
      { "id": "S-1-5-21-3", "kinds": ["Group"], "properties": { "name": "Payroll Admins" } }
    ],
    "edges": [
      { "kind": "AdminTo", "start": { "value": "S-1-5-21-1" }, "end": { "value": "WEB01.corp.example", "match_by": "name", "kind": "Computer" } },
      { "kind": "MemberOf", "start": { "value": "S-1-5-21-1", "match_by": "id" }, "end": { "value": "S-1-5-21-3" }, "properties": { "probability": 0.5 } }
    ]
  }
}"#;

fn inventory() -> Vec<Asset> {
    let mut web = Asset::new(AssetKind::Host, "10.0.0.5", "web01.corp.example");
    web.add_identifier("ip", "10.0.0.5");
    let mut alice = Asset::new(AssetKind::Identity, "ad:alice", "alice");
    alice.add_identifier("sid", "S-1-5-21-1");
    alice.criticality = Some(Criticality::High);
    vec![web, alice]
}

fn import(text: &str) -> Result<(ImportSummary, AttackGraph), ImportError> {
    let mut builder = GraphBuilder::new();
    let summary = import_opengraph(text, &inventory(), &mut builder, &ImportLimits::default())?;
    Ok((summary, builder.build()))
}

fn labels(graph: &AttackGraph) -> Vec<(String, String, f32)> {
    let mut edges: Vec<_> = graph
        .edges
        .iter()
        .map(|edge| (graph.node_label(edge.from), graph.node_label(edge.to), edge.probability))
        .collect();
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    edges
}

#[test]
fn import_joins_inventory_assets() {
    let (summary, graph) = import(FIXTURE).expect("imports");
    assert_eq!(
        summary,
        ImportSummary {
            nodes: 3,
            edges: 2,
            joined: 2
        }
    );
    assert_eq!(
        labels(&graph),
        [
            (
                "identity:ad:alice/control".to_string(),
                "host:10.0.0.5/execute_root".to_string(),
                0.8
            ),
            (
                "identity:ad:alice/control".to_string(),
                "identity:bloodhound:S-1-5-21-3/control".to_string(),
                0.5
            ),
        ]
    );
    assert!(graph.edges.iter().all(|edge| edge.kind == EdgeKind::Imported));
    assert_eq!(
        graph.fixes[0],
        FixRef::Configuration {
            asset: AssetKey::new(AssetKind::Identity, "ad:alice"),
            change: "remove the BloodHound AdminTo relationship to web01.corp.example".into(),
        }
    );
}

#[test]
fn unjoined_computer_becomes_host() {
    let text = FIXTURE
        .replace("web01.corp.example", "db02.corp.example")
        .replace("WEB01.corp.example", "DB02.corp.example");
    let (summary, graph) = import(&text).expect("imports");
    assert_eq!(summary.joined, 1);
    assert!(graph.assets.iter().any(|a| a.key.as_str() == "host:db02.corp.example"));
}

#[test]
fn export_then_import_keeps_edges() {
    let mut builder = GraphBuilder::new();
    let db = builder.asset(AssetInfo {
        key: AssetKey::new(AssetKind::DataStore, "arn:aws:s3:::payroll"),
        name: "payroll".into(),
        kind: AssetKind::DataStore,
        criticality: Some(Criticality::CrownJewel),
    });
    let write = builder.node_of(db, Capability::Write);
    builder.edge(
        AttackGraph::INTERNET,
        write,
        NewEdge {
            kind: EdgeKind::Permission,
            technique: Some("T1530"),
            probability: 0.25,
            evidence: Evidence::Permitted,
            fixes: Vec::new(),
        },
    );
    let exported = to_opengraph(&builder.build());
    assert_eq!(exported.graph.nodes[1].id, "data_store:arn:aws:s3:::payroll/write");
    assert_eq!(exported.graph.nodes[1].kinds, ["CTEM_Write", "CTEM_Node"]);
    assert_eq!(exported.graph.nodes[1].properties["crown_jewel"], Value::Bool(true));
    assert_eq!(exported.graph.edges[0].kind, "CTEM_Permission");
    assert_eq!(exported.graph.edges[0].properties["technique"], "T1530");
    let text = serde_json::to_string(&exported).unwrap();
    assert!(
        text.contains(r#""start":{"value":"other:internet/internet","match_by":"id"}"#),
        "{text}"
    );

    let known = vec![{
        let mut asset = Asset::new(AssetKind::DataStore, "arn:aws:s3:::payroll", "payroll");
        asset.criticality = Some(Criticality::CrownJewel);
        asset
    }];
    let mut again = GraphBuilder::new();
    let summary = import_opengraph(&text, &known, &mut again, &ImportLimits::default()).unwrap();
    assert_eq!(summary.edges, 1);
    assert_eq!(
        summary.joined, 0,
        "node ids carry the capability, so they are no asset keys"
    );
    let graph = again.build();
    assert_eq!(graph.edges[0].probability, 0.25);
}

#[test]
fn import_joins_exported_objectid_by_name() {
    // The name property of an exported node is "payroll (write)"; an
    // inventory asset of that name joins, as a name match.
    let text = r#"{"graph":{"nodes":[{"id":"a","kinds":["User"],"properties":{"name":"payroll (write)"}},
        {"id":"b","kinds":["User"]}],"edges":[{"kind":"X","start":{"value":"b"},"end":{"value":"a"}}]}}"#;
    let known = vec![Asset::new(AssetKind::DataStore, "s3:payroll", "Payroll (Write)")];
    let mut builder = GraphBuilder::new();
    let summary = import_opengraph(text, &known, &mut builder, &ImportLimits::default()).unwrap();
    assert_eq!(summary.joined, 1);
    let graph = builder.build();
    assert_eq!(graph.node_label(graph.edges[0].to), "data_store:s3:payroll/write");
}

#[test]
fn malformed_json_names_line_and_column() {
    let text = "{\n  \"graph\": {\n    \"nodes\": [ { \"id\": 5 } ]\n  }\n}";
    match import(text) {
        Err(ImportError::Json { line, column, message }) => {
            assert_eq!(line, 3);
            assert_eq!(column, 24);
            assert!(message.contains("invalid type: integer `5`"), "{message}");
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn missing_field_is_reported() {
    let text = r#"{"graph":{"nodes":[{"id":"a"}]}}"#;
    let error = import(text).unwrap_err();
    assert!(error.to_string().contains("missing field `kinds`"), "{error}");
    assert!(error.to_string().contains("line 1"), "{error}");
}

#[test]
fn truncated_file_is_reported() {
    let cut = &FIXTURE[..FIXTURE.len() / 2];
    match import(cut) {
        Err(ImportError::Json { message, .. }) => assert!(message.contains("may be truncated"), "{message}"),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn byte_order_mark_is_skipped() {
    let text = format!("\u{feff}{FIXTURE}");
    let (plain_summary, plain_graph) = import(FIXTURE).unwrap();
    let (summary, graph) = import(&text).unwrap();
    assert_eq!(summary, plain_summary);
    assert_eq!(labels(&graph), labels(&plain_graph));
}

#[test]
fn json_error_names_position_once() {
    let error = import(r#"{"graph": {"nodes": [}}"#).unwrap_err().to_string();
    assert_eq!(error.matches("line 1").count(), 1, "{error}");
}

#[test]
fn unknown_match_by_is_rejected() {
    let text = FIXTURE.replace(r#""match_by": "name""#, r#""match_by": "objectid""#);
    let error = import(&text).unwrap_err();
    assert!(matches!(error, ImportError::Json { .. }), "{error}");
    assert!(error.to_string().contains("unknown variant `objectid`"), "{error}");
}

#[test]
fn unknown_node_names_edge() {
    let text = FIXTURE.replace(r#""value": "S-1-5-21-3""#, r#""value": "S-1-5-21-9""#);
    assert_eq!(
        import(&text).unwrap_err(),
        ImportError::UnknownNode {
            path: "graph.edges[1].end".into(),
            value: "S-1-5-21-9".into()
        }
    );
}

#[test]
fn kind_filter_applies() {
    let text = FIXTURE.replace(r#""kind": "Computer""#, r#""kind": "User""#);
    let error = import(&text).unwrap_err();
    assert_eq!(
        error,
        ImportError::UnknownNode {
            path: "graph.edges[0].end".into(),
            value: "WEB01.corp.example".into()
        }
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let text = FIXTURE.replace(r#""id": "S-1-5-21-3""#, r#""id": "S-1-5-21-1""#);
    let error = import(&text).unwrap_err();
    assert!(
        matches!(&error, ImportError::Invalid { path, .. } if path == "graph.nodes[2].id"),
        "{error}"
    );
}

#[test]
fn bad_probability_is_rejected() {
    let text = FIXTURE.replace(r#""probability": 0.5"#, r#""probability": 7"#);
    let error = import(&text).unwrap_err();
    assert!(
        matches!(&error, ImportError::Invalid { path, .. } if path == "graph.edges[1].properties.probability"),
        "{error}"
    );
}

#[test]
fn deep_nesting_is_rejected() {
    let deep = format!(
        r#"{{"graph":{{"nodes":[{{"id":"a","kinds":["User"],"properties":{{"x":{}{}}}}}]}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    match import(&deep) {
        Err(ImportError::Json { message, .. }) => assert!(message.contains("recursion limit"), "{message}"),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn huge_strings_are_rejected() {
    let huge = "A".repeat(100_000);
    let text = FIXTURE.replace("ALICE@CORP.EXAMPLE", &huge);
    let error = import(&text).unwrap_err();
    assert_eq!(
        error,
        ImportError::Invalid {
            path: "graph.nodes[0].properties.name".into(),
            message: "the value has 100000 bytes, more than 1024".into()
        }
    );
}

#[test]
fn size_and_count_limits_apply() {
    let mut builder = GraphBuilder::new();
    let small = ImportLimits {
        max_bytes: 100,
        ..ImportLimits::default()
    };
    assert_eq!(
        import_opengraph(FIXTURE, &[], &mut builder, &small).unwrap_err(),
        ImportError::TooLarge {
            bytes: FIXTURE.len(),
            limit: 100
        }
    );
    let few = ImportLimits {
        max_edges: 1,
        ..ImportLimits::default()
    };
    assert_eq!(
        import_opengraph(FIXTURE, &[], &mut builder, &few).unwrap_err(),
        ImportError::TooMany {
            what: "edges",
            count: 2,
            limit: 1
        }
    );
}

#[test]
fn empty_graph_imports_nothing() {
    let (summary, graph) = import(r#"{"graph":{}}"#).unwrap();
    assert_eq!(summary.edges, 0);
    assert_eq!(graph.node_count(), 1);
}
