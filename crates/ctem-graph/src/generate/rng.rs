//! The seeded random source of the generator.
//!
//! Each part of an environment (network, IAM, vulnerabilities...) draws
//! from its own stream, derived from the seed and the part's name, so a
//! change in how one part draws leaves the others as they were.

use rand_core::{Rng as _, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// A PCG generator (`Mcg128Xsl64` of `rand_pcg`) with the few draws the
/// generator needs.
pub(super) struct Rng(Pcg64Mcg);

impl Rng {
    /// Creates the stream `stream` of `seed`.
    pub(super) fn new(seed: u64, stream: &str) -> Rng {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for byte in stream.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(Pcg64Mcg::seed_from_u64(mix(seed) ^ hash))
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform index in `0..n`; `n` must not be 0. Lemire's multiply and
    /// shift: its bias is below 2^-40 for the sizes used here.
    pub(super) fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform float in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniform integer in `low..=high`.
    pub(super) fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index in `0..n` skewed towards 0: the square of a uniform draw,
    /// so the first tenth of the items gets about a third of the draws.
    /// It makes a few packages and images popular, as in real estates.
    pub(super) fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * n as f64) as usize).min(n - 1)
    }

    /// One of `choices`, each drawn with its weight.
    pub(super) fn weighted<T: Copy>(&mut self, choices: &[(T, f64)]) -> T {
        let total: f64 = choices.iter().map(|(_, weight)| weight).sum();
        let mut point = self.unit() * total;
        for (choice, weight) in choices {
            if point < *weight {
                return *choice;
            }
            point -= weight;
        }
        choices[choices.len() - 1].0
    }
}

/// The splitmix64 finalizer: a bijection on `u64` that spreads nearby
/// inputs, used for seeds and for ids that must look random yet stay
/// unique (distinct inputs give distinct outputs).
pub(super) fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let draw = |seed, stream| {
            let mut rng = Rng::new(seed, stream);
            (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, "network"), draw(7, "network"));
        assert_ne!(draw(7, "network"), draw(7, "iam"));
        assert_ne!(draw(7, "network"), draw(8, "network"));
    }

    #[test]
    fn draws_stay_in_range() {
        let mut rng = Rng::new(1, "range");
        for _ in 0..10_000 {
            assert!(rng.below(3) < 3);
            assert!((0.0..1.0).contains(&rng.unit()));
            assert!((5..=9).contains(&rng.between(5, 9)));
            assert!(rng.skewed(10) < 10);
        }
    }

    #[test]
    fn weighted_follows_weights() {
        let mut rng = Rng::new(3, "weights");
        let hits = (0..10_000)
            .filter(|_| rng.weighted(&[(true, 0.9), (false, 0.1)]))
            .count();
        assert!((8_500..9_500).contains(&hits), "{hits} of 10000");
    }

    #[test]
    fn mix_is_injective_on_a_range() {
        let mut seen: Vec<u64> = (0..10_000).map(mix).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 10_000);
    }
}
