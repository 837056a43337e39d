"""numba's on-disk cache, written by one process at a time.

librosa compiles its beat tracker and peak pickers with numba and caches the machine code in
``NUMBA_CACHE_DIR``. numba's cache is not safe for two processes compiling into one folder at
the same time: each reads the index of a function, picks the next free data file and writes
both, so two workers compiling different signatures of one function can leave an index that
points at the other signature's code. Loading it crashes the process (SIGSEGV), and keeps
crashing every later run, in one process or many, until the folder is removed.

The cure chosen here is a cache *slot* per live process rather than a warm-up before the
workers start: a warm-up compiles only the signatures its input needs, and a later file with
another dtype or shape would make the workers compile (and race) again. A slot is a folder
that one process holds with an exclusive :func:`fcntl.flock` for its whole life:

- slot 0 is the cache folder itself (``<store>.cache/numba``), slot *k* its sibling
  ``numba.k``; a process takes the first slot no other live process holds, so with *P*
  workers at most *P* folders exist, and each is reused (warm) by later runs;
- while a process analyses a file it keeps a ``.musicwb-busy`` marker in its slot
  (:func:`busy`); a process that dies by a signal in the middle leaves the marker behind, and
  the next process to take that slot clears it first, so even a crash while numba was writing
  cannot poison a later run.

The lock is released by the kernel when the process ends, however it ends.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp()) / "lib.cache" / "numba"
>>> slot = acquire_slot(root)
>>> slot == root, slot.is_dir()
(True, True)
>>> with busy(slot):
...     (slot / BUSY_MARKER).is_file()
True
>>> (slot / BUSY_MARKER).exists()
False
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from musicwb.errors import ParameterError

__all__ = ["BUSY_MARKER", "MAX_SLOTS", "acquire_slot", "busy", "held_slots", "slot_paths"]

BUSY_MARKER = ".musicwb-busy"
MAX_SLOTS = 256
_HELD: dict[Path, tuple[Path, int]] = {}  # root -> (slot, file descriptor holding its lock)


def slot_paths(root: str | Path, *, n: int) -> list[Path]:
    """The first ``n`` slot folders of a cache root: the root itself, then ``root.1`` ...

    Examples
    --------
    >>> [p.name for p in slot_paths("/m/lib.cache/numba", n=3)]
    ['numba', 'numba.1', 'numba.2']
    """
    root = Path(root)
    return [root if k == 0 else root.with_name(f"{root.name}.{k}") for k in range(n)]


def held_slots() -> dict[Path, Path]:
    """The slot this process holds for each cache root it asked for."""
    return {root: slot for root, (slot, _) in _HELD.items()}


def _clear(slot: Path) -> None:
    for child in slot.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def acquire_slot(root: str | Path) -> Path:
    """Take (for the life of this process) the first cache slot of ``root`` nobody holds.

    A slot left with a busy marker (its last process died while analysing) is emptied first.
    Asking again for the same root returns the slot already held.

    Parameters
    ----------
    root : str or Path
        The cache folder (slot 0); created with its parents.

    Returns
    -------
    Path
        The slot folder, to be used as ``NUMBA_CACHE_DIR``.

    Raises
    ------
    ParameterError
        All :data:`MAX_SLOTS` slots are held by live processes.
    """
    root = Path(root).absolute()
    if root in _HELD:
        return _HELD[root][0]
    root.parent.mkdir(parents=True, exist_ok=True)
    for slot in slot_paths(root, n=MAX_SLOTS):
        fd = os.open(slot.with_name(f"{slot.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        slot.mkdir(exist_ok=True)
        if (slot / BUSY_MARKER).exists():  # its last holder died mid-analysis: start cold
            _clear(slot)
        _HELD[root] = (slot, fd)
        return slot
    raise ParameterError(
        f"all {MAX_SLOTS} numba cache slots beside {root} are held by running processes"
    )


@contextlib.contextmanager
def busy(slot: str | Path, *, what: str = "") -> Iterator[None]:
    """Mark ``slot`` as in use while the block runs (numba may write to it meanwhile).

    The marker stays if the process dies inside the block, which makes the next holder of
    the slot clear it (see :func:`acquire_slot`).

    Parameters
    ----------
    slot : str or Path
        A slot this process holds.
    what : str, optional
        Written into the marker (e.g. the file being analysed), to help a post-mortem.
    """
    marker = Path(slot) / BUSY_MARKER
    marker.write_text(f"{os.getpid()} {what}\n", encoding="utf-8")
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)
