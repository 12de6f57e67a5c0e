"""The classification run: cluster the documents, then judge each one original or syndicated
(:mod:`dedupe.classify`)."""

from __future__ import annotations

from typing import Iterable

from dedupe.classify import SyndicationModel, classify_clusters
from dedupe.config import Config
from dedupe.model import Document, Verdict
from dedupe.pipeline.batch import Deduplicator, Progress, RunResult


def classify_result(result: RunResult, config: Config | None = None, model: SyndicationModel | None = None,
                    shingler=None, progress: Progress | None = None) -> list[Verdict]:
    """Verdicts for the documents of a finished clustering run, in input order (``progress``: the
    ``"judging"`` stage, documents judged so far)."""
    return classify_clusters(result.documents, result.clusters, config or Config(), model, shingler, progress)


def classify(documents: Iterable[Document], config: Config | None = None, model: SyndicationModel | None = None,
             progress: Progress | None = None) -> list[Verdict]:
    """Cluster ``documents`` and return a :class:`~dedupe.model.Verdict` for each, in input order.

    >>> import dedupe
    >>> verdicts = dedupe.classify(dedupe.read_documents(["samples/xiaomi-leica"]))  # doctest: +SKIP
    """
    dd = Deduplicator(config, progress=progress)
    result = dd.run(documents)
    return classify_clusters(result.documents, result.clusters, dd.config, model, dd.shingler, progress)
