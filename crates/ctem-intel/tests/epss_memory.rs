//! Heap memory of the EPSS history per stored point, measured with a
//! counting allocator. This binary has one test, so no other test
//! allocates while it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicIsize, Ordering};

use ctem_intel::EpssScores;

/// Counts the bytes that are allocated and not yet freed.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to the system allocator with the same
// arguments; the counter only adds up the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CVES: u32 = 10_000;
const DAYS: u32 = 30;

/// Builds the daily file of day `day` (2025-03-01 plus `day`). When
/// `changing`, every CVE gets a new score each day, the worst case for runs.
fn daily_file(day: u32, changing: bool) -> String {
    let mut text = format!(
        "#model_version:v1,score_date:2025-03-{:02}\ncve,epss,percentile\n",
        day + 1
    );
    for number in 0..CVES {
        let units = if changing {
            (number * 7 + day * 13) % 100_000
        } else {
            number % 100_000
        };
        writeln!(text, "CVE-2025-{number:05},0.{units:05},0.{units:05}").unwrap();
    }
    text
}

/// Returns the live heap bytes of scores loaded from `DAYS` daily files.
fn measure(changing: bool) -> (isize, EpssScores) {
    let files: Vec<String> = (0..DAYS).map(|day| daily_file(day, changing)).collect();
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut scores = EpssScores::default();
    for (day, text) in files.iter().enumerate() {
        scores.merge(EpssScores::from_reader(&format!("day-{day}.csv"), text.as_bytes()).unwrap());
    }
    let bytes = LIVE_BYTES.load(Ordering::Relaxed) - before;
    (bytes, scores)
}

#[test]
fn history_bytes_per_point() {
    let points = f64::from(CVES * DAYS);

    let (changing_bytes, changing) = measure(true);
    let stored: usize = changing.files().iter().map(|file| file.count).sum::<usize>();
    assert_eq!(stored as f64, points);
    let changing_per_point = changing_bytes as f64 / points;
    drop(changing);

    let (steady_bytes, steady) = measure(false);
    let first = "CVE-2025-00001".parse().unwrap();
    assert_eq!(steady.history(&first).count(), DAYS as usize);
    let steady_per_point = steady_bytes as f64 / points;

    eprintln!(
        "EPSS history of {CVES} CVEs over {DAYS} days: {changing_per_point:.1} bytes per point when \
         scores change daily, {steady_per_point:.1} bytes per point when they do not \
         (CVE ids and map entries included)"
    );
    // A run is 8 bytes; the rest is the CVE id, the map entry and spare
    // vector capacity, shared by the CVE's points.
    assert!(changing_per_point < 16.0, "{changing_per_point} bytes per point");
    assert!(steady_per_point < 6.0, "{steady_per_point} bytes per point");
}
