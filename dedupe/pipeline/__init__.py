"""Pipelines over the stage functions: the batch :class:`Deduplicator` (``batch``) and, for
pre-ingest filtering against a persistent index, the streaming ``StreamFilter`` (``stream``)."""

from dedupe.pipeline.batch import Deduplicator, RunResult, cluster, featurize
from dedupe.pipeline.stream import StreamFilter

__all__ = ["Deduplicator", "RunResult", "StreamFilter", "cluster", "featurize"]
