"""Text normalisation: from scraped article text to comparable text.

Steps, in order: strip HTML tags and entities (inline markup such as ``<b>`` survives many
scrapers), Unicode NFKC, case folding, removal of web boilerplate lines (comment counters,
breadcrumbs, "read next" teaser blocks, share prompts, reading-time notes, lines repeated inside
the same page), and whitespace folding (runs of spaces become one space, paragraphs stay on their
own lines).

:func:`normalize_text` is idempotent: normalising its output again changes nothing (it runs its
steps to a fixed point, which also makes the result independent of how many times a pipeline
normalises).
"""

from __future__ import annotations

import html
import re
import unicodedata

from dedupe.config import NormalizeConfig

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[a-zA-Z/!][^<>]{0,2000}>", re.S | re.I)
_SPACES = re.compile(r"[^\S\n]+")
_BLANKS = re.compile(r"\n\s*\n+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")

#: Whole lines that are page furniture rather than article text (matched after case folding).
_BOILERPLATE_LINE = re.compile(
    r"""^(?:
        (?:\w+\s+)?comments?\s*:?\s*\d*                                  # "comment Comments 0"
      | \d+\s+comments?
      | leave\s+a\s+(?:reply|comment).*
      | (?:share|tweet|email|print)(?:\s+(?:this|on|via)\b.*)?
      | share\s+(?:this\s+)?(?:article|story|post).*
      | reading\s+time(?:\s+estimate)?\s*:?.*
      | \d+\s+min(?:ute)?s?\s+read
      | (?:featured\s+)?image\s+(?:courtesy|credit|source)\s*:?.*
      | \(?image\s+credit:.*\)?
      | advertisement|sponsored(?:\s+content)?
      | (?:all\s+rights\s+reserved|copyright\s+©?).{0,80}
      | (?:follow\s+us|sign\s+up|subscribe)\b.{0,80}
      | click\s+here\b.{0,80}
      | (?:posted|published|updated)\s+(?:on|at)?\s*[\w ,:.-]{0,40}
      | tags?\s*:.{0,120}
    )$""",
    re.X,
)
#: A heading that opens a block of teasers for other articles; the block runs to the end.
_TEASER_HEADING = re.compile(
    r"^(?:read\s+next|read\s+more|related(?:\s+(?:articles|stories|posts|news))?|more\s+(?:from|stories|news)"
    r"|you\s+(?:may|might)\s+also\s+like|recommended(?:\s+for\s+you)?|also\s+read|popular\s+(?:now|stories))\b.{0,80}$"
)
_BREADCRUMB = re.compile(r"^[^>\n]{1,40}(?:\s[>»›/]\s[^>\n]{1,40}){2,}$")

# Cheap necessary conditions checked before the regexes above (speed only: a line that fails
# one can never match its regex, so the result is the same; tests/test_normalize.py checks it).
#: the words a teaser heading can start with
_TEASER_STARTS = ("read", "related", "more", "you", "recommended", "also", "popular")
#: the first words of the boilerplate alternatives, besides "comment" anywhere and a leading digit
_BOILERPLATE_STARTS = ("leave", "share", "tweet", "email", "print", "reading", "featured", "image", "(",
                       "advertisement", "sponsored", "all", "copyright", "follow", "sign", "subscribe",
                       "click", "posted", "published", "updated", "tag")


def _may_be_boilerplate(line: str) -> bool:
    return line.startswith(_BOILERPLATE_STARTS) or "comment" in line or line[:1].isdigit()


def _may_be_breadcrumb(line: str) -> bool:
    return ">" in line or "/" in line or "\u00bb" in line or "\u203a" in line


def normalize_text(text: str, config: NormalizeConfig | None = None) -> str:
    """Normalise ``text`` (see the module docstring).  Idempotent."""
    config = config or NormalizeConfig()
    current = text
    for _ in range(8):  # every step only removes or folds, so this converges quickly
        previous = current
        current, dropped = _once(previous, config)
        # a fixed point; or provably one, so the pass that would confirm it is skipped
        if current == previous or (not dropped and _fixed(current, config)):
            break
    return current


def _fixed(text: str, config: NormalizeConfig) -> bool:
    """Whether :func:`_once` leaves ``text`` (the output of a pass that dropped no line) as it is,
    checked with cheap C-level tests instead of running it: then no markup or entity is left,
    the case folding and NFKC are already applied, and (the lines being those the pass kept, all
    of them, and whitespace-folded) the boilerplate step sees the same lines and makes the same
    decisions, dropping none.  ``False`` only costs the full pass."""
    if config.strip_html and "<" in text and _TAG.search(text):
        return False
    if "&" in text and html.unescape(text) != text:
        return False
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        return False
    return text.casefold() == text and "\r" not in text and not _CONTROL.search(text)


def _once(text: str, config: NormalizeConfig) -> tuple[str, bool]:
    """One pass of the steps; also whether the boilerplate step dropped a line."""
    if config.strip_html and "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():  # NFKC leaves ASCII unchanged and casefold() is lower() there
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # " ".join(line.split()) is _SPACES.sub(" ", line).strip(): str.split, str.strip and the
    # regex's \s share one definition of whitespace (Py_UNICODE_ISSPACE); split is ~4x faster
    words = [line.split() for line in text.split("\n")]
    lines = [" ".join(w) for w in words]
    dropped = False
    if config.strip_boilerplate:
        before = len(lines)
        lines = strip_boilerplate_lines(lines, [len(w) for w in words])
        dropped = len(lines) < before
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip(), dropped


def strip_boilerplate_lines(lines: list[str], counts: list[int] | None = None) -> list[str]:
    """Drop page furniture from already case-folded, whitespace-folded lines (``counts``: the
    number of words of each line, when the caller has it)."""
    if counts is None:
        counts = [len(line.split()) if line else 0 for line in lines]
    total_words = sum(counts) or 1
    kept: list[str] = []
    seen: set[str] = set()
    words_so_far = 0
    for line, n_words in zip(lines, counts):
        if not line:
            kept.append(line)
            continue
        if n_words > 12:  # only short lines can be a teaser heading or furniture
            words_so_far += n_words
            if line in seen:
                continue
            seen.add(line)
            kept.append(line)
            continue
        if words_so_far >= total_words * 0.3 and line.startswith(_TEASER_STARTS) and _TEASER_HEADING.match(line):
            break  # the rest of the page is teasers for other articles
        words_so_far += n_words
        if ((_may_be_boilerplate(line) and _BOILERPLATE_LINE.match(line))
                or (_may_be_breadcrumb(line) and _BREADCRUMB.match(line))):
            continue
        if n_words >= 4 and line in seen:  # repeated banner lines, pull quotes printed twice
            continue
        seen.add(line)
        kept.append(line)
    return kept
