"""Fetching: one ``requests`` session, bounded concurrency, hard limits on size and time.

- Conditional GET: the stored ETag and Last-Modified go out as ``If-None-Match`` and
  ``If-Modified-Since``; a 304 comes back as ``not_modified`` and is never parsed.
- Redirects are followed; when the chain starts with permanent ones (301/308) the
  result carries ``moved_to`` so the feed's stored URL follows the move.
- 410 Gone raises ``FeedGone`` (the feed is disabled); every other failure raises
  ``FeedError`` with a one-line reason.
- The body is streamed and decompressed by us, never past ``max_bytes`` of *decoded*
  data, so neither a huge body nor a gzip bomb (a few KB that inflate to gigabytes)
  can exhaust memory.
- One deadline covers the whole fetch (connect, redirects, headers and body): when
  ``timeout`` seconds are up, a watchdog shuts the fetch's sockets down, which ends a
  blocked read at once. Checking the clock between reads is not enough: a server that
  trickles one byte a second satisfies every per-read timeout and never ends a chunk.
- ``file://`` URLs and plain paths are read from disk with the same size limit; the
  file's size and modification time act as its ETag.

Network deadlines use the real monotonic clock: they bound real sockets, not business
time (which comes from the injected ``Clock``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import threading
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pipeline import __version__
from pipeline.errors import FeedError

log = logging.getLogger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
CHUNK = 64 * 1024


class FeedGone(FeedError):
    """The server said 410 Gone: the feed is disabled until its URL changes."""


@dataclass(frozen=True)
class FetchRequest:
    name: str
    url: str  # absolute http(s)/file URL, or a path already resolved against config
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    name: str
    url: str
    status: Literal["ok", "not_modified"]
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # new permanent URL after 301/308
    http_status: int | None = None

    @cached_property
    def body_hash(self) -> str:  # compared before parsing, stored after: hash it once
        return hashlib.sha256(self.body).hexdigest()


class _Deadline:
    """The end of one fetch: at that moment the sockets it used are shut down.

    ``shutdown`` (unlike ``close``) wakes a thread blocked in ``recv`` on Linux and
    elsewhere; the read then sees end-of-file or an error, and the fetch reports the
    deadline rather than what the cut looked like.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(conn)
            if self.expired:
                _shut(conn)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for conn in self._connections:
                _shut(conn)


def _shut(conn: HTTPConnection) -> None:
    sock = conn.sock  # None while connecting: connect has its own timeout
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


# The deadline of the fetch running in this thread; its connections register with it.
_current = threading.local()


def _watch(conn: HTTPConnection) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(conn)


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        _watch(self)
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        _watch(self)
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """An adapter whose connections answer to the deadline of the fetch using them."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


def make_session(*, website: str = "", pool_size: int = 8) -> requests.Session:
    """A session naming Rundbrief in its User-Agent, with a pool for ``pool_size`` threads."""
    session = requests.Session()
    contact = f"; +{website}" if website else ""
    session.headers["User-Agent"] = f"Rundbrief/{__version__} (feed collector{contact})"
    adapter = _DeadlineAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch_all(
    requests_: Iterable[FetchRequest],
    *,
    session: requests.Session,
    timeout: float,
    max_bytes: int,
    concurrency: int,
) -> Iterator[tuple[FetchRequest, FetchResult | FeedError]]:
    """Fetch concurrently; yield each outcome as soon as its fetch is done.

    Completion order lets every feed be stored while slower ones still download (a
    slow feed holds nothing back; its own deadline bounds it). Outcomes finished by the
    time the caller asks are yielded in the order of ``requests_``, so with one worker,
    or when feeds finish together, the order is the configured one. At most
    ``concurrency`` fetches are running or waiting to be taken, so memory stays bounded
    by concurrency × max_bytes; the caller parses one result while the others download.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fetch") as pool:
        pending: list[tuple[FetchRequest, Future[FetchResult]]] = []
        for req in requests_:
            if len(pending) >= concurrency:
                yield _outcome(*_take_done(pending))
            pending.append((req, pool.submit(fetch, req, session, timeout, max_bytes)))
        while pending:
            yield _outcome(*_take_done(pending))


def _take_done(
    pending: list[tuple[FetchRequest, Future[FetchResult]]],
) -> tuple[FetchRequest, Future[FetchResult]]:
    """The first (in request order) finished fetch, waiting for one if none is."""
    for i, (_, future) in enumerate(pending):
        if future.done():
            return pending.pop(i)
    wait([f for _, f in pending], return_when=FIRST_COMPLETED)
    return _take_done(pending)


def _outcome(
    req: FetchRequest, future: Future[FetchResult]
) -> tuple[FetchRequest, FetchResult | FeedError]:
    try:
        return req, future.result()
    except FeedError as exc:
        return req, exc
    except Exception as exc:  # a bug must not stop the other feeds
        log.exception("fetch crashed", extra={"feed": req.name})
        return req, FeedError(f"unexpected error: {exc!r}", feed=req.name)


