#!/usr/bin/env bash
# The "test it" command of openrouter-pipe.
#
#   scripts/test.sh [PYTEST ARGS...]
#
# 1. cargo test (with libpython on LD_LIBRARY_PATH: the test binary embeds Python)
# 2. build the release wheel (scripts/build_wheel.sh)
# 3. provision the Open WebUI 0.12.4 venv (scripts/provision_openwebui.sh, cached)
# 4. install the wheel into it (scripts/install_wheel.sh)
# 5. <venv>/bin/python -m pytest pytests fake_openrouter/test_fake.py  (+ PYTEST ARGS, e.g. -m "not e2e")
# 6. the e2e suite again on the oldest Open WebUI the Function declares (OWUI_MIN_VERSION,
#    its own cached venv, ~7 GB more): on by default in CI, TEST_OLDEST_OPEN_WEBUI=1 elsewhere
#
# Exits non-zero if any step fails. The last line is a summary: "test.sh: N passed, N failed, N skipped"
# (tests of cargo and pytest added up; a step that failed without running tests counts as 1 failure).
# SKIP_CARGO_TEST=1 skips step 1 (for quick local runs).
set -uo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"
cd "$REPO_ROOT"

LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/openrouter-pipe-test.XXXXXX")"
trap 'rm -rf "$LOGDIR"' EXIT
total_passed=0 total_failed=0 total_skipped=0
results=()

record() { # record NAME STATUS DETAIL
    results+=("$(printf '%-14s %-6s %s' "$1" "$2" "$3")")
}

banner() { printf '\n===== %s =====\n' "$*"; }

junit_counts() { # junit_counts FILE: "passed failed skipped" of a pytest junit file (0 0 0 if none)
    "$PYTHON" - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0, 0)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
k = sum(int(s.get("skipped", 0)) for s in suites)
print(n - f - k, f, k)
PY
}

# What step 6 runs on the oldest supported Open WebUI: the whole e2e suite (73 s on 0.12.0;
# docs/build-time.md, "Open WebUI versions").
OLDEST_E2E=(pytests/e2e)

# ---- 1. cargo test
if [[ "${SKIP_CARGO_TEST:-0}" == 1 ]]; then
    record "cargo test" skip "SKIP_CARGO_TEST=1"
else
    banner "cargo test"
    libdir="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')"
    t0=$SECONDS
    LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" cargo test 2>&1 | tee "$LOGDIR/cargo.log"
    rc=${PIPESTATUS[0]}
    read -r p f i < <(awk '/^test result:/ {
            for (n = 1; n <= NF; n++) {
                if ($(n+1) ~ /^passed/) p += $n; if ($(n+1) ~ /^failed/) f += $n; if ($(n+1) ~ /^ignored/) i += $n
            }
        } END { print p + 0, f + 0, i + 0 }' "$LOGDIR/cargo.log")
    if ((rc != 0 && f == 0)); then f=1; fi # build failure or crash: no "test result" line says so
    total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + i))
    if ((rc == 0)); then st=ok; else st=FAIL; fi
    record "cargo test" "$st" "$p passed, $f failed, $i ignored ($((SECONDS - t0)) s)"
fi

# ---- 2.-4. wheel, Open WebUI venv, install
ready=1
banner "build wheel"
t0=$SECONDS
if wheel="$(bash scripts/build_wheel.sh)"; then
    record "wheel" ok "$(basename "$wheel") ($((SECONDS - t0)) s)"
else
    record "wheel" FAIL "scripts/build_wheel.sh failed"
    total_failed=$((total_failed + 1)) ready=0
fi

banner "provision Open WebUI $OWUI_VERSION"
t0=$SECONDS
if venv="$(bash scripts/provision_openwebui.sh)"; then
    record "open-webui" ok "$venv ($((SECONDS - t0)) s)"
else
    record "open-webui" FAIL "scripts/provision_openwebui.sh failed"
    total_failed=$((total_failed + 1)) ready=0
fi

if ((ready)); then
    banner "install wheel"
    if bash scripts/install_wheel.sh "$venv" >/dev/null; then
        record "install" ok "into $venv"
    else
        record "install" FAIL "scripts/install_wheel.sh failed"
        total_failed=$((total_failed + 1)) ready=0
    fi
fi

# ---- 5. pytest
if ((ready)); then
    banner "pytest"
    # Every suite named here must exist: a missing one fails the run instead of shrinking it.
    targets=(pytests fake_openrouter/test_fake.py fake_openrouter/test_demo.py)
    for t in "${targets[@]}"; do
        [[ -e "$t" ]] || { echo "test.sh: $t is missing" >&2; total_failed=$((total_failed + 1)); }
    done
    t0=$SECONDS
    "$venv/bin/python" -m pytest "${targets[@]}" --junitxml="$LOGDIR/junit.xml" "$@"
    rc=$?
    read -r p f s < <(junit_counts "$LOGDIR/junit.xml")
    if ((rc != 0 && f == 0)); then f=1; fi # usage error, no tests collected (5), interrupted ...
    total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + s))
    if ((rc == 0)); then st=ok; else st=FAIL; fi
    record "pytest" "$st" "$p passed, $f failed, $s skipped (exit $rc, $((SECONDS - t0)) s)"
else
    record "pytest" skip "not run: an earlier step failed"
fi

# ---- 6. the oldest supported Open WebUI
oldest_default=0
[[ "${CI:-}" == true ]] && oldest_default=1
if [[ "${TEST_OLDEST_OPEN_WEBUI:-$oldest_default}" != 1 ]]; then
    record "oldest owui" skip "Open WebUI $OWUI_MIN_VERSION not run here (CI runs it; TEST_OLDEST_OPEN_WEBUI=1)"
elif ((ready == 0)); then
    record "oldest owui" skip "not run: an earlier step failed"
elif [[ "$OWUI_MIN_VERSION" == "$OWUI_VERSION" ]]; then
    record "oldest owui" skip "the oldest supported release is the tested one"
else
    banner "Open WebUI $OWUI_MIN_VERSION (the oldest supported): e2e suite"
    t0=$SECONDS
    old_venv="$OPR_CACHE/owui-venv-$OWUI_MIN_VERSION"
    if ! OWUI_VERSION="$OWUI_MIN_VERSION" OWUI_VENV="$old_venv" bash scripts/provision_openwebui.sh >/dev/null \
        || ! bash scripts/install_wheel.sh "$old_venv" >/dev/null; then
        record "oldest owui" FAIL "could not provision Open WebUI $OWUI_MIN_VERSION"
        total_failed=$((total_failed + 1))
    else
        OWUI_VENV="$old_venv" "$old_venv/bin/python" -m pytest "${OLDEST_E2E[@]}" \
            --junitxml="$LOGDIR/junit-oldest.xml" -p no:cacheprovider
        rc=$?
        read -r p f s < <(junit_counts "$LOGDIR/junit-oldest.xml")
        if ((rc != 0 && f == 0)); then f=1; fi
        total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + s))
        if ((rc == 0)); then st=ok; else st=FAIL; fi
        record "oldest owui" "$st" "$OWUI_MIN_VERSION: $p passed, $f failed, $s skipped ($((SECONDS - t0)) s)"
    fi
fi

banner "summary"
printf '%s\n' "${results[@]}"
if ((total_failed > 0)); then
    echo "RESULT: FAILED"
else
    echo "RESULT: OK"
fi
echo "test.sh: $total_passed passed, $total_failed failed, $total_skipped skipped"
((total_failed == 0))
