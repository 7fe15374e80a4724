//! A generated environment as a ctem-native JSON report (`ctem_format`
//! 1, format id `ctem-json`), which `ctem assess` and `ctem parse` read.

use std::collections::BTreeSet;

use ctem_model::{Asset, Finding, Relationship};
use serde::Serialize;

use super::Environment;

/// The report's `tool`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NativeTool {
    pub name: &'static str,
    pub version: &'static str,
}

/// One entry of the report's `scopes`: a (tool, target) that the findings
/// name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NativeScope {
    pub tool: String,
    pub target: String,
}

/// The report, borrowing the environment. The keys are written in the
/// order the format asks for: `tool` and `scopes` before `findings`.
#[derive(Debug, Clone, Serialize)]
pub struct NativeDocument<'a> {
    pub ctem_format: &'static str,
    pub tool: NativeTool,
    pub scopes: Vec<NativeScope>,
    pub assets: &'a [Asset],
    pub relationships: &'a [Relationship],
    pub findings: &'a [Finding],
}

impl<'a> NativeDocument<'a> {
    pub(super) fn new(environment: &'a Environment) -> NativeDocument<'a> {
        let scopes: BTreeSet<NativeScope> = environment
            .findings
            .iter()
            .filter_map(|finding| {
                Some(NativeScope {
                    tool: finding.tool.clone(),
                    target: finding.target.clone()?,
                })
            })
            .collect();
        NativeDocument {
            ctem_format: "1",
            tool: NativeTool {
                name: "ctem-generate",
                version: env!("CARGO_PKG_VERSION"),
            },
            scopes: scopes.into_iter().collect(),
            assets: &environment.assets,
            relationships: &environment.relationships,
            findings: &environment.findings,
        }
    }
}
