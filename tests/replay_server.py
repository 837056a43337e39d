"""A local replay server for MusicBrainz and Discogs, built on the recorded real responses.

It listens on 127.0.0.1 on an ephemeral port (``http.server.ThreadingHTTPServer`` in a thread)
and answers the real client libraries (musicbrainzngs, python3-discogs-client) from
``shared/data/musicbrainz`` and ``shared/data/discogs``. Like the real services it enforces
rate limits, and on demand it misbehaves, so tests can check that nothing crashes, no request
goes above the limits, failures are retried and then recorded, and nothing is lost.

Where the services are
    - MusicBrainz: ``musicbrainz_host`` (``"127.0.0.1:<port>"``, plain http), paths ``/ws/2/...``.
    - Discogs: ``discogs_base_url`` (``"http://127.0.0.1:<port>/discogs"``).

How a request finds its recorded answer
    MusicBrainz (``musicbrainz/ws2_xml``; ``fmt=json`` uses ``ws2_json_picard``):

    - search ``/ws/2/<entity>/?query=...``: ``search-<entity>-<slug>.xml`` when it exists
      (slug: the query's letters and digits, lower case, joined by ``-``), else
      ``search-<entity>.xml``: *any* recording search gets the recorded recording search.
    - lookup ``/ws/2/<entity>/<id>?inc=a+b``: among ``<entity>/<id>*.xml`` the file whose name
      lists most of the requested includes (``<id>-recordings+artist-credits.xml``), else
      ``<id>.xml``; when no lookup of that id was recorded but the id appears in the entity's
      recorded search (``search-release.xml`` holds 25 releases with label-info), that element
      is served on its own, as a lookup returns it; else 404 with MusicBrainz's error document.
    - ``fmt=json`` lookups: the Picard JSON document whose ``id`` is the requested id and whose
      file name starts with the entity (``release.json`` for release b84ee12a-…); else 404.

    Discogs (``discogs/api_json``, layout as the API paths; the ``token`` parameter is ignored):

    - ``/discogs/releases/1`` → ``releases/1.json``; with query parameters, the file
      ``<name>_<k=v&...>.json`` with the same parameter set in any order.
    - ``/discogs/database/search?...``: the exact parameter set if recorded, else the recorded
      search sharing most ``key=value`` pairs (then keys; ``page``, ``per_page`` and ``type``
      aside), ties by file name: any release search gets a recorded Trash80 search.
    - anything else: 404 ``{"message": "Resource not found."}``.

Limits (checked before anything else; the refused request is counted as a violation)
    - MusicBrainz: 503 when a request arrives less than ``1 / musicbrainz_rate_per_s`` seconds
      after the previous one (default 1 request/s).
    - Discogs: a moving window of ``discogs_window_s`` (60 s) holding at most
      ``discogs_limit_with_token`` (60) requests with a ``token`` parameter, or
      ``discogs_limit_without_token`` (25) without; above it 429. Every answer carries
      ``X-Discogs-Ratelimit``, ``-Used`` and ``-Remaining``. :meth:`ReplayServer.consume`
      fills the window as other clients sharing the address would.

Faults, injected per service (``server.inject("musicbrainz", "timeout", times=2)``), served to
the next requests in order: ``timeout`` (no answer for ``hang_s``), ``500``, ``503``, ``429``,
``404``, ``truncated`` (the real body cut in half), ``malformed`` (a body that is not XML/JSON),
``empty`` (a valid answer with no results; 404 for lookups), and ``ok`` (a normal answer, to
schedule faults for later requests).

Counters: ``requests``, ``violations`` and ``faults`` per service, and ``log`` (one
:class:`Hit` per request, token scrubbed); over HTTP, ``/_control/stats`` and
``/_control/reset``. ``python tests/replay_server.py DATA_DIR`` runs it as its own process.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from local_server import LocalHttpServer

__all__ = ["FAULTS", "Hit", "ReplayServer", "replay_server"]

FAULTS = ("timeout", "500", "503", "429", "404", "truncated", "malformed", "empty", "ok")
SERVICES = ("musicbrainz", "discogs")

MMD_NS = "http://musicbrainz.org/ns/mmd-2.0#"
EXT_NS = "http://musicbrainz.org/ns/ext#-2.0"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_JSON_ENTITIES = ("release_group", "release", "recording", "artist", "label")
_SEARCH_IGNORED = {"page", "per_page", "type"}


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it (the ``token`` parameter is replaced by ``***``)."""

    service: str
    path: str
    query: str
    status: int
    at: float  # time.monotonic() when the request was admitted
    user_agent: str
    authenticated: bool
    outcome: str  # "ok", "not_found", "violation" or "fault:<kind>"


