//! Shared code of the software composition analysis parser tests: a check
//! that detection by content claims a format for exactly the corpus files
//! of that format, across every folder of the corpus.

#![allow(dead_code)]

use std::path::Path;

/// Runs `ctem_ingest::detect` over every file of every corpus folder and
/// checks that `format_id` is detected exactly for the files that `owns`
/// selects (by folder and file name). Files of 16 bytes or less carry no
/// marker and are skipped. Does nothing, with a message, when `CTEM_SHARED`
/// is unset.
pub fn check_detection_everywhere(format_id: &str, owns: fn(&str, &str) -> bool) {
    let Some(dir) = std::env::var_os("CTEM_SHARED") else {
        eprintln!("skipped: set CTEM_SHARED to the folder holding corpus/ to run the corpus detection test");
        return;
    };
    let corpus = Path::new(&dir).join("corpus");
    let mut folders: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();

    let mut failures = Vec::new();
    let mut owned = 0;
    for folder in folders {
        let folder_name = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).expect("readable");
            if bytes.len() <= 16 {
                continue;
            }
            let head = &bytes[..bytes.len().min(ctem_ingest::DETECTION_HEAD_BYTES)];
            let detected = ctem_ingest::detect(head).map(|parser| parser.info().id);
            let expected = owns(&folder_name, &file_name);
            owned += usize::from(expected);
            if expected != (detected == Some(format_id)) {
                failures.push(format!("{folder_name}/{file_name}: detected as {detected:?}"));
            }
        }
    }
    assert!(owned > 0, "no corpus file belongs to {format_id}");
    assert!(
        failures.is_empty(),
        "{format_id} detection failures:\n{}",
        failures.join("\n")
    );
}
