//! Compact storage of the EPSS score history of one CVE.
//!
//! A point is a day and a score. Days count from 2021-04-14, the first day
//! that FIRST published EPSS scores, and fit a `u16` (until 2200). Scores
//! are fixed point in units of 1e-5, the resolution of the published files,
//! so 1.0 is 100,000 units and needs 17 bits.
//!
//! Consecutive days with the same score are stored as one [`Run`] of eight
//! bytes. This deduplication is exact: a run covers only days on which a
//! loaded file scored the CVE, so a day without a file (a gap in a cache)
//! ends the run, and [`Runs::days`] lists every scored day again.

use chrono::{Days, NaiveDate};

/// Days since [`first_day`].
pub(crate) type Day = u16;

/// Units of fixed point per 1.0.
pub(crate) const UNITS_PER_ONE: u32 = 100_000;

const DAY_BITS: u32 = 16;
const EXTRA_BITS: u32 = 14;
const UNIT_BITS: u32 = 17;
const EXTRA_SHIFT: u32 = DAY_BITS;
const EPSS_SHIFT: u32 = DAY_BITS + EXTRA_BITS;
const PERCENTILE_SHIFT: u32 = EPSS_SHIFT + UNIT_BITS;
const UNIT_MASK: u64 = (1 << UNIT_BITS) - 1;

/// The maximum number of days after the first day of a run (about 44 years).
/// A longer stretch of equal scores is split into several runs.
const MAX_EXTRA_DAYS: u32 = (1 << EXTRA_BITS) - 1;

/// Returns 2021-04-14, the first day of EPSS scores and day 0 of [`Day`].
pub(crate) fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 4, 14).expect("2021-04-14 is a valid date")
}

/// Converts a date to a [`Day`], or `None` before 2021-04-14 or after the
/// last day that a `u16` counts (2200-09-18).
pub(crate) fn day_of(date: NaiveDate) -> Option<Day> {
    let days = date.signed_duration_since(first_day()).num_days();
    Day::try_from(days).ok()
}

/// Converts a [`Day`] back to its date.
pub(crate) fn date_of(day: Day) -> NaiveDate {
    first_day() + Days::new(u64::from(day))
}

/// An EPSS probability and percentile in units of 1e-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Units {
    pub epss: u32,
    pub percentile: u32,
}

impl Units {
    /// Converts a probability from 0 to 1 into units, rounded to the nearest
    /// unit. Returns the units and whether rounding changed the value.
    pub fn from_probability(value: f64) -> (u32, bool) {
        debug_assert!((0.0..=1.0).contains(&value));
        let units = (value * f64::from(UNITS_PER_ONE)).round() as u32;
        // Division by a power of ten rounds to the nearest f64, as parsing
        // the decimal text does, so a value of five decimals comes back
        // bit for bit.
        (units, to_probability(units) != value)
    }
}

/// Converts units back to a probability.
pub(crate) fn to_probability(units: u32) -> f64 {
    f64::from(units) / f64::from(UNITS_PER_ONE)
}

/// Consecutive days with the same score, packed into eight bytes: the first
/// day (16 bits), the number of days after it (14 bits), the probability
/// (17 bits) and the percentile (17 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run(u64);

impl Run {
    /// Creates a run of one day.
    pub fn single(day: Day, units: Units) -> Run {
        Run::new(day, 0, units)
    }

    fn new(start: Day, extra_days: u32, units: Units) -> Run {
        debug_assert!(extra_days <= MAX_EXTRA_DAYS);
        debug_assert!(units.epss <= UNITS_PER_ONE && units.percentile <= UNITS_PER_ONE);
        Run(u64::from(start)
            | u64::from(extra_days) << EXTRA_SHIFT
            | u64::from(units.epss) << EPSS_SHIFT
            | u64::from(units.percentile) << PERCENTILE_SHIFT)
    }

    pub fn start(self) -> Day {
        self.0 as Day
    }

    fn extra_days(self) -> u32 {
        ((self.0 >> EXTRA_SHIFT) & u64::from(MAX_EXTRA_DAYS)) as u32
    }

    /// Returns the last day of the run.
    pub fn end(self) -> Day {
        // A run never reaches past Day::MAX: `new` gets its length from days that exist.
        (u32::from(self.start()) + self.extra_days()) as Day
    }

