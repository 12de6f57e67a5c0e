"""Indexes over signatures: LSH banding (:mod:`dedupe.index.lsh`) and, on top of it, the stores
that keep signatures and buckets between runs."""

from dedupe.index.lsh import band_keys, candidate_pairs
from dedupe.index.store import Entry, IndexStore, open_index

__all__ = ["Entry", "IndexStore", "band_keys", "candidate_pairs", "open_index"]
