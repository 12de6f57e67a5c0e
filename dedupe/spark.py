"""The clustering run on Apache Spark: the local engine's stages, distributed.

:func:`cluster_dataframe` takes a Spark DataFrame of documents (``id``, ``text``, optional
``title``/``date``/``source``) and returns, per document, ``(id, cluster, size, similarity,
closest, relation)`` -- the same partition, the same closest members and the same similarities as
:class:`dedupe.pipeline.Deduplicator` on the same documents in the same order.  It runs the very
stage functions of the local engine inside Spark tasks; nothing is re-implemented here except
the plumbing between them:

1. **featurise and sign** (``mapInPandas`` over document partitions):
   :func:`~dedupe.normalize.normalize_text`, :meth:`~dedupe.shingle.Shingler.features`,
   :meth:`~dedupe.signature.Signer.sign` (``minhash_matrix``) and
   :func:`~dedupe.index.lsh.band_keys`.  Each document leaves the task as its hashed sets (packed
   ``uint32``/``float32`` bytes), a digest of its normalised text and its LSH band keys.
2. **exact copies**: documents with the same normalised text collapse onto the first of them in
   input order (``groupBy(digest)``), which gets a ``duplicate`` link of similarity 1.0 to each
   copy -- as the local engine does.
3. **candidates**: band keys of the representatives are the group keys
   (``explode`` + ``groupBy(key)``); each bucket's members become pairs through
   :func:`~dedupe.index.lsh.candidate_pairs` itself, so oversized buckets get the same
   chain-and-star pairs as locally.
4. **verification**: each candidate pair is joined with both documents' sets (and, for the
   learned verifier, the default, their texts and dates) and verified by the local engine's own
   code: :meth:`dedupe.verifier.LearnedVerifier.decisions` on the documents' profiles, or
   :func:`~dedupe.compare.pair_scores` and :func:`~dedupe.compare.decide` with ``--verifier rule``.
5. **components**: connected components of the verified links, computed with the large-star /
   small-star alternation (Kiveris et al., *Connected Components in MapReduce and Beyond*, 2014)
   as DataFrame joins -- edges never go to the driver; only one number per round (has it
   converged?) does.
6. **anti-chaining**: :func:`~dedupe.cluster.build_clusters` (and so
   :func:`~dedupe.cluster.merge_links`) runs once per component (``groupBy(component)
   .applyInPandas``).  ``merge_links`` only ever merges along links, and its order (strongest
   link first, ties by ids) restricted to one component is the global order, so running it per
   component gives exactly the partition of one global run.
7. **original or syndicated** (``classify=True``): each cluster's members (with their texts) and
   kept links go to one task (``groupBy(cluster).applyInPandas``), documents standing alone are
   judged in batches; both through :func:`~dedupe.classify.classify_clusters`, as ``dedupe
   classify`` does.

Input order matters only where the local engine uses it: which of several exact copies is the
representative, and the order of members in an oversized LSH bucket.  The Spark engine uses the
DataFrame's order (``monotonically_increasing_id``) or an explicit ``order_column``.

PySpark is imported only inside functions: ``import dedupe`` never loads it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from dedupe.cluster import build_clusters
from dedupe.compare import decide, pair_scores
from dedupe.config import Config
from dedupe.errors import BackendError, ConfigError, DedupeError, InputError
from dedupe.index.lsh import band_keys, candidate_pairs
from dedupe.model import Cluster, Document, Link, Member, Verdict
from dedupe.normalize import normalize_text
from dedupe.shingle import DocFeatures, Shingler
from dedupe.signature import Signer
from dedupe.verifier import paused_gc

__all__ = [
    "PathsRun", "SparkRun", "cluster_dataframe", "cluster_paths", "connected_components", "documents_dataframe",
    "read_documents", "result_from_rows", "spark_session", "write_result",
]

#: Columns of the per-document result (:func:`cluster_dataframe`).
RESULT_COLUMNS = ("id", "cluster", "size", "similarity", "closest", "relation")

# -- schemas (DDL strings, so this module needs no pyspark import at load time) -------------------
_FEATURES_SCHEMA = "ord long, id string, digest binary, features binary, keys array<long>"
_LINKS_SCHEMA = "i long, j long, a string, b string, similarity double, relation string, scores string"
_MEMBERS_SCHEMA = "id string, cluster string, similarity double, closest string, relation string, used string"


# =================================================================================================
# Session
# =================================================================================================
def spark_session(master: str | None = None, app_name: str = "dedupe", shuffle_partitions: int | None = None,
                  conf: dict[str, str] | None = None):
    """A SparkSession for dedupe (``master`` e.g. ``local[2]`` or ``spark://host:7077``).

    Python workers use the interpreter running dedupe, so a local run needs nothing but
    ``pip install 'dedupe-news[spark]'`` and Java 17.  Raises :class:`BackendError` (one line)
    when PySpark or Java is missing.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BackendError(f"the Spark engine needs PySpark ({exc.name} is not installed)",
                           hint="pip install 'dedupe-news[spark]'") from None
    _quiet_pandas_warning()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
    }
    if shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    if "spark.driver.extraJavaOptions" not in (conf or {}):
        # a quiet JVM: Spark's own INFO/WARN start-up lines would bury dedupe's one-line messages
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{_log4j_config()}"
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = _start_quietly(builder)
    except Exception as exc:  # Java missing, bad master URL, ...
        log = _jvm_log_path()
        raise BackendError(f"cannot start Spark ({_first_line(exc)})",
                           hint="check --master, and that Java 17 is on PATH or in JAVA_HOME"
                                + (f"; Spark's own messages are in {log}" if log.exists() else "")) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_LOG4J = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n%ex
