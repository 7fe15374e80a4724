//! Checks that `docs/formats.md` lists exactly the registered formats, each
//! with the name, tool and versions of its parser's `FormatInfo`.

use std::collections::BTreeMap;

use ctem_ingest::registry;

/// One table row of the document: the cells after the id, as text.
#[derive(Debug)]
struct DocRow {
    name: String,
    tool: String,
    versions: String,
    line: usize,
}

fn formats_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/formats.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads the format rows of every table of the document: rows whose first
/// cell is a format id in backticks (`| \`sarif\` | SARIF | ... |`).
/// Fails on a row with too few cells or an id listed twice.
fn doc_rows(text: &str) -> BTreeMap<String, DocRow> {
    let mut rows = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let Some(inner) = line.trim().strip_prefix("| `") else {
            continue;
        };
        let cells = split_cells(&format!("`{inner}"));
        assert!(
            cells.len() >= 4,
            "docs/formats.md:{line_number}: expected the cells Id, Format, Tool and Versions, found {cells:?}"
        );
        let id = cells[0].trim_matches('`').to_string();
        let row = DocRow {
            name: cells[1].clone(),
            tool: cells[2].clone(),
            versions: cells[3].clone(),
            line: line_number,
        };
        if let Some(earlier) = rows.insert(id.clone(), row) {
            panic!(
                "docs/formats.md:{line_number}: {id} is listed twice (also at line {})",
                earlier.line
            );
        }
    }
    rows
}

/// Splits a table row at the pipes that Markdown does not escape, and
/// undoes the backslash escapes of ASCII punctuation in each cell (`\|`,
/// `\<`, `\*`), so the cells compare with the text that `info()` returns.
fn split_cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) if next.is_ascii_punctuation() => cell.push(next),
                Some(next) => {
                    cell.push('\\');
                    cell.push(next);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    let last = cell.trim();
    if !last.is_empty() {
        cells.push(last.to_string());
    }
    cells
}

#[test]
fn every_format_is_documented() {
    let rows = doc_rows(&formats_doc());
    let mut failures = Vec::new();
    for parser in registry() {
        let info = parser.info();
        let Some(row) = rows.get(info.id) else {
            failures.push(format!("{}: not listed", info.id));
            continue;
        };
        let cells = [
            ("name", info.name, &row.name),
            ("tool", info.tool, &row.tool),
            ("versions", info.versions, &row.versions),
        ];
        for (column, expected, documented) in cells {
            if expected != documented {
                failures.push(format!(
                    "{} (line {}): {column} is {documented:?}, the registry says {expected:?}",
                    info.id, row.line
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "docs/formats.md is out of step with the registry:\n{}",
        failures.join("\n")
    );
}

#[test]
fn doc_lists_only_registered_formats() {
    let rows = doc_rows(&formats_doc());
    let unknown: Vec<String> = rows
        .iter()
        .filter(|(id, _)| ctem_ingest::find(id).is_none())
        .map(|(id, row)| format!("{id} (line {})", row.line))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/formats.md lists formats that no parser has: {unknown:?}"
    );
    assert_eq!(rows.len(), registry().len(), "one row per registered format");
}

#[test]
fn escaped_cells_split() {
    let cells = split_cells(r"`burp-xml` | a \| b | 1.6 (\<issues>) | `x\|y` |");
    assert_eq!(cells, ["`burp-xml`", "a | b", "1.6 (<issues>)", "`x|y`"]);
}
