//! The downloader against a real HTTP server on 127.0.0.1: every reply is
//! written byte for byte by the test, and after each failure the cache
//! must still hold the previous good file.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::http::{Reply, Server};
use common::{fixture, gzip};
use ctem_intel::cache::{ERROR_FILE, STATE_FILE};
use ctem_intel::sync::{Outcome, SourceSettings, plan};
use ctem_intel::{CacheError, Feed, IntelCache, SourceKind, SyncError, SyncOptions, Syncer, Validators, import};

/// Short timeouts and backoff, so that failures are quick.
fn options() -> SyncOptions {
    SyncOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(500),
        attempts: 3,
        backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
        ..SyncOptions::default()
    }
}

fn feed(server: &Server, kind: SourceKind, path: &str) -> Feed {
    let mut settings = BTreeMap::new();
    settings.insert(
        kind.as_str().to_string(),
        SourceSettings {
            enabled: Some(true),
            url: Some(server.url(path)),
            ..SourceSettings::default()
        },
    );
    plan(&settings)
        .unwrap()
        .into_iter()
        .find(|feed| feed.kind == kind)
        .unwrap()
}

fn syncer(root: &Path, options: SyncOptions) -> Syncer {
    Syncer::new(IntelCache::new(root), options).unwrap()
}

fn update(syncer: &Syncer, feed: &Feed) -> Result<Outcome, SyncError> {
    let lock = syncer.cache().lock().unwrap();
    syncer.update(&lock, feed)
}

fn kev_bytes() -> Vec<u8> {
    fs::read(fixture("kev/catalog.json")).unwrap()
}

fn epss_gz() -> Vec<u8> {
    gzip(&fs::read(fixture("epss/official.csv")).unwrap())
}

/// Reads the cached file and state.json of a source, to compare before and after a failure.
fn snapshot(root: &Path, kind: SourceKind) -> (Vec<u8>, String) {
    let cache = IntelCache::new(root);
    let file = cache.file(kind).unwrap().expect("a cached file");
    let state = fs::read_to_string(cache.source_dir(kind).join(STATE_FILE)).unwrap();
    (fs::read(file).unwrap(), state)
}

/// Files in a source folder other than the file, its state and its error record.
/// Lists what an update left in a source folder besides its file, its
/// state and its last error: temporary files, also in the EPSS history.
fn leftovers(root: &Path, kind: SourceKind) -> Vec<PathBuf> {
    let cache = IntelCache::new(root);
    let kept = cache.file(kind).unwrap();
    let history = cache.source_dir(kind).join(ctem_intel::cache::EPSS_HISTORY);
    let temporary_in_history = fs::read_dir(&history)
        .into_iter()
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        });
    fs::read_dir(cache.source_dir(kind))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| Some(path) != kept.as_ref() && *path != history)
        .filter(|path| !path.ends_with(STATE_FILE) && !path.ends_with(ERROR_FILE))
        .chain(temporary_in_history)
        .collect()
}

#[test]
fn kev_download_records_state() {
    let server = Server::start();
    server.script("/kev.json", vec![Reply::ok(kev_bytes()).with("ETag", "\"v1\"")]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());

    let outcome = update(&syncer, &feed(&server, SourceKind::Kev, "/kev.json")).unwrap();

    let Outcome::Updated(state) = outcome else {
        panic!("expected an update, got {outcome:?}")
    };
    assert_eq!(state.records, Some(3));
    assert_eq!(state.version.as_deref(), Some("2025.08.25"));
    assert_eq!(state.date.map(|d| d.to_string()).as_deref(), Some("2025-08-25"));
    assert_eq!(state.etag.as_deref(), Some("\"v1\""));
    assert_eq!(state.size, kev_bytes().len() as u64);
    assert_eq!(state.source, server.url("/kev.json"));
    let cached = dir.path().join("kev").join("kev.json");
    assert_eq!(fs::read(cached).unwrap(), kev_bytes());
    assert!(leftovers(dir.path(), SourceKind::Kev).is_empty());
}

