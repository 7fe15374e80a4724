//! SSVC decision tables: the built-in tables against the published CSVs,
//! decisions and outcome ranges, and user tables that are invalid.

mod common;

use std::path::Path;

use common::{fixture, shared_dir};
use ctem_intel::{BuiltinTable, DecisionTable, Inputs, SSVC_MAX_BYTES, SsvcError};

/// The published CSV of each built-in table, under `intel/ssvc` of the shared data.
const PUBLISHED: [(BuiltinTable, &str); 4] = [
    (BuiltinTable::CisaCoordinator, "cisa_coordinator_2_0_3.csv"),
    (
        BuiltinTable::DeployerPatchApplicationPriority,
        "deployer_patch_application_priority_1_0_0.csv",
    ),
    (BuiltinTable::HumanImpact, "human_impact_1_0_0.csv"),
    (BuiltinTable::CisaBod2604, "cisa_bod_26_04_1_0_0.csv"),
];

/// Splits a line of a published CSV, whose only quoted fields are header
/// names with commas.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(ch),
        }
    }
    fields.push(field);
    fields
}

/// Reads a published CSV: the header and the rows, each without the row number.
fn read_published(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header = split_csv_line(lines.next().expect("a header"));
    let rows: Vec<Vec<String>> = lines.map(|line| split_csv_line(line)[1..].to_vec()).collect();
    (header[1..].to_vec(), rows)
}

#[test]
fn builtin_tables_decide_published_rows() {
    let Some(shared) = shared_dir("builtin_tables_decide_published_rows") else {
        return;
    };
    for (builtin, file) in PUBLISHED {
        let (header, rows) = read_published(&shared.join("intel/ssvc").join(file));
        let table = builtin.table();
        assert_eq!(rows.len(), table.len(), "{file}: one row per combination");

        let points = &header[..header.len() - 1];
        for row in &rows {
            let inputs: Inputs = points.iter().zip(row).map(|(p, v)| (p.as_str(), v.as_str())).collect();
            let expected = row.last().expect("an outcome");
            let outcome = table
                .decide(&inputs)
                .unwrap_or_else(|error| panic!("{file}: {row:?}: {error}"));
            assert!(
                outcome.is(expected),
                "{file}: {row:?}: decided {outcome}, published {expected}"
            );
        }
    }
}

#[test]
fn published_csvs_load_as_user_tables() {
    let Some(shared) = shared_dir("published_csvs_load_as_user_tables") else {
        return;
    };
    for (builtin, file) in PUBLISHED {
        let path = shared.join("intel/ssvc").join(file);
        let user = DecisionTable::load(&path).unwrap_or_else(|error| panic!("{error}"));
        let (header, rows) = read_published(&path);
        assert_eq!(user.len(), rows.len(), "{file}");

        let points = &header[..header.len() - 1];
        for row in &rows {
            let inputs: Inputs = points.iter().zip(row).map(|(p, v)| (p.as_str(), v.as_str())).collect();
            let from_user = user.decide(&inputs).unwrap();
            let from_builtin = builtin.table().decide(&inputs).unwrap();
            assert!(from_builtin.is(&from_user.value), "{file}: {row:?}");
        }
    }
}

/// Reads the point names and ordered value names of a published JSON
/// table, sorted by point name.
fn json_points(path: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let points = json["decision_points"].as_object().expect("decision_points");
    let mut named: Vec<(String, Vec<String>)> = points
        .values()
        .map(|point| {
            let name = point["name"].as_str().expect("name").to_string();
            let values = point["values"].as_array().expect("values");
            let values = values
                .iter()
                .map(|v| v["name"].as_str().expect("value name").to_string());
            (name, values.collect())
        })
        .collect();
    named.sort();
    named
}