"""


def _start_quietly(builder):
    """``builder.getOrCreate()``, with a newly started JVM's own stderr sent to a log file.

    The JVM inherits file descriptor 2 when it starts and prints start-up chatter there that no
    log4j setting removes; dedupe's stderr is for dedupe's messages.  The JVM's output goes to
    ``$TMPDIR/dedupe-spark-<pid>.log`` instead (set ``DEDUPE_SPARK_STDERR=1`` to keep it).
    """
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None or os.environ.get("DEDUPE_SPARK_STDERR"):
        return builder.getOrCreate()

    log = _jvm_log_path()
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(log, "ab") as fh:
            os.dup2(fh.fileno(), 2)
            try:
                return builder.getOrCreate()
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _jvm_log_path() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / f"dedupe-spark-{os.getpid()}.log"


def _log4j_config() -> str:
    """A log4j2 file that lets only Spark's errors through (written once per user to the temp dir)."""
    import tempfile

    path = Path(tempfile.gettempdir()) / f"dedupe-spark-log4j2-{os.getuid() if hasattr(os, 'getuid') else 0}.properties"
    if not path.exists() or path.read_text() != _LOG4J:
        path.write_text(_LOG4J)
    return str(path)


def _quiet_pandas_warning() -> None:
    """PySpark warns (FutureWarning, on stderr) on every pandas UDF when pandas is 3.x; the UDFs
    used here are plain batch maps that work the same, so that one warning is silenced."""
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "desc", None) or exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return type(exc).__name__


# =================================================================================================
# Stage functions run inside tasks
# =================================================================================================
_SHINGLERS: dict = {}


def _shingler(config: Config) -> Shingler:
    """One Shingler per Python worker and shingle setting (workers are reused across tasks)."""
    sh = _SHINGLERS.get(config.shingle)
    if sh is None:
        sh = _SHINGLERS[config.shingle] = Shingler(config.shingle)
    return sh


def pack_features(f: DocFeatures) -> bytes:
    """:class:`DocFeatures` as bytes, field by field in declaration order (arrays keep their dtype).

    Generic over the dataclass's fields, so a set added to ``DocFeatures`` travels without a
    change here.  Only ever read back by :func:`unpack_features` in the same run.
    """
    out = []
    for fld in dataclasses.fields(f):
        value = getattr(f, fld.name)
        if isinstance(value, np.ndarray):
            value = np.ascontiguousarray(value)
            dtype = value.dtype.str.encode("ascii")
            out.append(b"A" + bytes([len(dtype)]) + dtype + struct.pack("<Q", value.size) + value.tobytes())
        else:
            out.append(b"I" + struct.pack("<q", int(value)))
    return b"".join(out)


def unpack_features(blob: bytes) -> DocFeatures:
    """The inverse of :func:`pack_features`."""
    values, pos = [], 0
    for _ in dataclasses.fields(DocFeatures):
        kind = blob[pos:pos + 1]
        if kind == b"A":
            n = blob[pos + 1]
            dtype = np.dtype(blob[pos + 2:pos + 2 + n].decode("ascii"))
            size = struct.unpack_from("<Q", blob, pos + 2 + n)[0]
            start = pos + 10 + n
            values.append(np.frombuffer(blob, dtype=dtype, count=size, offset=start))
            pos = start + size * dtype.itemsize
        else:
            values.append(struct.unpack_from("<q", blob, pos + 1)[0])
            pos += 9
    return DocFeatures(*values)


def featurize_batches(batches: Iterator, config: Config) -> Iterator:
    """``mapInPandas`` body: (ord, id, text) batches -> features, digest and LSH band keys.

    The same calls as :meth:`Deduplicator.run`: normalise, digest of the normalised text (``None``
    for an empty one, which is never collapsed), features, signatures of the LSH views (``Config.lsh_params``), band keys.
    """
    import pandas as pd

    shingler = _shingler(config)
    signer = Signer(config)
    params = config.lsh_params()
    for pdf in batches:
        feats, digests = [], []
        for text in pdf["text"]:
            norm = normalize_text(text or "", config.normalize)
            digests.append(hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest() if norm else None)
            feats.append(shingler.features(norm))
        if feats:
            sigs = signer.sign(feats, tuple(params))
            keys = np.concatenate([band_keys(sigs[view], params[view]) for view in params], axis=1)
            keys = keys.view(np.int64)
        else:
            keys = np.empty((0, 0), dtype=np.int64)
        yield pd.DataFrame({
            "ord": pdf["ord"].astype("int64"),
            "id": pdf["id"],
            "digest": digests,
            "features": [pack_features(f) for f in feats],
            "keys": list(keys),
        })


def bucket_pairs(batches: Iterator) -> Iterator:
    """``mapInPandas`` body: LSH buckets (``members``: ords sorted ascending) -> candidate pairs.

    The buckets of a batch are handed to :func:`candidate_pairs` at once, each bucket under its
    own key, so buckets larger than ``MAX_BUCKET_PAIRS`` get the local engine's chain and star.
    """
    import pandas as pd

    for pdf in batches:
        members = [np.asarray(m, dtype=np.int64) for m in pdf["members"]]
        if not members:
            continue
        flat = np.concatenate(members)
        keys = np.repeat(np.arange(1, len(members) + 1, dtype=np.uint64), [len(m) for m in members])
        # candidate_pairs numbers the rows 0..n-1; rows are ord-sorted within each bucket, so a
        # bucket's members keep the local engine's (input) order
        pairs = candidate_pairs([keys.reshape(-1, 1)])
        if len(pairs):
            yield pd.DataFrame({"i": flat[pairs[:, 0]], "j": flat[pairs[:, 1]]})