    pub fn units(self) -> Units {
        Units {
            epss: ((self.0 >> EPSS_SHIFT) & UNIT_MASK) as u32,
            percentile: ((self.0 >> PERCENTILE_SHIFT) & UNIT_MASK) as u32,
        }
    }

    /// Returns the run with its days limited to `start..=end`, which must overlap it.
    fn clip(self, start: Day, end: Day) -> Run {
        let start = start.max(self.start());
        let end = end.min(self.end());
        Run::new(start, u32::from(end - start), self.units())
    }

    /// Joins `next` to the end of this run when it starts the day after,
    /// has the same score and the joined run fits.
    fn join(self, next: Run) -> Option<Run> {
        let contiguous = u32::from(self.end()) + 1 == u32::from(next.start());
        let extra_days = u32::from(next.end()) - u32::from(self.start());
        (contiguous && self.units() == next.units() && extra_days <= MAX_EXTRA_DAYS)
            .then(|| Run::new(self.start(), extra_days, self.units()))
    }
}

/// The runs of one CVE, sorted by day and without overlap. A CVE scored by
/// one file (the common case) keeps its run inline, without an allocation.
#[derive(Debug, Clone)]
pub(crate) enum Runs {
    One(Run),
    Many(Vec<Run>),
}

impl Runs {
    pub fn as_slice(&self) -> &[Run] {
        match self {
            Runs::One(run) => std::slice::from_ref(run),
            Runs::Many(runs) => runs,
        }
    }

    /// Returns the last run. A `Runs` is never empty.
    pub fn last(&self) -> Run {
        *self.as_slice().last().expect("a CVE history has at least one run")
    }

    /// Returns the score on `day` exactly, without looking at earlier days.
    pub fn on(&self, day: Day) -> Option<Units> {
        let (found, units) = self.at_or_before(day)?;
        (found == day).then_some(units)
    }

    /// Returns the latest scored day at or before `day` and its score.
    pub fn at_or_before(&self, day: Day) -> Option<(Day, Units)> {
        let runs = self.as_slice();
        let index = runs.partition_point(|run| run.start() <= day);
        let run = runs.get(index.checked_sub(1)?)?;
        Some((run.end().min(day), run.units()))
    }

    /// Lists every scored day with its score, oldest first.
    pub fn days(&self) -> impl Iterator<Item = (Day, Units)> + '_ {
        self.as_slice()
            .iter()
            .flat_map(|run| (run.start()..=run.end()).map(move |day| (day, run.units())))
    }

    /// Inserts `new`, replacing the scores of the days it covers. Returns
    /// whether one of those days had a different score before.
    pub fn insert(&mut self, new: Run) -> bool {
        // A file loaded again, or two files of one day that agree, change nothing.
        let covering = self.as_slice().partition_point(|run| run.start() <= new.start());
        if let Some(&run) = covering.checked_sub(1).and_then(|index| self.as_slice().get(index))
            && run.end() >= new.end()
            && run.units() == new.units()
        {
            return false;
        }

        let runs = self.make_many();

        // Fast path: files loaded in date order append.
        let last = *runs.last().expect("a CVE history has at least one run");
        if new.start() > last.end() {
            match last.join(new) {
                Some(joined) => *runs.last_mut().expect("checked above") = joined,
                None => runs.push(new),
            }
            return false;
        }

        // Replace the overlapped runs by the parts that `new` does not cover, and `new`.
        let first = runs.partition_point(|run| run.end() < new.start());
        let after = runs.partition_point(|run| run.start() <= new.end());
        let conflict = runs[first..after].iter().any(|run| run.units() != new.units());
        let mut replacement = Vec::with_capacity(3);
        if let Some(&head) = runs[first..after].first().filter(|head| head.start() < new.start()) {
            replacement.push(head.clip(head.start(), new.start() - 1));
        }
        replacement.push(new);
        if let Some(&tail) = runs[first..after].last().filter(|tail| tail.end() > new.end()) {
            replacement.push(tail.clip(new.end() + 1, tail.end()));
        }

        // Join the new runs with their neighbours where the score is unchanged.
        let low = first.saturating_sub(1);
        let high = (after + 1).min(runs.len());
        let mut window: Vec<Run> = runs[low..first].to_vec();
        window.extend(replacement);
        window.extend_from_slice(&runs[after..high]);
        let window = coalesce(window);
        runs.splice(low..high, window);
        conflict
    }

    fn make_many(&mut self) -> &mut Vec<Run> {
        if let Runs::One(run) = *self {
            *self = Runs::Many(vec![run]);
        }
        match self {
            Runs::Many(runs) => runs,
            Runs::One(_) => unreachable!("converted above"),
        }
    }
}

