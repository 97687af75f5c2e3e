# shellcheck shell=bash
# Shared settings for the scripts in this folder. Source it; don't run it.
#   REPO_ROOT      the checkout this file lives in
#   OPR_CACHE      cache for heavy things kept outside the repo (venvs, cargo target in CI)
#   OWUI_VERSION   the Open WebUI release the product is tested against
#   OWUI_VENV      the venv holding that Open WebUI (override with the env var)
#   WHEEL_DIR      where maturin puts the wheel

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPR_CACHE="${OPENROUTER_PIPE_CACHE:-$HOME/.cache/openrouter-pipe}"
OWUI_VERSION="${OWUI_VERSION:-0.12.4}"
OWUI_VENV="${OWUI_VENV:-$OPR_CACHE/owui-venv-$OWUI_VERSION}"
WHEEL_DIR="${WHEEL_DIR:-$REPO_ROOT/target/wheels}"
PYTHON="${PYTHON:-python3}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Newest wheel of the product in WHEEL_DIR (empty if none).
newest_wheel() {
    local w
    w="$(ls -t "$WHEEL_DIR"/openrouter_pipe-*.whl 2>/dev/null | head -n 1 || true)"
    printf '%s' "$w"
}
