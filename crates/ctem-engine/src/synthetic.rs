//! Seeded generators of large, realistic reports for benchmarks and tests.
//! The same seed always gives the same bytes.

use std::fmt::Write;

/// A small xorshift generator: enough variety for test data, no dependency.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
const VECTORS: [&str; 4] = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
];

/// A Trivy JSON report (schema version 2) of one container image with
/// `findings` vulnerabilities spread over `findings / 4 + 1` packages.
/// Every (CVE, package) pair is distinct, so every vulnerability is one
/// finding.
pub fn trivy_report(image: &str, findings: usize, seed: u64) -> String {
    let mut random = Xorshift(seed.max(1));
    let packages = findings / 4 + 1;
    let mut out = String::with_capacity(findings * 700 + 1024);
    write!(
        out,
        r#"{{"SchemaVersion":2,"CreatedAt":"2026-11-30T06:00:00Z","ArtifactName":"{image}","ArtifactType":"container_image","Metadata":{{"OS":{{"Family":"debian","Name":"12.7"}},"ImageID":"sha256:{:064x}","RepoTags":["{image}"]}},"Results":[{{"Target":"{image} (debian 12.7)","Class":"os-pkgs","Type":"debian","Vulnerabilities":["#,
        seed
    )
    .expect("writing to a String cannot fail");
    for index in 0..findings {
        if index > 0 {
            out.push(',');
        }
        let package = index % packages;
        let cve_year = 2015 + random.below(11);
        let cve_number = 10_000 + index;
        let severity = SEVERITIES[random.below(SEVERITIES.len() as u64) as usize];
        let vector = VECTORS[random.below(VECTORS.len() as u64) as usize];
        let fixed = if random.below(3) == 0 {
            String::new()
        } else {
            format!("1.{}.{}", package % 17, index % 9 + 1)
        };
        write!(
            out,
            r#"{{"VulnerabilityID":"CVE-{cve_year}-{cve_number}","PkgID":"libsynth{package}@1.{minor}.0","PkgName":"libsynth{package}","PkgIdentifier":{{"PURL":"pkg:deb/debian/libsynth{package}@1.{minor}.0?arch=amd64&distro=debian-12.7"}},"InstalledVersion":"1.{minor}.0","FixedVersion":"{fixed}","Status":"{status}","SeveritySource":"nvd","PrimaryURL":"https://avd.aquasec.com/nvd/cve-{cve_year}-{cve_number}","Title":"libsynth{package}: memory corruption in parser {index}","Description":"A crafted input can corrupt memory in libsynth{package} before 1.{minor}.1, which may let an attacker run code or crash the process.","Severity":"{severity}","CweIDs":["CWE-787"],"CVSS":{{"nvd":{{"V3Vector":"{vector}","V3Score":7.5}}}},"References":["https://nvd.nist.gov/vuln/detail/CVE-{cve_year}-{cve_number}"],"PublishedDate":"2024-03-01T10:15:00Z"}}"#,
            minor = package % 23,
            status = if fixed.is_empty() { "affected" } else { "fixed" },
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("]}]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_report() {
        assert_eq!(trivy_report("acme/a:1", 50, 7), trivy_report("acme/a:1", 50, 7));
        assert_ne!(trivy_report("acme/a:1", 50, 7), trivy_report("acme/a:1", 50, 8));
    }

    #[test]
    fn report_is_valid_json_with_every_vulnerability() {
        let report: serde_json::Value = serde_json::from_str(&trivy_report("acme/a:1", 120, 3)).unwrap();
        let vulnerabilities = report["Results"][0]["Vulnerabilities"].as_array().unwrap();
        assert_eq!(vulnerabilities.len(), 120);
    }
}
