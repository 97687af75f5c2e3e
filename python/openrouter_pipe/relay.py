"""Reading an engine answer from asyncio with one cheap wake-up per batch.

The engine queues ready SSE lines and host calls, in order. While items are queued,
reading them costs nothing but a call. When the queue is empty, the stream is armed with a
token and a pipe that this event loop watches; the engine writes to that pipe when items
arrive, and the loop's reader callback resolves the waiting future. No thread takes the
GIL for it. Host calls are handed to the answer's :class:`~.host.HostSession`.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import weakref
from collections.abc import AsyncIterator

from . import _native
from .host import HostSession

_tokens = itertools.count(1)
_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waker | None] = weakref.WeakKeyDictionary()


# Streams woken per turn of the event loop. The engine's reads are batched (naps), so
# hundreds of streams can become ready at the same moment; waking them all in one turn
# makes every other callback (timers, other requests) wait for all of them. In chunks,
# the loop gets back between them. Measured with 1,000 paced streams (bench/stream_limits.py):
# loop lag p99 10.3 ms waking all at once, 6.8 ms in chunks of 32, 5.2 ms in chunks of 8,
# CPU per delta unchanged.
WAKE_CHUNK = 8


class _Waker:
    """One pipe per event loop, watched with ``add_reader``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # No reference to the loop is kept: the registry below is keyed weakly by it.
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self.waiting: dict[int, asyncio.Future] = {}
        self.ready: collections.deque[int] = collections.deque()
        self.continuing = False
        loop.add_reader(self.read_fd, self._on_ready)
        weakref.finalize(self, self._close_fds, self.read_fd, self.write_fd)

    @staticmethod
    def _close_fds(*fds: int) -> None:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _on_ready(self) -> None:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        self.ready.extend(_native.take_ready())
        if not self.continuing:
            self._wake_some()

    def _wake_some(self) -> None:
        """Wakes the next :data:`WAKE_CHUNK` ready streams; the rest on the next turn."""
        self.continuing = False
        ready, waiting = self.ready, self.waiting
        for _ in range(min(WAKE_CHUNK, len(ready))):
            token = ready.popleft()
            future = waiting.pop(token, None)
            if future is not None and not future.done():
                future.set_result(None)
            elif future is None:
                # Another loop's token (several loops in one process): hand it back.
                _hand_back(token)
        if ready:
            self.continuing = True
            asyncio.get_running_loop().call_soon(self._wake_some)

    async def wait(self, stream: _native.ChatStream) -> None:
        token = next(_tokens)
        future = asyncio.get_running_loop().create_future()
        self.waiting[token] = future
        try:
            if stream.arm(self.write_fd, token):
                await future
        finally:
            self.waiting.pop(token, None)


def _hand_back(token: int) -> None:
    for loop, waker in list(_wakers.items()):
        if waker is not None and token in waker.waiting and not loop.is_closed():
            future = waker.waiting.pop(token)
            loop.call_soon_threadsafe(_resolve, future)
            return


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _waker_for(loop: asyncio.AbstractEventLoop) -> _Waker | None:
    """This loop's waker, or ``None`` to use the generic (slower) path: loops without
    ``add_reader`` (Windows' proactor) or that cannot be weakly referenced."""
    try:
        if loop not in _wakers:
            try:
                _wakers[loop] = _Waker(loop)
            except (NotImplementedError, OSError, RuntimeError):
                _wakers[loop] = None
        return _wakers[loop]
    except TypeError:
        return None


async def lines(stream: _native.ChatStream, host: HostSession | None = None) -> AsyncIterator[str]:
    """Every SSE line of the answer, in order, running its host calls on the way.
    Closing the generator (or cancelling its reader) stops the answer and its calls."""
    host = host if host is not None else HostSession()
    waker = _waker_for(asyncio.get_running_loop())
    try:
        if waker is None:
            async for item in stream:
                if item.__class__ is list:
                    for line in item:
                        yield line
                else:
                    host.dispatch(item)
            host.finish()
            return
        while True:
            item = stream.next_batch()
            if item is None:
                host.finish()
                return
            if item.__class__ is list:
                if item:
                    for line in item:
                        yield line
                else:
                    await waker.wait(stream)
            else:
                host.dispatch(item)
    finally:
        stream.close()
        host.close()


async def complete(stream: _native.ChatStream, host: HostSession | None = None) -> _native.Completion | None:
    """Runs a complete answer (``start_chat(..., collect=True)``) to its end, host calls
    included, and returns its result. Cancelling the caller stops the answer."""
    async for _line in lines(stream, host):
        pass
    return stream.completion()