def fetch(
    req: FetchRequest, session: requests.Session, timeout: float, max_bytes: int
) -> FetchResult:
    scheme = urlsplit(req.url).scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_http(req, session, timeout, max_bytes)
    if scheme == "file":
        return _fetch_file(req, Path(unquote(urlsplit(req.url).path)), max_bytes)
    if scheme and len(scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise FeedError(f"unsupported URL scheme {scheme!r} in {req.url}", feed=req.name)
    return _fetch_file(req, Path(req.url), max_bytes)


def _fetch_file(req: FetchRequest, path: Path, max_bytes: int) -> FetchResult:
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            raise FeedError(
                f"{path}: {stat.st_size} bytes, more than collect.max_bytes ({max_bytes})",
                feed=req.name,
            )
        tag = f'"{stat.st_size}-{stat.st_mtime_ns}"'
        if req.etag == tag:
            return FetchResult(req.name, req.url, "not_modified", etag=tag)
        body = path.read_bytes()[: max_bytes + 1]
    except FileNotFoundError as exc:
        raise FeedError(f"{path}: file not found", feed=req.name) from exc
    except IsADirectoryError as exc:
        raise FeedError(f"{path}: is a directory, not a feed file", feed=req.name) from exc
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror}", feed=req.name) from exc
    if len(body) > max_bytes:
        raise FeedError(f"{path}: more than collect.max_bytes ({max_bytes})", feed=req.name)
    return FetchResult(req.name, req.url, "ok", body=body, content_type=None, etag=tag)


def _fetch_http(
    req: FetchRequest, session: requests.Session, timeout: float, max_bytes: int
) -> FetchResult:
    headers = {"Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    deadline = _Deadline(timeout)
    _current.deadline = deadline
    try:
        return _get(req, session, headers, timeout, max_bytes, deadline)
    except FeedError as exc:
        if deadline.expired:  # the cut shows as a broken or short read: name the cause
            raise _too_slow(req.name, timeout) from exc
        raise
    finally:
        deadline.cancel()
        _current.deadline = None


def _too_slow(name: str, timeout: float) -> FeedError:
    return FeedError(
        f"timed out: the fetch took longer than collect.timeout ({timeout:g} s)", feed=name
    )


def _get(
    req: FetchRequest,
    session: requests.Session,
    headers: dict[str, str],
    timeout: float,
    max_bytes: int,
    deadline: _Deadline,
) -> FetchResult:
    try:
        with session.get(req.url, headers=headers, timeout=(timeout, timeout), stream=True) as resp:
            moved_to = _permanent_target(resp)
            if resp.status_code == 304:
                return FetchResult(
                    req.name,
                    req.url,
                    "not_modified",
                    etag=resp.headers.get("ETag") or req.etag,
                    last_modified=resp.headers.get("Last-Modified") or req.last_modified,
                    moved_to=moved_to,
                    http_status=304,
                )
            if resp.status_code == 410:
                raise FeedGone(f"HTTP 410 Gone: {resp.url} was removed", feed=req.name)
            if resp.status_code >= 400 or resp.status_code < 200:
                reason = resp.reason or ""
                raise FeedError(f"HTTP {resp.status_code} {reason}".strip(), feed=req.name)
            body = _read_body(resp, req.name, max_bytes, timeout)
            if deadline.expired:  # a cut body without a length can look complete
                raise _too_slow(req.name, timeout)
            return FetchResult(
                req.name,
                req.url,
                "ok",
                body=body,
                content_type=resp.headers.get("Content-Type"),
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
                moved_to=moved_to,
                http_status=resp.status_code,
            )
    except FeedError:
        raise
    except requests.Timeout as exc:
        raise FeedError(f"timed out after {timeout:g} s", feed=req.name) from exc
    except requests.TooManyRedirects as exc:
        raise FeedError("too many redirects", feed=req.name) from exc
    except requests.ConnectionError as exc:
        raise FeedError(f"cannot connect: {_root_cause(exc)}", feed=req.name) from exc
    except requests.RequestException as exc:
        raise FeedError(f"request failed: {_root_cause(exc)}", feed=req.name) from exc


def _permanent_target(resp: requests.Response) -> str | None:
    """The URL reached by the leading run of permanent redirects, if any."""
    chain = [*resp.history, resp]
    target = None
    for i, hop in enumerate(resp.history):
        if hop.status_code not in (301, 308):
            break
        target = chain[i + 1].url
    return target


def _read_body(resp: requests.Response, name: str, max_bytes: int, timeout: float) -> bytes:
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FeedError(
                f"body of {declared} bytes exceeds collect.max_bytes ({max_bytes})", feed=name
            )
        decoder = None
    elif encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise FeedError(f"unsupported Content-Encoding {encoding!r}", feed=name)
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in resp.raw.stream(CHUNK, decode_content=False):
            pending = chunk
            while pending:
                if decoder is None:
                    data, pending = pending, b""
                else:
                    # max_length bounds what one call may inflate: a bomb stops here.
                    data = decoder.decompress(pending, max_bytes - size + 1)
                    pending = decoder.unconsumed_tail
                size += len(data)
                if size > max_bytes:
                    raise FeedError(
                        f"body exceeds collect.max_bytes ({max_bytes})"
                        + (f" after {encoding} decoding" if decoder else ""),
                        feed=name,
                    )
                parts.append(data)
                if decoder is not None and decoder.eof:
                    break
    except zlib.error as exc:
        raise FeedError(f"corrupt {encoding} body: {exc}", feed=name) from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise FeedError(f"timed out after {timeout:g} s (body too slow)", feed=name) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise FeedError(f"connection broken while reading: {_root_cause(exc)}", feed=name) from exc
    if decoder is not None:
        parts.append(decoder.flush())
    return b"".join(parts)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"