def verify_batches(batches: Iterator, config: Config) -> Iterator:
    """``mapInPandas`` body: candidate pairs joined with both documents' sets -> verified links.

    With ``config.verify.method == "learned"`` (the default) the rows also carry both texts and
    dates, and each pair goes through :class:`dedupe.verifier.LearnedVerifier` -- the same profile,
    features, model and rare-word guard as :meth:`Deduplicator.run`; with ``"rule"``, through
    :func:`~dedupe.compare.pair_scores` and :func:`~dedupe.compare.decide`.
    """
    import pandas as pd

    vcfg = config.verify
    learned = vcfg.method == "learned"
    verifier = _learned_verifier(config) if learned else None
    for pdf in batches:
        out = {k: [] for k in ("i", "j", "a", "b", "similarity", "relation", "scores")}
        rows = pdf.to_dict("records")
        if learned:
            verified = _verify_learned(rows, verifier, config)
        else:
            verified = []
            for row in rows:
                scores = pair_scores(unpack_features(row["features_i"]), unpack_features(row["features_j"]))
                verdict = decide(scores, vcfg)
                if verdict is not None:
                    verified.append((row, float(verdict[0]), verdict[1], scores))
        for row, similarity, relation, scores in verified:
            a, b = sorted((row["id_i"], row["id_j"]))
            out["i"].append(row["i"])
            out["j"].append(row["j"])
            out["a"].append(a)
            out["b"].append(b)
            out["similarity"].append(similarity)
            out["relation"].append(relation)
            out["scores"].append(json.dumps(dict(scores), sort_keys=True))
        if out["i"]:
            yield pd.DataFrame(out).astype({"i": "int64", "j": "int64"})


def guard_batches(batches: Iterator, config: Config) -> Iterator:
    """``mapInPandas`` body: the candidate rows whose documents pass the rare-word guard
    (:func:`dedupe.verifier.guard_features`); the learned verifier links no other pair."""
    from dedupe.verifier import guard_features

    for pdf in batches:
        keep = [guard_features(unpack_features(a), unpack_features(b), config.verify)
                for a, b in zip(pdf["features_i"], pdf["features_j"])]
        if any(keep):
            yield pdf[keep]


_VERIFIERS: dict = {}


def _learned_verifier(config: Config):
    """One :class:`~dedupe.verifier.LearnedVerifier` per settings and Python worker (the model is
    loaded once, not once per partition)."""
    key = config.fingerprint(), config.verify
    if key not in _VERIFIERS:
        from dedupe.verifier import LearnedVerifier, Profiler

        _VERIFIERS.clear()
        _VERIFIERS[key] = LearnedVerifier(config, profiler=Profiler(config, _shingler(config)))
    return _VERIFIERS[key]


@paused_gc()
def _verify_learned(rows: list[dict], verifier, config: Config) -> list[tuple]:
    """The learned verdicts of candidate rows (``ord``/features/text/date of both sides), each
    document profiled once per batch, exactly as the local engine profiles it (with the cyclic
    garbage collector paused, as there: :func:`dedupe.verifier.paused_gc`)."""
    from dedupe.verifier import guard_features

    slot: dict[int, int] = {}
    profiles = []
    pairs = []
    kept = []
    for row in rows:
        fi, fj = unpack_features(row["features_i"]), unpack_features(row["features_j"])
        if not guard_features(fi, fj, config.verify):
            continue  # can never be linked: not profiled (as Deduplicator.run skips it)
        kept.append(row)
        ends = []
        for side, feats in (("i", fi), ("j", fj)):
            ordv = int(row[side])
            if ordv not in slot:
                text, day = row[f"text_{side}"], row.get(f"date_{side}")
                text = text if isinstance(text, str) else ""  # pandas gives NaN for nulls
                day = day if isinstance(day, str) else None
                norm = normalize_text(text, config.normalize)
                slot[ordv] = len(profiles)
                profiles.append(verifier.profiler.profile(text, norm, feats, day))
            ends.append(slot[ordv])
        pairs.append(ends)
    return [(row, float(d[0]), d[1], d[2])
            for row, d in zip(kept, verifier.decisions(pairs, profiles)) if d is not None]


def merge_component(pdf, min_support: float = 0.5):
    """``applyInPandas`` body: all links of one connected component -> its members' rows.

    Calls :func:`build_clusters` (anti-chaining :func:`merge_links`) on the component alone.
    ``used`` carries, on the row of each link's ``a`` member, the links the merge kept (JSON
    ``[b, similarity, relation, scores]``), so a driver -- or :func:`classify_rows` -- can rebuild
    :class:`Cluster` objects without recomputing anything.
    """
    import pandas as pd

    links = [Link(a, b, float(s), r, json.loads(sc) if sc else {})
             for a, b, s, r, sc in zip(pdf["a"], pdf["b"], pdf["similarity"], pdf["relation"], pdf["scores"])]
    ids = sorted({x for link in links for x in (link.a, link.b)})
    rows = {k: [] for k in ("id", "cluster", "similarity", "closest", "relation", "used")}
    for cl in build_clusters(ids, links, min_support=min_support):
        used: dict[str, list] = {}
        for link in cl.links:
            used.setdefault(link.a, []).append([link.b, link.similarity, link.relation, dict(link.scores)])
        for m in cl.members:
            rows["id"].append(m.id)
            rows["cluster"].append(cl.id)
            rows["similarity"].append(m.similarity)
            rows["closest"].append(m.closest)
            rows["relation"].append(m.relation)
            rows["used"].append(json.dumps(used[m.id]) if m.id in used else None)
    return pd.DataFrame(rows)


_VERDICTS_SCHEMA = ("id string, cluster string, label string, relation string, source string, "
                    "confidence double, reasons array<string>")
_CLASSIFIERS: dict = {}


def _syndication_model(config: Config):
    """The shipped :class:`~dedupe.classify.SyndicationModel`, loaded once per Python worker."""
    key = config.fingerprint()
    if key not in _CLASSIFIERS:
        from dedupe.classify import SyndicationModel

        _CLASSIFIERS.clear()
        _CLASSIFIERS[key] = SyndicationModel.load(config=config)
    return _CLASSIFIERS[key]