def _mb_error(*texts: str) -> bytes:
    body = "".join(f"<text>{t}</text>" for t in texts)
    return f"{XML_HEAD}<error>{body}</error>".encode()


class ReplayServer(LocalHttpServer):
    """The replay server (see the module docstring for the mapping and the behaviour).

    Parameters
    ----------
    data_dir : Path
        The shared data folder (holding ``musicbrainz/`` and ``discogs/``).
    musicbrainz_rate_per_s : float, default 1.0
    discogs_limit_with_token, discogs_limit_without_token : int, default 60 and 25
    discogs_window_s : float, default 60
    hang_s : float, default 5
        How long a ``timeout`` fault keeps the client waiting (cut short by :meth:`stop`).

    Examples
    --------
    >>> with ReplayServer(Path("../shared/data")).running() as server:  # doctest: +SKIP
    ...     server.inject("discogs", "500", times=1)
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        musicbrainz_rate_per_s: float = 1.0,
        discogs_limit_with_token: int = 60,
        discogs_limit_without_token: int = 25,
        discogs_window_s: float = 60.0,
        hang_s: float = 5.0,
    ) -> None:
        self.mb_dir = Path(data_dir) / "musicbrainz"
        self.discogs_dir = Path(data_dir) / "discogs" / "api_json"
        if not (self.mb_dir / "ws2_xml").is_dir() or not self.discogs_dir.is_dir():
            raise FileNotFoundError(f"no recorded MusicBrainz/Discogs responses under {data_dir}")
        self.musicbrainz_rate_per_s = musicbrainz_rate_per_s
        self.discogs_limit_with_token = discogs_limit_with_token
        self.discogs_limit_without_token = discogs_limit_without_token
        self.discogs_window_s = discogs_window_s
        self.hang_s = hang_s
        self.requests: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.log: list[Hit] = []
        self._lock = threading.Lock()
        self._injected: dict[str, deque[str]] = {service: deque() for service in SERVICES}
        self._mb_last: float | None = None
        self._discogs_window: deque[float] = deque()
        self._stopping = threading.Event()
        self._json_index = self._index_json()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_Handler):
            replay = server

        return Handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def musicbrainz_host(self) -> str:
        """``host:port`` for ``musicbrainzngs.set_hostname(..., use_https=False)``."""
        return f"127.0.0.1:{self.port}"

    @property
    def discogs_base_url(self) -> str:
        """The base URL to give the Discogs client."""
        return f"{self.url}/discogs"

    # -- control -------------------------------------------------------------------------------

    def inject(self, service: str, kind: str, *, times: int = 1) -> None:
        """Serve fault ``kind`` to the next ``times`` requests of ``service``."""
        if service not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}, got {service!r}")
        if kind not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}, got {kind!r}")
        with self._lock:
            self._injected[service].extend([kind] * times)

    def pending_faults(self, service: str) -> int:
        with self._lock:
            return len(self._injected[service])

    def consume(self, n: int) -> None:
        """Count ``n`` Discogs requests from other clients into the current window."""
        now = time.monotonic()
        with self._lock:
            self._discogs_window.extend([now] * n)

    def reset_counts(self) -> None:
        """Forget counters, log and rate history (limits and pending faults stay)."""
        with self._lock:
            self.requests.clear()
            self.violations.clear()
            self.faults.clear()
            self.log.clear()
            self._mb_last = None
            self._discogs_window.clear()

    def hits(self, service: str | None = None, outcome: str | None = None) -> list[Hit]:
        with self._lock:
            return [
                hit
                for hit in self.log
                if (service is None or hit.service == service)
                and (outcome is None or hit.outcome == outcome)
            ]

    # -- per-request decisions (called by the handler) ------------------------------------------

    def admit(
        self, service: str, authenticated: bool
    ) -> tuple[float, bool, str | None, dict[str, str]]:
        """Count a request; return (arrival time, within limits, fault to serve, headers)."""
        now = time.monotonic()
        headers: dict[str, str] = {}
        with self._lock:
            self.requests[service] += 1
            allowed = True
            if service == "musicbrainz":
                gap = None if self._mb_last is None else now - self._mb_last
                self._mb_last = now
                allowed = gap is None or gap >= 1.0 / self.musicbrainz_rate_per_s
            else:
                limit = (
                    self.discogs_limit_with_token
                    if authenticated
                    else self.discogs_limit_without_token
                )
                window = self._discogs_window
                while window and window[0] <= now - self.discogs_window_s:
                    window.popleft()
                allowed = len(window) < limit
                if allowed:
                    window.append(now)
                headers = {
                    "X-Discogs-Ratelimit": str(limit),
                    "X-Discogs-Ratelimit-Used": str(min(len(window), limit)),
                    "X-Discogs-Ratelimit-Remaining": str(max(limit - len(window), 0)),
                }
            if not allowed:
                self.violations[service] += 1
                return now, False, None, headers
            fault = self._injected[service].popleft() if self._injected[service] else None
            if fault == "ok":
                fault = None
            if fault:
                self.faults[service] += 1
            return now, True, fault, headers

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.log.append(hit)

    # -- MusicBrainz mapping --------------------------------------------------------------------

    def _index_json(self) -> dict[tuple[str, str], Path]:
        index: dict[tuple[str, str], Path] = {}
        for path in sorted((self.mb_dir / "ws2_json_picard").glob("*.json")):
            entity = next((e for e in _JSON_ENTITIES if path.stem.startswith(e)), None)
            if entity is None:
                continue
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(document, dict) and document.get("id"):
                index.setdefault((entity.replace("_", "-"), document["id"]), path)
        return index

    def musicbrainz_answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes, str]:
        """(status, body, content type) for a MusicBrainz request."""
        parts = [unquote(p) for p in path[len("/ws/2/") :].strip("/").split("/") if p]
        entity = parts[0] if parts else ""
        ident = parts[1] if len(parts) > 1 else ""
        if params.get("fmt") == "json":
            found = self._json_index.get((entity, ident))
            if found is None:
                body = json.dumps(
                    {
                        "error": "Not Found",
                        "help": "For usage, please see: https://musicbrainz.org/development/mmd",
                    }
                ).encode()
                return 404, body, "application/json"
            return 200, found.read_bytes(), "application/json"
        xml_dir = self.mb_dir / "ws2_xml"
        if not ident:
            search = xml_dir / f"search-{entity}.xml"
            slug = "-".join(re.findall(r"[a-z0-9]+", params.get("query", "").lower()))
            specific = xml_dir / f"search-{entity}-{slug}.xml"
            chosen = specific if slug and specific.is_file() else search
            if chosen.is_file():
                return 200, chosen.read_bytes(), "application/xml; charset=utf-8"
            return 400, _mb_error(f"Invalid search entity {entity!r}"), "application/xml"
        found = self._mb_lookup_file(xml_dir / entity, ident, params.get("inc", ""))
        if found is not None:
            return 200, found.read_bytes(), "application/xml; charset=utf-8"
        element = self._element_from_search(xml_dir / f"search-{entity}.xml", entity, ident)
        if element is not None:
            return 200, element, "application/xml; charset=utf-8"
        return (
            404,
            _mb_error(
                "Not Found", "For usage, please see: https://musicbrainz.org/development/mmd"
            ),
            "application/xml",
        )

    @staticmethod
    def _mb_lookup_file(folder: Path, ident: str, inc: str) -> Path | None:
        if not folder.is_dir() or not re.fullmatch(r"[A-Za-z0-9_.-]+", ident):
            return None
        files = sorted(p for p in folder.glob(f"{ident}*.xml") if p.name[len(ident)] in ".-")
        if not files:
            return None
        wanted = {i for i in re.split(r"[ +]", inc) if i}

        def overlap(path: Path) -> tuple[int, int]:
            suffix = path.stem[len(ident) :]
            named = sum(1 for include in wanted if include in suffix)
            return named, -len(suffix)

        return max(files, key=overlap)

    @staticmethod
    def _element_from_search(search: Path, entity: str, ident: str) -> bytes | None:
        if not search.is_file():
            return None
        root = ET.parse(search).getroot()
        for element in root.iter(f"{{{MMD_NS}}}{entity}"):
            if element.get("id") == ident:
                element.attrib.pop(f"{{{EXT_NS}}}score", None)
                ET.register_namespace("", MMD_NS)
                ET.register_namespace("ext", EXT_NS)
                metadata = ET.Element(f"{{{MMD_NS}}}metadata")
                metadata.append(element)
                return XML_HEAD.encode() + ET.tostring(metadata, encoding="utf-8")
        return None

    @staticmethod
    def musicbrainz_empty(path: str) -> tuple[int, bytes]:
        parts = [p for p in path[len("/ws/2/") :].strip("/").split("/") if p]
        if len(parts) > 1:
            return 404, _mb_error("Not Found")
        entity = parts[0] if parts else "recording"
        body = (
            f'{XML_HEAD}<metadata xmlns="{MMD_NS}"><{entity}-list count="0" offset="0"/></metadata>'
        )
        return 200, body.encode()

    # -- Discogs mapping ------------------------------------------------------------------------

    def discogs_answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) for a Discogs request (``params`` without ``token``)."""
        relative = unquote(path[len("/discogs/") :]).strip("/")
        not_found = 404, json.dumps({"message": "Resource not found."}).encode()
        if not relative or ".." in relative.split("/"):
            return not_found
        target = self.discogs_dir / relative
        if not params:
            plain = target.with_name(target.name + ".json")
            return (200, plain.read_bytes()) if plain.is_file() else not_found
        wanted = {(k, v.casefold()) for k, v in params.items()}
        recorded = []
        for candidate in sorted(target.parent.glob(f"{target.name}_*.json")):
            pairs = parse_qsl(candidate.name[len(target.name) + 1 : -len(".json")])
            recorded.append((candidate, {(k, v.casefold()) for k, v in pairs}))
        for candidate, pairs in recorded:
            if pairs == wanted:
                return 200, candidate.read_bytes()
        if relative == "database/search" and recorded:

            def overlap(item: tuple[Path, set[tuple[str, str]]]) -> tuple[int, int]:
                pairs = {p for p in item[1] if p[0] not in _SEARCH_IGNORED}
                mine = {p for p in wanted if p[0] not in _SEARCH_IGNORED}
                return len(pairs & mine), len({k for k, _ in pairs} & {k for k, _ in mine})

            best = max(recorded, key=overlap)  # max keeps the first of equals: sorted by name
            return 200, best[0].read_bytes()
        plain = target.with_name(target.name + ".json")
        if set(params) <= {"page", "per_page"} and plain.is_file():
            return 200, plain.read_bytes()
        return not_found

    @staticmethod
    def discogs_empty(path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if path.rstrip("/").endswith("/database/search"):
            per_page = int(params.get("per_page", "50") or 50)
            body = {
                "pagination": {"per_page": per_page, "pages": 1, "page": 1, "urls": {}, "items": 0},
                "results": [],
            }
            return 200, json.dumps(body).encode()
        return 404, json.dumps({"message": "Release not found."}).encode()


class _Handler(BaseHTTPRequestHandler):
    replay: ReplayServer
    server_version = "musicwb-replay/1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm holds the body
        # back until the client acknowledges the headers (milliseconds on loopback).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server keeps its own log (with the token scrubbed)

    def do_GET(self) -> None:
        replay = self.replay
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        authenticated = any(k == "token" and v for k, v in pairs)
        params = {k: v for k, v in pairs if k != "token"}
        shown_query = re.sub(r"(token=)[^&]*", r"\1***", parts.query)
        if parts.path.startswith("/_control/"):
            self._control(parts.path)
            return
        if parts.path.startswith("/ws/2/"):
            service = "musicbrainz"
        elif parts.path.startswith("/discogs/"):
            service = "discogs"
        else:
            self._send(404, b"unknown service", "text/plain", {})
            return
        arrived, within, fault, headers = replay.admit(service, authenticated)
        if not within:
            outcome = "violation"
            if service == "musicbrainz":
                answer = (
                    503,
                    _mb_error(
                        "Your requests are exceeding the allowable rate limit. Please see "
                        "http://wiki.musicbrainz.org/XMLWebService for more information."
                    ),
                    "application/xml",
                )
            else:
                answer = (
                    429,
                    json.dumps({"message": "You are making requests too quickly."}).encode(),
                    "application/json",
                )
        elif fault is not None:
            outcome = f"fault:{fault}"
            answer = self._fault_answer(service, fault, parts.path, params)
        else:
            if service == "musicbrainz":
                answer = replay.musicbrainz_answer(parts.path, params)
            else:
                status, body = replay.discogs_answer(parts.path, params)
                answer = (status, body, "application/json")
            outcome = "ok" if answer[0] == 200 else "not_found"
        # Logged before answering, so a client that has its answer also finds it in the log.
        replay.record(
            Hit(
                service,
                parts.path,
                shown_query,
                answer[0] if answer else 0,
                arrived,
                self.headers.get("User-Agent", ""),
                authenticated,
                outcome,
            )
        )
        if answer is None:  # the timeout fault: keep the client waiting, then hang up
            replay._stopping.wait(replay.hang_s)
            self.close_connection = True
            return
        self._send(*answer, headers)

    def _control(self, path: str) -> None:
        """``/_control/stats`` (counters and hits as JSON) and ``/_control/reset``."""
        replay = self.replay
        if path == "/_control/reset":
            replay.reset_counts()
        elif path != "/_control/stats":
            self._send(404, b"unknown control", "text/plain", {})
            return
        stats = {
            "requests": dict(replay.requests),
            "violations": dict(replay.violations),
            "faults": dict(replay.faults),
            "hits": [[hit.service, hit.at, hit.status, hit.outcome] for hit in replay.hits()],
        }
        self._send(200, json.dumps(stats).encode(), "application/json", {})

    def _fault_answer(
        self, service: str, fault: str, path: str, params: dict[str, str]
    ) -> tuple[int, bytes, str] | None:
        """The answer of an injected fault (``None`` for a timeout)."""
        replay = self.replay
        is_mb = service == "musicbrainz"
        content_type = "application/xml; charset=utf-8" if is_mb else "application/json"
        if fault == "timeout":
            return None
        if fault in ("500", "503", "404"):
            code = int(fault)
            message = {500: "Internal Server Error", 503: "Service Unavailable", 404: "Not Found"}[
                code
            ]
            body = _mb_error(message) if is_mb else json.dumps({"message": message}).encode()
            return code, body, content_type
        if fault == "429":
            body = json.dumps({"message": "You are making requests too quickly."}).encode()
            if is_mb:
                body = _mb_error("Your requests are exceeding the allowable rate limit.")
            return 429, body, content_type
        if fault == "empty":
            if is_mb:
                status, body = replay.musicbrainz_empty(path)
            else:
                status, body = replay.discogs_empty(path, params)
            return status, body, content_type
        if is_mb:
            _, body, _ = replay.musicbrainz_answer(path, params)
        else:
            _, body = replay.discogs_answer(path, params)
        if fault == "truncated":
            body = body[: max(len(body) // 2, 1)]
        else:  # malformed
            body = b"<metadata><recording-list><<broken" if is_mb else b"<html>Bad Gateway</html>"
        return 200, body, content_type

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    """Run the server on its own (``python tests/replay_server.py DATA_DIR [options]``).

    Prints ``{"port": N}`` on one line once listening, then serves until killed. Used by the
    benchmark so that the server does not compete with the client for the GIL.
    """
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="MusicBrainz/Discogs replay server")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--musicbrainz-rate", type=float, default=1.0)
    parser.add_argument("--discogs-limit", type=int, default=60)
    parser.add_argument("--discogs-limit-without-token", type=int, default=25)
    parser.add_argument("--discogs-window", type=float, default=60.0)
    args = parser.parse_args(argv)
    server = ReplayServer(
        args.data_dir,
        musicbrainz_rate_per_s=args.musicbrainz_rate,
        discogs_limit_with_token=args.discogs_limit,
        discogs_limit_without_token=args.discogs_limit_without_token,
        discogs_window_s=args.discogs_window,
    ).start()
    print(json.dumps({"port": server.port}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()


def _pytest_fixture():  # pragma: no cover - only defined when pytest is importable
    import pytest

    @pytest.fixture
    def replay_server(shared_data: Path) -> Iterator[ReplayServer]:
        """A started :class:`ReplayServer` on the real recorded responses (stopped after)."""
        with ReplayServer(shared_data).running() as server:
            yield server

    return replay_server


try:
    replay_server = _pytest_fixture()
except ImportError:  # pragma: no cover
    replay_server = None  # type: ignore[assignment]


if __name__ == "__main__":
    main()
