//! Detection of the infrastructure-as-code and Kubernetes posture formats
//! over every file of the shared corpus: each format claims the files of
//! its own folder and no other file.

mod common;

use std::path::{Path, PathBuf};

/// Each format and the corpus folders that hold its files.
const FORMATS: &[(&str, &str)] = &[
    ("checkov-json", "checkov"),
    ("tfsec-json", "tfsec"),
    ("kics-json", "kics"),
    ("kube-bench-json", "kube_bench"),
    ("kubescape-json", "kubescape"),
];

/// Returns every file under `dir`, in a stable order.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn formats_claim_only_their_folders() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let mut failures = Vec::new();
    for path in files_under(&corpus) {
        let relative = path.strip_prefix(&corpus).unwrap_or(&path);
        let folder = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let detected = ctem_ingest::detect(&bytes).map(|parser| parser.info().id);

        let expected = FORMATS
            .iter()
            .find(|(_, own)| *own == folder)
            .map(|(format, _)| *format);
        let ours = detected.filter(|id| FORMATS.iter().any(|(format, _)| format == id));
        match (expected, ours) {
            (Some(expected), _) if detected != Some(expected) => {
                failures.push(format!(
                    "{}: detected as {detected:?}, expected {expected}",
                    relative.display()
                ));
            }
            (None, Some(claimed)) => {
                failures.push(format!("{}: claimed by {claimed}", relative.display()));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "detection failures:\n{}", failures.join("\n"));
}