def classify_rows(pdf, config: Config, model=None):
    """``applyInPandas``/``mapInPandas`` body: the rows of whole clusters -> their verdicts.

    Rows carry ``id, cluster, text, title, date, source`` and, for linked documents, the
    :func:`merge_component` columns (``similarity, closest, relation, used``).  Each cluster is
    rebuilt exactly as the local engine holds it (members in id order, the kept links with their
    scores) and judged by :func:`dedupe.classify.classify_clusters`, the code behind
    ``dedupe classify``, with ``model`` (default: the shipped one, loaded once per worker).
    Returns a DataFrame of :data:`_VERDICTS_SCHEMA`.
    """
    import pandas as pd

    from dedupe.classify import classify_clusters

    def opt(v):  # pandas gives NaN/None for nulls
        return v if isinstance(v, str) else None

    documents, groups = [], {}
    for r in pdf.to_dict("records"):
        documents.append(Document(r["id"], opt(r["text"]) or "", opt(r["title"]), opt(r["date"]), opt(r["source"])))
        groups.setdefault(r["cluster"], []).append(r)
    clusters = []
    for cid, rows in groups.items():
        members, links = [], []
        for r in sorted(rows, key=lambda r: r["id"]):
            sim = r.get("similarity")
            members.append(Member(r["id"], opt(r["title"]), None if sim is None or sim != sim else float(sim),
                                  opt(r.get("closest")), opt(r.get("relation"))))
            for b, lsim, rel, scores in json.loads(r["used"]) if opt(r.get("used")) else ():
                links.append(Link(r["id"], b, lsim, rel, scores))
        clusters.append(Cluster(cid, tuple(members), tuple(sorted(links, key=lambda l: (l.a, l.b)))))
    verdicts = classify_clusters(documents, clusters, config, model or _syndication_model(config), _shingler(config))
    return pd.DataFrame({"id": [v.id for v in verdicts], "cluster": [v.cluster for v in verdicts],
                         "label": [v.label for v in verdicts], "relation": [v.relation for v in verdicts],
                         "source": [v.source for v in verdicts],
                         "confidence": [float(v.confidence) for v in verdicts],
                         "reasons": [list(v.reasons) for v in verdicts]})


def _classify_alone(batches: Iterator, config: Config, model=None) -> Iterator:
    """``mapInPandas`` body: documents that stand alone (each its own cluster) -> verdicts."""
    for pdf in batches:
        if len(pdf):
            yield classify_rows(pdf, config, model)


def verdicts_dataframe(docs, members, config: Config, model=None):
    """Verdicts (:data:`_VERDICTS_SCHEMA`, input order) of every document of a run: linked
    documents one cluster per task (``groupBy(cluster).applyInPandas``), the others in batches.
    ``model``: a :class:`~dedupe.classify.SyndicationModel` (default: the shipped one)."""
    from pyspark.sql import functions as F

    rows = docs.join(members.select("id", "cluster", "similarity", "closest", "relation", "used"), "id", "left")
    linked = (rows.where(F.col("cluster").isNotNull()).drop("ord")
              .groupBy("cluster").applyInPandas(lambda pdf: classify_rows(pdf, config, model),
                                                schema=_VERDICTS_SCHEMA))
    alone = (rows.where(F.col("cluster").isNull()).withColumn("cluster", F.col("id")).drop("ord")
             .mapInPandas(lambda it: _classify_alone(it, config, model), schema=_VERDICTS_SCHEMA))
    order = docs.select("id", "ord")
    return linked.unionByName(alone).join(order, "id").orderBy("ord").drop("ord")


# =================================================================================================
# Connected components (large-star / small-star), never collecting edges
# =================================================================================================
def connected_components(edges, max_rounds: int = 200, stats: dict | None = None):
    """Connected components of an undirected graph given as a DataFrame of ``(u, v)`` longs.

    Returns a DataFrame ``(node, component)`` for every node that has an edge; ``component`` is
    the smallest node of its component.  Alternates large-star and small-star rounds
    (Kiveris et al. 2014, O(log^2 n) rounds) until the graph is a forest of stars, each leaf
    pointing at its component's minimum (``stats["rounds"]`` records how many).  Each round is one Spark job (its edges are
    checkpointed on the executors, cutting the lineage); only one number per round (is the graph a
    star forest yet?) reaches the driver.
    """
    from pyspark.sql import functions as F

    e = (edges.select(F.least("u", "v").alias("lo"), F.greatest("u", "v").alias("hi"))
         .where(F.col("lo") != F.col("hi")).select("hi", "lo").distinct())
    for round_no in range(1, max_rounds + 1):
        # large-star: every neighbour v > u of u attaches to m(u) = min(N(u) + u)
        sym = e.select(F.col("hi").alias("src"), F.col("lo").alias("dst")).unionByName(
            e.select(F.col("lo").alias("src"), F.col("hi").alias("dst")))
        m = sym.groupBy("src").agg(F.least(F.min("dst"), F.col("src")).alias("m"))
        e = (sym.where(F.col("dst") > F.col("src")).join(m, "src")
             .select(F.col("dst").alias("hi"), F.col("m").alias("lo")).distinct())
        # small-star: u and every neighbour v < u attach to m = min(N_<(u) + u)
        m = e.groupBy("hi").agg(F.min("lo").alias("m"))
        e = (e.join(m, "hi").select(F.col("lo").alias("x"), F.col("m"))
             .unionByName(m.select(F.col("hi").alias("x"), F.col("m")))
             .where(F.col("x") != F.col("m")).distinct()
             .select(F.col("x").alias("hi"), F.col("m").alias("lo")))
        e = e.localCheckpoint(eager=False)
        # converged when no node has two parents and no parent has a parent: a forest of stars
        ends = e.select(F.col("hi").alias("n"), F.lit(1).alias("up"), F.lit(0).alias("down")).unionByName(
            e.select(F.col("lo").alias("n"), F.lit(0).alias("up"), F.lit(1).alias("down")))
        bad = (ends.groupBy("n").agg(F.sum("up").alias("up"), F.sum("down").alias("down"))
               .where((F.col("up") > 1) | ((F.col("up") > 0) & (F.col("down") > 0))).limit(1).count())
        if not bad:
            if stats is not None:
                stats["rounds"] = round_no
            break
    else:  # pragma: no cover - O(log^2 n) rounds suffice for any graph this can hold
        raise BackendError(f"connected components did not converge in {max_rounds} rounds")
    roots = e.select(F.col("lo").alias("node")).distinct().select("node", F.col("node").alias("component"))
    return e.select(F.col("hi").alias("node"), F.col("lo").alias("component")).unionByName(roots)


