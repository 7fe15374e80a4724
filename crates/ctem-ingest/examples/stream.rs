//! Measures how parsers stream: generates large Nessus v2 XML and SARIF
//! files, parses them into a sink that counts and drops records, and
//! tokenizes the same bytes without building anything, so the two speeds
//! can be compared and the peak memory of a parse read with `time -v`.
//!
//! ```sh
//! cargo build --release -p ctem-ingest --example stream
//! target/release/examples/stream generate nessus 1024 /tmp/big.nessus
//! target/release/examples/stream generate sarif 1024 /tmp/sorted.sarif sorted
//! /usr/bin/time -f "%e s, %M KB" target/release/examples/stream parse nessus /tmp/big.nessus
//! /usr/bin/time -f "%e s, %M KB" target/release/examples/stream tokenize nessus /tmp/big.nessus
//! ```
//!
//! The generators are seeded, so every run writes the same bytes; the size
//! is given in MiB and the file ends at the first whole record past it.
//! SARIF comes in the schema's order (the tool, then the results), or with
//! `sorted` as writers that sort keys give it: the results first, then the
//! tool, and no `artifacts`. Both give the same findings.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use ctem_ingest::{ParseContext, Sink, default_target, find};
use ctem_model::{Asset, Finding, Relationship};

/// The allocator of the `ctem` binary, so the figures are those of a real run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const READ_BUFFER: usize = 64 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["generate", format, mib, path] => generate(format, mib, path, SarifOrder::Schema),
        ["generate", "sarif", mib, path, "sorted"] => generate("sarif", mib, path, SarifOrder::Sorted),
        ["parse", format, path] => parse(format, path),
        ["tokenize", format, path] => tokenize(format, path),
        _ => Err(
            "usage: stream generate nessus|sarif MIB PATH | generate sarif MIB PATH sorted | parse nessus|sarif PATH | tokenize nessus|sarif PATH"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("stream: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Counts records and keeps none of them.
#[derive(Default)]
struct CountingSink {
    assets: u64,
    relationships: u64,
    findings: u64,
    targets: u64,
}

impl Sink for CountingSink {
    fn asset(&mut self, _asset: Asset) {
        self.assets += 1;
    }

    fn relationship(&mut self, _relationship: Relationship) {
        self.relationships += 1;
    }

    fn finding(&mut self, _finding: Finding) {
        self.findings += 1;
    }

    fn target(&mut self, _tool: &str, _target: &str) {
        self.targets += 1;
    }
}

fn format_id(format: &str) -> Result<&'static str, String> {
    match format {
        "nessus" => Ok("nessus-xml"),
        "sarif" => Ok("sarif"),
        other => Err(format!("unknown format {other:?}; expected nessus or sarif")),
    }
}

fn open(path: &str) -> Result<(BufReader<File>, u64), String> {
    let file = File::open(path).map_err(|error| format!("{path}: {error}"))?;
    let size = file.metadata().map_err(|error| format!("{path}: {error}"))?.len();
    Ok((BufReader::with_capacity(READ_BUFFER, file), size))
}

fn report(action: &str, path: &str, size: u64, started: Instant, counts: &str) {
    let seconds = started.elapsed().as_secs_f64();
    let mib = size as f64 / (1024.0 * 1024.0);
    println!(
        "{action} {path}: {mib:.0} MiB in {seconds:.2} s, {:.1} MiB/s{counts}",
        mib / seconds
    );
}

fn parse(format: &str, path: &str) -> Result<(), String> {
    let id = format_id(format)?;
    let parser = find(id).ok_or_else(|| format!("no parser {id}"))?;
    let (mut reader, size) = open(path)?;
    let target = default_target(id, path);
    let context = ParseContext {
        path,
        default_target: &target,
    };
    let mut sink = CountingSink::default();
    let started = Instant::now();
    parser
        .parse(&context, &mut reader, &mut sink)
        .map_err(|error| error.to_string())?;
    let counts = format!(
        ", {} findings, {} assets, {} relationships, {} targets",
        sink.findings, sink.assets, sink.relationships, sink.targets
    );
    report("parsed", path, size, started, &counts);
    Ok(())
}

/// Reads every token of the file and builds nothing: XML events with
/// quick-xml, JSON values skipped with serde's `IgnoredAny`, both from the
/// same buffered reader the parsers get.
fn tokenize(format: &str, path: &str) -> Result<(), String> {
    format_id(format)?;
    let (reader, size) = open(path)?;
    let started = Instant::now();
    let tokens = match format {
        "nessus" => tokenize_xml(reader)?,
        _ => {
            let mut deserializer = serde_json::Deserializer::from_reader(reader);
            serde::de::Deserializer::deserialize_ignored_any(&mut deserializer, serde::de::IgnoredAny)
                .map_err(|error| error.to_string())?;
            deserializer.end().map_err(|error| error.to_string())?;
            0
        }
    };
    let counts = if tokens > 0 {
        format!(", {tokens} events")
    } else {
        String::new()
    };
    report("tokenized", path, size, started, &counts);
    Ok(())
}

fn tokenize_xml(reader: impl BufRead) -> Result<u64, String> {
    let mut reader = quick_xml::Reader::from_reader(reader);
    let mut buffer = Vec::new();
    let mut events = 0u64;
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(quick_xml::events::Event::Eof) => return Ok(events),
            Ok(_) => events += 1,
            Err(error) => return Err(format!("at byte {}: {error}", reader.error_position())),
        }
        buffer.clear();
    }
}

