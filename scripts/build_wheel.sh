#!/usr/bin/env bash
# Build the release wheel with maturin and print its path on stdout.
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

if ! command -v maturin >/dev/null 2>&1; then
    log "maturin not found; installing it with pip"
    "$PYTHON" -m pip install --disable-pip-version-check -q 'maturin>=1.9.4,<2' >&2
fi
cd "$REPO_ROOT"
mkdir -p "$WHEEL_DIR"
start=$SECONDS
log "maturin build --release (first build takes a few minutes)"
maturin build --release --out "$WHEEL_DIR" >&2
wheel="$(newest_wheel)"
[[ -n "$wheel" ]] || die "maturin reported success but no wheel is in $WHEEL_DIR"
log "built $(basename "$wheel") in $((SECONDS - start)) s"
printf '%s\n' "$wheel"
