"""Installs or upgrades the Function in a running Open WebUI, through its own admin API.

Open WebUI has no way to load a Function from a file at start, so a container image that
ships the wheel runs ``python -m openrouter_pipe preload`` beside the server
(``docker/start-with-openrouter.sh``). It waits for ``/health``, signs in as an admin, and
makes the stored Function the one this wheel generates: created and switched on when it
is missing, its code replaced when an older openrouter-pipe generated it. Valves (and so
the secrets in them), the on/off switch, the name and the description the admin chose are
never touched, and a Function of the same id that openrouter-pipe did not generate is left
alone. Standard library only: it runs in whatever Python Open WebUI runs in.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .shim import GENERATED_MARKER, render

DEFAULT_FUNCTION_ID = "openrouter"
DEFAULT_NAME = "OpenRouter"
DEFAULT_DESCRIPTION = "Every OpenRouter model through the Responses API (openrouter-pipe)"


class PreloadError(RuntimeError):
    """The Function could not be installed; the message says why, without secrets."""


@dataclass(frozen=True)
class Credentials:
    """Who signs in: an admin's API key or token, else an admin's email and password."""

    token: str = ""
    email: str = ""
    password: str = ""

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> Credentials:
        env = dict(os.environ if env is None else env)
        return cls(
            token=env.get("OPENROUTER_PIPE_ADMIN_TOKEN", "").strip(),
            email=env.get("WEBUI_ADMIN_EMAIL", "").strip(),
            password=env.get("WEBUI_ADMIN_PASSWORD", ""),
        )

    def usable(self) -> bool:
        return bool(self.token or (self.email and self.password))


class _Client:
    def __init__(self, base_url: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")[:300]

    def wait_healthy(self, deadline: float) -> None:
        while True:
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise PreloadError(f"Open WebUI at {self.base_url} did not become healthy")
            time.sleep(1.0)

    def sign_in(self, creds: Credentials) -> None:
        if creds.token:
            self.token = creds.token
        else:
            body = {"email": creds.email, "password": creds.password}
            status, answer = self.call("POST", "/api/v1/auths/signin", body)
            if status != 200 or not isinstance(answer, dict) or not answer.get("token"):
                raise PreloadError(f"signing in as {creds.email} failed (HTTP {status})")
            self.token = answer["token"]
        # Open WebUI answers 401 for a Function that does not exist, so whether the token is
        # an admin's is asked once, here.
        status, me = self.call("GET", "/api/v1/auths/")
        if status != 200 or not isinstance(me, dict):
            raise PreloadError(f"Open WebUI refused the admin credentials (HTTP {status})")
        if me.get("role") != "admin":
            raise PreloadError(f"{me.get('email') or 'this account'} is not an admin; only admins install Functions")


def _detail(answer: Any) -> str:
    return str(answer.get("detail") if isinstance(answer, dict) else answer)[:300]


def preload(
    base_url: str,
    creds: Credentials,
    function_id: str = DEFAULT_FUNCTION_ID,
    wait_seconds: float = 600.0,
    timeout: float = 60.0,
) -> str:
    """Make Open WebUI's Function ``function_id`` this wheel's; returns what was done."""
    if not creds.usable():
        raise PreloadError(
            "no admin credentials: set WEBUI_ADMIN_EMAIL and WEBUI_ADMIN_PASSWORD (Open WebUI creates that "
            "admin on its first start) or OPENROUTER_PIPE_ADMIN_TOKEN (an admin's API key)"
        )
    client = _Client(base_url, timeout)
    client.wait_healthy(time.monotonic() + wait_seconds)
    client.sign_in(creds)
    content = render()
    status, existing = client.call("GET", f"/api/v1/functions/id/{function_id}")
    if status == 200 and isinstance(existing, dict):
        outcome = _upgrade(client, function_id, existing, content)
    else:
        meta = {"description": DEFAULT_DESCRIPTION}
        form = {"id": function_id, "name": DEFAULT_NAME, "content": content, "meta": meta}
        status, created = client.call("POST", "/api/v1/functions/create", form)
        if status != 200:
            raise PreloadError(f"creating the Function failed (HTTP {status}): {_detail(created)}")
        status, toggled = client.call("POST", f"/api/v1/functions/id/{function_id}/toggle")
        if status != 200 or not (isinstance(toggled, dict) and toggled.get("is_active")):
            raise PreloadError(f"switching the Function on failed (HTTP {status}): {_detail(toggled)}")
        outcome = f"installed Function '{function_id}' and switched it on"
    # Open WebUI refreshes its model table only when the model list is read.
    client.call("GET", "/api/models")
    return outcome


def _upgrade(client: _Client, function_id: str, existing: dict, content: str) -> str:
    old = existing.get("content") or ""
    if old == content:
        return f"Function '{function_id}' is already this version"
    if GENERATED_MARKER not in old:
        raise PreloadError(
            f"a Function '{function_id}' exists that openrouter-pipe did not generate; it was left unchanged "
            "(set OPENROUTER_PIPE_FUNCTION_ID to another id, or replace it by hand)"
        )
    meta = existing.get("meta") if isinstance(existing.get("meta"), dict) else {}
    form = {
        "id": function_id,
        "name": existing.get("name") or DEFAULT_NAME,
        "content": content,
        "meta": {"description": meta.get("description") or DEFAULT_DESCRIPTION},
    }
    status, answer = client.call("POST", f"/api/v1/functions/id/{function_id}/update", form)
    if status != 200:
        raise PreloadError(f"updating the Function failed (HTTP {status}): {_detail(answer)}")
    return f"upgraded Function '{function_id}' to this version (valves kept)"
