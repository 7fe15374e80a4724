//! Vulnerabilities: a pool of CVEs with CVSS v3.1 vectors and exploitation
//! signals, a pool of software components (some of them vulnerable), and
//! the Trivy and Nessus findings of the images and hosts that contain them.
//!
//! The mixes are estimates chosen to look like a real estate, not
//! measured figures: about 55% of the vectors are `AV:N` and 35% `AV:L`;
//! 1.5% of the CVEs are in KEV; EPSS is `10^(-4 + 4u^3)` for a uniform
//! `u`, so its median is about 0.0003 and one CVE in ten is above 0.08,
//! and KEV entries get 0.3 to 1.0.

use std::str::FromStr;

use ctem_model::{
    AssetKey, AssetKind, Component, CvssVector, Finding, FindingKind, Purl, Severity, SourceStatus, VulnerabilityId,
};

use super::Builder;
use super::rng::Rng;
use crate::ExploitSignals;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ecosystem {
    Deb,
    Npm,
    Maven(&'static str),
    Pypi,
}

/// The package names that components are versions of.
pub(super) const PACKAGES: &[(&str, Ecosystem)] = &[
    ("openssl", Ecosystem::Deb),
    ("libssl3", Ecosystem::Deb),
    ("libc6", Ecosystem::Deb),
    ("zlib1g", Ecosystem::Deb),
    ("curl", Ecosystem::Deb),
    ("libcurl4", Ecosystem::Deb),
    ("openssh-client", Ecosystem::Deb),
    ("bash", Ecosystem::Deb),
    ("sudo", Ecosystem::Deb),
    ("systemd", Ecosystem::Deb),
    ("libxml2", Ecosystem::Deb),
    ("libgnutls30", Ecosystem::Deb),
    ("tar", Ecosystem::Deb),
    ("libsqlite3-0", Ecosystem::Deb),
    ("linux-libc-dev", Ecosystem::Deb),
    ("libexpat1", Ecosystem::Deb),
    ("lodash", Ecosystem::Npm),
    ("express", Ecosystem::Npm),
    ("axios", Ecosystem::Npm),
    ("jsonwebtoken", Ecosystem::Npm),
    ("ws", Ecosystem::Npm),
    ("semver", Ecosystem::Npm),
    ("log4j-core", Ecosystem::Maven("org.apache.logging.log4j")),
    ("jackson-databind", Ecosystem::Maven("com.fasterxml.jackson.core")),
    ("spring-web", Ecosystem::Maven("org.springframework")),
    ("tomcat-embed-core", Ecosystem::Maven("org.apache.tomcat.embed")),
    ("snakeyaml", Ecosystem::Maven("org.yaml")),
    ("requests", Ecosystem::Pypi),
    ("urllib3", Ecosystem::Pypi),
    ("django", Ecosystem::Pypi),
    ("pyyaml", Ecosystem::Pypi),
    ("cryptography", Ecosystem::Pypi),
];

/// Which packages an owner may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ecosystems {
    /// Operating system packages only (hosts).
    Os,
    /// Any package (images).
    Any,
}

/// One CVE of the pool.
struct Cve {
    id: VulnerabilityId,
    vector: CvssVector,
    severity: Severity,
    signals: ExploitSignals,
}

/// The CVEs and the vulnerabilities of each component.
pub(super) struct Pool {
    cves: Vec<Cve>,
    /// Indexes of the CVEs whose vector is `AV:N`.
    network_cves: Vec<u32>,
    components: usize,
    /// For each component, a range of `component_cves`.
    ranges: Vec<(u32, u8)>,
    component_cves: Vec<u32>,
}

/// One component, derived from its index: version `v` of package
/// `index % PACKAGES.len()` where `v = index / PACKAGES.len()`, so every
/// index gives a distinct purl.
struct ComponentInfo {
    name: &'static str,
    ecosystem: Ecosystem,
    version: String,
    fixed_version: String,
    purl: String,
}

