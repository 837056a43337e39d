"""Whether an artifact belongs to a store and was built from its current features.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from musicwb.store import Store
>>> with Store(pathlib.Path(tempfile.mkdtemp()) / "lib.duckdb") as store:
...     check_artifact({"track_ids": np.arange(3)}, store)
Traceback (most recent call last):
...
musicwb.sonic.feature_set.ArtifactMismatchError: the artifact records no store (built by an older musicwb, or by hand), so it may be another library's: rebuild it with `musicwb artifact build --store ...`
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from musicwb.sonic.artifact_file import Artifact
from musicwb.sonic.feature_set import (
    ArtifactMismatchError,
    FeaturesVersion,
    features_version,
    not_in_artifact,
    store_id,
)
from musicwb.store import Store
from musicwb.store.paths import StorePaths

__all__ = ["ArtifactCheck", "check_artifact"]


def _meta(artifact: Mapping[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(artifact, Artifact):
        return artifact.meta
    return json.loads(str(artifact["meta"])) if "meta" in artifact else {}


@dataclass(frozen=True)
class ArtifactCheck:
    """An artifact found to belong to the store, with what it lacks.

    Attributes
    ----------
    not_in_artifact : int
        Analysed tracks the artifact would hold if built now (analysed since it was built, or
        their file found again): ``musicwb artifact build`` adds them.
    rebuild : str
        The command that rebuilds the artifact.
    """

    not_in_artifact: int
    rebuild: str


def check_artifact(
    artifact: Mapping[str, np.ndarray], store: Store, *, include_flagged: bool = False
) -> ArtifactCheck:
    """Refuse an artifact that was not built from this store's current features.

    The artifact's own tracks are compared: one analysed again, removed or flagged
    differently since makes it stale. Tracks analysed since (outside the artifact) do not:
    while ``musicwb extract`` adds tracks, playlists go on from the artifact (and say how many
    tracks it lacks).

    Parameters
    ----------
    artifact : Mapping of str to ndarray
        A loaded artifact (or the arrays of :func:`build_artifact_arrays`).
    store : Store
        The store the playlist reads labels and paths from. May be read-only.
    include_flagged : bool, default False
        The caller wants flagged tracks: the artifact must have been built with them.

    Returns
    -------
    ArtifactCheck

    Raises
    ------
    ArtifactMismatchError
        The artifact records no store, another store, features of its tracks older than the
        store's, or no flagged tracks when ``include_flagged``; the message names the
        artifact and the ``musicwb artifact build`` command that makes the right one.
    """
    meta = _meta(artifact)
    where = getattr(artifact, "path", None)
    name = f"the artifact {where}" if where else "the artifact"
    here = StorePaths.of(store.path)
    flagged = " --include-flagged" if include_flagged else ""
    command = f"musicwb artifact build --store {here.store}{flagged}"
    rebuild = f"rebuild it with `{command}`"
    if where is not None and Path(where).absolute() != here.artifact:
        rebuild += f" (it writes {here.artifact}, the default artifact of this store)"
    recorded = meta.get("store")
    if not recorded:
        raise ArtifactMismatchError(
            f"{name} records no store (built by an older musicwb, or by hand), so it may be "
            f"another library's: {rebuild}"
        )
    if recorded.get("id") != store_id(store):
        raise ArtifactMismatchError(
            f"{name} was built from another store ({recorded.get('path')}), not from "
            f"{here.store}: its track ids are not this library's. {rebuild[0].upper()}"
            f"{rebuild[1:]}, or pass --artifact with the artifact of {here.store}"
        )
    built = meta.get("features") or {}
    ids = np.asarray(artifact["track_ids"])
    now = features_version(store, track_ids=ids)
    if built.get("digest") != now.digest:
        then = FeaturesVersion(
            rows=int(built.get("rows") or 0), latest=built.get("latest"), digest=""
        )
        raise ArtifactMismatchError(
            f"{name} is stale: the sonic features of its tracks in {here.store} changed since "
            f"it was built (analysed again, removed or flagged: then {then.describe()}; now "
            f"{now.describe()}): {rebuild}"
        )
    if include_flagged and not meta.get("include_flagged"):
        raise ArtifactMismatchError(
            f"{name} was built without the tracks flagged as silence, near-silence or steady "
            f"tone: {rebuild}"
        )
    return ArtifactCheck(
        not_in_artifact=not_in_artifact(store, ids, include_flagged=include_flagged),
        rebuild=command,
    )
