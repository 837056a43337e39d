"""The package's version, in one place (``musicwb.__version__``, the User-Agent, run records)."""

__version__ = "0.1.0"
