//! Load times of full-size intelligence files: an EPSS daily file of
//! 300,000 rows (plain and gzipped), a KEV catalog of 1,500 entries, and a
//! folder that contains all three.
//!
//! The inputs come from a seeded generator and are written to a temporary
//! folder before the first measurement.
//!
//! Run with `cargo bench -p ctem-intel --bench load -- --sample-size 10`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ctem_intel::{EpssScores, Intel, KevCatalog};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Rows of the generated EPSS file; the daily file of 2025 scores about 300,000 CVEs.
const EPSS_ROWS: u32 = 300_000;
/// Entries of the generated KEV catalog; the catalog of August 2025 has 1,404.
const KEV_ENTRIES: u32 = 1_500;
const SEED: u64 = 0x5eed_e955;

/// A 64-bit linear congruential generator (Knuth's MMIX constants), seeded,
/// so every run measures the same files. Its high bits are ample for test data.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) % bound
    }
}

/// Writes the EPSS daily file: the `#model_version` line, the header, and
/// one row per CVE with five-decimal values as FIRST publishes them.
fn write_epss(out: &mut impl Write, random: &mut Lcg) -> std::io::Result<()> {
    writeln!(out, "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000")?;
    writeln!(out, "cve,epss,percentile")?;
    for number in 0..EPSS_ROWS {
        let year = 1999 + number % 27;
        let epss = random.below(100_001);
        let percentile = random.below(100_001);
        writeln!(
            out,
            "CVE-{year}-{number:05},{}.{:05},{}.{:05}",
            epss / 100_000,
            epss % 100_000,
            percentile / 100_000,
            percentile % 100_000
        )?;
    }
    Ok(())
}

/// Writes a KEV catalog with every field that CISA fills.
fn write_kev(out: &mut impl Write, random: &mut Lcg) -> std::io::Result<()> {
    writeln!(
        out,
        r#"{{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2025.08.25","dateReleased":"2025-08-25T17:04:19.9796Z","count":{KEV_ENTRIES},"vulnerabilities":["#
    )?;
    for number in 0..KEV_ENTRIES {
        let separator = if number + 1 < KEV_ENTRIES { "," } else { "" };
        let year = 2002 + number % 24;
        let month = 1 + random.below(12);
        let day = 1 + random.below(28);
        let ransomware = if random.below(5) == 0 { "Known" } else { "Unknown" };
        let cwe = 20 + random.below(900);
        writeln!(
            out,
            r#"{{"cveID":"CVE-{year}-{number:05}","vendorProject":"Vendor {vendor}","product":"Product {number}","vulnerabilityName":"Vendor {vendor} Product {number} Remote Code Execution Vulnerability","dateAdded":"{year}-{month:02}-{day:02}","shortDescription":"Product {number} contains a deserialization vulnerability that allows a remote, unauthenticated attacker to execute code through a crafted request to the management interface.","requiredAction":"Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, or discontinue use of the product if mitigations are unavailable.","dueDate":"{year}-{month:02}-{due:02}","knownRansomwareCampaignUse":"{ransomware}","notes":"https://vendor.example/advisories/{number} ; https://nvd.nist.gov/vuln/detail/CVE-{year}-{number:05}","cwes":["CWE-{cwe}"]}}{separator}"#,
            vendor = random.below(300),
            due = day.min(27) + 1,
        )?;
    }
    writeln!(out, "]}}")
}

struct Inputs {
    _dir: tempfile::TempDir,
    folder: PathBuf,
    epss_plain: PathBuf,
    epss_gzip: PathBuf,
    kev: PathBuf,
}

fn write_inputs() -> std::io::Result<Inputs> {
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("intel");
    std::fs::create_dir(&folder)?;
    let epss_plain = folder.join("epss_scores-2025-03-14.csv");
    let epss_gzip = folder.join("epss_scores-2025-03-14.csv.gz");
    let kev = folder.join("known_exploited_vulnerabilities.json");

    let mut plain = BufWriter::new(File::create(&epss_plain)?);
    write_epss(&mut plain, &mut Lcg(SEED))?;
    plain.flush()?;
    let mut gzip = GzEncoder::new(BufWriter::new(File::create(&epss_gzip)?), Compression::default());
    write_epss(&mut gzip, &mut Lcg(SEED))?;
    gzip.finish()?.flush()?;
    let mut catalog = BufWriter::new(File::create(&kev)?);
    write_kev(&mut catalog, &mut Lcg(SEED))?;
    catalog.flush()?;

    Ok(Inputs {
        _dir: dir,
        folder,
        epss_plain,
        epss_gzip,
        kev,
    })
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn load(c: &mut Criterion) {
    let inputs = write_inputs().expect("write the generated inputs to a temporary folder");
    eprintln!(
        "inputs: EPSS {} rows, {} bytes plain, {} bytes gzipped; KEV {} entries, {} bytes",
        EPSS_ROWS,
        size(&inputs.epss_plain),
        size(&inputs.epss_gzip),
        KEV_ENTRIES,
        size(&inputs.kev)
    );

    let mut group = c.benchmark_group("load");
    group.bench_function("epss_plain_300k", |b| {
        b.iter(|| EpssScores::load(&inputs.epss_plain).expect("the generated EPSS file is valid"))
    });
    group.bench_function("epss_gzip_300k", |b| {
        b.iter(|| EpssScores::load(&inputs.epss_gzip).expect("the generated EPSS file is valid"))
    });
    group.bench_function("kev_1500", |b| {
        b.iter(|| KevCatalog::load(&inputs.kev).expect("the generated KEV catalog is valid"))
    });
    group.bench_function("intel_load_dir", |b| {
        b.iter(|| Intel::load_dir(&inputs.folder).expect("the generated folder is valid"))
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
