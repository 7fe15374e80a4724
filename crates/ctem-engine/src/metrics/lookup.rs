//! Per-asset and per-tool-set attributes, looked up by the interned
//! indexes of the fact table so that the pass over the findings does no
//! hashing and no allocation.

use std::collections::HashMap;

use ctem_model::Criticality;
use ctem_store::{AssetCoverage, FactTable};

/// The team name of findings on assets without an owner.
pub const UNOWNED: &str = "unowned";

/// The team and criticality of each asset of a fact table.
pub(crate) struct AssetLookup {
    /// Team names, with [`UNOWNED`] at index 0.
    pub(crate) teams: Vec<String>,
    /// By index into `FactTable::assets`: (team, criticality).
    by_asset: Vec<(u32, Option<Criticality>)>,
}

impl AssetLookup {
    /// Matches the fact table's asset keys with the coverage list, which
    /// carries the assets' owners and criticality. A key missing from the
    /// list gives an unowned, unclassified asset.
    pub(crate) fn build(facts: &FactTable, coverage: &[AssetCoverage]) -> AssetLookup {
        let mut teams = vec![UNOWNED.to_string()];
        let mut team_ids: HashMap<&str, u32> = HashMap::new();
        let mut by_key: HashMap<&str, (u32, Option<Criticality>)> = HashMap::with_capacity(coverage.len());
        for entry in coverage {
            let asset = &entry.asset;
            let team = match asset.owner.as_deref() {
                None => 0,
                Some(owner) => *team_ids.entry(owner).or_insert_with(|| {
                    teams.push(owner.to_string());
                    (teams.len() - 1) as u32
                }),
            };
            by_key.entry(asset.key.as_str()).or_insert((team, asset.criticality));
        }

        let by_asset = facts
            .assets
            .iter()
            .map(|key| by_key.get(key.as_str()).copied().unwrap_or((0, None)))
            .collect();
        AssetLookup { teams, by_asset }
    }

    /// Returns the team and criticality of an asset index, or `None` for an
    /// index outside the fact table's asset list.
    pub(crate) fn get(&self, asset: u32) -> Option<(u32, Option<Criticality>)> {
        self.by_asset.get(asset as usize).copied()
    }
}

/// The tools of each tool set, as indexes into one list of tool names.
pub(crate) struct ToolLookup {
    pub(crate) names: Vec<String>,
    members: Vec<Vec<u32>>,
}

impl ToolLookup {
    pub(crate) fn build(facts: &FactTable) -> ToolLookup {
        let mut names: Vec<String> = Vec::new();
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut members = Vec::with_capacity(facts.tool_sets.len());
        for set in &facts.tool_sets {
            let mut set_ids: Vec<u32> = Vec::with_capacity(set.len());
            for tool in set {
                let id = *ids.entry(tool.as_str()).or_insert_with(|| {
                    names.push(tool.clone());
                    (names.len() - 1) as u32
                });
                // A tool named twice in one set counts once.
                if !set_ids.contains(&id) {
                    set_ids.push(id);
                }
            }
            members.push(set_ids);
        }
        ToolLookup { names, members }
    }

    /// Returns the tools of a tool set index, or `None` for an index outside
    /// the fact table's tool sets.
    pub(crate) fn get(&self, tools: u32) -> Option<&[u32]> {
        self.members.get(tools as usize).map(Vec::as_slice)
    }
}
