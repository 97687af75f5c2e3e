"""Run Open WebUI with the openrouter-pipe Function installed (the body of scripts/run.sh).

Runs with the Open WebUI venv's Python, after scripts/run.sh built and installed the wheel.

- Without ``OPENROUTER_API_KEY``: starts the local fake OpenRouter with its demo models
  ("Demo: reasoning (offline)", "Demo: web search with sources (offline)", …, see
  ``fake_openrouter/demo.py``) and points the Function at it (offline demo); a banner in Open WebUI
  says so. The catalog's other models echo what they are sent. With it: the Function talks
  to the real OpenRouter (``OPENROUTER_BASE_URL``, default https://openrouter.ai/api/v1).
- Open WebUI listens on ``HOST:PORT`` (default 127.0.0.1:8080) with a persistent ``DATA_DIR``
  (default ~/.local/share/openrouter-pipe-demo). The admin account ``admin@example.com`` gets a
  generated password, saved in ``DATA_DIR/admin-credentials.json`` and reused on later runs.
- The Function ``openrouter`` is created or updated, activated and configured on every run.
- Runs until Ctrl-C (or SIGTERM), then stops what it started. The API key is never printed.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "pytests" / "e2e"))
sys.path.insert(0, str(REPO_ROOT))

from owui import (  # noqa: E402
    FUNCTION_ID,
    Api,
    HarnessError,
    OpenWebUI,
    generate_shim,
    install_openrouter_function,
)

OPENROUTER_URL = "https://openrouter.ai/api/v1"
ADMIN_EMAIL = "admin@example.com"
OFFLINE_KEY = "sk-or-offline-demo"  # the fake accepts any key; this one is not secret
OFFLINE_BANNER = {
    "id": "openrouter-pipe-offline-demo",
    "type": "warning",
    "title": "Offline demo",
    "content": (
        "Offline demo: answers come from a local fake OpenRouter, not real models. "
        "Pick a \"Demo: …\" model to see reasoning, web-search sources, a tool call and error cards; "
        "the other models echo your message. Set OPENROUTER_API_KEY to use the real OpenRouter."
    ),
    "dismissible": True,
}


def set_offline_banner(api: Api, offline: bool) -> None:
    """Show the offline banner (or take it away when running against the real OpenRouter),
    keeping any banner an admin set up."""
    others = [b for b in api.get("/api/v1/configs/banners") or [] if b.get("id") != OFFLINE_BANNER["id"]]
    mine = [{**OFFLINE_BANNER, "timestamp": int(time.time())}] if offline else []
    api.post("/api/v1/configs/banners", {"banners": mine + others})


def load_or_create_secret(path: Path, make) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def load_or_create_admin(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    admin = {"name": "Admin", "email": ADMIN_EMAIL, "password": secrets.token_urlsafe(12)}
    path.write_text(json.dumps(admin, indent=2) + "\n")
    path.chmod(0o600)
    return admin


def main() -> int:
    data_dir = Path(os.environ.get("DATA_DIR") or Path.home() / ".local/share/openrouter-pipe-demo")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    api_key = os.environ.get("OPENROUTER_API_KEY", "").strip()
    offline = not api_key
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)

    secret = load_or_create_secret(data_dir / ".webui_secret_key", lambda: secrets.token_urlsafe(32))
    admin = load_or_create_admin(data_dir / "admin-credentials.json")
    # Let Open WebUI generate titles/tags/follow-ups as it does by default.
    env = {
        "ENABLE_TITLE_GENERATION": "true",
        "ENABLE_TAGS_GENERATION": "true",
        "ENABLE_FOLLOW_UP_GENERATION": "true",
    }

    stopping = False

    def on_signal(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started with SIGINT ignored (e.g. `&`)

    fake = None
    server = OpenWebUI(
        data_dir,
        port=port,
        host=host,
        env=env,
        log_path=data_dir / "open-webui.log",
        secret_key=secret,
    )
    try:
        if offline:
            from fake_openrouter.client import FakeOpenRouter

            fake = FakeOpenRouter(args=["--demo"]).start()
            base_url = fake.base_url
            api_key = OFFLINE_KEY
        else:
            base_url = os.environ.get("OPENROUTER_BASE_URL", OPENROUTER_URL)

        print(f"starting Open WebUI on http://{host}:{port} (log: {server.log_path}) ...", flush=True)
        t0 = time.monotonic()
        server.start(timeout=180)
        print(f"Open WebUI is up after {time.monotonic() - t0:.0f} s", flush=True)

        api = Api(server.base_url)
        user = api.signup_or_signin(**admin)
        if user.get("role") != "admin":
            raise HarnessError(
                f"{admin['email']} is not an admin of this DATA_DIR ({data_dir}); "
                f"fix {data_dir / 'admin-credentials.json'} or use another DATA_DIR"
            )
        with tempfile.TemporaryDirectory() as tmp:
            content = generate_shim(server.python, Path(tmp) / "openrouter_shim.py")
        models = install_openrouter_function(api, content, base_url, api_key=api_key)
        ours = [m for m in models if str(m.get("id", "")).startswith(FUNCTION_ID + ".")]
        set_offline_banner(api, offline)

        line = "=" * 78
        print(line)
        print(f"  Open WebUI:  http://{host}:{port}")
        print(f"  Admin login: {admin['email']} / {admin['password']}")
        print(f"               (saved in {data_dir / 'admin-credentials.json'})")
        print(f"  Function:    '{FUNCTION_ID}' installed and active, {len(ours)} OpenRouter models listed")
        if offline:
            print("  OFFLINE DEMO: answers come from a local fake OpenRouter, not real models.")
            print('                Pick a "Demo: ..." model: reasoning, web search with sources,')
            print("                a tool call, a rate-limit card, an error mid-answer.")
            print("                Set OPENROUTER_API_KEY to use the real OpenRouter.")
        else:
            print(f"  OpenRouter:  {base_url} (API key from OPENROUTER_API_KEY)")
        print("  Press Ctrl-C to stop.")
        print(line, flush=True)

        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1)
        if not stopping:
            print(f"Open WebUI exited unexpectedly; log tail:\n{server.log_tail(40)}", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except (HarnessError, RuntimeError, OSError) as exc:
        print(f"run.sh: {exc}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        if fake is not None:
            fake.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