#[test]
fn etag_revalidation_keeps_file() {
    let server = Server::start();
    server.route("/kev.json", |request| match request.headers.get("if-none-match") {
        Some(tag) if tag == "\"v1\"" => Reply::status(304, &[("ETag", "\"v1\"")]),
        _ => Reply::ok(kev_bytes())
            .with("ETag", "\"v1\"")
            .with("Last-Modified", "Mon, 25 Aug 2025 17:04:19 GMT"),
    });
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feed = feed(&server, SourceKind::Kev, "/kev.json");

    let first = update(&syncer, &feed).unwrap();
    let second = update(&syncer, &feed).unwrap();

    assert!(matches!(first, Outcome::Updated(_)), "{first:?}");
    let Outcome::NotModified(state) = &second else {
        panic!("expected not modified, got {second:?}")
    };
    assert!(state.fetched_at > first.state().fetched_at);
    assert_eq!(state.changed_at, first.state().changed_at);
    let requests = server.requests("/kev.json");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].headers.get("if-modified-since").map(String::as_str),
        Some("Mon, 25 Aug 2025 17:04:19 GMT")
    );
    let saved = IntelCache::new(dir.path()).state(SourceKind::Kev).unwrap().unwrap();
    assert_eq!(saved.fetched_at, state.fetched_at);
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let server = Server::start();
    server.script(
        "/kev.json",
        vec![Reply::status(429, &[("Retry-After", "1")]), Reply::ok(kev_bytes())],
    );
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());

    let started = Instant::now();
    let outcome = update(&syncer, &feed(&server, SourceKind::Kev, "/kev.json")).unwrap();

    assert!(matches!(outcome, Outcome::Updated(_)), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(server.requests("/kev.json").len(), 2);
}

#[test]
fn retry_after_longer_than_allowed_fails_at_once() {
    let server = Server::start();
    server.script("/kev.json", vec![Reply::status(503, &[("Retry-After", "3600")])]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());

    let error = update(&syncer, &feed(&server, SourceKind::Kev, "/kev.json")).unwrap_err();

    assert!(error.to_string().contains("retry after 3600 s"), "{error}");
    assert_eq!(server.requests("/kev.json").len(), 1);
}

#[test]
fn server_error_is_retried() {
    let server = Server::start();
    server.script("/kev.json", vec![Reply::status(500, &[]), Reply::ok(kev_bytes())]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());

    let outcome = update(&syncer, &feed(&server, SourceKind::Kev, "/kev.json")).unwrap();

    assert!(matches!(outcome, Outcome::Updated(_)), "{outcome:?}");
    assert_eq!(server.requests("/kev.json").len(), 2);
}

#[test]
fn persistent_server_error_keeps_file() {
    let server = Server::start();
    server.script("/kev.json", vec![Reply::ok(kev_bytes()), Reply::status(502, &[])]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feed = feed(&server, SourceKind::Kev, "/kev.json");
    update(&syncer, &feed).unwrap();
    let before = snapshot(dir.path(), SourceKind::Kev);

    let error = update(&syncer, &feed).unwrap_err();

    assert!(error.to_string().contains("502"), "{error}");
    assert_eq!(server.requests("/kev.json").len(), 1 + 3);
    assert_eq!(snapshot(dir.path(), SourceKind::Kev), before);
}

#[test]
fn not_found_is_not_retried() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());

    let error = update(&syncer, &feed(&server, SourceKind::Kev, "/missing.json")).unwrap_err();

    assert!(error.to_string().contains("404"), "{error}");
    assert_eq!(server.requests("/missing.json").len(), 1);
}

