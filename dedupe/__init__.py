"""dedupe: find copies, near-copies and rewrites of the same news story.

The library is the product; the ``dedupe`` command is a thin layer over it.

>>> import dedupe
>>> docs = [dedupe.Document("a", "Xiaomi and Leica announce a partnership ..."), ...]  # doctest: +SKIP
>>> for story in dedupe.cluster(docs):                                               # doctest: +SKIP
...     print(story.id, story.ids)
"""

from dedupe.config import Config
from dedupe.errors import DedupeError, InputError
from dedupe.io import DocumentReader, Fields, read_documents
from dedupe.model import Cluster, Document, Link, Member, Verdict
from dedupe.pipeline import Deduplicator, RunResult, classify, cluster

__version__ = "0.1.0"

__all__ = [
    "Cluster", "Config", "DedupeError", "Deduplicator", "Document", "DocumentReader", "Fields", "InputError", "Link",
    "Member", "RunResult", "Verdict", "classify", "cluster", "read_documents", "__version__",
]
