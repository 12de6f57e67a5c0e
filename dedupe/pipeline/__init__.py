"""Pipelines over the stage functions: the batch :class:`Deduplicator` (``batch``) and, for
pre-ingest filtering against a persistent index, the streaming ``StreamFilter`` (``stream``)."""

from dedupe.pipeline.batch import Deduplicator, RunResult, cluster, featurize
from dedupe.pipeline.stream import StreamFilter
from dedupe.pipeline.syndication import classify, classify_result

__all__ = ["Deduplicator", "RunResult", "StreamFilter", "classify", "classify_result", "cluster", "featurize"]
