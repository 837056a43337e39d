"""Enrichment: finding labels and other metadata for tracks.

``sources/`` holds the metadata services behind one protocol (MusicBrainz, Discogs), the one
HTTP policy they share (User-Agent, timeouts, per-host rate limits, retries) and the persistent
response cache in the store. Matching, the label hunter, the queue and the cool-down build on it.
"""
