"""Enrichment: finding labels and other metadata for tracks.

- :mod:`.sources`: the metadata services behind one protocol (MusicBrainz, Discogs), the one
  HTTP policy they share (User-Agent, timeouts, per-host rate limits, retries, the session) and
  the persistent response cache in the store;
- :mod:`.match`, :mod:`.tiers`, :mod:`.labels`: matching and the label hunter;
  :mod:`.llm`: its optional LLM assist;
- :mod:`.findings`, :mod:`.hunt`: hunting the library and recording what was found;
  :mod:`.review`: the user's decisions on findings, catalogue numbers; :mod:`.calibration`:
  the offline tiers' confidences measured on masked labels;
- :mod:`.queue`, :mod:`.worker`, :mod:`.background`: the queue in the store and the
  background worker that empties it; :mod:`.cooldown`: tracks retried months later;
- :mod:`.dashboard`, :mod:`.notebook`: widgets, tables and charts for the notebooks.

Examples
--------
>>> from musicwb.enrich import base_delay_days
>>> base_delay_days("exponential", retry_count=1)
60.0
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
