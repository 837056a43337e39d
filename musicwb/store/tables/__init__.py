"""The only SQL that names the store's tables, one module per domain.

Each module takes a :class:`~musicwb.store.Store` and values and returns values, frames or
arrays; the domain rooms above never write SQL against the schema.
"""
