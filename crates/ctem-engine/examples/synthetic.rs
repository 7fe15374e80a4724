//! Writes a generated Trivy report, for timing `ctem assess` by hand:
//!
//! ```sh
//! cargo run --release -p ctem-engine --example synthetic -- 100000 /tmp/trivy-100k.json
//! ```
//!
//! Arguments: the number of findings, the output file, and optionally the
//! seed (default 1) and the image name.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synthetic FINDINGS OUTPUT [SEED] [IMAGE]";
    let findings: usize = args.first().and_then(|n| n.parse().ok()).expect(usage);
    let output = args.get(1).expect(usage);
    let seed: u64 = args.get(2).map_or(1, |s| s.parse().expect("SEED must be a number"));
    let image = args.get(3).map_or("acme/synthetic:1.0", String::as_str);
    let report = ctem_engine::synthetic::trivy_report(image, findings, seed);
    std::fs::write(output, report).unwrap_or_else(|error| panic!("cannot write {output}: {error}"));
}
