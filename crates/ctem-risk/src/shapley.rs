//! The Shapley values of a score's inputs, computed exactly from the
//! structure of the formula.
//!
//! A candidate's Shapley value is its marginal effect on the score (the
//! score with its input minus the score with its input at the baseline),
//! averaged over every order in which the candidates can join. Over the
//! subsets S of the other n - 1 candidates that is
//! `φ_i = Σ_S w(|S|) · (v(S ∪ {i}) - v(S))` with
//! `w(s) = s! (n - s - 1)! / n!`, where v(S) is the score with the
//! candidates outside S at their baselines.
//!
//! Enumerating the subsets takes 2^n evaluations of the formula. The
//! score, though, is a product of terms that each read a few inputs:
//!
//! ```text
//! score = 100 * sqrt(evidence) * sqrt(reach) * sqrt(value) * sqrt(control) * sqrt(technical)
//! ```
//!
//! Only reach and value share an input, the path. Grouping the candidates
//! by the terms they change gives a product game `v(S) = Π_g f_g(S ∩ g)`.
//! There the marginal effect of a candidate i of group g splits into its
//! own group's part and the others', so
//!
//! ```text
//! φ_i  = Σ_s w(s) · [x^s] ( Q_i(x) · Π_{h ≠ g} P_h(x) )
//! P_h(x) = Σ_{T ⊆ h} f_h(T) x^|T|
//! Q_i(x) = Σ_{T ⊆ g \ {i}} (f_g(T ∪ {i}) - f_g(T)) x^|T|
//! ```
//!
//! where `[x^s]` takes the coefficient of `x^s`. Each term is evaluated
//! only on the subsets of its own group's candidates. The largest group
//! has 6 candidates (exposure, path, criticality, classification, choke
//! point and blast radius), so a finding takes at most 64 + 32 + 2 + 2
//! evaluations of one group's terms. The enumeration took up to 2^13 evaluations
//! of the whole formula. The result is the same number up to floating-point
//! rounding (the tests compare both methods on hostile inputs).
//!
//! A candidate's group is found by reading which inputs its baseline
//! changes. A candidate that changes the inputs of two terms, as the
//! attack path does for reach and value, joins their groups into one.
//! That stays exact and costs more evaluations, so a finding without an
//! attack path evaluates exposure and the value inputs apart.

use crate::model::{Inputs, control, evidence, reach, technical, value};

/// The terms of the score, as bits of a mask.
const EVIDENCE: u8 = 1;
const REACH: u8 = 1 << 1;
const VALUE: u8 = 1 << 2;
const CONTROL: u8 = 1 << 3;
const TECHNICAL: u8 = 1 << 4;
const ALL_TERMS: u8 = EVIDENCE | REACH | VALUE | CONTROL | TECHNICAL;
const TERM_COUNT: usize = 5;

/// The maximum number of candidates that [`shapley_values`] takes.
/// `gather` makes at most one per input of the formula, 13 in all.
pub(crate) const MAX_CANDIDATES: usize = 16;

/// A polynomial in x of degree at most [`MAX_CANDIDATES`], by coefficient
/// of x^0, x^1 and so on.
type Polynomial = [f64; MAX_CANDIDATES + 1];

