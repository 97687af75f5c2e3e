"""Hand-written HTTP/1.1 plumbing for the fake OpenRouter: request parsing, replies, and a
connection wrapper whose writes and sleeps notice a client that went away."""

import asyncio
import http
import json
import time

MAX_HEADER = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
SHORT_SLEEP_S = 0.05  # sleeps shorter than this do not watch for the client going away


class ClientGone(Exception):
    """The client closed or reset the connection."""


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def error_json(status, message):
    return json.dumps({"error": {"message": message, "code": status}}).encode()


class Request:
    def __init__(self, method, path, query, version, headers, body):
        self.method, self.path, self.query = method, path, query
        self.version, self.headers, self.body = version, headers, body

    @property
    def keep_alive(self):
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    def json(self):
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Reply:
    """What to send: status, headers and the body as a list of frames (SSE events or one blob)."""

    def __init__(self, status, headers, events, chunked, ticks=None, reason_phrase=None):
        self.status, self.headers, self.events = status, headers, events
        self.chunked, self.ticks = chunked, ticks
        self.reason = reason_phrase or reason(status)


class Conn:
    """One client connection: buffered request parsing, writes that notice a vanished client."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.buf = bytearray()
        self.gone = asyncio.Event()
        self.gone_at = None
        self._watcher = None
        self.headers_sent = False
        self.keep_alive = True

    async def _fill(self):
        data = await self.reader.read(65536)
        if not data:
            raise EOFError
        self.buf += data

    async def _read_exact(self, n):
        while len(self.buf) < n:
            await self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > MAX_HEADER:
                raise HttpError(400, "line too long")
            await self._fill()

    async def _read_chunked(self, max_body):
        body = bytearray()
        while True:
            size_line = (await self._read_line()).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise HttpError(400, "bad chunk size") from None
            if size == 0:
                while await self._read_line():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > max_body:
                raise HttpError(413, "request body too large")
            body += await self._read_exact(size)
            await self._read_line()

    async def read_request(self, max_body):
        """Next request, or None when the client closed the connection between requests."""
        try:
            while True:
                while self.buf[:2] == b"\r\n":
                    del self.buf[:2]
                end = self.buf.find(b"\r\n\r\n")
                if end >= 0:
                    break
                if len(self.buf) > MAX_HEADER:
                    raise HttpError(431, "request header too large")
                await self._fill()
        except (EOFError, ConnectionError):
            return None
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise HttpError(400, "bad request line") from None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers[name] = headers[name] + ", " + value if name in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(max_body)
        else:
            try:
                length = int(headers.get("content-length", "0") or 0)
            except ValueError:
                raise HttpError(400, "bad Content-Length") from None
            if length < 0 or length > max_body:
                raise HttpError(413, "request body too large")
            body = await self._read_exact(length)
        path, _, query = target.partition("?")
        return Request(method.upper(), path, query, version.strip(), headers, body)

    # -- noticing a vanished client while answering ---------------------------------------------

    def _mark_gone(self):
        if self.gone_at is None:
            self.gone_at = time.monotonic()
        self.gone.set()

    async def _watch(self):
        try:
            while len(self.buf) <= MAX_HEADER + MAX_BODY:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buf += data  # a pipelined next request: keep it
        except (ConnectionError, OSError):
            pass
        self._mark_gone()

    def start_watch(self):
        self._watcher = asyncio.ensure_future(self._watch())

    async def stop_watch(self):
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except (asyncio.CancelledError, Exception):
                pass
            self._watcher = None

    def check(self):
        if self.gone.is_set() or self.writer.transport.is_closing():
            self._mark_gone()
            raise ClientGone

    async def sleep(self, seconds):
        """Sleep, but wake up (raising ClientGone) as soon as the client goes away."""
        self.check()
        if seconds <= 0:
            return
        if seconds < SHORT_SLEEP_S:
            # A paced stream sleeps ~10 ms per delta; a watcher task per sleep would cost the
            # fake more than the client it measures at 1,000 streams. A client gone meanwhile
            # is noticed on the next write, at most this late.
            await asyncio.sleep(seconds)
            self.check()
            return
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
        except asyncio.TimeoutError:
            return
        raise ClientGone

    async def write(self, data):
        self.check()
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError, RuntimeError):
            self._mark_gone()
            raise ClientGone from None

    async def close(self, graceful=True):
        try:
            if graceful:
                self.writer.close()
                await asyncio.wait_for(self.writer.wait_closed(), 2)
            else:
                self.writer.transport.abort()
        except Exception:
            self.writer.transport.abort()
