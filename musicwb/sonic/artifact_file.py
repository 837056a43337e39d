"""The artifact file: written atomically, loaded memory-mapped.

See :mod:`musicwb.sonic.artifact` for its contents. The file is written uncompressed, so each
array is a contiguous stored member: :func:`load_artifact` memory-maps them instead of reading
them (``mmap=True``), which keeps a 1-million-track artifact cheap to open.

Examples
--------
>>> import json, tempfile, pathlib
>>> import numpy as np
>>> meta = json.dumps({"format": ARTIFACT_FORMAT, "variant": "raw"})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
>>> path = write_artifact({"meta": np.array(meta), "track_ids": np.arange(3)}, out)
>>> artifact = load_artifact(path)
>>> artifact.variant, artifact["track_ids"].tolist()
('raw', [0, 1, 2])
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from musicwb.errors import ParameterError
from musicwb.sonic.npz import NpzWriter
from musicwb.sonic.towers import Segment, tower_slices
from musicwb.sonic.whiten import Preprocessor

__all__ = ["ARTIFACT_FORMAT", "Artifact", "load_artifact", "write_artifact"]

ARTIFACT_FORMAT = "musicwb-sonic-artifact-1"


def write_artifact(arrays: Mapping[str, np.ndarray], out: str | Path) -> Path:
    """Write the arrays to ``out`` (uncompressed ``.npz``), atomically (temp file, then rename)."""
    with NpzWriter(out) as writer:
        for name, array in arrays.items():
            writer.add(name, array)
    return writer.path


class Artifact(Mapping[str, np.ndarray]):
    """A loaded artifact: a read-only mapping of array names to arrays, plus helpers."""

    def __init__(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        self._arrays = arrays
        self.path = path
        self.meta: dict[str, Any] = json.loads(str(arrays["meta"]))

    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def variant(self) -> str:
        """The preprocessing variant playlists use."""
        return self.meta["variant"]

    def preprocessor(self) -> Preprocessor:
        """The fitted preprocessing, to embed new vectors the same way."""
        return Preprocessor.from_arrays(self._arrays)

    def raw(self, segment: Segment = "full") -> np.ndarray:
        """The raw 137-vectors of a segment, shape (n, 137)."""
        return np.hstack([self._arrays[f"raw_{segment}_{tower}"] for tower in tower_slices()])

    def genres(self, index: int) -> list[str]:
        """The genres of the track at row ``index``."""
        a, b = self._arrays["genre_indptr"][index : index + 2]
        return [str(g) for g in self._arrays["genre_vocab"][self._arrays["genre_indices"][a:b]]]


def _memmap_member(path: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """Memory-map one stored (uncompressed) ``.npy`` member of a zip, or None if impossible."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        name_len = int.from_bytes(local[26:28], "little")
        extra_len = int.from_bytes(local[28:30], "little")
        handle.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(handle)
        offset = handle.tell()
    if dtype.hasobject or 0 in shape:
        return None
    return np.memmap(
        path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C"
    )


def load_artifact(path: str | Path, *, mmap: bool = True) -> Artifact:
    """Load an artifact written by :func:`build_artifact`.

    Parameters
    ----------
    path : str or Path
    mmap : bool, default True
        Memory-map the numeric arrays (read-only) instead of reading them into memory.

    Returns
    -------
    Artifact

    Raises
    ------
    ParameterError
        Missing file, not an artifact, or another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"no artifact at {path}: build one with `musicwb artifact build`")
    try:
        with np.load(path, allow_pickle=False) as archive, zipfile.ZipFile(path) as zipped:
            arrays: dict[str, np.ndarray] = {}
            for info in zipped.infolist():
                key = info.filename.removesuffix(".npy")
                mapped = _memmap_member(path, info) if mmap else None
                arrays[key] = (
                    mapped if mapped is not None and mapped.dtype.kind in "biuf" else archive[key]
                )
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ParameterError(f"{path} is not a musicwb sonic artifact: {exc}") from exc
    if "meta" not in arrays or json.loads(str(arrays["meta"])).get("format") != ARTIFACT_FORMAT:
        raise ParameterError(f"{path} is not a {ARTIFACT_FORMAT} file")
    return Artifact(arrays, path)