# =================================================================================================
# The run
# =================================================================================================
@dataclass
class SparkRun:
    """What :func:`cluster_dataframe` returns (all lazy DataFrames, nothing collected).

    ``documents``: one row per input document, ``RESULT_COLUMNS`` plus ``title`` when the input
    has one; ``links``: every verified link (the verifier's verdicts: ``a``, ``b``,
    ``similarity``, ``relation``, ``scores`` as JSON), exact copies included; ``members``: the
    rows of linked documents as :func:`merge_component` produced them (with the links kept).
    """

    documents: Any
    links: Any
    members: Any
    candidates: Any
    #: rounds the connected-components step took (it runs when the plan is built)
    cc_rounds: int = 0
    #: with ``classify=True``: one row per document (input order) with the fields of
    #: :class:`~dedupe.model.Verdict` -- ``id, cluster, label, relation, source, confidence,
    #: reasons`` -- as ``dedupe classify`` gives them
    verdicts: Any = None

    def candidate_count(self) -> int:
        return self.candidates.count()


def cluster_dataframe(df, config: Config | None = None, *, order_column: str | None = None,
                      partitions: int | None = None, links: bool = False, classify: bool = False,
                      model=None):
    """Cluster a Spark DataFrame of documents; returns a DataFrame of
    ``(id, cluster, size, similarity, closest, relation)`` (plus ``title`` if the input has it),
    or, with ``links=True`` or ``classify=True``, the whole :class:`SparkRun` (per-document rows,
    the verifier's verdicts on every candidate that linked and, with ``classify=True``, the
    syndication classifier's verdict on every document in :attr:`SparkRun.verdicts`; ``model``
    is a :class:`~dedupe.classify.SyndicationModel`, default the shipped one).

    ``df`` needs string columns ``id`` and ``text``; ids must be unique (checked, a duplicate
    raises :class:`InputError`).  ``order_column`` (distinct integers) fixes the input order the
    local engine would see; by default the DataFrame's own order is used
    (``monotonically_increasing_id``).  ``partitions``
    repartitions the documents before featurisation (default: keep the input's partitioning).
    """
    config = config or Config()
    run = _run(df, config, order_column=order_column, partitions=partitions, classify=classify, model=model)
    return run if links or classify else run.documents


def _run(df, config: Config, *, order_column: str | None, partitions: int | None,
         classify: bool = False, model=None) -> SparkRun:
    from pyspark.sql import functions as F

    _quiet_pandas_warning()
    missing = [c for c in ("id", "text") if c not in df.columns]
    if missing:
        raise InputError(f"the documents DataFrame has no {', '.join(repr(c) for c in missing)} column "
                         f"(columns: {', '.join(df.columns)})", hint="rename the columns to id and text")
    has_title = "title" in df.columns
    has_date = "date" in df.columns
    has_source = "source" in df.columns
    if order_column is not None:
        docs = df.withColumn("ord", F.col(order_column).cast("long"))
    else:
        docs = df.withColumn("ord", F.monotonically_increasing_id())
    docs = docs.select(F.col("id").cast("string").alias("id"), F.col("text").cast("string").alias("text"),
                       (F.col("title").cast("string") if has_title else F.lit(None).cast("string")).alias("title"),
                       (F.col("date").cast("string") if has_date else F.lit(None).cast("string")).alias("date"),
                       (F.col("source").cast("string") if has_source else F.lit(None).cast("string")).alias("source"),
                       "ord")
    if partitions:
        docs = docs.repartition(partitions)
    docs = docs.persist()
    dup = docs.groupBy("id").count().where(F.col("count") > 1).select("id").limit(1).collect()
    if dup:
        raise InputError(f"duplicate document id {dup[0]['id']!r}", hint="ids must be unique within a run")

    # 1. features, digests and band keys, per partition
    feats = docs.select("ord", "id", "text").mapInPandas(
        lambda it: featurize_batches(it, config), schema=_FEATURES_SCHEMA).persist()

    # 2. exact copies collapse onto the first in input order
    firsts = (feats.where(F.col("digest").isNotNull()).groupBy("digest")
              .agg(F.min(F.struct("ord", "id")).alias("rep")))
    placed = (feats.select("ord", "id", "digest").join(firsts, "digest", "left")
              .select("ord", "id", F.coalesce(F.col("rep.ord"), F.col("ord")).alias("rep_ord"),
                      F.col("rep.id").alias("rep_id")))
    dup_links = (placed.where(F.col("rep_ord") != F.col("ord"))
                 .select(F.col("rep_ord").alias("i"), F.col("ord").alias("j"),
                         F.least("rep_id", "id").alias("a"), F.greatest("rep_id", "id").alias("b"),
                         F.lit(1.0).alias("similarity"), F.lit("duplicate").alias("relation"),
                         F.lit(json.dumps({"exact": 1.0})).alias("scores")))
    reps = feats.join(placed.where(F.col("rep_ord") == F.col("ord")).select("ord"), "ord")

    # 3. candidates: band keys as group keys
    buckets = (reps.select("ord", F.explode("keys").alias("key")).where(F.col("key") != 0)
               .groupBy("key").agg(F.array_sort(F.collect_set("ord")).alias("members"))
               .where(F.size("members") > 1))
    candidates = buckets.select("members").mapInPandas(bucket_pairs, schema="i long, j long").distinct()

    # 4. exact verification of each candidate
    cols = ("id", "features")
    side = lambda s: reps.select(F.col("ord").alias(s), *[F.col(c).alias(f"{c}_{s}") for c in cols])  # noqa: E731
    joined = candidates.join(side("i"), "i").join(side("j"), "j")
    if config.verify.method == "learned":
        # the model profiles the texts themselves (and dates): only the candidates that pass the
        # rare-word guard (a few percent; the others can never link) are joined with their texts
        joined = joined.mapInPandas(lambda it: guard_batches(it, config), schema=joined.schema)
        text = lambda s: docs.select(F.col("ord").alias(s), F.col("text").alias(f"text_{s}"),  # noqa: E731
                                     F.col("date").alias(f"date_{s}"))
        joined = joined.join(text("i"), "i").join(text("j"), "j")
    verified = joined.mapInPandas(lambda it: verify_batches(it, config), schema=_LINKS_SCHEMA)
    all_links = dup_links.unionByName(verified).persist()

    # 5. connected components of the links, 6. anti-chaining merge per component
    stats: dict = {}
    comps = connected_components(all_links.select(F.col("i").alias("u"), F.col("j").alias("v")), stats=stats)
    by_comp = all_links.join(comps.select(F.col("node").alias("i"), "component"), "i")
    members = by_comp.groupBy("component").applyInPandas(
        lambda pdf: merge_component(pdf), schema=_MEMBERS_SCHEMA).persist()

    sizes = members.groupBy("cluster").agg(F.count("*").alias("size"))
    out = (docs.select("ord", "id", "title").join(members.drop("used"), "id", "left")
           .withColumn("cluster", F.coalesce("cluster", "id"))
           .join(sizes, "cluster", "left")
           .withColumn("size", F.coalesce("size", F.lit(1)).cast("long"))
           .orderBy("ord")
           .select(*RESULT_COLUMNS, *(["title"] if has_title else [])))
    links_out = all_links.select("a", "b", "similarity", "relation", "scores")
    verdicts = verdicts_dataframe(docs, members, config, model) if classify else None
    return SparkRun(out, links_out, members, candidates, stats.get("rounds", 0), verdicts)


