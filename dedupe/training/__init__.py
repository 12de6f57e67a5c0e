"""Training data and training commands (not imported by ``import dedupe``).

* :mod:`dedupe.training.corpora` reads the shared corpora (BBC News, Reuters-21578, MSRP) from
  ``../shared/data`` into plain records; nothing is downloaded.
* :mod:`dedupe.training.generate` turns real articles into labelled pairs: syndicated copies
  (``make_copy(text, rng, "duplicate")``), partial copies (``"partial"``), rewritten copies
  (``"rewrite"``), two write-ups of one common source (:func:`make_same_source`) and hard
  negatives (different articles on the same topic, :func:`hard_negatives`).  Everything is driven
  by a ``random.Random`` so a seed reproduces a data set exactly.
* :mod:`dedupe.training.verifier` trains the pair verifier shipped in ``dedupe/resources``:
  ``python -m dedupe.training.verifier --data ../shared/data --output dedupe/resources/verifier.json``.
"""
