#!/usr/bin/env bash
# Create (or reuse) the venv with Open WebUI and the e2e test dependencies.
# Idempotent and safe to run concurrently (flock). Prints the venv path on stdout;
# everything else goes to stderr.
#
#   OWUI_VENV=/path scripts/provision_openwebui.sh
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

# playwright drives Debian's Chromium in pytests/e2e/test_browser.py (it never downloads a browser).
TEST_DEPS=(pytest pytest-asyncio python-socketio httpx cryptography lz4 mypy pyzipper playwright==1.65.2)
SPEC="open-webui==$OWUI_VERSION ${TEST_DEPS[*]} (provision v4)"
MARKER="$OWUI_VENV/.openrouter-pipe-provisioned"
PIP_LOG="$OWUI_VENV.provision.log"

mkdir -p "$(dirname "$OWUI_VENV")" "$OPR_CACHE"
exec 9>"$OWUI_VENV.lock"
if ! flock -n 9; then
    log "another provisioning run holds $OWUI_VENV.lock; waiting"
    flock 9
fi

venv_ok() {
    # The venv works, Open WebUI has the wanted version and the test deps import.
    "$OWUI_VENV/bin/python" - "$OWUI_VERSION" >/dev/null 2>&1 <<'PY'
import importlib.metadata as md, sys
assert md.version("open-webui") == sys.argv[1]
import pytest, pytest_asyncio, socketio, httpx, cryptography, lz4, aiohttp, mypy, pyzipper, playwright  # noqa: F401
PY
}

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$SPEC" ]] && venv_ok; then
    log "Open WebUI $OWUI_VERSION venv is ready"
    printf '%s\n' "$OWUI_VENV"
    exit 0
fi

command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
    || die "$PYTHON must be CPython >= 3.11"

install() {
    if ! "$OWUI_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        log "creating venv $OWUI_VENV"
        rm -rf "$OWUI_VENV"
        "$PYTHON" -m venv "$OWUI_VENV"
    fi
    rm -f "$MARKER"
    log "installing Open WebUI $OWUI_VERSION (about $OWUI_INSTALL_MINUTES min, 7 GB; log: $PIP_LOG)..."
    local start=$SECONDS
    run_quietly "$PIP_LOG" "installing Open WebUI $OWUI_VERSION" \
        "$OWUI_VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
        "open-webui==$OWUI_VERSION" "${TEST_DEPS[@]}" || return 1
    venv_ok || { log "the venv does not pass the import check after install"; return 1; }
    log "installed in $((SECONDS - start)) s"
}

if ! install; then
    log "install failed; recreating the venv from scratch and trying once more"
    rm -rf "$OWUI_VENV"
    install || die "could not provision $OWUI_VENV (see $PIP_LOG)"
fi
printf '%s\n' "$SPEC" >"$MARKER"
printf '%s\n' "$OWUI_VENV"
