#!/usr/bin/env bash
# Build the Open WebUI image with openrouter-pipe preinstalled (docker/Dockerfile).
#
#   scripts/docker_build.sh [--stage-only] [DOCKER BUILD ARGS...]
#
# Builds the wheel (SKIP_BUILD=1 reuses the newest in target/wheels), stages exactly that wheel
# in docker/wheels/ (the build context is docker/, a few MB), then runs
# `docker build -t ${IMAGE:-open-webui-openrouter} --build-arg OPEN_WEBUI_TAG=$OPEN_WEBUI_TAG docker/`.
# OPEN_WEBUI_TAG defaults to the tested release. --stage-only stops after staging (for machines
# without a Docker engine, and for the test that checks the recipe's steps).
set -euo pipefail
# shellcheck source=scripts/_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

stage_only=0
if [[ "${1:-}" == --stage-only ]]; then
    stage_only=1
    shift
fi
if [[ "${SKIP_BUILD:-0}" == 1 && -n "$(newest_wheel)" ]]; then
    wheel="$(newest_wheel)"
else
    wheel="$(bash "$REPO_ROOT/scripts/build_wheel.sh")"
fi
context="$REPO_ROOT/docker"
rm -rf "$context/wheels"
mkdir -p "$context/wheels"
cp "$wheel" "$context/wheels/"
log "staged $(basename "$wheel") in $context/wheels/"
if ((stage_only)); then
    exit 0
fi
tag="${OPEN_WEBUI_TAG:-$OWUI_VERSION}"
image="${IMAGE:-open-webui-openrouter}"
if ! docker info >/dev/null 2>&1; then
    die "no Docker engine reachable; the context is staged: docker build -t $image --build-arg OPEN_WEBUI_TAG=$tag $context"
fi
docker build -t "$image" --build-arg "OPEN_WEBUI_TAG=$tag" "$@" "$context"
log "built $image on ghcr.io/open-webui/open-webui:$tag"
