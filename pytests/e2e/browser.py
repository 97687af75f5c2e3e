"""A real Chromium on the real Open WebUI: what a user sees, not what the API returns.

Debian's `chromium` package driven by Playwright's Python package (`executable_path`, so no
browser is ever downloaded; `.ci/run` installs the package, `scripts/provision_openwebui.sh` the
library). One browser and one signed-in context serve a whole test module; each test opens its
own page. Screenshots go to `$OPENROUTER_PIPE_CACHE/artifacts/browser/` (kept as CI artifacts):
always when a test fails, and at every `shot()` when `BROWSER_SHOTS=1`.

Selectors are Open WebUI 0.12.4's: `#email`/`#password` on `/auth`, the TipTap box `#chat-input`,
one `.chat-assistant` per answer (its buttons sit beside it in the `#message-<id>` box), the copy
button `.copy-response-button`, the sources toggle `button[aria-label^="Toggle"]`. The copy
button's text is captured by replacing `navigator.clipboard` before the page loads (headless
Chromium has no system clipboard).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = (
    Path(os.environ.get("OPENROUTER_PIPE_CACHE", Path.home() / ".cache/openrouter-pipe")) / "artifacts" / "browser"
)
# Open WebUI's link-reference form of the pipe's hidden marker lines: `[<20 Crockford chars>]: #`.
MARKER_TEXT = re.compile(r"\[[0-9A-HJKMNP-TV-Z]{20}\]: #")
THOUGHT_FOR = re.compile(r"Thought for (less than a second|(\d+) seconds?)")

# Runs in every page before Open WebUI's code: records what the copy button writes.
CLIPBOARD_HOOK = """
(() => {
  window.__copied = [];
  const record = async (text) => { window.__copied.push(String(text)); };
  const clipboard = {
    writeText: record,
    write: async (items) => {
      for (const item of items) {
        if (item.types.includes('text/plain')) {
          record(await (await item.getType('text/plain')).text());
        }
      }
    },
    readText: async () => window.__copied.at(-1) ?? '',
  };
  Object.defineProperty(navigator, 'clipboard', { value: clipboard, configurable: true });
})();
"""


def missing_browser() -> str | None:
    """Why the browser suite cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Open WebUI venv lacks playwright (scripts/provision_openwebui.sh installs it)"
    return None


class Browser:
    """One Chromium and one signed-in browser context."""

    def __init__(self, base_url: str, email: str, password: str):
        from playwright.sync_api import sync_playwright

        self.base_url = base_url
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(CLIPBOARD_HOOK)
        self.context.set_default_timeout(30_000)
        page = self.context.new_page()
        page.goto(base_url + "/auth", wait_until="domcontentloaded")  # never "networkidle": socket.io
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("#chat-input", timeout=60_000)
        page.close()

    def close(self) -> None:
        self.context.close()
        self.browser.close()
        self._pw.stop()

    def new_chat(self, model_id: str) -> ChatPage:
        page = self.context.new_page()
        page.goto(f"{self.base_url}/?models={model_id}", wait_until="domcontentloaded")
        page.wait_for_selector("#chat-input")
        try:  # the first sign-in shows "What's New"
            page.get_by_role("button", name="Okay, Let's Go!").click(timeout=2_000)
        except Exception:  # noqa: BLE001 - not shown: nothing to close
            page.keyboard.press("Escape")
        return ChatPage(page)


class ChatPage:
    """One chat in one tab, read the way a user reads it."""

    def __init__(self, page):
        self.page = page

    def send(self, text: str) -> float:
        """Type into the chat box (which turns typed quotes into typographic ones) and send."""
        self.page.click("#chat-input")
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")
        return time.monotonic()

    def answer(self):
        """The last answer's whole box: its text (`.chat-assistant`) and its action buttons."""
        return self.page.locator(".chat-assistant").last.locator("xpath=ancestor::div[starts-with(@id,'message-')][1]")

    def answer_text(self) -> str:
        loc = self.page.locator(".chat-assistant")
        return loc.last.inner_text() if loc.count() else ""

    def wait_text(self, predicate, timeout: float = 30.0, what: str = "the answer") -> str:
        """Poll the last answer's rendered text until `predicate(text)` holds; return the text."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.answer_text()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the answer shows:\n{text}")

    def wait_done(self, timeout: float = 30.0) -> str:
        """Wait until the answer's action buttons (copy, …) show: Open WebUI shows them once done."""
        self.answer().locator(".copy-response-button").wait_for(state="visible", timeout=timeout * 1000)
        return self.answer_text()

    def page_text(self) -> str:
        return self.page.locator("body").inner_text()

    def copied_answer(self) -> str:
        """Click the last answer's copy button; the text it put on the clipboard."""
        before = self.page.evaluate("window.__copied.length")
        self.answer().locator(".copy-response-button").click()
        self.page.wait_for_function(f"window.__copied.length > {before}", timeout=5_000)
        return self.page.evaluate("window.__copied.at(-1)")

    def reload(self) -> None:
        self.page.reload(wait_until="domcontentloaded")
        self.page.locator(".chat-assistant").last.wait_for(state="visible")
        self.answer().locator(".copy-response-button").wait_for(state="visible")

    def shot(self, name: str, always: bool = False) -> Path | None:
        if not (always or os.environ.get("BROWSER_SHOTS") == "1"):
            return None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.page.close()


def thought_seconds(text: str) -> int | None:
    """N of "Thought for N seconds" (0 for "less than a second"), None when absent."""
    m = THOUGHT_FOR.search(text)
    if not m:
        return None
    return int(m.group(2)) if m.group(2) else 0
