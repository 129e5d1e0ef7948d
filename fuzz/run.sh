#!/usr/bin/env bash
# Runs one cargo-fuzz target for N minutes: fuzz/run.sh TARGET MINUTES
# Targets: admin_parser, translate, pg_dialect, manifest, chunk, csv_records, mysql_packets, pg_messages. Needs cargo-fuzz
# (`cargo install cargo-fuzz`) and a nightly toolchain, or the stable one with RUSTC_BOOTSTRAP=1 (set below when no
# nightly is installed: cargo-fuzz's sanitizer flags are -Z options, which stable rustc accepts only that way). Crashes land in fuzz/artifacts/TARGET/; each one becomes a test (a file
# in fuzz/corpus/TARGET/ that the corpus replay runs, plus a test where the bug was).
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?usage: fuzz/run.sh TARGET MINUTES}"
minutes="${2:?usage: fuzz/run.sh TARGET MINUTES}"
mkdir -p "corpus/$target"
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi
# Statements are short; long inputs only slow the search down. -timeout catches hangs (a super-linear loop).
exec cargo "${toolchain[@]}" fuzz run "$target" "corpus/$target" -- \
  -max_total_time=$((minutes * 60)) -max_len=4096 -timeout=10 -rss_limit_mb=2048