#[test]
fn builtin_value_order_matches_published_json() {
    let Some(shared) = shared_dir("builtin_value_order_matches_published_json") else {
        return;
    };
    let tables = [
        (BuiltinTable::CisaCoordinator, "cisa_coordinator_2_0_3.json"),
        (
            BuiltinTable::DeployerPatchApplicationPriority,
            "deployer_patch_application_priority_1_0_0.json",
        ),
    ];
    for (builtin, file) in tables {
        let table = builtin.table();
        let published = json_points(&shared.join("intel/ssvc").join(file));
        let mut ours: Vec<(String, Vec<String>)> = table
            .points()
            .iter()
            .chain([table.outcome()])
            .map(|point| {
                let values = point.values().iter().map(|v| v.name().to_string()).collect();
                (point.name().to_string(), values)
            })
            .collect();
        ours.sort();
        assert_eq!(ours, published, "{file}");
    }
}

#[test]
fn decide_normalizes_names_and_values() {
    let table = BuiltinTable::CisaCoordinator.table();
    let inputs = Inputs::from([
        ("EXPLOITATION", "PoC"),
        ("automatable", "Y"),
        ("technical_impact", " Total "),
        ("Mission and Well-Being Impact v1.0.0", "MEDIUM"),
    ]);
    let outcome = table.decide(&inputs).unwrap();
    assert_eq!(outcome.value, "Track*");
    assert_eq!(outcome.rank, 1);
    assert!(!outcome.is("Track"));
}

#[test]
fn decide_accepts_ssvc_keys() {
    let table = BuiltinTable::CisaBod2604.table();
    let inputs = Inputs::from([("KEV", "Y"), ("AE", "Y"), ("A", "N"), ("TI", "T")]);
    assert_eq!(table.decide(&inputs).unwrap().value, "3 days & forensic investigation");
}

#[test]
fn decide_names_missing_point() {
    let table = BuiltinTable::DeployerPatchApplicationPriority.table();
    let inputs = Inputs::from([
        ("Exploitation", "active"),
        ("Automatable", "no"),
        ("Human Impact", "high"),
    ]);
    let error = table.decide(&inputs).unwrap_err();
    assert!(matches!(&error, SsvcError::MissingPoint { point, .. } if point == "System Exposure v1.0.1"));
    let message = error.to_string();
    assert!(message.contains("Small, Controlled, Open"), "{message}");
}

#[test]
fn decide_names_unknown_value() {
    let table = BuiltinTable::CisaCoordinator.table();
    let inputs = Inputs::from([
        ("Exploitation", "widespread"),
        ("Automatable", "no"),
        ("Technical Impact", "total"),
        ("Mission and Well-Being Impact", "low"),
    ]);
    let error = table.decide(&inputs).unwrap_err();
    let SsvcError::UnknownValue {
        point, value, expected, ..
    } = &error
    else {
        panic!("expected an unknown value: {error}");
    };
    assert_eq!(point, "Exploitation v1.1.0");
    assert_eq!(value, "widespread");
    assert_eq!(expected, "None, Public PoC, Active");
}

#[test]
fn decide_rejects_conflicting_aliases() {
    let table = BuiltinTable::CisaCoordinator.table();
    let inputs = Inputs::from([
        ("Exploitation", "none"),
        ("E", "active"),
        ("Automatable", "no"),
        ("Technical Impact", "total"),
        ("Mission and Well-Being Impact", "low"),
    ]);
    let error = table.decide(&inputs).unwrap_err();
    assert!(matches!(error, SsvcError::ConflictingInputs { .. }), "{error}");
}

#[test]
fn decide_ignores_other_points() {
    let table = BuiltinTable::HumanImpact.table();
    let inputs = Inputs::from([
        ("Safety Impact", "negligible"),
        ("Mission Impact", "mission failure"),
        ("Exploitation", "active"),
    ]);
    assert_eq!(table.decide(&inputs).unwrap().value, "Very High");
}

#[test]
fn inputs_set_replaces_value() {
    let mut inputs = Inputs::new().with("Exploitation", "none");
    inputs.set("exploitation", "active");
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs.get("EXPLOITATION"), Some("active"));
}

