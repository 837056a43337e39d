"""Write an uncompressed ``.npz`` in a background thread, atomically.

:func:`numpy.savez` writes every array only once all of them exist. An artifact's raw
matrices are ready long before its fitted ones; :class:`NpzWriter` writes each array as soon as
it is added, in one background thread (file writes and CRCs release the GIL), while the caller
computes the next ones. The file is the one :func:`numpy.savez` writes (stored ``name.npy``
members, ZIP64) and appears under its name only when complete.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
>>> with NpzWriter(out) as writer:
...     writer.add("ids", np.arange(3))
...     writer.add("names", np.array(["a", "b", "c"]))
>>> sorted(np.load(out))
['ids', 'names']
"""

from __future__ import annotations

import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from musicwb.errors import ParameterError

__all__ = ["NpzWriter"]


class NpzWriter:
    """Add arrays one by one; they are written in order in a background thread.

    Parameters
    ----------
    out : str or Path
        The ``.npz`` to write; its folder is created. Written to ``<out>.partial`` first and
        renamed on a clean exit of the ``with`` block; on an error or interruption the partial
        file is removed and ``out`` is left as it was.
    """

    def __init__(self, out: str | Path) -> None:
        self.path = Path(out)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._names: set[str] = set()
        self._pending: list[Future] = []
        self._zip: zipfile.ZipFile | None = None
        self._executor: ThreadPoolExecutor | None = None

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._zip = zipfile.ZipFile(
            self._partial, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npz-writer")
        return self

    def add(self, name: str, array: np.ndarray) -> None:
        """Queue ``array`` to be written as member ``name`` (the caller must not change it)."""
        if self._executor is None:
            raise ParameterError("NpzWriter.add outside its `with` block")
        if name in self._names:
            raise ParameterError(f"{self.path}: array {name!r} added twice")
        self._names.add(name)
        self._pending.append(self._executor.submit(self._write, name, np.asanyarray(array)))

    def _write(self, name: str, array: np.ndarray) -> None:
        assert self._zip is not None
        with self._zip.open(f"{name}.npy", mode="w", force_zip64=True) as member:
            np.lib.format.write_array(member, array, allow_pickle=False)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._zip is not None and self._executor is not None
        failed = exc_type is not None
        try:
            for future in self._pending:
                if failed:
                    future.cancel()
                else:
                    future.result()  # a failed write raises here
        except BaseException:
            failed = True
            raise
        finally:
            self._executor.shutdown(wait=True)
            self._zip.close()
            self._executor = None
            if failed:
                self._partial.unlink(missing_ok=True)
            else:
                self._partial.replace(self.path)
