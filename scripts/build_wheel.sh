#!/usr/bin/env bash
# Build the release wheel with maturin and print its path on stdout. Progress lines go to
# stderr; the compiler's own output goes to a log file, shown when the build fails
# (VERBOSE=1 shows it as it comes).
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

if ! command -v maturin >/dev/null 2>&1; then
    log "maturin not found; installing it with pip"
    "$PYTHON" -m pip install --disable-pip-version-check -q 'maturin>=1.9.4,<2' >&2
fi
cd "$REPO_ROOT"
mkdir -p "$WHEEL_DIR"
target="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
build_log="$target/build_wheel.log"
start=$SECONDS
# Measured on 2 cores (docs/build-time.md): a build from an empty target dir, and a rebuild
# after a change to the crate only.
if [[ -d "$target/release/build" ]]; then
    log "building the engine (about 2 min if the Rust code changed, seconds if not; log: $build_log)..."
else
    log "building the engine (about $COLD_BUILD_MINUTES min on a first build; log: $build_log)..."
fi
run_quietly "$build_log" "building the engine" maturin build --release --out "$WHEEL_DIR" \
    || die "the engine did not build (full log: $build_log)"
wheel="$(newest_wheel)"
[[ -n "$wheel" ]] || die "maturin reported success but no wheel is in $WHEEL_DIR"
log "built $(basename "$wheel") in $((SECONDS - start)) s"
printf '%s\n' "$wheel"
