"""What the tests' local HTTP servers share: listen on 127.0.0.1 on a port the system picks,
serve from a daemon thread, and stop cleanly (releasing requests kept hanging on purpose).

A server class mixes in :class:`LocalHttpServer`, sets ``self._stopping`` (a
:class:`threading.Event` its handler waits on to hang), ``self._httpd`` and ``self._thread`` to
None in its ``__init__``, and returns its request handler class, bound to itself, from
:meth:`LocalHttpServer._handler_class`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalHttpServer:
    """Start, stop and the port of a threading HTTP server on 127.0.0.1."""

    _httpd: ThreadingHTTPServer | None
    _thread: threading.Thread | None
    _stopping: threading.Event

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        """Listen on 127.0.0.1 (port chosen by the system) and serve from a daemon thread."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hanging requests and close the socket."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextlib.contextmanager
    def running(self) -> Iterator[Self]:
        """Start, yield, and always stop."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not started"
        return self._httpd.server_address[1]
