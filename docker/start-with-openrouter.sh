#!/usr/bin/env bash
# Entry point of the openrouter-pipe image (docker/Dockerfile): starts Open WebUI as the
# official image does and, beside it, installs or upgrades the Function from the wheel in the
# image (`python -m openrouter_pipe preload`: waits for /health, signs in as the admin named by
# WEBUI_ADMIN_EMAIL/WEBUI_ADMIN_PASSWORD or OPENROUTER_PIPE_ADMIN_TOKEN, keeps valves). The
# preload never holds up or stops the server: it runs in the background and only logs.
#
#   start-with-openrouter.sh [COMMAND...]   default command: bash start.sh (the official one)
#   OPENROUTER_PIPE_PRELOAD=false           skip the preload (install the Function by hand)
#   OPENROUTER_PIPE_PYTHON                  the Python that has the wheel (default: python3)
set -euo pipefail

if [[ "${OPENROUTER_PIPE_PRELOAD:-true}" != false ]]; then
    "${OPENROUTER_PIPE_PYTHON:-python3}" -m openrouter_pipe preload &
fi
if (($# == 0)); then
    set -- bash start.sh
fi
exec "$@"
