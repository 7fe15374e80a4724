//! Threat intelligence of ctem: which CVEs are exploited and how likely
//! exploitation is.
//!
//! This crate reads the public feeds that `ctem-risk` scores with:
//!
//! - [`KevCatalog`]: the CISA Known Exploited Vulnerabilities catalog
//!   (JSON), the CVEs that CISA has seen exploited in the wild;
//! - [`EpssScores`]: FIRST EPSS scores (CSV, plain or gzipped), the
//!   probability that a CVE is exploited in the next 30 days;
//! - [`StixBundle`]: STIX 2.1 bundles from any provider, the threat actors,
//!   malware and campaigns that target or exploit each CVE;
//! - [`TaxiiClient`]: a TAXII 2.1 client that reads STIX objects from a
//!   collection, page by page, for [`StixBundle`];
//! - [`Exploits`]: public exploit evidence per CVE from Exploit-DB,
//!   Metasploit modules and Nuclei templates;
//! - [`OsvStore`]: OSV advisories, with aliases followed both ways so that a
//!   GHSA finding can find its CVE;
//! - [`Cve5Record`] and [`NvdFile`]: CVE JSON 5 records (with CISA's ADP
//!   container: SSVC decision points, KEV listings, CVSS, CWEs) and NVD CVE
//!   API 2.0 responses, kept one per CVE in a [`Cve5Store`] or [`NvdStore`];
//! - [`CtidMappings`] and [`AttackCatalog`]: the CTID mappings of KEV CVEs to
//!   ATT&CK techniques, and the ATT&CK catalog that names them;
//! - [`DecisionTable`]: SSVC decision tables as data, with the CISA
//!   coordinator, deployer and BOD 26-04 tables built in ([`BuiltinTable`]);
//! - [`Intel`]: every source behind one lookup, loaded from a folder
//!   ([`Intel::load_dir`]), from the paths a configuration names
//!   ([`Intel::load_files`]) or from the cache ([`IntelCache::load_intel`]),
//!   with [`Intel::facts`] for everything known about one CVE and the list
//!   of [`Intel::sources`] for reports;
//! - [`IntelCache`] and [`Syncer`]: the local cache of feeds, downloaded
//!   with conditional requests and retries and replaced atomically.
//!
//! Every value is a [`Fact`] where the source states it: the value and its
//! [`Provenance`], the source and the date the source gives.
//!
//! Every value is validated when it is read. A bad entry rejects the file
//! with an [`IntelError`] that names the file, the line or KEV entry, the
//! field and the value, because intelligence that is silently dropped
//! would make an exploited vulnerability look harmless. Inputs are bounded
//! (file size, line length, line count), so a hostile file cannot exhaust
//! memory.
//!
//! The feeds themselves live in a local cache ([`IntelCache`], module
//! `cache`): [`Syncer`] downloads them from their publishers (or from the
//! URLs a configuration names), [`import`] copies files for offline use,
//! and every file is validated ([`Validators`]) before it replaces the
//! previous one.
//!
//! ```
//! use ctem_intel::{EpssScores, Intel, KevCatalog};
//! use ctem_model::CveId;
//!
//! let kev_json = r#"{
//!   "catalogVersion": "2025.08.25",
//!   "dateReleased": "2025-08-25T17:04:19.9796Z",
//!   "count": 1,
//!   "vulnerabilities": [{
//!     "cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2",
//!     "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
//!     "dateAdded": "2021-12-10", "dueDate": "2021-12-24",
//!     "knownRansomwareCampaignUse": "Known", "cwes": ["CWE-20", "CWE-400", "CWE-502"]
//!   }]
//! }"#;
//! let epss_csv = "#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\n\
//!                 cve,epss,percentile\n\
//!                 CVE-2021-44228,0.94358,0.99956\n";
//!
//! let mut intel = Intel::default();
//! intel.add_kev(KevCatalog::from_reader("kev.json", kev_json.as_bytes())?);
//! intel.add_epss(EpssScores::from_reader("epss.csv", epss_csv.as_bytes())?);
//!
//! let log4shell: CveId = "CVE-2021-44228".parse()?;
//! let entry = intel.kev(&log4shell).expect("listed in KEV");
//! assert_eq!(entry.date_added.to_string(), "2021-12-10");
//! assert!(entry.known_ransomware_use);
//!
//! let epss = intel.epss(&log4shell).expect("scored by EPSS");
//! assert_eq!(epss.score.epss, 0.94358);
//! assert_eq!(epss.file.score_date.map(|d| d.to_string()).as_deref(), Some("2025-03-14"));
//! assert_eq!(intel.sources().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod attack;
mod bundle;
pub mod cache;
mod cve5;
mod cve_store;
mod epss;
mod error;
mod exploits;
mod facts;
mod import;
mod json;
mod kev;
mod nvd;
mod osv;
mod provenance;
mod sniff;
mod ssvc;
mod stix;
pub mod sync;
mod taxii;
pub mod taxii_feed;
mod validate;
mod vuln;
mod walk;

