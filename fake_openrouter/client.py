"""Python helper: run the fake OpenRouter as a subprocess and drive its control API (urllib only).

    from fake_openrouter import FakeOpenRouter
    with FakeOpenRouter() as fake:
        fake.enqueue({"fixture": "stream_text.sse"})
        ... point the client at fake.base_url ...
        assert fake.requests()[-1]["body"]["model"] == "openai/gpt-4o-mini"
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")


class FakeOpenRouter:
    def __init__(self, host="127.0.0.1", port=0, args=(), python=None, startup_timeout=15.0):
        self.host, self.port = host, port
        self.args = list(args)
        self.python = python or sys.executable
        self.startup_timeout = startup_timeout
        self.proc = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self):
        cmd = [self.python, SERVER, "--host", self.host, "--port", str(self.port)] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        text = line[0].decode().strip() if line else ""
        if not text.startswith("FAKE_OPENROUTER_PORT="):
            self.stop()
            raise RuntimeError(f"fake OpenRouter did not start (got {text!r})")
        self.port = int(text.split("=", 1)[1])
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self):
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self):
        return self.url + "/api/v1"

    # -- control API ----------------------------------------------------------------------------

    def call(self, method, path, body=None, timeout=30):
        """One control call; returns the decoded JSON answer (raises RuntimeError on HTTP errors)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} -> {exc.code}: {exc.read().decode(errors='replace')}") from None

    def enqueue(self, plan_or_list):
        return self.call("POST", "/_fake/plans", plan_or_list)

    def clear_plans(self):
        return self.call("DELETE", "/_fake/plans")

    def requests(self, path=None):
        """Recorded requests, oldest first; `path` filters (e.g. '/api/v1/responses')."""
        out = self.call("GET", "/_fake/requests")
        return [r for r in out if path is None or r["path"] == path]

    def clear_requests(self):
        return self.call("DELETE", "/_fake/requests")

    def clear(self):
        """Forget plans, recorded requests and stats, and restore the catalog."""
        return self.call("POST", "/_fake/reset", {})

    def stats(self):
        return self.call("GET", "/_fake/stats")

    def set_models(self, data=None, fixture=None, error=None):
        """Replace the catalog: a list of models, a fixture name, or an error status for /models."""
        if error is not None:
            body = {"error": error}
        elif fixture is not None:
            body = {"fixture": fixture}
        else:
            body = {"data": data if isinstance(data, list) else (data or {}).get("data", [])}
        return self.call("POST", "/_fake/models", body)

    def reset_models(self):
        return self.call("DELETE", "/_fake/models")

    def wait_for(self, predicate, timeout=5.0, interval=0.02):
        """Poll stats() until predicate(stats) is true; returns the stats or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.stats()
            if predicate(st):
                return st
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met; last stats {st}")
            time.sleep(interval)