/// Computes the Shapley value of each candidate, given as the change
/// that sets its input to its baseline, in score points, and writes
/// candidate i's value to `values[i]`.
///
/// A candidate whose change leaves the inputs as they are gets 0, and
/// leaving it out changes no other value (the null player property).
///
/// # Panics
///
/// When given more than [`MAX_CANDIDATES`] candidates, or fewer values
/// than candidates.
pub(crate) fn shapley_values(inputs: &Inputs, resets: &[fn(&mut Inputs)], values: &mut [f64]) {
    assert!(
        resets.len() <= MAX_CANDIDATES,
        "{} candidates, at most {MAX_CANDIDATES} are supported",
        resets.len()
    );
    let values = &mut values[..resets.len()];
    values.fill(0.0);

    let mut masks = [0u8; MAX_CANDIDATES];
    for (mask, reset) in masks.iter_mut().zip(resets) {
        let mut at_baseline = *inputs;
        reset(&mut at_baseline);
        *mask = changed_terms(inputs, &at_baseline);
    }
    let masks = &masks[..resets.len()];
    let players = masks.iter().filter(|&&mask| mask != 0).count();
    if players == 0 {
        return;
    }

    let (blocks, block_count) = blocks(masks);
    let blocks = &blocks[..block_count];

    // The terms that no candidate changes are the same in every subset.
    let fixed = blocks.iter().fold(ALL_TERMS, |terms, &block| terms & !block);
    let constant = 100.0 * term_product(fixed, inputs).sqrt();

    let weights = order_weights(players);
    let (members, sizes) = block_members(masks, blocks);

    // The factors of every block on every subset of its members, then
    // P(x) of each block. The factors of all blocks share one buffer,
    // with block b's at starts[b]..starts[b + 1].
    let mut starts = [0usize; TERM_COUNT + 1];
    for block in 0..blocks.len() {
        starts[block + 1] = starts[block] + (1 << sizes[block]);
    }
    // The candidates of one finding need at most 64 + 32 + 2 + 2 factors
    // (see the module docs): keep them on the stack.
    let mut on_stack = [0.0; 128];
    let mut on_heap = Vec::new();
    let all_factors: &mut [f64] = if starts[blocks.len()] <= on_stack.len() {
        &mut on_stack[..starts[blocks.len()]]
    } else {
        on_heap.resize(starts[blocks.len()], 0.0);
        &mut on_heap
    };
    let mut polynomials = [[0.0; MAX_CANDIDATES + 1]; TERM_COUNT];
    for block in 0..blocks.len() {
        let factors = &mut all_factors[starts[block]..starts[block + 1]];
        block_factors(inputs, resets, &members[block][..sizes[block]], blocks[block], factors);
        for (subset, factor) in factors.iter().enumerate() {
            polynomials[block][subset.count_ones() as usize] += factor;
        }
    }

    for block in 0..blocks.len() {
        let mut others = [0.0; MAX_CANDIDATES + 1];
        others[0] = constant;
        let mut degree = 0;
        for other in (0..blocks.len()).filter(|&other| other != block) {
            multiply_into(&mut others, degree, &polynomials[other], sizes[other]);
            degree += sizes[other];
        }

        // φ_i = Σ_s w(s) [x^s] (Q_i · others) = Σ_t Q_i[t] · window[t],
        // with window[t] = Σ_u others[u] · w(t + u), where t + u stays
        // below the number of players.
        let size = sizes[block];
        // window[size] stays 0: the subset of every member lacks none.
        let mut window = [0.0; MAX_CANDIDATES + 1];
        for (t, slot) in window.iter_mut().enumerate().take(size) {
            *slot = others[..=degree]
                .iter()
                .zip(&weights[t..])
                .map(|(coefficient, weight)| coefficient * weight)
                .sum();
        }
        // Q_i[t] sums f(T ∪ {i}) - f(T) over the subsets T of the other
        // members of size t, so each subset S adds window[|S| - 1] f(S) to
        // the members it contains and takes window[|S|] f(S) from those it
        // lacks. Taking window[|S|] f(S) from every member and giving it
        // back to those in S leaves one sum over the members of each S.
        let factors = &all_factors[starts[block]..starts[block + 1]];
        let mut shares = [0.0; MAX_CANDIDATES];
        let mut subtracted = 0.0;
        for (subset, &factor) in factors.iter().enumerate() {
            let count = subset.count_ones() as usize;
            let left = window[count] * factor;
            subtracted += left;
            if count == 0 {
                continue;
            }
            let added = window[count - 1] * factor + left;
            let mut rest = subset;
            while rest != 0 {
                shares[rest.trailing_zeros() as usize] += added;
                rest &= rest - 1;
            }
        }
        for share in &mut shares[..size] {
            *share -= subtracted;
        }
        for (member, &candidate) in members[block][..size].iter().enumerate() {
            values[usize::from(candidate)] = shares[member];
        }
    }
}

/// Returns w(s) for s from 0 to `players - 1`: a subset of s other
/// candidates precedes a candidate in s! (n - s - 1)! of the n! orders.
fn order_weights(players: usize) -> [f64; MAX_CANDIDATES] {
    let mut factorials = [1.0; MAX_CANDIDATES + 1];
    for k in 1..=MAX_CANDIDATES {
        factorials[k] = factorials[k - 1] * k as f64;
    }
    let mut weights = [0.0; MAX_CANDIDATES];
    for (size, weight) in weights.iter_mut().enumerate().take(players) {
        *weight = factorials[size] * factorials[players - size - 1] / factorials[players];
    }
    weights
}

/// Lists the candidates of each block, in their order, and counts them.
fn block_members(masks: &[u8], blocks: &[u8]) -> ([[u8; MAX_CANDIDATES]; TERM_COUNT], [usize; TERM_COUNT]) {
    let mut members = [[0u8; MAX_CANDIDATES]; TERM_COUNT];
    let mut sizes = [0usize; TERM_COUNT];
    for (candidate, &mask) in masks.iter().enumerate().filter(|(_, mask)| **mask != 0) {
        let block = blocks
            .iter()
            .position(|&terms| mask & terms == mask)
            .expect("every mask lies in one block");
        members[block][sizes[block]] = candidate as u8;
        sizes[block] += 1;
    }
    (members, sizes)
}

