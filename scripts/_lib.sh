# shellcheck shell=bash
# Shared settings for the scripts in this folder. Source it; don't run it.
#   REPO_ROOT      the checkout this file lives in
#   OPR_CACHE      cache for heavy things kept outside the repo (venvs, cargo target in CI)
#   OWUI_VERSION   the Open WebUI release the product is tested against
#   OWUI_VENV      the venv holding that Open WebUI (override with the env var)
#   WHEEL_DIR      where maturin puts the wheel
#   OWUI_MIN_VERSION  the oldest Open WebUI release CI tests (the Function's declared minimum)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OPR_CACHE="${OPENROUTER_PIPE_CACHE:-$HOME/.cache/openrouter-pipe}"
OWUI_VERSION="${OWUI_VERSION:-0.12.4}"
OWUI_VENV="${OWUI_VENV:-$OPR_CACHE/owui-venv-$OWUI_VERSION}"
OWUI_MIN_VERSION="$(sed -n 's/^MIN_OPEN_WEBUI_VERSION = "\(.*\)"$/\1/p' "$REPO_ROOT/python/openrouter_pipe/shim.py")"
WHEEL_DIR="${WHEEL_DIR:-$REPO_ROOT/target/wheels}"
PYTHON="${PYTHON:-python3}"
# What a first run costs on a quiet 2-core machine (docs/build-time.md has the measurements).
COLD_BUILD_MINUTES=3
OWUI_INSTALL_MINUTES=3

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Newest wheel of the product in WHEEL_DIR (empty if none).
newest_wheel() {
    local w
    w="$(ls -t "$WHEEL_DIR"/openrouter_pipe-*.whl 2>/dev/null | head -n 1 || true)"
    printf '%s' "$w"
}

# run_quietly LOG WHAT CMD...: run CMD with its output in LOG instead of the terminal, print a
# progress line every PROGRESS_SECONDS (default 30) while it runs, and on failure the last
# lines of LOG and its path. VERBOSE=1 shows the output as it comes instead.
run_quietly() {
    local logfile="$1" what="$2"
    shift 2
    mkdir -p "$(dirname "$logfile")"
    if [[ "${VERBOSE:-0}" == 1 ]]; then
        "$@" 2>&1 | tee "$logfile" >&2
        return "${PIPESTATUS[0]}"
    fi
    local began=$SECONDS rc=0
    "$@" >"$logfile" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        local waited=0
        while ((waited < ${PROGRESS_SECONDS:-30})) && kill -0 "$pid" 2>/dev/null; do
            sleep 1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            local last
            last="$(tail -n 1 "$logfile" 2>/dev/null | tr -d '\r' | cut -c1-70)"
            log "... $what: $((SECONDS - began)) s${last:+ ($last)}"
        fi
    done
    wait "$pid" || rc=$?
    if ((rc != 0)); then
        log "$what failed (exit $rc); last lines of $logfile:"
        tail -n 40 "$logfile" >&2
    fi
    return "$rc"
}
