"""Versioned SQL migrations, applied in order by :mod:`musicwb.store`."""