# =================================================================================================
# Driver-side helpers: rebuild the local result objects (small outputs only)
# =================================================================================================
def result_from_rows(doc_rows: Iterable, member_rows: Iterable, candidates: int = 0):
    """A :class:`dedupe.pipeline.RunResult` from collected rows, for the report formatters.

    ``doc_rows`` carry ``id``, ``text`` (may be abbreviated) and ``title`` in input order;
    ``member_rows`` are :attr:`SparkRun.members` rows.  Only for results that fit on the driver.
    """
    from dedupe.pipeline import RunResult

    documents = [Document(r["id"], r["text"] or "", r["title"]) for r in doc_rows]
    titles = {d.id: d.title for d in documents}
    groups: dict[str, list] = {}
    for r in member_rows:
        groups.setdefault(r["cluster"], []).append(r)
    clusters, linked = [], set()
    for cid, rows in groups.items():
        members, links = [], []
        for r in sorted(rows, key=lambda r: r["id"]):
            linked.add(r["id"])
            members.append(Member(r["id"], titles.get(r["id"]), r["similarity"], r["closest"], r["relation"]))
            for b, sim, rel, scores in json.loads(r["used"]) if r["used"] else ():
                links.append(Link(r["id"], b, sim, rel, scores))
        clusters.append(Cluster(cid, tuple(members), tuple(sorted(links, key=lambda l: (l.a, l.b)))))
    for d in documents:
        if d.id not in linked:
            clusters.append(Cluster(d.id, (Member(d.id, d.title, None, None, None),)))
    clusters.sort(key=lambda c: (-c.size, c.id))
    return RunResult(clusters, [], documents, candidates)


# =================================================================================================
# Reading and writing on the Spark side
# =================================================================================================
def _is_parquet(path: str) -> bool:
    p = Path(path)
    return p.suffix.lower() == ".parquet" or (p.is_dir() and any(p.glob("*.parquet")))


def _is_jsonl(path: str) -> bool:
    name = path.lower()
    name = name[:-3] if name.endswith(".gz") else name
    return name.endswith((".jsonl", ".ndjson")) and Path(path).is_file()


def spark_readable(path: str) -> bool:
    """True when :func:`read_documents` reads ``path`` with Spark (Parquet or JSONL files)."""
    return path != "-" and (_is_parquet(path) or _is_jsonl(path))


def _parse_jsonl_partition(rows, label: str, fields, max_chars: int):
    """Parse ``(raw line bytes, 0-based line index)`` rows; yields documents and problems."""
    for raw, index in rows:
        line = index + 1
        if not raw.strip():
            continue
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text_line = raw.decode("utf-8")
        except UnicodeDecodeError:
            text_line = raw.decode("cp1252", errors="replace")
        try:
            rec = json.loads(text_line)
        except json.JSONDecodeError as exc:
            yield ("problem", label, line, f"malformed JSON ({exc.msg} at column {exc.colno})",
                   "each line must be one JSON object", None, None, None, None, None)
            continue
        if not isinstance(rec, dict):
            yield ("problem", label, line, "JSON line is not an object", "each line must be one JSON object",
                   None, None, None, None, None)
            continue
        if rec.get(fields.id) in (None, ""):
            yield ("problem", label, line, f"record has no {fields.id!r} field", "set --id-field",
                   None, None, None, None, None)
            continue
        text = rec.get(fields.text)
        if text is None:
            yield ("problem", label, line, f"record has no {fields.text!r} field", "set --text-field",
                   None, None, None, None, None)
            continue
        if not isinstance(text, str):
            yield ("problem", label, line, f"field {fields.text!r} is not a string", None,
                   None, None, None, None, None)
            continue
        if not text.strip():
            yield ("problem", label, line, "empty document", "it has no text to compare",
                   None, None, None, None, None)
            continue

        def opt(name):
            return None if name is None or rec.get(name) in (None, "") else str(rec[name])

        yield ("doc", label, line, None, None, str(rec[fields.id]), text[:max_chars], opt(fields.title),
               opt(fields.date), opt(fields.source))


_RAW_SCHEMA = ("kind string, source string, line long, message string, hint string, id string, text string, "
               "title string, date string, src string")