#[test]
fn truncated_gzip_keeps_the_previous_file() {
    let server = Server::start();
    let good = epss_gz();
    let truncated = good[..good.len() - 12].to_vec();
    server.script("/epss.csv.gz", vec![Reply::ok(good.clone()), Reply::ok(truncated)]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feed = feed(&server, SourceKind::Epss, "/epss.csv.gz");
    let first = update(&syncer, &feed).unwrap();
    assert_eq!(first.state().records, Some(4));
    assert_eq!(first.state().version.as_deref(), Some("v2025.03.14"));
    let before = snapshot(dir.path(), SourceKind::Epss);

    let error = update(&syncer, &feed).unwrap_err();

    assert!(matches!(error, SyncError::Cache(CacheError::Invalid(_))), "{error:?}");
    assert_eq!(snapshot(dir.path(), SourceKind::Epss), before);
    assert_eq!(before.0, good);
    assert!(leftovers(dir.path(), SourceKind::Epss).is_empty());
}

#[test]
fn stalled_connection_fails_after_the_read_timeout() {
    let server = Server::start();
    let body = kev_bytes();
    server.script(
        "/kev.json",
        vec![
            Reply::ok(body.clone()),
            Reply::Stall {
                declared: body.len(),
                sent: body[..100].to_vec(),
                stall: Duration::from_secs(8),
            },
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(
        dir.path(),
        SyncOptions {
            attempts: 2,
            ..options()
        },
    );
    let feed = feed(&server, SourceKind::Kev, "/kev.json");
    update(&syncer, &feed).unwrap();
    let before = snapshot(dir.path(), SourceKind::Kev);

    let started = Instant::now();
    let error = update(&syncer, &feed).unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(error.to_string().contains("broke off"), "{error}");
    assert_eq!(server.requests("/kev.json").len(), 1 + 2);
    assert_eq!(snapshot(dir.path(), SourceKind::Kev), before);
    assert!(leftovers(dir.path(), SourceKind::Kev).is_empty());
}

#[test]
fn oversized_body_is_refused() {
    let server = Server::start();
    let big = vec![b' '; 4096];
    server.script(
        "/kev.json",
        vec![
            Reply::ok(kev_bytes()),
            Reply::ok(big.clone()),
            Reply::Unsized { body: big },
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let mut feed = feed(&server, SourceKind::Kev, "/kev.json");
    feed.max_bytes = 3000;
    update(&syncer, &feed).unwrap();
    let before = snapshot(dir.path(), SourceKind::Kev);

    let declared = update(&syncer, &feed).unwrap_err();
    let streamed = update(&syncer, &feed).unwrap_err();

    for error in [declared, streamed] {
        assert!(matches!(error, SyncError::TooLarge { limit: 3000, .. }), "{error:?}");
    }
    assert_eq!(snapshot(dir.path(), SourceKind::Kev), before);
    assert!(leftovers(dir.path(), SourceKind::Kev).is_empty());
}

#[test]
fn invalid_feed_keeps_file() {
    let server = Server::start();
    let bad = fs::read(fixture("kev/bad_cve.json")).unwrap();
    server.script("/kev.json", vec![Reply::ok(kev_bytes()), Reply::ok(bad)]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feed = feed(&server, SourceKind::Kev, "/kev.json");
    syncer.update_all(std::slice::from_ref(&feed)).unwrap();
    let before = snapshot(dir.path(), SourceKind::Kev);

    let reports = syncer.update_all(std::slice::from_ref(&feed)).unwrap();

    let error = reports[0].result.as_ref().unwrap_err();
    assert!(error.to_string().contains("cveID"), "{error}");
    assert_eq!(snapshot(dir.path(), SourceKind::Kev), before);
    let recorded = IntelCache::new(dir.path())
        .last_error(SourceKind::Kev)
        .unwrap()
        .unwrap();
    assert!(recorded.message.contains("cveID"), "{}", recorded.message);
}

#[test]
fn checksum_of_the_publisher_is_checked() {
    let server = Server::start();
    let body = kev_bytes();
    let wrong = "0".repeat(64);
    let right = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    server.script("/kev.json", vec![Reply::ok(body)]);
    server.script(
        "/kev.json.sha256",
        vec![
            Reply::ok(format!("{wrong}  kev.json\n")),
            Reply::ok(format!("{}  kev.json\n", right.to_uppercase())),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let mut feed = feed(&server, SourceKind::Kev, "/kev.json");
    feed.sha256_url = Some(server.url("/kev.json.sha256"));

    let mismatch = update(&syncer, &feed).unwrap_err();
    let matched = update(&syncer, &feed).unwrap();

    assert!(
        matches!(&mismatch, SyncError::Cache(CacheError::Checksum { expected, .. }) if *expected == wrong),
        "{mismatch:?}"
    );
    assert_eq!(matched.state().sha256.as_deref(), Some(right.as_str()));
}

#[test]
fn one_failed_source_does_not_stop_the_others() {
    let server = Server::start();
    server.script("/epss.csv.gz", vec![Reply::ok(epss_gz())]);
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feeds = [
        feed(&server, SourceKind::Kev, "/gone.json"),
        feed(&server, SourceKind::Epss, "/epss.csv.gz"),
    ];

    let reports = syncer.update_all(&feeds).unwrap();

    assert!(reports[0].result.is_err());
    assert!(matches!(reports[1].result, Ok(Outcome::Updated(_))));
    let intel = IntelCache::new(dir.path()).load_intel().unwrap();
    assert_eq!(intel.epss_scores().len(), 4);
    assert!(intel.kev_catalog().is_none());
}

#[test]
fn held_lock_stops_an_update() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let _held = IntelCache::new(dir.path()).lock().unwrap();

    let error = syncer
        .update_all(&[feed(&server, SourceKind::Kev, "/kev.json")])
        .unwrap_err();

    assert!(matches!(error, CacheError::Locked { .. }), "{error:?}");
    assert!(error.to_string().contains(&std::process::id().to_string()), "{error}");
    assert!(server.requests("/kev.json").is_empty());
}

#[test]
fn attack_bundle_is_validated_by_its_loader() {
    let server = Server::start();
    let attack = fs::read(fixture("sync/enterprise-attack.json")).unwrap();
    server.script(
        "/enterprise-attack.json",
        vec![
            Reply::ok(attack.clone()),
            Reply::ok(attack[..attack.len() / 2].to_vec()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(dir.path(), options());
    let feed = feed(&server, SourceKind::Attack, "/enterprise-attack.json");

    let first = update(&syncer, &feed).unwrap();
    let error = update(&syncer, &feed).unwrap_err();

    // Records are the techniques that the catalog reads.
    assert_eq!(first.state().records, Some(1));
    assert!(error.to_string().contains("truncated"), "{error}");
    assert_eq!(snapshot(dir.path(), SourceKind::Attack).0, attack);
}

/// Builds an NVD CVE API 2.0 page of `count` records starting at `start` out of `total`.
fn nvd_page(start: u64, count: u64, total: u64) -> Vec<u8> {
    let records: Vec<String> = (start..start + count)
        .map(|n| {
            format!(
                r#"{{"cve": {{"id": "CVE-2026-{:05}", "published": "2026-11-29T10:00:00.000", "lastModified": "2026-11-30T10:00:00.000", "vulnStatus": "Received", "descriptions": [{{"lang": "en", "value": "A generated vulnerability."}}]}}}}"#,
                n + 1
            )
        })
        .collect();
    format!(
        r#"{{"resultsPerPage": {count}, "startIndex": {start}, "totalResults": {total}, "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-12-01T00:00:00.000", "vulnerabilities": [{}]}}"#,
        records.join(", ")
    )
    .into_bytes()
}

#[test]
fn nvd_pages_then_windows() {
    let server = Server::start();
    server.route("/rest/json/cves/2.0", |request| {
        if request.param("lastModStartDate").is_some() {
            return Reply::ok(nvd_page(0, 1, 1));
        }
        let start: u64 = request.param("startIndex").unwrap().parse().unwrap();
        Reply::ok(nvd_page(start, (3 - start).min(2), 3))
    });
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(
        dir.path(),
        SyncOptions {
            nvd_page_size: 2,
            nvd_api_key: Some("test-key".into()),
            ..options()
        },
    );
    let feed = feed(&server, SourceKind::Nvd, "/rest/json/cves/2.0");

    let full = update(&syncer, &feed).unwrap();
    let incremental = update(&syncer, &feed).unwrap();

    let requests = server.requests("/rest/json/cves/2.0");
    assert_eq!(requests.len(), 3);
    let indexes: Vec<String> = requests.iter().map(|r| r.param("startIndex").unwrap()).collect();
    assert_eq!(indexes, ["0", "2", "0"]);
    assert_eq!(requests[0].param("resultsPerPage").as_deref(), Some("2"));
    assert_eq!(requests[0].headers.get("apikey").map(String::as_str), Some("test-key"));
    let cursor = full.state().cursor.expect("a cursor after the first sync");
    let start = requests[2].param("lastModStartDate").unwrap();
    assert_eq!(
        start,
        cursor.format("%Y-%m-%dT%H%%3A%M%%3A%S.000%%2B00%%3A00").to_string()
    );
    assert!(requests[2].param("lastModEndDate").is_some());

    assert_eq!(full.state().records, Some(3));
    assert_eq!(incremental.state().records, Some(4));
    assert!(incremental.state().cursor >= full.state().cursor);
    let pages = fs::read_dir(dir.path().join("nvd").join("pages")).unwrap().count();
    assert_eq!(pages, 3);
}

#[test]
fn nvd_failure_mid_way_installs_no_page() {
    let server = Server::start();
    server.route("/nvd", |request| match request.param("startIndex").as_deref() {
        Some("0") => Reply::ok(nvd_page(0, 2, 4)),
        _ => Reply::status(404, &[]),
    });
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(
        dir.path(),
        SyncOptions {
            nvd_page_size: 2,
            ..options()
        },
    );

    let error = update(&syncer, &feed(&server, SourceKind::Nvd, "/nvd")).unwrap_err();

    assert!(error.to_string().contains("404"), "{error}");
    let cache = IntelCache::new(dir.path());
    assert!(cache.state(SourceKind::Nvd).unwrap().is_none());
    let entries: Vec<_> = fs::read_dir(cache.source_dir(SourceKind::Nvd)).unwrap().collect();
    assert!(entries.is_empty(), "{entries:?}");
}

#[test]
fn nvd_keeps_to_the_rate_limit() {
    let server = Server::start();
    server.route("/nvd", |request| {
        let start: u64 = request.param("startIndex").unwrap().parse().unwrap();
        Reply::ok(nvd_page(start, 1, 3))
    });
    let dir = tempfile::tempdir().unwrap();
    let syncer = syncer(
        dir.path(),
        SyncOptions {
            nvd_page_size: 1,
            nvd_rate_requests: 2,
            nvd_rate_window: Duration::from_millis(600),
            ..options()
        },
    );

    let started = Instant::now();
    update(&syncer, &feed(&server, SourceKind::Nvd, "/nvd")).unwrap();

    assert_eq!(server.requests("/nvd").len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn import_feeds_and_trees() {
    let source = tempfile::tempdir().unwrap();
    fs::copy(fixture("kev/catalog.json"), source.path().join("kev.json")).unwrap();
    fs::write(source.path().join("epss.csv.gz"), epss_gz()).unwrap();
    fs::copy(fixture("kev/bad_cve.json"), source.path().join("bad-kev.json")).unwrap();
    fs::copy(fixture("sync/notes.txt"), source.path().join("notes.txt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());

    let report = import(
        &cache,
        &[source.path().to_path_buf(), fixture("sync/cve5")],
        &Validators::default(),
    )
    .unwrap();

    let kinds: Vec<SourceKind> = report.imported.iter().map(|i| i.kind).collect();
    assert_eq!(kinds, [SourceKind::Epss, SourceKind::Kev, SourceKind::Cve5]);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].path.ends_with("bad-kev.json"));
    assert!(report.failed[0].reason.contains("cveID"), "{}", report.failed[0].reason);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].path.ends_with("notes.txt"));

    let record = cache
        .source_dir(SourceKind::Cve5)
        .join("tree/2024/32xxx/CVE-2024-32466.json");
    assert!(record.is_file());
    let cve5 = cache.state(SourceKind::Cve5).unwrap().unwrap();
    assert_eq!(cve5.records, Some(1));
    let kev = cache.state(SourceKind::Kev).unwrap().unwrap();
    assert_eq!(kev.records, Some(3));
    assert_eq!(kev.file, "kev.json");
    let intel = cache.load_intel().unwrap();
    let loaded: Vec<SourceKind> = intel.sources().iter().map(|source| source.kind).collect();
    assert_eq!(loaded, [SourceKind::Kev, SourceKind::Epss, SourceKind::Cve5]);
}

#[test]
fn epss_days_build_a_history_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    // One import per day, as daily updates would bring them; each replaces
    // the current file and leaves a copy of its day.
    for day in [
        "epss_scores-2025-03-01.csv",
        "epss_scores-2025-03-02.csv.gz",
        "epss_scores-2025-03-04.csv",
    ] {
        let report = import(
            &cache,
            &[fixture(&format!("epss_history/{day}"))],
            &Validators::default(),
        )
        .unwrap();
        assert_eq!(report.imported.len(), 1, "{report:?}");
    }

    let history = cache.source_dir(SourceKind::Epss).join(ctem_intel::cache::EPSS_HISTORY);
    let mut days: Vec<String> = fs::read_dir(&history)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    days.sort();
    assert_eq!(
        days,
        [
            "epss_scores-2025-03-01.csv",
            "epss_scores-2025-03-02.csv.gz",
            "epss_scores-2025-03-04.csv"
        ]
    );

    let intel = cache.load_intel().unwrap();
    let scores = intel.epss_scores();
    let log4shell = "CVE-2021-44228".parse().unwrap();
    assert_eq!(scores.history(&log4shell).count(), 3);
    let first_day = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    assert_eq!(scores.as_of(&log4shell, first_day).map(|(day, _)| day), Some(first_day));
    let latest = intel.epss(&log4shell).unwrap();
    assert_eq!(latest.file.score_date, chrono::NaiveDate::from_ymd_opt(2025, 3, 4));
}

#[test]
fn import_renames_files_the_cache_reserves() {
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    for name in [STATE_FILE, ERROR_FILE, ".partial-1-0.json"] {
        let source = tempfile::tempdir().unwrap();
        let file = source.path().join(name);
        fs::copy(fixture("kev/catalog.json"), &file).unwrap();

        let report = import(&cache, &[file], &Validators::default()).unwrap();
        assert_eq!(report.imported.len(), 1, "{name}: {report:?}");
        let cached = &report.imported[0].cached;
        let cached_name = cached.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            cached_name.starts_with("imported-"),
            "{name} was cached as {cached_name}"
        );

        // A second import (which clears leftovers) keeps it, and it loads.
        import(&cache, &[fixture("sync/notes.txt")], &Validators::default()).unwrap();
        assert!(cached.is_file(), "{name}: {} is gone", cached.display());
        let intel = cache.load_intel().unwrap();
        assert!(intel.kev(&"CVE-2021-44228".parse().unwrap()).is_some(), "{name}");
    }
}

#[test]
fn import_files_cve_record_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    let source = tempfile::tempdir().unwrap();
    // A record of CVE-2024-10001 under another CVE's name.
    let misnamed = source.path().join("CVE-2023-22515.json");
    fs::copy(fixture("cve5/CVE-2024-10001.json"), &misnamed).unwrap();

    let report = import(&cache, &[misnamed], &Validators::default()).unwrap();
    assert_eq!(report.imported.len(), 1, "{report:?}");
    let tree = cache.source_dir(SourceKind::Cve5).join("tree");
    assert!(tree.join("2024/10xxx/CVE-2024-10001.json").is_file());
    assert!(!tree.join("2023/22xxx/CVE-2023-22515.json").exists());
}

#[test]
fn empty_or_older_kev_keeps_the_cached_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    import(&cache, &[fixture("kev/catalog.json")], &Validators::default()).unwrap();
    let before = cache.state(SourceKind::Kev).unwrap().unwrap();

    let source = tempfile::tempdir().unwrap();
    let empty = source.path().join("empty-kev.json");
    fs::write(
        &empty,
        r#"{"catalogVersion": "2026.01.01", "dateReleased": "2026-01-01T00:00:00Z", "count": 0, "vulnerabilities": []}"#,
    )
    .unwrap();
    let older = source.path().join("older-kev.json");
    let text = fs::read_to_string(fixture("kev/catalog.json")).unwrap();
    let released = before.date.unwrap().to_string();
    fs::write(&older, text.replace(&released, "2020-01-01")).unwrap();

    for (file, reason) in [
        (&empty, "lists no vulnerability"),
        (&older, "before the cached catalog"),
    ] {
        let report = import(&cache, std::slice::from_ref(file), &Validators::default()).unwrap();
        assert_eq!(report.failed.len(), 1, "{report:?}");
        assert!(report.failed[0].reason.contains(reason), "{}", report.failed[0].reason);
        let after = cache.state(SourceKind::Kev).unwrap().unwrap();
        assert_eq!(after.sha256, before.sha256);
    }
}

#[test]
fn older_epss_day_joins_the_history_only() {
    let dir = tempfile::tempdir().unwrap();
    let cache = IntelCache::new(dir.path());
    let newer = fixture("epss_history/epss_scores-2025-03-04.csv");
    let older = fixture("epss_history/epss_scores-2025-03-01.csv");
    import(&cache, &[newer], &Validators::default()).unwrap();
    import(&cache, &[older], &Validators::default()).unwrap();

    let state = cache.state(SourceKind::Epss).unwrap().unwrap();
    assert_eq!(state.date, chrono::NaiveDate::from_ymd_opt(2025, 3, 4));
    let intel = cache.load_intel().unwrap();
    let log4shell = "CVE-2021-44228".parse().unwrap();
    assert_eq!(intel.epss_scores().history(&log4shell).count(), 2);
    assert_eq!(
        intel.epss(&log4shell).unwrap().file.score_date,
        chrono::NaiveDate::from_ymd_opt(2025, 3, 4)
    );
}

/// Writes an EPSS file of one day that scores `rows` (CVE and score).
fn epss_day(path: &Path, day: chrono::NaiveDate, rows: &[(&str, f64)]) {
    let mut text = format!("#model_version:v2025.03.14,score_date:{day}T00:00:00+0000\ncve,epss,percentile\n");
    for (cve, score) in rows {
        text.push_str(&format!("{cve},{score:.5},0.50000\n"));
    }
    fs::write(path, text).unwrap();
}

/// Writes history files for the 40 days from 2025-01-01, each scoring
/// CVE-2021-44228 at `score(offset)`, and returns the first day.
fn forty_days(history: &Path, score: impl Fn(i64) -> f64) -> chrono::NaiveDate {
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for offset in 0..40 {
        let day = first + chrono::Duration::days(offset);
        let path = history.join(format!("epss_scores-{day}.csv"));
        epss_day(&path, day, &[("CVE-2021-44228", score(offset))]);
    }
    first
}

/// Returns a cache in `root` and its EPSS history folder, created.
fn history_cache(root: &Path) -> (IntelCache, PathBuf) {
    let cache = IntelCache::new(root);
    let history = cache.source_dir(SourceKind::Epss).join(ctem_intel::cache::EPSS_HISTORY);
    fs::create_dir_all(&history).unwrap();
    (cache, history)
}

#[test]
fn history_loads_last_thirty_days() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, history) = history_cache(dir.path());
    let first = forty_days(&history, |offset| offset as f64 / 100.0);
    // The score date on the first line counts, not the name: an old day
    // under another name stays out, and a name in the future moves
    // nothing.
    let old = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    epss_day(&history.join("extra.csv"), old, &[("CVE-2020-0001", 0.5)]);
    let recent = first + chrono::Duration::days(35);
    epss_day(
        &history.join("epss_scores-2099-01-01.csv"),
        recent,
        &[("CVE-2020-0003", 0.5)],
    );
    // A file with no date on its first line nor in its name loads
    // whatever its age.
    fs::write(
        history.join("undated.csv"),
        "cve,epss,percentile\nCVE-2020-0002,0.25,0.5\n",
    )
    .unwrap();
    // Neither a hidden file nor one of another type is read.
    fs::write(history.join(".partial-1.csv"), "not EPSS").unwrap();
    fs::write(history.join("notes.txt"), "not EPSS").unwrap();

    let intel = cache.load_intel().unwrap();
    let scores = intel.epss_scores();
    let log4shell = "CVE-2021-44228".parse().unwrap();
    let newest = first + chrono::Duration::days(39);
    let oldest_loaded = newest - chrono::Duration::days(ctem_intel::cache::EPSS_HISTORY_DAYS);
    let days: Vec<chrono::NaiveDate> = scores.history(&log4shell).map(|(day, _)| day).collect();
    assert_eq!(days.first(), Some(&oldest_loaded), "{days:?}");
    assert_eq!(days.last(), Some(&newest));
    assert_eq!(
        scores.as_of(&log4shell, oldest_loaded - chrono::Duration::days(1)),
        None
    );
    assert_eq!(intel.epss(&log4shell).unwrap().score.epss, 0.39);
    assert!(intel.epss(&"CVE-2020-0001".parse().unwrap()).is_none());
    assert!(intel.epss(&"CVE-2020-0002".parse().unwrap()).is_some());
    assert!(intel.epss(&"CVE-2020-0003".parse().unwrap()).is_some());
}

#[test]
fn corrupt_history_day_stops_load() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, history) = history_cache(dir.path());
    let day = chrono::NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
    epss_day(
        &history.join(format!("epss_scores-{day}.csv")),
        day,
        &[("CVE-2021-44228", 0.5)],
    );
    // Named as a day long before the window, but unreadable: it loads,
    // and its error names it.
    fs::write(history.join("epss_scores-2020-01-01.csv"), "garbage\n").unwrap();

    let error = cache.load_intel().unwrap_err().to_string();
    assert!(error.contains("epss_scores-2020-01-01.csv"), "{error}");
}

#[test]
fn prune_deletes_days_past_retention() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, history) = history_cache(dir.path());
    forty_days(&history, |_| 0.5);
    // An old day under another name is found by its score date. A file
    // with no day stays.
    let old = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    epss_day(&history.join("renamed.csv"), old, &[("CVE-2020-0001", 0.5)]);
    fs::write(
        history.join("undated.csv"),
        "cve,epss,percentile\nCVE-2020-0002,0.25,0.5\n",
    )
    .unwrap();
    let lock = cache.lock().unwrap();

    let error = cache.prune_epss_history(&lock, 29, false).unwrap_err().to_string();
    assert!(error.contains("keep at least 30"), "{error}");
    let huge = cache.prune_epss_history(&lock, i64::MAX, false).unwrap();
    assert!(huge.is_empty(), "{huge:?}");

    let listed = cache.prune_epss_history(&lock, 35, true).unwrap();
    // 2025-02-09 is the newest day, so the days before 2025-01-05 go, the
    // renamed day of 2024-06-01 first.
    let days: Vec<_> = listed.iter().map(|(_, day)| day.to_string()).collect();
    assert_eq!(
        days,
        ["2024-06-01", "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]
    );
    assert!(
        listed.iter().all(|(path, _)| path.is_file()),
        "a dry run deletes nothing"
    );

    let deleted = cache.prune_epss_history(&lock, 35, false).unwrap();
    assert_eq!(deleted, listed);
    assert!(deleted.iter().all(|(path, _)| !path.exists()));
    assert!(history.join("undated.csv").is_file());
    assert_eq!(fs::read_dir(&history).unwrap().count(), 36 + 1);
    assert!(cache.prune_epss_history(&lock, 35, false).unwrap().is_empty());
    drop(lock);
    let intel = cache.load_intel().unwrap();
    assert!(intel.epss(&"CVE-2021-44228".parse().unwrap()).is_some());
}
