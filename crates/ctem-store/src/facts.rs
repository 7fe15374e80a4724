//! The compact reads behind `ctem metrics`: finding facts, run statistics
//! and asset coverage.

use crate::{AssetCoverage, FactTable, RunStats, Store, StoreError, StoredFinding};

impl Store {
    /// Reads the facts of every finding, in id order.
    pub fn fact_table(&self) -> Result<FactTable, StoreError> {
        todo!("fact_table")
    }

    /// Returns the statistics of every run, the oldest first.
    pub fn run_stats(&self) -> Result<Vec<RunStats>, StoreError> {
        todo!("run_stats")
    }

    /// Returns every asset with the time it was last assessed, by key.
    pub fn asset_coverage(&self) -> Result<Vec<AssetCoverage>, StoreError> {
        todo!("asset_coverage")
    }

    /// Returns the findings with these row ids (as in
    /// [`crate::FindingFacts::id`]), in the order of the ids given; ids
    /// that are not stored are left out.
    pub fn findings_by_id(&self, ids: &[i64]) -> Result<Vec<StoredFinding>, StoreError> {
        let _ = ids;
        todo!("findings_by_id")
    }
}