fn component_info(index: usize) -> ComponentInfo {
    let (name, ecosystem) = PACKAGES[index % PACKAGES.len()];
    let v = index / PACKAGES.len();
    let (major, minor, patch) = (1 + v / 100, (v / 10) % 10, v % 10);
    let version = format!("{major}.{minor}.{patch}");
    let fixed_version = format!("{major}.{minor}.{}", patch + 1);
    let purl = match ecosystem {
        Ecosystem::Deb => format!("pkg:deb/debian/{name}@{version}"),
        Ecosystem::Npm => format!("pkg:npm/{name}@{version}"),
        Ecosystem::Maven(group) => format!("pkg:maven/{group}/{name}@{version}"),
        Ecosystem::Pypi => format!("pkg:pypi/{name}@{version}"),
    };
    ComponentInfo {
        name,
        ecosystem,
        version,
        fixed_version,
        purl,
    }
}

fn ecosystem_name(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Deb => "debian",
        Ecosystem::Npm => "npm",
        Ecosystem::Maven(_) => "jar",
        Ecosystem::Pypi => "pip",
    }
}

/// Where Trivy reports a library package; OS packages have no path.
fn package_path(info: &ComponentInfo) -> Option<String> {
    match info.ecosystem {
        Ecosystem::Deb => None,
        Ecosystem::Npm => Some("app/package-lock.json".into()),
        Ecosystem::Maven(_) => Some(format!("app/lib/{}-{}.jar", info.name, info.version)),
        Ecosystem::Pypi => Some("app/requirements.txt".into()),
    }
}

/// A CVSS v3.1 base vector with a realistic mix of metrics.
fn vector(rng: &mut Rng) -> String {
    let av = rng.weighted(&[("N", 0.55), ("A", 0.05), ("L", 0.35), ("P", 0.05)]);
    let ac = rng.weighted(&[("L", 0.8), ("H", 0.2)]);
    let pr = rng.weighted(&[("N", 0.5), ("L", 0.35), ("H", 0.15)]);
    let ui = rng.weighted(&[("N", 0.65), ("R", 0.35)]);
    let scope = rng.weighted(&[("U", 0.85), ("C", 0.15)]);
    let impact = [("H", 0.5), ("L", 0.3), ("N", 0.2)];
    let c = rng.weighted(&impact);
    let i = rng.weighted(&impact);
    // Some impact is needed for a non-zero score.
    let a = if c == "N" && i == "N" {
        "L"
    } else {
        rng.weighted(&impact)
    };
    format!("CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{scope}/C:{c}/I:{i}/A:{a}")
}

fn signals(rng: &mut Rng) -> ExploitSignals {
    let kev = rng.chance(0.015);
    let epss = if kev {
        Some(0.3 + 0.7 * rng.unit())
    } else if rng.chance(0.03) {
        None
    } else {
        let u = rng.unit();
        Some(10f64.powf(-4.0 + 4.0 * u * u * u))
    };
    ExploitSignals { kev, epss }
}

impl Pool {
    /// Draws the CVEs and which components have which of them.
    pub(super) fn new(builder: &mut Builder) -> Pool {
        let mut rng = builder.rng("vulnerabilities");
        let count = 300 + builder.sizes.total / 40;
        let mut cves = Vec::with_capacity(count);
        let mut network_cves = Vec::new();
        for index in 0..count {
            let id = format!("CVE-{}-{}", 2014 + index % 12, 10_000 + index);
            let text = vector(&mut rng);
            if text.contains("/AV:N/") {
                network_cves.push(index as u32);
            }
            let vector = CvssVector::from_str(&text).expect("generated CVSS vectors are valid");
            let id = VulnerabilityId::from_str(&id).expect("generated CVE ids are valid");
            cves.push(Cve {
                id,
                severity: Severity::from_cvss_score(vector.base_score()),
                vector,
                signals: signals(&mut rng),
            });
        }

        let components = builder.sizes.components;
        let mut ranges = Vec::with_capacity(components);
        let mut component_cves = Vec::new();
        for _ in 0..components {
            let start = component_cves.len() as u32;
            let mut len = 0u8;
            if rng.chance(0.1) {
                for _ in 0..rng.between(1, 3) {
                    let cve = rng.skewed(count) as u32;
                    if !component_cves[start as usize..].contains(&cve) {
                        component_cves.push(cve);
                        len += 1;
                    }
                }
            }
            ranges.push((start, len));
        }
        Pool {
            cves,
            network_cves,
            components,
            ranges,
            component_cves,
        }
    }

