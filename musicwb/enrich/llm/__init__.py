"""Optional LLM assist for the label hunter, through any OpenAI-compatible chat endpoint.

- :mod:`musicwb.enrich.sources.llm`: the endpoint's client, over the sources' HTTP policy and
  session; :class:`LlmError` (HTTP stays in :mod:`musicwb.enrich.sources`);
- :mod:`.prompts`: what the model is told and may see;
- :mod:`.answers`: the strict answer schemas and their checks; the :class:`Assist` protocol;
- :mod:`.assist`: :class:`LlmAssist`, the three questions.

Three questions a language model can help with where string matching is weak:

- :meth:`LlmAssist.query_variants`: other ways to search for a messy library entry (remix
  words stripped, featured artists moved to the artist, artist and title swapped back);
- :meth:`LlmAssist.select_candidate`: which of a source's candidates is this track, if any;
- :meth:`LlmAssist.map_release`: which of a release's labels (and catalogue numbers) released it.

The assist is **off by default and never required**: :meth:`LlmAssist.from_settings` returns
``None`` unless ``MUSICWB_LLM_BASE_URL`` and ``MUSICWB_LLM_MODEL`` are set, and every failure
(connection, timeout, HTTP error, an answer that is not JSON, JSON that breaks the schema, an
index out of range) raises :class:`LlmError`, a :class:`~musicwb.errors.SourceError`, so the
caller catches it and takes the deterministic path. The instance counts those fallbacks and
keeps the last error for the hunt's report (:attr:`LlmAssist.stats`); after
``max_consecutive_failures`` failures in a row it stops asking (a dead endpoint should not cost
a timeout per track) and fails at once.

Answers are strict JSON: each request carries ``response_format={"type": "json_schema",
"json_schema": {"name": ..., "strict": true, "schema": ...}}`` with the JSON schema of a pydantic
model (every property required, no additional properties), and the answer is validated with the
same model. The model only ever picks by index from what it was shown (a candidate, a label of
the release), so it cannot invent a label.

Requests go through the sources' :class:`~musicwb.enrich.sources.http.HttpPolicy` (timeouts,
retries with jittered backoff on 429, 5xx, timeouts and dropped connections, a per-host rate
limit). The API key (``MUSICWB_LLM_API_KEY``) is sent as ``Authorization: Bearer ...`` and is
kept as a :class:`pydantic.SecretStr`: it is not in reprs, error messages, logs or the chained
exceptions (transport errors are re-raised without the request that carried the header).

Examples
--------
>>> from musicwb.config import Settings
>>> from musicwb.enrich.llm import LlmAssist
>>> LlmAssist.from_settings(Settings(llm_base_url=None, llm_model=None)) is None  # the default
True
>>> assist = LlmAssist(base_url="http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct")
>>> assist.endpoint
'http://127.0.0.1:8080/v1/chat/completions'
>>> variants = assist.query_variants(artist="Faithless",
...                                  title="We Come 1 (Adam Beyer Remix)")  # doctest: +SKIP
>>> [(v.artist, v.title) for v in variants]  # doctest: +SKIP
[('Faithless', 'We Come 1')]
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
