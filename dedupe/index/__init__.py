"""Indexes over signatures: LSH banding (:mod:`dedupe.index.lsh`) and, on top of it, the stores
that keep signatures and buckets between runs."""

from dedupe.index.lsh import band_keys, candidate_pairs

__all__ = ["band_keys", "candidate_pairs"]
