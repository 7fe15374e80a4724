#!/usr/bin/env bash
# Runs both evaluations of ctem's prioritization and prints their Markdown
# tables (docs/prioritization.md):
#
# 1. the environment-level evaluation of `ctem actions` on generated
#    estates (crates/ctem-engine/examples/evaluate.rs), which needs no data;
# 2. the CVE-level KEV backtest (crates/ctem-risk/examples/backtest.rs),
#    which needs INTEL_DIR with the feeds that its doc comment lists.
#
# Usage: scripts/evaluate-prioritization.sh [INTEL_DIR]
# Without INTEL_DIR, only the environment-level evaluation runs.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ $# -gt 1 ]]; then
    echo "usage: $0 [INTEL_DIR]" >&2
    exit 2
fi
intel_dir="${1:-}"
if [[ -n "$intel_dir" && ! -d "$intel_dir" ]]; then
    echo "error: INTEL_DIR $intel_dir is not a folder; give the folder with kev/ and epss/" >&2
    exit 2
fi

echo "## Environment-level evaluation"
echo
cargo run --quiet --release -p ctem-engine --example evaluate

if [[ -n "$intel_dir" ]]; then
    echo
    echo "## CVE-level backtest"
    echo
    cargo run --quiet --release -p ctem-risk --example backtest -- "$intel_dir"
else
    echo
    echo "(CVE-level backtest skipped: no INTEL_DIR given)"
fi
