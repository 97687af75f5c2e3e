#!/usr/bin/env bash
# Rewrites the generated, committed files from the installed package:
#   function/openrouter.py  (the Function file admins upload)
#   docs/valves.md          (the valve reference)
# pytests/test_generated.py fails when they are stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
"$PY" -m openrouter_pipe shim --output function/openrouter.py
"$PY" -m openrouter_pipe valves-doc --output docs/valves.md
echo "regenerated function/openrouter.py and docs/valves.md"