/// A small xorshift generator: the same seed gives the same file.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, bound: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % bound
    }
}

/// The order of a generated SARIF run's properties.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SarifOrder {
    /// The schema's order: tool, versionControlProvenance,
    /// originalUriBaseIds, artifacts, results.
    Schema,
    /// Sorted keys without artifacts: results, tool,
    /// versionControlProvenance, originalUriBaseIds... as sorting writers
    /// (Semgrep) give them, so every result comes before the tool.
    Sorted,
}

fn generate(format: &str, mib: &str, path: &str, order: SarifOrder) -> Result<(), String> {
    format_id(format)?;
    let mib: u64 = mib
        .parse()
        .map_err(|_| format!("size {mib:?} is not a number of MiB"))?;
    let file = File::create(path).map_err(|error| format!("{path}: {error}"))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let limit = mib * 1024 * 1024;
    let written = match format {
        "nessus" => write_nessus(&mut out, limit),
        _ => write_sarif(&mut out, limit, order),
    }
    .and_then(|records| out.flush().map(|()| records))
    .map_err(|error| format!("{path}: {error}"))?;
    println!("wrote {path}: {written} records");
    Ok(())
}

const VECTORS: [&str; 3] = [
    "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
    "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
];

/// Writes a Nessus v2 report of hosts with 40 items each, as a scan of a
/// large network looks, until `limit` bytes. Returns the number of items.
fn write_nessus(out: &mut impl Write, limit: u64) -> io::Result<u64> {
    let mut random = Xorshift(0x5eed_0001);
    let mut counter = CountingWriter { inner: out, bytes: 0 };
    writeln!(
        counter,
        r#"<?xml version="1.0" ?>
<NessusClientData_v2>
<Policy><policyName>Large network scan</policyName></Policy>
<Report name="generated" xmlns:cm="http://www.nessus.org/cm">"#
    )?;
    let mut items = 0u64;
    let mut host = 0u64;
    while counter.bytes < limit {
        let ip = format!("10.{}.{}.{}", host >> 16 & 255, host >> 8 & 255, host & 255);
        writeln!(
            counter,
            r#"<ReportHost name="{ip}"><HostProperties>
<tag name="HOST_END">Fri Nov 27 10:12:44 2026</tag>
<tag name="host-ip">{ip}</tag>
<tag name="host-fqdn">host-{host}.corp.example</tag>
<tag name="operating-system">Linux Kernel 5.15 on Ubuntu 22.04</tag>
<tag name="HOST_START">Fri Nov 27 10:02:11 2026</tag>
</HostProperties>"#
        )?;
        for _ in 0..40 {
            let plugin = 10_000 + random.below(150_000);
            let severity = random.below(5);
            let port = [22, 80, 443, 3306, 8080][random.below(5) as usize];
            let vector = VECTORS[random.below(3) as usize];
            writeln!(
                counter,
                r#"<ReportItem port="{port}" svc_name="www" protocol="tcp" severity="{severity}" pluginID="{plugin}" pluginName="Generated plugin {plugin} &lt;remote check&gt;" pluginFamily="General">
<agent>unix</agent>
<description>The remote host is affected by a generated vulnerability in a service it runs. An unauthenticated, remote attacker can exploit this to execute arbitrary code or cause a denial of service.</description>
<fname>generated_{plugin}.nasl</fname>
<plugin_modification_date>2026/10/01</plugin_modification_date>
<plugin_name>Generated plugin {plugin}</plugin_name>
<plugin_publication_date>2024/05/14</plugin_publication_date>
<plugin_type>remote</plugin_type>
<risk_factor>High</risk_factor>
<solution>Upgrade to the latest version of the service.</solution>
<synopsis>The remote service is affected by a vulnerability.</synopsis>
<cvss3_base_score>9.8</cvss3_base_score>
<cvss3_vector>{vector}</cvss3_vector>
<cve>CVE-{}-{}</cve>
<see_also>https://vendor.example/advisories/{plugin}</see_also>
<plugin_output>
  Installed version : 2.4.{}
  Fixed version     : 2.4.62
</plugin_output>
</ReportItem>"#,
                2015 + random.below(11),
                10_000 + random.below(40_000),
                random.below(60),
            )?;
            items += 1;
        }
        writeln!(counter, "</ReportHost>")?;
        host += 1;
    }
    writeln!(counter, "</Report>\n</NessusClientData_v2>")?;
    Ok(items)
}

