"""``ENABLE_STATUS_CSS_PATCH``: with a browser on the other end (``__event_call__``), a chat
sends Open WebUI's ``execute`` event with the script that shows long statuses in full; the
answer never waits for the browser, and with the valve off nothing is sent."""

from __future__ import annotations

import asyncio
import time

from bridge_helpers import chat_body, collect, content_of, new_pipe, parse_lines

from openrouter_pipe import status_css


def recorder(delay: float = 0.0, fail: bool = False):
    seen = []

    async def event_call(event):
        seen.append(event)
        if delay:
            await asyncio.sleep(delay)
        if fail:
            raise RuntimeError("the browser went away")
        return True

    return seen, event_call


async def _settle():
    await asyncio.gather(*list(status_css._running), return_exceptions=True)


async def test_a_chat_in_a_browser_gets_the_status_style_once_per_request(fake):
    seen, event_call = recorder()
    pipe = new_pipe(fake.base_url)
    payloads = parse_lines(await collect(pipe, chat_body("hello"), __event_call__=event_call))
    await _settle()
    assert content_of(payloads) == "Echo: hello"
    [event] = seen
    assert event["type"] == "execute" and event["user_id"].startswith("user-")
    code = event["data"]["code"]
    assert 'document.getElementById("owui-status-unclamp")' in code
    assert ".status-description .line-clamp-1" in code and "white-space: pre-wrap" in code


async def test_with_the_valve_off_or_without_a_browser_nothing_is_sent(fake):
    seen, event_call = recorder()
    off = new_pipe(fake.base_url, ENABLE_STATUS_CSS_PATCH=False)
    await collect(off, chat_body("quiet"), __event_call__=event_call)
    await _settle()
    assert seen == []
    assert status_css.send(new_pipe(fake.base_url).valves, {}, "u") is None, "no __event_call__: no script"


async def test_a_browser_that_hangs_or_fails_never_holds_the_answer(fake):
    for delay, fail in ((30.0, False), (0.0, True)):
        seen, event_call = recorder(delay=delay, fail=fail)
        started = time.monotonic()
        payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("go on"), __event_call__=event_call))
        assert time.monotonic() - started < 5, "the answer did not wait for the browser"
        assert content_of(payloads) == "Echo: go on"
        assert len(seen) == 1
    for task in list(status_css._running):
        task.cancel()
    await _settle()
