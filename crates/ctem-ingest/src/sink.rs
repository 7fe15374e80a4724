use std::collections::BTreeSet;

use ctem_model::{Asset, Finding, Relationship, VexStatement};

/// The consumer of a parser's records.
///
/// Parsers call these methods as they read. A parser calls
/// [`Sink::target`] for every scope the report covers, as the tool name
/// (the same lowercase name it puts in `Finding::tool`) and the target (the
/// image, the repository, each scanned host), even when it has no findings,
/// because a clean rescan of a scope is what marks that scope's old
/// findings fixed.
pub trait Sink {
    fn asset(&mut self, asset: Asset);
    fn relationship(&mut self, relationship: Relationship);
    fn finding(&mut self, finding: Finding);
    /// Declares a scope (tool and target) that the report covered.
    fn target(&mut self, tool: &str, target: &str);
    /// Receives a VEX statement, which changes the status of the findings
    /// it matches once every report of a run has been read. VEX documents
    /// declare no scope. The default drops the statement, for sinks that
    /// only want findings.
    fn vex(&mut self, statement: VexStatement) {
        let _ = statement;
    }
}

/// Everything one report held.
#[derive(Debug, Default, Clone)]
pub struct ParsedReport {
    pub assets: Vec<Asset>,
    pub relationships: Vec<Relationship>,
    pub findings: Vec<Finding>,
    /// Scopes the report declared, as (tool, target), sorted.
    pub targets: BTreeSet<(String, String)>,
    /// VEX statements, in the order the report gave them.
    pub vex: Vec<VexStatement>,
}

/// A sink that keeps every record in memory.
#[derive(Debug, Default)]
pub struct CollectingSink {
    report: ParsedReport,
}

impl CollectingSink {
    pub fn into_report(self) -> ParsedReport {
        self.report
    }
}

impl Sink for CollectingSink {
    fn asset(&mut self, asset: Asset) {
        self.report.assets.push(asset);
    }

    fn relationship(&mut self, relationship: Relationship) {
        self.report.relationships.push(relationship);
    }

    fn finding(&mut self, finding: Finding) {
        self.report.findings.push(finding);
    }

    fn target(&mut self, tool: &str, target: &str) {
        self.report
            .targets
            .insert((tool.to_ascii_lowercase(), target.to_string()));
    }

    fn vex(&mut self, statement: VexStatement) {
        self.report.vex.push(statement);
    }
}
