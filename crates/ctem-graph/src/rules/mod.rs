//! The rules that derive the attack graph from the model.
//!
//! The rules follow MulVAL's logical attack graphs: each rule is a Horn
//! clause whose premises are one capability (network access to a host,
//! code execution, control of an identity...) and static facts of the
//! inventory (relationships, findings, attributes), and whose conclusion
//! is another capability. Each ground instance of a rule is one edge from
//! the premise's node to the conclusion's node. Facts are only added,
//! never retracted, so the least fixpoint of the rules (every capability
//! an attacker who starts on the internet can obtain) is the set of nodes
//! reachable from the internet node, which the analyses compute over the
//! graph.
//!
//! Because every rule has exactly one capability premise, its ground
//! instances come from one pass of hash joins over the static facts:
//! derivation is linear in assets, relationships and findings times the
//! fan-out of each join (members of a zone, runners of an image, matches
//! of a policy pattern), and no rule pairs hosts with hosts. Edges are
//! derived for every premise, reachable from the internet or not, so that
//! the blast radius of any node can be asked.
//!
//! The rules, each documented in its module with its premises in model
//! terms, its conclusion, its ATT&CK technique, its evidence, its
//! probability and its fixes:
//!
//! | module | rules |
//! | --- | --- |
//! | `exposure` | the internet reaches exposed services, public members of open security groups, public load balancers; any-principal trust |
//! | `exploit` | network access plus a remote weakness gives code execution |
//! | `privilege_escalation` | code execution plus a local weakness gives root |
//! | `network` | code execution reaches what its zones may reach; load balancers route; hosts host services |
//! | `credentials` | instance roles, stored credentials, leaked secrets, their use |
//! | `permissions` | assuming roles, reading and writing resources, groups, policy patterns |
//! | `supply_chain` | repositories build images, images run in workloads, workloads run on nodes |
//! | `implication` | one machine known twice; stronger capabilities include weaker ones |
//!
//! [`weakness`] reads how a finding can be exploited, and [`probability`]
//! sets the probability of each edge.

mod context;
mod credentials;
mod exploit;
mod exposure;
mod implication;
mod network;
mod permissions;
mod privilege_escalation;
pub mod probability;
mod supply_chain;
pub mod weakness;

use crate::{AttackGraph, GraphBuilder, GraphInput};

/// Derives the attack graph of an environment.
pub fn derive(input: &GraphInput<'_>) -> AttackGraph {
    derive_builder(input).build()
}

/// Derives the edges of an environment's attack graph and returns the
/// builder before it is frozen, so that edges from elsewhere (a BloodHound
/// OpenGraph file, see [`crate::export::import_opengraph`]) can join them.
pub fn derive_builder(input: &GraphInput<'_>) -> GraphBuilder {
    let mut ctx = context::Context::new(input);

    exposure::apply(&mut ctx);
    network::apply(&mut ctx);
    let sites = exploit::Sites::new(&ctx);
    let weaknesses: Vec<_> = input.findings.iter().map(|f| weakness::classify(f.finding)).collect();
    exploit::apply(&mut ctx, &sites, &weaknesses);
    privilege_escalation::apply(&mut ctx, &sites, &weaknesses);
    drop(sites);
    credentials::apply(&mut ctx);
    permissions::apply(&mut ctx);
    supply_chain::apply(&mut ctx);
    // Last: these rules add edges for the nodes the others created.
    implication::apply(&mut ctx);

    ctx.builder
}