pub use attack::{
    ATTACK_BUNDLE_MAX_BYTES, AttackCatalog, AttackTechnique, CTID_MAX_BYTES, CatalogTechnique, CtidMappings,
    InvalidTechniqueId, MappingType, Tactic, TechniqueId,
};
pub use bundle::{Intel, Skipped, Source};
pub use cache::{CacheError, IntelCache, SourceState, SourceStatus};
pub use cve_store::{Cve5Store, CveStore, DirLoad, FailedFile, Insertion, NvdStore, StoredRecord};
pub use cve5::{
    AffectedProduct, AffectedVersion, CVE5_MAX_BYTES, Cve5Record, CveState, Exploitation, KevReference,
    SsvcDecisionPoints, TechnicalImpact, TimelineEvent, VersionStatus,
};
pub use epss::{EPSS_MAX_LINE_BYTES, EPSS_MAX_LINES, EpssFile, EpssRecord, EpssScore, EpssScores, WindowMaximum};
pub use error::IntelError;
pub use exploits::{
    EXPLOIT_DB_MAX_BYTES, ExploitEvidence, ExploitKind, Exploits, METASPLOIT_MAX_BYTES, MetasploitRank,
    NUCLEI_MAX_TEMPLATE_BYTES, NUCLEI_MAX_TEMPLATES,
};
pub use facts::{
    CvssChoice, CvssFact, CvssRole, EpssMaximum, ExploitClue, ExploitSignal, SsvcOutcome, VulnerabilityFacts,
};
pub use import::{ImportReport, Imported, import};
pub use kev::{KEV_MAX_BYTES, KevCatalog, KevEntry};
pub use nvd::{NVD_MAX_BYTES, NvdConfiguration, NvdCpeMatch, NvdCve, NvdFile, NvdKev, NvdNode, NvdOperator, NvdPage};
pub use osv::{
    OSV_MAX_RECORD_BYTES, OSV_MAX_RECORDS, OsvAffected, OsvEvent, OsvPackage, OsvRange, OsvRangeKind, OsvRecord,
    OsvSeverity, OsvSeverityKind, OsvStore,
};
pub use provenance::{Fact, Provenance, SourceKind};
pub use ssvc::{
    BuiltinTable, DecisionPoint, DecisionTable, Inputs, Outcome, OutcomeRange, PointValue, SSVC_MAX_BYTES,
    SSVC_MAX_COMBINATIONS, SsvcError,
};
pub use stix::{
    BrokenReference, STIX_MAX_BYTES, STIX_MAX_DEPTH, StixBundle, StixCveIntel, StixId, StixLink, StixRelationship,
    StixSighting, StixThreat, ThreatKind,
};
pub use sync::{Feed, SourceReport, SyncError, SyncOptions, Syncer};
pub use taxii::{
    TAXII_DATE_ADDED_LAST, TAXII_MEDIA_TYPE, TaxiiApiRoot, TaxiiAuth, TaxiiClient, TaxiiCollection, TaxiiConfig,
    TaxiiDiscovery, TaxiiError, TaxiiObjects,
};
pub use validate::{FeedInfo, Validator, Validators, detect_kind};
pub use vuln::{CvssMetric, MetricType, Reference};
