"""Settings from the environment (``MUSICWB_*`` variables or a ``.env`` file).

Nothing is read at import: call :func:`get_settings`. Secrets are :class:`pydantic.SecretStr`,
so they print as ``**********`` and never reach notebooks, parameters, reports or logs.

Examples
--------
>>> from musicwb.config import get_settings
>>> settings = get_settings(store="/tmp/library.duckdb")
>>> settings.store.name
'library.duckdb'
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "DEFAULT_STORE"]

DEFAULT_STORE = Path("data") / "musicwb.duckdb"


class Settings(BaseSettings):
    """Paths, contact and credentials of one musicwb installation.

    Attributes
    ----------
    store : Path
        The DuckDB store (``MUSICWB_STORE``), ``data/musicwb.duckdb`` by default.
    data_dir : Path
        Where ``musicwb demo`` puts the demo library and its own store (``MUSICWB_DATA_DIR``).
        Files derived from a store (artifact, backups, caches) live beside that store instead:
        see :class:`musicwb.store.paths.StorePaths`.
    reports_dir : Path or None
        Where batch runs write ``<run>/index.html`` (``MUSICWB_REPORTS_DIR``); by default
        (``None``) ``<store-stem>.reports/`` beside the store.
    notebooks_dir : Path or None
        The notebooks ``musicwb batch`` runs (``MUSICWB_NOTEBOOKS_DIR``); by default (``None``)
        the repository's ``notebooks/`` next to the package.
    contact : str
        Contact put into the HTTP User-Agent, as MusicBrainz asks (``MUSICWB_CONTACT``).
    http_timeout_s, http_max_tries, http_backoff_initial_s, http_backoff_max_s : float
        The HTTP policy of every metadata source: timeout, tries, exponential backoff.
    musicbrainz_host, musicbrainz_https, musicbrainz_format, musicbrainz_rate_per_s
        Where MusicBrainz is (a mirror can allow more than 1 request/s) and how to ask it.
    discogs_base_url : str
        The Discogs API root.
    discogs_requests_per_min : float or None
        Discogs budget; by default 50/min with a token, 25/min without.
    discogs_token : SecretStr or None
        Discogs personal token (``MUSICWB_DISCOGS_TOKEN`` or ``DISCOGS_USER_TOKEN``).
    llm_api_key : SecretStr or None
        Key of an optional OpenAI-compatible endpoint (``MUSICWB_LLM_API_KEY``).
    """

    model_config = SettingsConfigDict(
        env_prefix="MUSICWB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    store: Path = DEFAULT_STORE
    data_dir: Path = Path("data")
    reports_dir: Path | None = None  # None: beside the store
    notebooks_dir: Path | None = None  # None: the repository's notebooks/
    contact: str = "musicwb (https://example.invalid/musicwb)"
    http_timeout_s: float = 20.0
    http_max_tries: int = 5
    http_backoff_initial_s: float = 1.0
    http_backoff_max_s: float = 60.0
    cache_ttl_days: float = 30.0
    musicbrainz_host: str = "musicbrainz.org"
    musicbrainz_https: bool = True
    musicbrainz_format: str = "xml"
    musicbrainz_rate_per_s: float = 1.0
    discogs_base_url: str = "https://api.discogs.com"
    discogs_requests_per_min: float | None = None  # None: 50 with a token, 25 without
    discogs_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MUSICWB_DISCOGS_TOKEN", "DISCOGS_USER_TOKEN")
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    @property
    def user_agent(self) -> str:
        """The User-Agent every HTTP request sends: application, version and contact."""
        from musicwb._version import __version__

        return f"musicwb/{__version__} ( {self.contact} )"


def get_settings(**overrides: object) -> Settings:
    """Read the settings now, with explicit values taking precedence.

    Parameters
    ----------
    **overrides
        Field values that win over the environment; ``None`` values are ignored, so a CLI can
        pass its options through unchanged.

    Returns
    -------
    Settings
    """
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
