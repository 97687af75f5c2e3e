#!/usr/bin/env bash
# Install the newest product wheel into a venv (default: the Open WebUI venv).
#   scripts/install_wheel.sh [VENV]
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

venv="${1:-$OWUI_VENV}"
[[ -x "$venv/bin/python" ]] || die "no venv at $venv (run scripts/provision_openwebui.sh)"
wheel="$(newest_wheel)"
[[ -n "$wheel" ]] || die "no wheel in $WHEEL_DIR (run scripts/build_wheel.sh)"
log "installing $(basename "$wheel") into $venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q --force-reinstall --no-deps "$wheel" >&2
"$venv/bin/python" -c 'import importlib.metadata as m; print("openrouter_pipe", m.version("openrouter_pipe"))' >&2
printf '%s\n' "$wheel"
