//! Means and medians of durations in days.

use serde::Serialize;

/// The count, mean and median of a set of durations, in days. With no
/// duration the mean and the median are `None` (`null` in JSON), never 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DurationStats {
    pub count: u64,
    pub mean_days: Option<f64>,
    /// The middle value; of an even count, the mean of the two middle values.
    pub median_days: Option<f64>,
}

/// Durations collected during the pass over the findings. The values are
/// kept because an exact median needs them all.
#[derive(Debug, Clone, Default)]
pub(crate) struct DurationSample {
    values: Vec<f64>,
    sum: f64,
}

impl DurationSample {
    pub(crate) fn push(&mut self, days: f64) {
        self.values.push(days);
        self.sum += days;
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// Computes the statistics. The values are reordered, not sorted: the
    /// median is found by selection in linear time.
    pub(crate) fn stats(&mut self) -> DurationStats {
        let count = self.values.len();
        if count == 0 {
            return DurationStats::default();
        }
        DurationStats {
            count: count as u64,
            mean_days: Some(self.sum / count as f64),
            median_days: Some(median(&mut self.values)),
        }
    }
}

/// Returns the median of a non-empty slice, reordering it.
fn median(values: &mut [f64]) -> f64 {
    let odd = values.len() % 2 == 1;
    let middle = values.len() / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(middle, f64::total_cmp);
    let upper = *upper;
    if odd {
        return upper;
    }
    let lower = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f64]) -> DurationStats {
        let mut sample = DurationSample::default();
        for &value in values {
            sample.push(value);
        }
        sample.stats()
    }

    #[test]
    fn empty_sample_is_null() {
        assert_eq!(stats(&[]), DurationStats::default());
        assert_eq!(stats(&[]).mean_days, None);
    }

    #[test]
    fn odd_count_takes_middle() {
        let result = stats(&[9.0, 1.0, 4.0]);
        assert_eq!(result.count, 3);
        assert_eq!(result.median_days, Some(4.0));
        assert_eq!(result.mean_days, Some(14.0 / 3.0));
    }

    #[test]
    fn even_count_averages_middle_two() {
        assert_eq!(stats(&[10.0, 2.0, 4.0, 1.0]).median_days, Some(3.0));
        assert_eq!(stats(&[5.0, 5.0]).median_days, Some(5.0));
    }

    #[test]
    fn single_value() {
        let result = stats(&[0.5]);
        assert_eq!(result.mean_days, Some(0.5));
        assert_eq!(result.median_days, Some(0.5));
    }

    #[test]
    fn median_matches_sorting() {
        let mut values: Vec<f64> = (0..1001).map(|i| f64::from((i * 7919) % 1009)).collect();
        for len in [1000, 1001] {
            let mut sorted = values[..len].to_vec();
            sorted.sort_by(f64::total_cmp);
            let expected = if len % 2 == 1 {
                sorted[len / 2]
            } else {
                (sorted[len / 2 - 1] + sorted[len / 2]) / 2.0
            };
            assert_eq!(median(&mut values[..len]), expected, "length {len}");
        }
    }
}