/// Returns the terms of the score that differ between two sets of
/// inputs. Inputs are compared bit for bit, so a NaN input that both
/// keep counts as unchanged.
fn changed_terms(before: &Inputs, after: &Inputs) -> u8 {
    let differs = |a: f64, b: f64| a.to_bits() != b.to_bits();
    let mut terms = 0;
    if differs(before.exploited, after.exploited)
        || differs(before.epss, after.epss)
        || differs(before.exploit, after.exploit)
        || differs(before.automatable, after.automatable)
        || differs(before.base, after.base)
    {
        terms |= EVIDENCE;
    }
    if differs(before.exposure, after.exposure) {
        terms |= REACH;
    }
    if differs(before.path, after.path) {
        terms |= REACH | VALUE;
    }
    if differs(before.criticality, after.criticality)
        || differs(before.classification, after.classification)
        || differs(before.choke_point, after.choke_point)
        || differs(before.blast_jewels, after.blast_jewels)
        || differs(before.blast_assets, after.blast_assets)
    {
        terms |= VALUE;
    }
    if differs(before.control, after.control) {
        terms |= CONTROL;
    }
    if differs(before.technical, after.technical) {
        terms |= TECHNICAL;
    }
    terms
}

/// Multiplies the terms in `terms` (1 for none).
fn term_product(terms: u8, inputs: &Inputs) -> f64 {
    let mut product = 1.0;
    if terms & EVIDENCE != 0 {
        product *= evidence(inputs);
    }
    if terms & REACH != 0 {
        product *= reach(inputs);
    }
    if terms & VALUE != 0 {
        product *= value(inputs);
    }
    if terms & CONTROL != 0 {
        product *= control(inputs);
    }
    if terms & TECHNICAL != 0 {
        product *= technical(inputs);
    }
    product
}

/// Groups the terms that the candidates change into disjoint blocks,
/// merging terms that one candidate changes together.
fn blocks(masks: &[u8]) -> ([u8; TERM_COUNT], usize) {
    // Merging a mask with the blocks it meets adds only bits that no
    // other block has, so the blocks stay disjoint.
    let mut blocks = [0u8; TERM_COUNT];
    let mut count = 0;
    for &mask in masks.iter().filter(|&&mask| mask != 0) {
        let mut merged = mask;
        let mut disjoint = 0;
        for index in 0..count {
            if blocks[index] & merged == 0 {
                blocks[disjoint] = blocks[index];
                disjoint += 1;
            } else {
                merged |= blocks[index];
            }
        }
        blocks[disjoint] = merged;
        count = disjoint + 1;
    }
    (blocks, count)
}

/// Evaluates the block's factor of the score, `sqrt` of its terms, on
/// every subset of its members (bit j set when member j keeps its input).
fn block_factors(inputs: &Inputs, resets: &[fn(&mut Inputs)], members: &[u8], terms: u8, factors: &mut [f64]) {
    let block = Block {
        resets,
        members,
        terms,
        full: factors.len() - 1,
    };
    block.visit(inputs, 0, 0, factors);
}

/// The members of a block while [`block_factors`] visits its subsets.
struct Block<'a> {
    resets: &'a [fn(&mut Inputs)],
    members: &'a [u8],
    terms: u8,
    full: usize,
}

impl Block<'_> {
    /// Records the factor of `state`, where the members in `reset` are at
    /// their baselines, then visits each subset that also resets one
    /// member from `from` on. The resets apply in the members' order, as
    /// the enumeration of every subset applies them.
    fn visit(&self, state: &Inputs, reset: usize, from: usize, factors: &mut [f64]) {
        factors[self.full & !reset] = term_product(self.terms, state).sqrt();
        for member in from..self.members.len() {
            let mut next = *state;
            (self.resets[usize::from(self.members[member])])(&mut next);
            self.visit(&next, reset | 1 << member, member + 1, factors);
        }
    }
}

