"""The public API: everything in ``musicwb.__all__`` exists and is documented."""

from __future__ import annotations

import inspect

import musicwb
from musicwb import errors


def test_all_names_resolve_and_are_documented() -> None:
    assert len(set(musicwb.__all__)) == len(musicwb.__all__)
    for name in musicwb.__all__:
        value = getattr(musicwb, name)
        if name != "__version__":
            assert inspect.getdoc(value), f"musicwb.{name} has no docstring"


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from musicwb import *", namespace)
    assert set(musicwb.__all__) <= set(namespace)


def test_one_error_family() -> None:
    for name in errors.__all__:
        error = getattr(errors, name)
        assert issubclass(error, errors.MusicwbError)
    assert issubclass(errors.StoreLockedError, errors.StoreError)
    assert issubclass(errors.RateLimited, errors.SourceError)