/// Writes one SARIF run with 200 rules and results over 5,000 files,
/// in the given order of its properties, until `limit` bytes. Returns the
/// number of results.
fn write_sarif(out: &mut impl Write, limit: u64, order: SarifOrder) -> io::Result<u64> {
    let mut counter = CountingWriter { inner: out, bytes: 0 };
    write!(
        counter,
        r#"{{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{{"#
    )?;
    let results = match order {
        SarifOrder::Schema => {
            write_sarif_metadata(&mut counter)?;
            write!(counter, r#","artifacts":[],"results":["#)?;
            let results = write_sarif_results(&mut counter, limit)?;
            write!(counter, "]")?;
            results
        }
        SarifOrder::Sorted => {
            // Counted as though the metadata and the empty artifacts came
            // first, so both orders stop after the same result.
            let mut metadata = Vec::new();
            write_sarif_metadata(&mut CountingWriter {
                inner: &mut metadata,
                bytes: 0,
            })?;
            counter.bytes += (metadata.len() + r#","artifacts":[],"#.len()) as u64;
            write!(counter, r#""results":["#)?;
            let results = write_sarif_results(&mut counter, limit)?;
            write!(counter, "],")?;
            counter.write_all(&metadata)?;
            results
        }
    };
    write!(counter, "}}]}}")?;
    Ok(results)
}

/// Writes the run's `tool`, `versionControlProvenance` and
/// `originalUriBaseIds`.
fn write_sarif_metadata<W: Write>(counter: &mut CountingWriter<'_, W>) -> io::Result<()> {
    write!(
        counter,
        r#""tool":{{"driver":{{"name":"Semgrep OSS","semanticVersion":"1.90.0","rules":["#
    )?;
    for rule in 0..200 {
        if rule > 0 {
            counter.write_all(b",")?;
        }
        write!(
            counter,
            r#"{{"id":"python.lang.security.rule-{rule}","name":"rule-{rule}","shortDescription":{{"text":"Generated rule {rule}"}},"fullDescription":{{"text":"Detects generated pattern {rule}, which can lead to injection."}},"helpUri":"https://semgrep.dev/r/rule-{rule}","defaultConfiguration":{{"level":"warning"}},"properties":{{"tags":["CWE-{}: Improper Neutralization","security"],"security-severity":"{}.{}"}}}}"#,
            78 + rule % 40,
            rule % 10,
            rule % 7
        )?;
    }
    write!(
        counter,
        r#"]}}}},"versionControlProvenance":[{{"repositoryUri":"https://git.example/acme/monolith","revisionId":"4f2a9c"}}],"originalUriBaseIds":{{"%SRCROOT%":{{"uri":"file:///build/monolith/"}}}}"#
    )
}

/// Writes results, comma-separated, until the writer has `limit` bytes.
/// Returns their number.
fn write_sarif_results<W: Write>(counter: &mut CountingWriter<'_, W>, limit: u64) -> io::Result<u64> {
    let mut random = Xorshift(0x5eed_0002);
    let mut results = 0u64;
    while counter.bytes < limit {
        if results > 0 {
            counter.write_all(b",")?;
        }
        let rule = random.below(200);
        let file = random.below(5_000);
        let line = 1 + random.below(2_000);
        write!(
            counter,
            r#"{{"ruleId":"python.lang.security.rule-{rule}","level":"error","message":{{"text":"User input flows into a dangerous call in generated module {file}; sanitize it before use."}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/pkg{}/module_{file}.py","uriBaseId":"%SRCROOT%"}},"region":{{"startLine":{line},"startColumn":5,"endLine":{line},"endColumn":42,"snippet":{{"text":"    cursor.execute(query % request.args['id'])"}}}}}}}}],"fingerprints":{{"matchBasedId/v1":"{:016x}{:016x}"}}}}"#,
            file % 50,
            random.below(u64::MAX),
            results
        )?;
        results += 1;
    }
    Ok(results)
}

/// Counts the bytes written, so generators can stop at a size.
struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
