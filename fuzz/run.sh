#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time (FUZZ_SECONDS, default 30) from its committed seeds
# (fuzz/seeds/<target>). Exits non-zero on the first crash; libFuzzer writes the input to fuzz/artifacts/<target>/.
# Stable Rust: `--sanitizer none` (cargo fuzz's sanitizers need -Z flags); coverage instrumentation and the
# libFuzzer driver work as they are. Run from anywhere: `bash fuzz/run.sh [target...]`.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build --sanitizer none --release
for target in "${targets[@]}"; do
    # New inputs go to a scratch corpus; the committed seeds are only read.
    work="$(mktemp -d)"
    echo "fuzz: $target for ${seconds}s"
    cargo fuzz run --sanitizer none --release "$target" "$work" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
    rm -rf "$work"
done
