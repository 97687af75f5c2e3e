#!/usr/bin/env bash
# The "run it" command of openrouter-pipe: Open WebUI 0.12.4 with the pipe installed.
#
#   scripts/run.sh                              offline demo against a local fake OpenRouter
#   OPENROUTER_API_KEY=sk-or-... scripts/run.sh  real OpenRouter
#
# Builds the wheel, provisions the Open WebUI venv (cached in ~/.cache/openrouter-pipe), installs
# the wheel into it, starts Open WebUI on http://127.0.0.1:8080 with a persistent DATA_DIR
# (default ~/.local/share/openrouter-pipe-demo), creates the admin and the Function, and runs in
# the foreground until Ctrl-C. Settings: DATA_DIR, HOST, PORT, OPENROUTER_BASE_URL,
# SKIP_BUILD=1 (reuse the newest wheel in target/wheels).
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

if [[ ! -f "$OWUI_VENV/.openrouter-pipe-provisioned" ]]; then
    log "first run: building the engine and installing Open WebUI $OWUI_VERSION (about" \
        "$((COLD_BUILD_MINUTES + OWUI_INSTALL_MINUTES)) min in all); later runs start in under a minute"
fi
if [[ "${SKIP_BUILD:-0}" == 1 && -n "$(newest_wheel)" ]]; then
    log "SKIP_BUILD=1: using $(newest_wheel)"
else
    bash "$REPO_ROOT/scripts/build_wheel.sh" >/dev/null
fi
venv="$(bash "$REPO_ROOT/scripts/provision_openwebui.sh")"
bash "$REPO_ROOT/scripts/install_wheel.sh" "$venv" >/dev/null
exec "$venv/bin/python" "$REPO_ROOT/scripts/demo.py"
