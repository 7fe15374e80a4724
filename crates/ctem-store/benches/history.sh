#!/bin/sh
# Times the store with a long history, each measurement in a new process
# under /usr/bin/time: the store reads behind `ctem metrics`, `ctem
# metrics` itself once the binary has that command, and the import of an
# unchanged run through `Store::record_run` and through `ctem assess`.
#
# usage, from the workspace root: crates/ctem-store/benches/history.sh [DIR] [SAMPLES]
#
# DIR (default /tmp/ctem-history) keeps history.db and the files made
# from it. The history example builds history.db on the first call (100
# runs, 1,000,000 findings), which takes several minutes. It needs about three times the
# database's size free. SAMPLES (default 3) is how often each measurement
# is repeated. Every sample of an import starts from a fresh copy of the
# database; the copy is not timed.
set -eu

dir=${1:-/tmp/ctem-history}
samples=${2:-3}
target=${CARGO_TARGET_DIR:-target}
history=$target/release/examples/history
ctem=$target/release/ctem
db=$dir/history.db
report=$dir/last-run.json
assessed=$dir/assessed.db
sample=$dir/sample.db

timed() {
    /usr/bin/time -f "  %e s elapsed, %U s user, %S s sys, %M KB max RSS" "$@"
}

load() {
    echo "load average:$(uptime | sed 's/.*load average://')"
}

fresh_copy() {
    rm -f "$sample" "$sample-wal" "$sample-shm"
    cp "$1" "$sample"
}

cargo build --release -p ctem-store --example history
cargo build --release -p ctem
mkdir -p "$dir"
if [ ! -f "$db" ]; then
    timed "$history" build "$db"
fi

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB of memory"
echo "database: $(du -m "$db" | cut -f1) MiB"
# Warm the operating system's cache: every figure below is a warm-cache one.
cat "$db" > /dev/null

echo "== store reads of ctem metrics (history read), each in a new process"
load
for _ in $(seq "$samples"); do
    timed "$history" read "$db"
done

if "$ctem" metrics --help > /dev/null 2>&1; then
    echo "== ctem metrics"
    load
    for _ in $(seq "$samples"); do
        timed "$ctem" metrics --db "$db" > /dev/null
    done
fi

echo "== record_run of the last run again, a day later (history rescan)"
load
for _ in $(seq "$samples"); do
    timed "$history" rescan "$db" "$sample"
done

echo "== ctem assess of the last run as a ctem-native report, unchanged"
load
if [ ! -f "$report" ]; then
    "$history" native "$report"
fi
# No intelligence: an intelligence cache that does not exist.
no_intel=$dir/no-intel-cache
if [ ! -f "$assessed" ]; then
    # ctem scores the findings without intelligence, unlike the generator,
    # so the first import through ctem rewrites every score and tier. The
    # timed imports after it change nothing. The last stored run is
    # 2024-04-09.
    fresh_copy "$db"
    echo "first import (scores change):"
    timed "$ctem" assess "$report" --db "$sample" --intel-cache "$no_intel" --at 2024-04-10T06:00:00Z \
        --top 5 > /dev/null
    mv "$sample" "$assessed"
fi
for _ in $(seq "$samples"); do
    fresh_copy "$assessed"
    timed "$ctem" assess "$report" --db "$sample" --intel-cache "$no_intel" --at 2024-04-11T06:00:00Z \
        --top 5 > /dev/null
done
rm -f "$sample" "$sample-wal" "$sample-shm"
