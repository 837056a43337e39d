"""A local OpenAI-compatible chat-completions server that answers from a script.

It listens on 127.0.0.1 on an ephemeral port (``http.server.ThreadingHTTPServer`` in a daemon
thread) and answers ``POST <anything>/chat/completions`` in the shape of the OpenAI API, so the
real HTTP client of :mod:`musicwb.enrich.llm` can be tested without a model.

Script
    Each request takes the next entry of a queue, in order:

    - :meth:`LlmServer.reply` queues an assistant answer (a dict is sent as its JSON text, a
      string as it is), optionally with a ``finish_reason`` or a ``refusal``;
    - :meth:`LlmServer.fault` queues a misbehaviour, ``times`` in a row:

      ``500``         HTTP 500 with an OpenAI-style error document;
      ``429``         HTTP 429 (rate limited) with ``Retry-After: 0``;
      ``timeout``     no answer for ``hang_s`` seconds (cut short by :meth:`stop`), then hang up;
      ``malformed``   HTTP 200 with a body that is not JSON (a proxy's HTML page);
      ``truncated``   HTTP 200 with a valid completion document cut in half;
      ``invalid``     a well-formed completion whose content is JSON that follows no schema of
                      ours (``{"answer": "yes"}``).

    An empty queue answers 500 ``no scripted reply left``, so a test that asks more than it
    scripted fails loudly.

Authentication
    With ``api_key`` set, a request without ``Authorization: Bearer <api_key>`` gets 401 with
    the error OpenAI sends, which echoes a masked form of the key it got.

Records
    :attr:`LlmServer.requests` holds one :class:`Recorded` per request (path, headers, parsed
    JSON body), so tests can check the model name, the schema and the header that were sent.

Examples
--------
>>> with LlmServer().running() as server:                                  # doctest: +SKIP
...     server.reply({"index": 0, "confidence": 0.9, "reason": "same title and artist"})
...     server.fault("500", times=2)
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_server import LocalHttpServer

__all__ = ["FAULTS", "LlmServer", "Recorded"]

FAULTS = ("500", "429", "timeout", "malformed", "truncated", "invalid")


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None when it was not JSON
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class _Step:
    kind: str  # "reply" or one of FAULTS
    content: str | None = None
    finish_reason: str = "stop"
    refusal: str | None = None


class LlmServer(LocalHttpServer):
    """The scripted chat-completions server (see the module docstring).

    Parameters
    ----------
    api_key : str, optional
        When set, requests must carry ``Authorization: Bearer <api_key>``.
    hang_s : float, default 5
        How long a ``timeout`` fault keeps the client waiting.
    """

    def __init__(self, *, api_key: str | None = None, hang_s: float = 5.0) -> None:
        self.api_key = api_key
        self.hang_s = hang_s
        self.requests: list[Recorded] = []
        self._script: deque[_Step] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._served = 0

    # -- lifecycle -----------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(_Handler):
            llm = server

        return Handler

    @property
    def base_url(self) -> str:
        """The API root to configure as ``llm_base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- script --------------------------------------------------------------------------------

    def reply(
        self,
        content: Any,
        *,
        finish_reason: str = "stop",
        refusal: str | None = None,
    ) -> None:
        """Queue an assistant answer (a dict or list is sent as JSON text)."""
        text = content if isinstance(content, str) or content is None else json.dumps(content)
        with self._lock:
            self._script.append(_Step("reply", text, finish_reason, refusal))

    def fault(self, kind: str, *, times: int = 1) -> None:
        """Queue a misbehaviour for the next ``times`` requests (see :data:`FAULTS`)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self._script.extend(_Step(kind) for _ in range(times))

    @property
    def pending(self) -> int:
        """Scripted steps not yet served."""
        with self._lock:
            return len(self._script)

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    def _next(self, recorded: Recorded) -> _Step | None:
        """Record a well-formed request and take the next scripted step for it."""
        with self._lock:
            self.requests.append(recorded)
            self._served += 1
            return self._script.popleft() if self._script else None

    def completion(self, step: _Step, model: str) -> dict[str, Any]:
        """The chat-completion document of a scripted answer."""
        return {
            "id": f"chatcmpl-{self._served}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": step.content,
                        "refusal": step.refusal,
                    },
                    "finish_reason": step.finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        }


def _error(message: str, kind: str, code: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


def _masked(key: str) -> str:
    """How OpenAI echoes a wrong key: its first and last characters around stars."""
    return f"{key[:3]}{'*' * 8}{key[-2:]}" if len(key) > 6 else "***"


class _Handler(BaseHTTPRequestHandler):
    llm: LlmServer
    server_version = "musicwb-llm/1"
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are recorded in LlmServer.requests

    def do_POST(self) -> None:
        llm = self.llm
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        recorded = Recorded(self.path, dict(self.headers.items()), body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            llm._record(recorded)
            self._send(404, _error(f"Unknown path {self.path}", "invalid_request_error"))
            return
        if llm.api_key is not None:
            sent = self.headers.get("Authorization", "")
            if sent != f"Bearer {llm.api_key}":
                llm._record(recorded)
                given = sent.removeprefix("Bearer ")
                message = f"Incorrect API key provided: {_masked(given)}."
                self._send(401, _error(message, "invalid_request_error", "invalid_api_key"))
                return
        if body is None or not isinstance(body, dict) or "messages" not in body:
            llm._record(recorded)
            self._send(400, _error("The body must be JSON with messages", "invalid_request_error"))
            return
        step = llm._next(recorded)
        model = str(body.get("model", ""))
        if step is None:
            self._send(500, _error("no scripted reply left", "server_error"))
        elif step.kind == "500":
            self._send(
                500, _error("The server had an error processing your request.", "server_error")
            )
        elif step.kind == "429":
            self._send(
                429,
                _error("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
                {"Retry-After": "0"},
            )
        elif step.kind == "timeout":
            llm._stopping.wait(llm.hang_s)
            self.close_connection = True
        elif step.kind == "malformed":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        elif step.kind == "truncated":
            whole = json.dumps(llm.completion(_Step("reply", '{"index": 0}'), model)).encode()
            self._send(200, whole[: len(whole) // 2])
        elif step.kind == "invalid":
            answer = _Step("reply", json.dumps({"answer": "yes"}))
            self._send(200, json.dumps(llm.completion(answer, model)).encode())
        else:
            self._send(200, json.dumps(llm.completion(step, model)).encode())

    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
