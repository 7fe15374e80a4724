//! The rules that derive the attack graph from the model.

use crate::{AttackGraph, GraphInput};

/// Derives the attack graph of an environment.
pub fn derive(input: &GraphInput<'_>) -> AttackGraph {
    let _ = input;
    todo!("rules")
}