/// Multiplies the polynomial `a` of degree `a_degree` by `b` of degree
/// `b_degree`, in place. The coefficients of `a` above its degree are 0.
fn multiply_into(a: &mut Polynomial, a_degree: usize, b: &Polynomial, b_degree: usize) {
    // From the highest coefficient down, each a[i] is read before any
    // lower coefficient writes to it.
    for i in (0..=a_degree).rev() {
        let x = a[i];
        a[i] = x * b[0];
        for (j, y) in b[1..=b_degree].iter().enumerate() {
            a[i + j + 1] += x * y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::SplitMix64;
    use crate::model::{CRITICALITY_MEDIUM, EXPOSURE_UNKNOWN, evaluate};

    /// Computes the Shapley values by the definition: the score of every
    /// subset of the candidates, then each candidate's weighted gains.
    fn enumerated_values(inputs: &Inputs, resets: &[fn(&mut Inputs)]) -> Vec<f64> {
        let count = resets.len();
        let subsets = 1usize << count;
        let scores: Vec<f64> = (0..subsets)
            .map(|subset| {
                let mut partial = *inputs;
                for (index, reset) in resets.iter().enumerate() {
                    if subset & (1 << index) == 0 {
                        reset(&mut partial);
                    }
                }
                evaluate(&partial).score
            })
            .collect();

        let factorial = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
        let weights: Vec<f64> = (0..count)
            .map(|size| factorial(size) * factorial(count - size - 1) / factorial(count))
            .collect();
        (0..count)
            .map(|index| {
                let bit = 1usize << index;
                (0..subsets)
                    .filter(|subset| subset & bit == 0)
                    .map(|subset| weights[subset.count_ones() as usize] * (scores[subset | bit] - scores[subset]))
                    .sum()
            })
            .collect()
    }

    /// The resets that the candidates of `gather` use, and a few that
    /// test the edges: two candidates of the same input, candidates that
    /// change two terms, and one that changes nothing. Resets of the same
    /// input agree on its baseline, as they do in `gather`.
    const RESETS: [fn(&mut Inputs); 17] = [
        |inputs| inputs.exploited = 0.0,
        |inputs| inputs.epss = 0.0,
        |inputs| inputs.exploit = 0.0,
        |inputs| inputs.automatable = 0.0,
        |inputs| inputs.base = 0.0,
        |inputs| inputs.technical = 0.0,
        |inputs| inputs.exposure = EXPOSURE_UNKNOWN,
        |inputs| inputs.path = 0.0,
        |inputs| inputs.control = 1.0,
        |inputs| inputs.criticality = CRITICALITY_MEDIUM,
        |inputs| inputs.classification = 0.0,
        |inputs| inputs.choke_point = 0.0,
        |inputs| {
            inputs.blast_jewels = 0.0;
            inputs.blast_assets = 0.0;
        },
        |inputs| inputs.exploited = 0.0,
        |inputs| {
            inputs.base = 0.0;
            inputs.technical = 0.0;
        },
        |inputs| {
            inputs.path = 0.0;
            inputs.control = 1.0;
        },
        |_| {},
    ];

    /// One reset per input, with baselines other than those of `gather`,
    /// hostile ones included.
    const OTHER_BASELINES: [fn(&mut Inputs); 14] = [
        |inputs| inputs.exploited = 0.2,
        |inputs| inputs.epss = 0.3,
        |inputs| inputs.exploit = f64::NAN,
        |inputs| inputs.automatable = 1.0,
        |inputs| inputs.base = 0.1,
        |inputs| inputs.technical = -1.0,
        |inputs| inputs.exposure = 0.5,
        |inputs| inputs.path = 0.25,
        |inputs| inputs.control = f64::NAN,
        |inputs| inputs.criticality = 2.0,
        |inputs| inputs.classification = 0.35,
        |inputs| inputs.choke_point = 1.0,
        |inputs| inputs.blast_jewels = 1.0,
        |inputs| inputs.blast_assets = f64::INFINITY,
    ];

    /// Draws the test cases from the crate's seeded generator, so every
    /// run tests the same cases.
    struct Cases(SplitMix64);

    impl Cases {
        fn next(&mut self) -> u64 {
            self.0.next_u64()
        }

        fn below(&mut self, bound: usize) -> usize {
            self.0.below(bound)
        }

        /// Draws an input: mostly within 0..=1, sometimes at an edge or
        /// hostile (NaN, negative, above 1, infinite).
        fn input(&mut self) -> f64 {
            const EDGES: [f64; 10] = [
                0.0,
                -0.0,
                1.0,
                0.5,
                f64::NAN,
                -1.0,
                2.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e-300,
            ];
            if self.below(4) == 0 {
                EDGES[self.below(EDGES.len())]
            } else {
                (self.next() >> 11) as f64 / (1u64 << 53) as f64
            }
        }

        fn inputs(&mut self) -> Inputs {
            Inputs {
                exploited: self.input(),
                epss: self.input(),
                exploit: self.input(),
                automatable: self.input(),
                base: self.input(),
                exposure: self.input(),
                path: self.input(),
                control: self.input(),
                criticality: self.input(),
                classification: self.input(),
                choke_point: self.input(),
                blast_jewels: self.input(),
                blast_assets: self.input(),
                technical: self.input(),
            }
        }

        /// Picks `count` resets of `pool` in random order, repeats allowed.
        fn resets(&mut self, pool: &[fn(&mut Inputs)], count: usize) -> Vec<fn(&mut Inputs)> {
            (0..count).map(|_| pool[self.below(pool.len())]).collect()
        }
    }

    /// Returns the score with every candidate at its baseline.
    fn baseline_score(inputs: &Inputs, resets: &[fn(&mut Inputs)]) -> f64 {
        let mut baseline = *inputs;
        for reset in resets {
            reset(&mut baseline);
        }
        evaluate(&baseline).score
    }

    /// Runs [`shapley_values`] and returns one value per candidate.
    fn values_of(inputs: &Inputs, resets: &[fn(&mut Inputs)]) -> Vec<f64> {
        // Values past the candidates keep what they held.
        let mut values = vec![f64::NAN; resets.len() + 1];
        shapley_values(inputs, resets, &mut values);
        assert!(values.pop().expect("one value more").is_nan());
        values
    }

    fn check(inputs: &Inputs, resets: &[fn(&mut Inputs)], case: usize) {
        let values = values_of(inputs, resets);
        let expected = enumerated_values(inputs, resets);
        assert_eq!(values.len(), expected.len(), "case {case}");
        for (index, (value, expected)) in values.iter().zip(&expected).enumerate() {
            assert!(
                (value - expected).abs() < 1e-9,
                "case {case}, candidate {index}: {value} instead of {expected} for {inputs:?}"
            );
        }

        let total: f64 = values.iter().sum();
        let gain = evaluate(inputs).score - baseline_score(inputs, resets);
        assert!((total - gain).abs() < 1e-9, "case {case}: {total} instead of {gain}");
    }

    #[test]
    fn multiply_into_multiplies_in_place() {
        // (1 + 2x)(3 + x + x^2) = 3 + 7x + 3x^2 + 2x^3
        let mut a = [0.0; MAX_CANDIDATES + 1];
        a[..2].copy_from_slice(&[1.0, 2.0]);
        let mut b = [0.0; MAX_CANDIDATES + 1];
        b[..3].copy_from_slice(&[3.0, 1.0, 1.0]);
        multiply_into(&mut a, 1, &b, 2);
        assert_eq!(a[..5], [3.0, 7.0, 3.0, 2.0, 0.0]);
        // By a constant, the degree stays.
        multiply_into(&mut a, 3, &b, 0);
        assert_eq!(a[..5], [9.0, 21.0, 9.0, 6.0, 0.0]);
    }

    #[test]
    fn values_match_enumeration() {
        let mut random = Cases(SplitMix64::new(0x5eed_5a91));
        for case in 0..4_000 {
            let inputs = random.inputs();
            let count = random.below(11);
            let resets = random.resets(&RESETS, count);
            check(&inputs, &resets, case);
        }
    }

    #[test]
    fn values_match_enumeration_with_every_reset() {
        // Each of the first 13 resets changes a different input, as the
        // candidates of one finding do at most.
        let mut random = Cases(SplitMix64::new(0x5eed_5a92));
        for case in 0..40 {
            let inputs = random.inputs();
            check(&inputs, &RESETS[..13], case);
        }
    }

    #[test]
    fn values_match_enumeration_with_other_baselines() {
        let mut random = Cases(SplitMix64::new(0x5eed_5a93));
        for case in 0..1_000 {
            let inputs = random.inputs();
            let count = random.below(10);
            let mut pool = OTHER_BASELINES.to_vec();
            let resets: Vec<fn(&mut Inputs)> = (0..count).map(|_| pool.swap_remove(random.below(pool.len()))).collect();
            check(&inputs, &resets, case);
        }
    }

    #[test]
    fn null_candidates_get_zero() {
        let mut inputs = Inputs::baseline();
        inputs.exploited = 0.9;
        inputs.technical = 1.0;
        let values = values_of(&inputs, &RESETS[..13]);
        for (index, value) in values.iter().enumerate() {
            if index != 0 && index != 5 {
                assert_eq!(*value, 0.0, "candidate {index}");
            }
        }
        assert!(values[0] > 0.0);
        assert!(values[5] > 0.0);
    }

    #[test]
    fn no_candidates_give_no_values() {
        assert!(values_of(&Inputs::baseline(), &[]).is_empty());
    }
}
