"""The Docker recipe's steps, checked without a Docker engine (none on the CI machine):
the image it extends is a tested Open WebUI, everything it COPYs exists once
``scripts/docker_build.sh`` staged the context, and the staged wheel installs on the
official image's Python (CPython 3.11 on Debian 12, glibc 2.36). Its start-up runs for
real in ``pytests/e2e/test_install_docker.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from openrouter_pipe import __version__
from openrouter_pipe.shim import MIN_OPEN_WEBUI_VERSION

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
# ghcr.io/open-webui/open-webui is built FROM python:3.11-slim-bookworm.
IMAGE_PYTHON = (3, 11)
IMAGE_GLIBC = (2, 36)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _tested_version() -> str:
    lib = (ROOT / "scripts" / "_lib.sh").read_text()
    return re.search(r'OWUI_VERSION="\$\{OWUI_VERSION:-([0-9.]+)\}"', lib).group(1)


def _stage() -> subprocess.CompletedProcess:
    env = {**os.environ, "SKIP_BUILD": "1"}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "docker_build.sh"), "--stage-only"],
        env=env, capture_output=True, text=True, timeout=600,
    )


def test_the_image_extends_the_tested_open_webui_release():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    tag = re.search(r"^ARG OPEN_WEBUI_TAG=(\S+)$", dockerfile, re.M).group(1)
    assert tag == _tested_version()
    assert _version(tag) >= _version(MIN_OPEN_WEBUI_VERSION)
    assert re.search(r"^FROM ghcr\.io/open-webui/open-webui:\$\{OPEN_WEBUI_TAG\}$", dockerfile, re.M)


def test_every_copied_file_exists_once_the_context_is_staged():
    staged = _stage()
    assert staged.returncode == 0, staged.stderr
    dockerfile = (DOCKER / "Dockerfile").read_text()
    sources = re.findall(r"^COPY (\S+) \S+$", dockerfile, re.M)
    assert sources, "the Dockerfile copies nothing"
    for source in sources:
        assert (DOCKER / source).exists(), f"COPY {source}: missing from the build context {DOCKER}"
    wheels = list((DOCKER / "wheels").glob("openrouter_pipe-*.whl"))
    assert len(wheels) == 1, wheels  # the RUN step refuses anything else


def test_the_staged_wheel_installs_on_the_images_python():
    assert _stage().returncode == 0
    (wheel,) = (DOCKER / "wheels").glob("openrouter_pipe-*.whl")
    match = re.fullmatch(
        r"openrouter_pipe-(?P<version>[^-]+)-cp(?P<py>\d+)-abi3-(?P<platform>.+)\.whl", wheel.name
    )
    assert match, f"{wheel.name} is not an abi3 wheel"
    assert match["version"] == __version__
    floor = (int(match["py"][0]), int(match["py"][1:]))
    assert floor <= IMAGE_PYTHON, f"the wheel needs CPython {floor}, the image has {IMAGE_PYTHON}"
    glibc = re.match(r"manylinux_(\d+)_(\d+)_x86_64", match["platform"])
    assert glibc, f"{match['platform']}: not a manylinux x86_64 wheel"
    assert (int(glibc[1]), int(glibc[2])) <= IMAGE_GLIBC


def test_without_a_docker_engine_the_script_says_how_to_build():
    probe = subprocess.run(["sh", "-c", "docker info"], capture_output=True, timeout=60)
    if probe.returncode == 0:
        return  # an engine is there: building would pull the real image; not done in tests
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "docker_build.sh")],
        env={**os.environ, "SKIP_BUILD": "1"}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1
    assert f"docker build -t open-webui-openrouter --build-arg OPEN_WEBUI_TAG={_tested_version()}" in result.stderr