#[test]
fn range_over_unknown_mission_impact() {
    let table = BuiltinTable::CisaCoordinator.table();
    let inputs = Inputs::from([
        ("Exploitation", "none"),
        ("Automatable", "no"),
        ("Technical Impact", "total"),
    ]);
    let range = table.outcome_range(&inputs).unwrap();
    assert_eq!(range.low.value, "Track");
    assert_eq!(range.high.value, "Track*");
    assert_eq!(range.unknown, ["Mission and Well-Being Impact"]);
    assert_eq!(range.to_string(), "Track to Track*");
}

#[test]
fn range_over_unknown_exposure_and_impact() {
    let table = BuiltinTable::DeployerPatchApplicationPriority.table();
    let inputs = Inputs::from([("Exploitation", "active"), ("Automatable", "yes")]);
    let range = table.outcome_range(&inputs).unwrap();
    assert_eq!(range.to_string(), "Scheduled to Immediate");
    assert_eq!(range.unknown, ["System Exposure", "Human Impact"]);
}

#[test]
fn range_is_certain_when_complete() {
    let table = BuiltinTable::CisaBod2604.table();
    let inputs = Inputs::from([
        ("In KEV", "no"),
        ("Publicly Exposed", "no"),
        ("Automatable", "no"),
        ("Technical Impact", "partial"),
    ]);
    let range = table.outcome_range(&inputs).unwrap();
    assert!(range.is_certain());
    assert!(range.unknown.is_empty());
    assert_eq!(range.to_string(), "Fix on system upgrade");
}

#[test]
fn range_over_everything_spans_table() {
    let table = BuiltinTable::CisaBod2604.table();
    let range = table.outcome_range(&Inputs::new()).unwrap();
    assert_eq!(
        range.to_string(),
        "Fix on system upgrade to 3 days & forensic investigation"
    );
    assert_eq!(range.unknown.len(), 4);
}

#[test]
fn range_rejects_unknown_value() {
    let table = BuiltinTable::CisaCoordinator.table();
    let error = table
        .outcome_range(&Inputs::from([("Automatable", "maybe")]))
        .unwrap_err();
    assert!(matches!(error, SsvcError::UnknownValue { .. }), "{error}");
}

#[test]
fn user_table_without_directives() {
    let table = DecisionTable::load(fixture("ssvc/team_tree.csv")).unwrap();
    assert!(table.name().ends_with("team_tree.csv"));
    assert_eq!(table.len(), 6);
    let names: Vec<&str> = table.points().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["Exploitation", "Asset Criticality"]);
    assert_eq!(table.points()[1].namespace(), Some("acme"));
    assert_eq!(table.outcome().label(), "Response v1.0.0");

    let outcome = table
        .decide(&Inputs::from([
            ("exploitation", "active"),
            ("asset criticality", "high"),
        ]))
        .unwrap();
    assert_eq!(outcome.value, "page");
    assert_eq!(outcome.rank, 2);
}

#[test]
fn user_table_with_directives() {
    let table = DecisionTable::load(fixture("ssvc/team_tree_declared.csv")).unwrap();
    assert_eq!(table.name(), "Platform Response");
    assert_eq!(table.version(), Some("1.2"));

    // Page is declared highest although the first row uses it.
    let outcome = table
        .decide(&Inputs::from([("Exploitation", "none"), ("AC", "low")]))
        .unwrap();
    assert_eq!((outcome.value.as_str(), outcome.rank), ("Page", 2));
    let range = table.outcome_range(&Inputs::from([("Exploitation", "poc")])).unwrap();
    assert_eq!(range.to_string(), "Backlog to Sprint");
}

#[test]
fn user_table_from_reader() {
    let csv = "row,A,Outcome\n0,no,low\n1,yes,high\n";
    let table = DecisionTable::from_reader("inline.csv", csv.as_bytes()).unwrap();
    assert_eq!(table.path(), "inline.csv");
    assert_eq!(table.decide(&Inputs::from([("a", "yes")])).unwrap().value, "high");
}

#[test]
fn builtin_path_names_table() {
    assert_eq!(
        BuiltinTable::CisaCoordinator.table().path(),
        "built-in:cisa-coordinator-2.0.3"
    );
    assert_eq!(BuiltinTable::CisaCoordinator.table().name(), "CISA Coordinator");
}