def read_documents(spark, paths: list, fields=None, on_error: str = "skip", max_chars: int = 2_000_000):
    """Read Parquet files/directories and JSONL files (optionally .gz) as a documents DataFrame.

    ``paths`` are paths or ``(number, path)`` pairs (``number`` orders the files; default their
    position).  Returns ``(documents, problems)``: ``documents`` has ``id, text, title, date,
    source, origin`` and an ``ord`` column (file number, then line/record order); ``problems`` is a list of
    :class:`InputError` (the first 1,000; bad records are skipped) -- with ``on_error="fail"``
    the first problem (by file and line) is raised instead.  Ids must be unique across all
    inputs: a repeated id is a problem at its later occurrence.
    """
    from pyspark.sql import functions as F

    from dedupe.io import Fields

    fields = fields or Fields()
    if on_error not in ("skip", "fail"):
        raise ConfigError(f"on_error must be 'skip' or 'fail', not {on_error!r}")
    parts = []
    problems: list[InputError] = []
    for n, path in enumerate(paths):
        if isinstance(path, tuple):
            n, path = path
        path = str(path)
        if _is_parquet(path):
            try:
                pq = spark.read.parquet(path)
            except Exception as exc:
                err = InputError(f"cannot read Parquet ({_first_line(exc)})", source=path)
                if on_error == "fail":
                    raise err from None
                problems.append(err)
                continue
            for need, flag in ((fields.id, "--id-field"), (fields.text, "--text-field")):
                if need not in pq.columns:
                    raise InputError(f"Parquet data has no {need!r} column (columns: {', '.join(pq.columns)})",
                                     source=path, hint=f"set {flag}")
            opt = lambda name: (F.col(name).cast("string") if name and name in pq.columns  # noqa: E731
                                else F.lit(None).cast("string"))
            good = F.col(fields.id).isNotNull() & (F.col(fields.id).cast("string") != "") \
                & F.col(fields.text).isNotNull() & (F.trim(F.col(fields.text).cast("string")) != "")
            rows = pq.select(
                F.when(good, F.lit("doc")).otherwise(F.lit("problem")).alias("kind"),
                F.lit(path).alias("source"),
                (F.monotonically_increasing_id() + 1).alias("line"),
                F.when(good, F.lit(None)).otherwise(
                    F.lit(f"record has no {fields.id!r} or no {fields.text!r} (or it is empty)")).alias("message"),
                F.lit(None).cast("string").alias("hint"),
                F.col(fields.id).cast("string").alias("id"),
                F.substring(F.col(fields.text).cast("string"), 1, max_chars).alias("text"),
                opt(fields.title).alias("title"), opt(fields.date).alias("date"), opt(fields.source).alias("src"))
            rows = rows.withColumn("file_no", F.lit(n))
        elif _is_jsonl(path):
            rdd = spark.sparkContext.textFile(path, use_unicode=False).zipWithIndex()
            label = path
            parsed = rdd.mapPartitions(lambda it, label=label: _parse_jsonl_partition(it, label, fields, max_chars))
            rows = spark.createDataFrame(parsed, schema=_RAW_SCHEMA).withColumn("file_no", F.lit(n))
        else:
            raise InputError("the Spark reader takes Parquet and JSONL", source=path,
                             hint="other inputs are read on the driver by `dedupe cluster --engine spark`")
        parts.append(rows)
    if not parts:
        raise InputError("no documents to cluster", hint="check the paths")
    raw = parts[0]
    for p in parts[1:]:
        raw = raw.unionByName(p)
    raw = raw.persist()
    # a repeated id is a problem at every occurrence after the first (file order, then line)
    from pyspark.sql import Window
    w = Window.partitionBy("id").orderBy("file_no", "line")
    ranked = raw.withColumn("k", F.when(F.col("kind") == "doc", F.row_number().over(w)).otherwise(F.lit(0)))
    first_at = raw.where(F.col("kind") == "doc").groupBy("id").agg(
        F.min(F.struct("file_no", "line", "source")).alias("first"))
    flagged = (ranked.join(first_at, "id", "left")
               .withColumn("message", F.when(F.col("k") > 1, F.concat(
                   F.lit("duplicate id '"), F.col("id"), F.lit("' (first seen at "), F.col("first.source"),
                   F.lit(":"), F.col("first.line").cast("string"), F.lit(")"))).otherwise(F.col("message")))
               .withColumn("hint", F.when(F.col("k") > 1, F.lit("ids must be unique; choose another --id-field"))
                           .otherwise(F.col("hint")))
               .withColumn("kind", F.when(F.col("k") > 1, F.lit("problem")).otherwise(F.col("kind"))))
    bad = flagged.where(F.col("kind") == "problem").orderBy("file_no", "line")
    for r in bad.select("source", "line", "message", "hint").limit(1 if on_error == "fail" else 1000).collect():
        err = InputError(r["message"], source=r["source"], line=r["line"] if not _is_parquet(r["source"]) else None,
                         hint=r["hint"])
        if on_error == "fail":
            raise err
        problems.append(err)
    docs = (flagged.where(F.col("kind") == "doc")
            .withColumn("ord", F.shiftleft(F.col("file_no").cast("long"), 48) + F.col("line"))
            .select("id", "text", "title", "date", F.col("src").alias("source"),
                    F.concat(F.col("source"), F.lit(":"), F.col("line").cast("string")).alias("origin"), "ord"))
    return docs, problems


def documents_dataframe(spark, documents: Iterable[Document]):
    """A documents DataFrame (with ``ord`` in list order) from Documents held by the driver."""
    return spark.createDataFrame(documents_dataframe_rows(documents), schema=_DOCS_SCHEMA)


