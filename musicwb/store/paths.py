"""Where the files derived from a store live: beside the store, named after it.

A store ``music/lib.duckdb`` has its artifact ``music/lib.artifact.npz``, its feature backups in
``music/lib.backups/``, its caches in ``music/lib.cache/`` and its reports in
``music/lib.reports/`` (unless ``MUSICWB_REPORTS_DIR`` names another folder). So two libraries
never share a derived file, whatever the current directory is.

Examples
--------
>>> paths = StorePaths.of("/music/lib.duckdb")
>>> str(paths.artifact), str(paths.backups), str(paths.numba_cache)
('/music/lib.artifact.npz', '/music/lib.backups', '/music/lib.cache/numba')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["StorePaths"]


@dataclass(frozen=True)
class StorePaths:
    """The derived paths of one store.

    Attributes
    ----------
    store : Path
        The DuckDB file, made absolute.
    """

    store: Path

    @classmethod
    def of(cls, store: str | Path) -> StorePaths:
        """The derived paths of the store at ``store`` (relative paths resolved now)."""
        return cls(Path(store).expanduser().absolute())

    def _sibling(self, suffix: str) -> Path:
        return self.store.with_name(f"{self.store.stem}{suffix}")

    @property
    def artifact(self) -> Path:
        """The sonic artifact for playlists: ``<stem>.artifact.npz``."""
        return self._sibling(".artifact.npz")

    @property
    def backups(self) -> Path:
        """The folder of feature backups: ``<stem>.backups/``."""
        return self._sibling(".backups")

    @property
    def cache(self) -> Path:
        """The folder of caches: ``<stem>.cache/``."""
        return self._sibling(".cache")

    @property
    def numba_cache(self) -> Path:
        """numba's compiled-function cache: ``<stem>.cache/numba``."""
        return self.cache / "numba"

    def reports(self, configured: str | Path | None = None) -> Path:
        """The reports folder: ``configured`` (``MUSICWB_REPORTS_DIR``) if set, else ``<stem>.reports/``."""
        return Path(configured) if configured is not None else self._sibling(".reports")