/// Loads an invalid fixture and returns the error with its message, which
/// must name the file.
fn load_error(name: &str) -> (SsvcError, String) {
    let path = fixture(&format!("ssvc/{name}"));
    let error = DecisionTable::load(&path).expect_err("the fixture is invalid");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "names the file: {message}"
    );
    (error, message)
}

/// Asserts that an error is a CSV error at a line and column.
fn assert_at(error: &SsvcError, want_line: usize, want_column: usize) {
    let SsvcError::Csv { line, column, .. } = error else {
        panic!("expected a CSV error: {error}");
    };
    assert_eq!((*line, *column), (want_line, want_column), "{error}");
}

#[test]
fn missing_row_is_rejected() {
    let (error, message) = load_error("missing_row.csv");
    let SsvcError::Incomplete { missing, total, .. } = &error else {
        panic!("expected an incomplete table: {error}");
    };
    assert_eq!((*missing, *total), (1, 6));
    assert!(
        message.contains("Exploitation=poc, Asset Criticality=high"),
        "{message}"
    );
}

#[test]
fn missing_declared_value_is_rejected() {
    let (error, message) = load_error("missing_declared_value.csv");
    assert!(
        matches!(
            error,
            SsvcError::Incomplete {
                missing: 2,
                total: 6,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.contains("Exploitation=Active"), "{message}");
}

#[test]
fn duplicate_row_is_rejected() {
    let (error, _) = load_error("duplicate_row.csv");
    let SsvcError::Duplicate {
        line,
        first_line,
        combination,
        ..
    } = &error
    else {
        panic!("expected a duplicate row: {error}");
    };
    assert_eq!((*line, *first_line), (8, 4));
    assert_eq!(combination, "Exploitation=poc, Asset Criticality=low");
}

#[test]
fn unknown_value_is_rejected() {
    let (error, message) = load_error("unknown_value.csv");
    assert_at(&error, 6, 2);
    assert!(message.contains("\"proof\""), "{message}");
    assert!(message.contains("None, Public PoC, Active"), "{message}");
}

#[test]
fn bad_header_is_rejected() {
    let (error, message) = load_error("bad_header.csv");
    assert_at(&error, 1, 1);
    assert!(message.contains("\"id\""), "{message}");
}

#[test]
fn short_header_is_rejected() {
    let (error, _) = load_error("short_header.csv");
    assert_at(&error, 1, 3);
}

#[test]
fn duplicate_column_is_rejected() {
    let (error, message) = load_error("duplicate_column.csv");
    assert_at(&error, 1, 3);
    assert!(message.contains("appears twice"), "{message}");
}

#[test]
fn header_only_is_rejected() {
    let (error, message) = load_error("header_only.csv");
    assert!(matches!(error, SsvcError::Line { line: 1, .. }), "{message}");
    assert!(message.contains("no rows"), "{message}");
}

#[test]
fn empty_file_is_rejected() {
    let (error, message) = load_error("empty.csv");
    assert!(matches!(error, SsvcError::Line { .. }), "{message}");
    assert!(message.contains("no header"), "{message}");
}

#[test]
fn truncated_row_is_rejected() {
    let (error, message) = load_error("truncated.csv");
    assert_at(&error, 5, 4);
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn unclosed_quote_is_rejected() {
    let (error, message) = load_error("unclosed_quote.csv");
    assert_at(&error, 1, 4);
    assert!(message.contains("never closed"), "{message}");
}

#[test]
fn extra_field_is_rejected() {
    let (error, _) = load_error("extra_field.csv");
    assert_at(&error, 3, 5);
}

#[test]
fn bad_row_number_is_rejected() {
    let (error, message) = load_error("bad_row_number.csv");
    assert_at(&error, 2, 1);
    assert!(message.contains("\"zero\""), "{message}");
}

#[test]
fn empty_value_is_rejected() {
    let (error, message) = load_error("empty_value.csv");
    assert_at(&error, 2, 3);
    assert!(message.contains("Asset Criticality"), "{message}");
}

#[test]
fn stray_quote_is_rejected() {
    let (error, _) = load_error("stray_quote.csv");
    assert_at(&error, 2, 3);
}

#[test]
fn unknown_directive_is_rejected() {
    let (error, message) = load_error("bad_directive.csv");
    assert!(matches!(error, SsvcError::Line { line: 1, .. }), "{message}");
    assert!(message.contains("\"outcome\""), "{message}");
}

#[test]
fn directive_for_unknown_column_is_rejected() {
    let (error, message) = load_error("directive_unknown_column.csv");
    assert!(matches!(error, SsvcError::Line { line: 1, .. }), "{message}");
    assert!(message.contains("\"Exposure\""), "{message}");
}

#[test]
fn directive_after_header_is_rejected() {
    let csv = "row,A,Outcome\n#! point: A = no | yes\n0,no,low\n1,yes,high\n";
    let error = DecisionTable::from_reader("late.csv", csv.as_bytes()).unwrap_err();
    assert!(matches!(error, SsvcError::Line { line: 2, .. }), "{error}");
}

#[test]
fn directive_with_clashing_values_is_rejected() {
    let csv = "#! point: A = No (N) | None (N)\nrow,A,Outcome\n0,no,low\n1,none,high\n";
    let error = DecisionTable::from_reader("clash.csv", csv.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("two values named \"n\""), "{error}");
}

#[test]
fn oversized_input_is_rejected() {
    let mut csv = b"row,A,Outcome\n".to_vec();
    csv.resize(SSVC_MAX_BYTES as usize + 10, b'\n');
    let error = DecisionTable::from_reader("huge.csv", csv.as_slice()).unwrap_err();
    assert!(matches!(error, SsvcError::TooLarge { .. }), "{error}");
}

#[test]
fn huge_field_is_rejected() {
    let csv = format!("row,A,Outcome\n0,{},low\n", "x".repeat(100_000));
    let error = DecisionTable::from_reader("wide.csv", csv.as_bytes()).unwrap_err();
    assert!(matches!(error, SsvcError::Csv { line: 2, column: 2, .. }), "{error}");
    assert!(error.to_string().len() < 300, "the message stays short: {error}");
}

#[test]
fn too_many_combinations_is_rejected() {
    // Six points of ten declared values each make a million combinations.
    let mut csv = String::new();
    let values: Vec<String> = (0..10).map(|v| format!("v{v}")).collect();
    for point in 0..6 {
        csv.push_str(&format!("#! point: P{point} = {}\n", values.join(" | ")));
    }
    csv.push_str("row,P0,P1,P2,P3,P4,P5,Outcome\n0,v0,v0,v0,v0,v0,v0,low\n");
    let error = DecisionTable::from_reader("wide.csv", csv.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("more than 100000 combinations"), "{error}");
}

#[test]
fn many_columns_are_rejected() {
    let header: Vec<String> = (0..100).map(|c| format!("P{c}")).collect();
    let csv = format!("row,{}\n", header.join(","));
    let error = DecisionTable::from_reader("columns.csv", csv.as_bytes()).unwrap_err();
    assert!(matches!(error, SsvcError::Csv { line: 1, .. }), "{error}");
}

#[test]
fn invalid_utf8_is_rejected() {
    let csv = b"row,A,Outcome\n0,no,low\n1,\xff\xfe,high\n";
    let error = DecisionTable::from_reader("latin1.csv", csv.as_slice()).unwrap_err();
    assert!(matches!(error, SsvcError::NotUtf8 { line: 3, .. }), "{error}");
}

#[test]
fn crlf_and_bom_are_accepted() {
    let csv = "\u{feff}row,A,Outcome\r\n0,no,low\r\n1,yes,high\r\n";
    let table = DecisionTable::from_reader("windows.csv", csv.as_bytes()).unwrap();
    assert_eq!(table.decide(&Inputs::from([("A", "no")])).unwrap().value, "low");
}

#[test]
fn missing_file_is_io_error() {
    let error = DecisionTable::load(fixture("ssvc/no_such_table.csv")).unwrap_err();
    assert!(matches!(error, SsvcError::Io { .. }), "{error}");
}