def write_result(df, path: str, fmt: str | None = None) -> str:
    """Write a result DataFrame as Parquet or JSONL (a Spark output directory of part files).

    ``fmt`` defaults to the path's extension (``.parquet``, ``.jsonl``/``.json``).  Overwrites.
    Returns the format written.
    """
    if fmt is None:
        suffix = Path(path).suffix.lower().lstrip(".")
        fmt = {"parquet": "parquet", "jsonl": "jsonl", "json": "jsonl", "ndjson": "jsonl"}.get(suffix)
        if fmt is None:
            raise ConfigError(f"cannot tell the format of {path!r} from its extension",
                              hint="use a .parquet or .jsonl name")
    try:
        if fmt == "parquet":
            df.write.mode("overwrite").parquet(path)
        elif fmt == "jsonl":
            df.write.mode("overwrite").option("ignoreNullFields", "false").json(path)
        else:
            raise ConfigError(f"the Spark engine writes parquet or jsonl, not {fmt!r}")
    except DedupeError:
        raise
    except Exception as exc:
        raise BackendError(f"cannot write {path} ({_first_line(exc)})") from None
    return fmt


# =================================================================================================
# The command line's Spark run
# =================================================================================================
@dataclass
class PathsRun:
    """What :func:`cluster_paths` did.  ``result`` is the collected :class:`RunResult` (``None``
    when the output was written by Spark); ``summary`` the table's last line."""

    result: Any
    written: str | None
    summary: str
    n_docs: int
    problems: list
    warnings: list
    #: with ``classify=True``: every document's :class:`~dedupe.model.Verdict`, in input order
    verdicts: list | None = None


def _summary(n_docs: int, stories: int, alone: int) -> str:
    return (f"{n_docs} document{'s' if n_docs != 1 else ''}, {stories} "
            f"stor{'ies' if stories != 1 else 'y'} with copies, {alone} standing alone")


def cluster_paths(paths, fields=None, config: Config | None = None, *, on_error: str = "skip",
                  input_format: str | None = None, master: str | None = None, output: str | None = None,
                  partitions: int | None = None, classify: bool = False, model=None,
                  exclude=()) -> PathsRun:
    """``dedupe cluster --engine spark``: read, cluster on Spark, write or collect.

    With ``classify=True`` (``dedupe classify --engine spark``) the classifier's verdicts are
    collected too (:attr:`PathsRun.verdicts`); ``output`` is not used then.  When no document
    could be read, the run has ``n_docs == 0`` and ``result is None``; its ``problems`` and
    ``warnings`` say why.  ``exclude``: glob patterns for the directories read here, as
    :class:`dedupe.io.DocumentReader`'s (a Parquet or JSONL path that Spark reads is read whole).

    Parquet files/directories and JSONL files are read by Spark (:func:`read_documents`); other
    inputs (text and HTML directories, CSV, standard input) are read on the driver with
    :class:`~dedupe.io.DocumentReader` and handed to Spark.  Input order is the paths' order, then
    file order, as for the local engine.  With an ``output`` ending in ``.parquet`` or ``.jsonl``
    Spark writes the per-document rows (a directory of part files) and nothing is collected;
    otherwise the rows are collected into a :class:`RunResult` for the report formatters.
    """
    from pyspark.sql import functions as F

    from dedupe.io import DocumentReader, Fields

    config = config or Config()
    fields = fields or Fields()
    spark = spark_session(master, shuffle_partitions=partitions)
    reader = DocumentReader(fields, on_error=on_error, max_chars=config.max_chars, input_format=input_format,
                            exclude=exclude)
    local, remote = [], []
    for n, path in enumerate(paths):
        path = str(path)
        if spark_readable(path) and input_format in (None, "jsonl" if _is_jsonl(path) else None):
            remote.append((n, path))
        else:
            local.extend(documents_dataframe_rows(reader.read([path]), n))
    problems, parts = list(reader.problems), []
    try:
        if remote:
            df, spark_problems = read_documents(spark, remote, fields, on_error, config.max_chars)
            problems.extend(spark_problems)
            parts.append(df)
        if local:
            parts.append(spark.createDataFrame(local, schema=_DOCS_SCHEMA))
        nothing = PathsRun(None, None, _summary(0, 0, 0), 0, problems, list(reader.warnings))
        if not parts:
            return nothing
        df = parts[0]
        for p in parts[1:]:
            df = df.unionByName(p)
        df = df.persist()
        n_docs = df.count()
        if not n_docs:
            return nothing
        run = _run(df, config, order_column="ord", partitions=partitions, classify=classify, model=model)
        written = None
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        if suffix in ("parquet", "jsonl") and not classify:
            out = run.documents.persist()
            written = write_result(out, output, suffix)
            sizes = out.groupBy("cluster").agg(F.count("*").alias("n")).agg(
                F.sum(F.when(F.col("n") > 1, 1).otherwise(0)).alias("stories"),
                F.sum(F.when(F.col("n") == 1, 1).otherwise(0)).alias("alone")).first()
            return PathsRun(None, written, _summary(n_docs, int(sizes["stories"] or 0), int(sizes["alone"] or 0)),
                            n_docs, problems, list(reader.warnings))
        doc_rows = df.orderBy("ord").select("id", F.substring("text", 1, 2000).alias("text"), "title").collect()
        member_rows = run.members.collect()
        result = result_from_rows(doc_rows, member_rows, run.candidate_count())
        stories = sum(1 for c in result.clusters if c.size > 1)
        verdicts = None
        if classify:
            verdicts = [Verdict(r["id"], r["cluster"], r["label"], r["relation"], r["source"], r["confidence"],
                                tuple(r["reasons"] or ())) for r in run.verdicts.collect()]
        return PathsRun(result, None, _summary(n_docs, stories, len(result.clusters) - stories), n_docs,
                        problems, list(reader.warnings), verdicts)
    except DedupeError:
        raise
    except Exception as exc:  # a Spark/Java failure: one line, not a JVM stack trace
        raise BackendError(f"the Spark run failed: {_first_line(exc)}") from None


_DOCS_SCHEMA = "id string, text string, title string, date string, source string, origin string, ord long"


def documents_dataframe_rows(documents: Iterable[Document], file_no: int = 0) -> list[tuple]:
    """Rows of :data:`_DOCS_SCHEMA` for Documents read on the driver (``ord`` in read order)."""
    return [(d.id, d.text, d.title, d.date, d.source, d.origin, (file_no << 48) + k)
            for k, d in enumerate(documents)]