fn coalesce(runs: Vec<Run>) -> Vec<Run> {
    let mut joined: Vec<Run> = Vec::with_capacity(runs.len());
    for run in runs {
        match joined.last().and_then(|last| last.join(run)) {
            Some(longer) => *joined.last_mut().expect("join needs a last run") = longer,
            None => joined.push(run),
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Units = Units {
        epss: 275,
        percentile: 50_602,
    };
    const B: Units = Units {
        epss: 100_000,
        percentile: 100_000,
    };

    fn days(runs: &Runs) -> Vec<(Day, Units)> {
        runs.days().collect()
    }

    #[test]
    fn run_packs_fields() {
        let run = Run::new(Day::MAX - 3, 3, B);
        assert_eq!(run.start(), Day::MAX - 3);
        assert_eq!(run.end(), Day::MAX);
        assert_eq!(run.units(), B);
        assert_eq!(std::mem::size_of::<Run>(), 8);
    }

    #[test]
    fn day_bounds() {
        assert_eq!(day_of(first_day()), Some(0));
        assert_eq!(day_of(NaiveDate::from_ymd_opt(2021, 4, 13).unwrap()), None);
        assert_eq!(date_of(Day::MAX), NaiveDate::from_ymd_opt(2200, 9, 18).unwrap());
        assert_eq!(day_of(date_of(Day::MAX) + Days::new(1)), None);
    }

    #[test]
    fn units_round_trip() {
        for text in ["0", "0.00001", "0.00275", "0.50602", "0.94358", "0.99999", "1"] {
            let value: f64 = text.parse().unwrap();
            let (units, rounded) = Units::from_probability(value);
            assert!(!rounded, "{text}");
            assert_eq!(to_probability(units), value, "{text}");
        }
        assert_eq!(Units::from_probability(0.123456), (12_346, true));
    }

    #[test]
    fn equal_days_join() {
        let mut runs = Runs::One(Run::single(10, A));
        assert!(!runs.insert(Run::single(11, A)));
        assert!(!runs.insert(Run::single(12, A)));
        assert_eq!(runs.as_slice().len(), 1);
        assert_eq!(days(&runs), [(10, A), (11, A), (12, A)]);
    }

    #[test]
    fn gap_keeps_runs_apart() {
        let mut runs = Runs::One(Run::single(10, A));
        runs.insert(Run::single(12, A));
        assert_eq!(runs.as_slice().len(), 2);
        assert_eq!(runs.at_or_before(11), Some((10, A)));
        assert_eq!(runs.on(11), None);
        assert_eq!(runs.on(12), Some(A));
    }

    #[test]
    fn insert_inside_run_splits_it() {
        let mut runs = Runs::One(Run::new(10, 4, A));
        assert!(runs.insert(Run::single(12, B)));
        assert_eq!(days(&runs), [(10, A), (11, A), (12, B), (13, A), (14, A)]);
        assert_eq!(runs.as_slice().len(), 3);

        assert!(runs.insert(Run::single(12, A)));
        assert_eq!(runs.as_slice(), [Run::new(10, 4, A)]);
    }

    #[test]
    fn insert_before_and_between() {
        let mut runs = Runs::One(Run::single(20, A));
        assert!(!runs.insert(Run::single(10, B)));
        assert!(!runs.insert(Run::single(15, A)));
        assert!(!runs.insert(Run::single(19, A)));
        assert_eq!(days(&runs), [(10, B), (15, A), (19, A), (20, A)]);
        assert_eq!(runs.as_slice().len(), 3);
    }

    #[test]
    fn insert_same_point_is_no_conflict() {
        let mut runs = Runs::One(Run::new(10, 2, A));
        assert!(!runs.insert(Run::single(11, A)));
        assert_eq!(runs.as_slice(), [Run::new(10, 2, A)]);
    }

    #[test]
    fn long_run_splits_at_limit() {
        let mut runs = Runs::One(Run::new(0, MAX_EXTRA_DAYS, A));
        runs.insert(Run::single(MAX_EXTRA_DAYS as Day + 1, A));
        assert_eq!(runs.as_slice().len(), 2);
        assert_eq!(runs.days().count(), MAX_EXTRA_DAYS as usize + 2);
    }
}