    fn cves_of(&self, component: usize) -> &[u32] {
        let (start, len) = self.ranges[component];
        &self.component_cves[start as usize..start as usize + len as usize]
    }

    /// A component index: popular ones more often; an OS package for
    /// [`Ecosystems::Os`].
    fn draw(&self, rng: &mut Rng, ecosystems: Ecosystems) -> usize {
        match ecosystems {
            Ecosystems::Any => rng.skewed(self.components),
            Ecosystems::Os => loop {
                let rows = self.components / PACKAGES.len();
                let package = rng.below(PACKAGES.len());
                if PACKAGES[package].1 == Ecosystem::Deb {
                    return rng.skewed(rows) * PACKAGES.len() + package;
                }
            },
        }
    }

    /// Sends `count` distinct components that `owner` contains, and a Trivy
    /// finding for each CVE of each of them.
    pub(super) fn contain(
        &self,
        builder: &mut Builder,
        rng: &mut Rng,
        owner: &AssetKey,
        target: &str,
        count: usize,
        ecosystems: Ecosystems,
    ) {
        let mut chosen: Vec<usize> = Vec::with_capacity(count);
        for _ in 0..count * 2 {
            if chosen.len() == count {
                break;
            }
            let component = self.draw(rng, ecosystems);
            if !chosen.contains(&component) {
                chosen.push(component);
            }
        }
        for component in chosen {
            let info = component_info(component);
            let key = AssetKey::new(AssetKind::Component, &info.purl);
            builder.link(owner, ctem_model::RelationshipKind::Contains, &key);
            for &cve in self.cves_of(component) {
                let finding = self.trivy_finding(&self.cves[cve as usize], &info, owner, target);
                builder.finding(finding, self.cves[cve as usize].signals);
            }
        }
    }

    fn trivy_finding(&self, cve: &Cve, info: &ComponentInfo, owner: &AssetKey, target: &str) -> Finding {
        let id = cve.id.as_str();
        let mut finding = Finding::new(
            "trivy",
            id,
            FindingKind::Vulnerability,
            format!("{id} in {} {}", info.name, info.version),
            cve.severity,
            owner.clone(),
        );
        finding.vulnerability_ids.push(cve.id.clone());
        finding.cvss.push(cve.vector.clone());
        finding.component = Some(Component {
            name: info.name.to_string(),
            version: Some(info.version.clone()),
            purl: Some(Purl::from_str(&info.purl).expect("generated purls are valid")),
            ecosystem: Some(ecosystem_name(info.ecosystem).to_string()),
        });
        finding.fix.fixed_versions.push(info.fixed_version.clone());
        finding.source_status = Some(SourceStatus::Affected);
        finding.location.path = package_path(info);
        finding.target = Some(target.to_string());
        finding
    }

    /// A Nessus finding of a remotely exploitable CVE in a service.
    pub(super) fn service_finding(
        &self,
        rng: &mut Rng,
        host: &AssetKey,
        target: &str,
        port: u16,
        product: &str,
        version: &str,
    ) -> (Finding, ExploitSignals) {
        let index = self.network_cves[rng.skewed(self.network_cves.len())] as usize;
        let cve = &self.cves[index];
        let mut finding = Finding::new(
            "nessus",
            (100_000 + index).to_string(),
            FindingKind::Vulnerability,
            format!("{product} {version} vulnerability ({})", cve.id.as_str()),
            cve.severity,
            host.clone(),
        );
        finding.vulnerability_ids.push(cve.id.clone());
        finding.cvss.push(cve.vector.clone());
        finding.location.port = Some(port);
        finding.location.protocol = Some("tcp".into());
        finding.attributes.insert("plugin_family".into(), "General".into());
        finding.target = Some(target.to_string());
        (finding, cve.signals)
    }

    /// Sends every component of the pool as an asset, last, so that the
    /// asset count stays exact whichever components were drawn.
    pub(super) fn components(&self, builder: &mut Builder) {
        for index in 0..self.components {
            let info = component_info(index);
            let mut asset = ctem_model::Asset::new(AssetKind::Component, &info.purl, info.name);
            asset.add_identifier("purl", info.purl.clone());
            asset.attributes.insert("version".into(), info.version);
            asset
                .attributes
                .insert("ecosystem".into(), ecosystem_name(info.ecosystem).into());
            builder.asset(asset);
        }
    }
}
