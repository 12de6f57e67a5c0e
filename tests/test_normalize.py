from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.config import NormalizeConfig
from dedupe.normalize import normalize_text


def test_nfkc_casefold_and_whitespace():
    assert normalize_text("  ＡＢＣ   Straße\t\tﬁne  ") == "abc strasse fine"


def test_paragraphs_survive_and_blank_runs_fold():
    assert normalize_text("One.\r\n\r\n\r\nTwo  words.\n") == "one.\n\ntwo words."


def test_inline_html_and_entities_are_removed():
    text = "BingMag.com <b>Xiaomi</b> &amp; <i>Leica</i><script>var x = 1;</script> agree"
    assert normalize_text(text) == "bingmag.com xiaomi & leica agree"


def test_html_can_be_kept():
    assert normalize_text("<b>x</b>", NormalizeConfig(strip_html=False)) == "<b>x</b>"


def test_boilerplate_lines_are_dropped():
    text = "\n".join([
        "Home > Science and technology > Mobile and gadget",
        "Reading time estimate: 2 min",
        "The phone launches in July with a new camera system built with Leica.",
        "Featured Image Courtesy: LetsGoDigital",
        "comment Comments 0",
        "Leave a Reply",
    ])
    assert normalize_text(text) == "the phone launches in july with a new camera system built with leica."


def test_teaser_block_at_the_end_is_cut():
    body = " ".join(["The company reported strong results for the quarter."] * 20)
    text = body + "\n\nREAD NEXT IN: science and technology\n\nSamsung ships a folding phone\n\nMore teaser text here."
    assert normalize_text(text) == body.casefold()


def test_teaser_heading_near_the_start_is_not_a_cut():
    text = "Related news\n\n" + "A long article body that goes on and on about one event. " * 5
    assert "a long article body" in normalize_text(text)


def test_repeated_lines_are_kept_once():
    line = "Xiaomi and Leica are working on the camera of a flagship phone"
    out = normalize_text(f"{line}\n\nSome text between the two banners.\n\n{line}")
    assert out.count("xiaomi and leica") == 1


def test_empty_text():
    assert normalize_text("") == ""
    assert normalize_text(" \n\t ") == ""


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_normalisation_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "Leave a Reply", "READ NEXT", "Home > a > b", "comment Comments 3", "<b>bold</b>", "&amp;",
    "The minister said the plan would cost 3 billion pounds.", "", "  ", "Ⅻ ﬁ Straße", "Related stories",
    "Reading time: 4 min", "Share this article",
]), max_size=30))
def test_normalisation_is_idempotent_on_page_like_text(lines):
    text = "\n".join(lines)
    once = normalize_text(text)
    assert normalize_text(once) == once


# -- the fast path equals the straightforward implementation --------------------------------------
import html as _html  # noqa: E402
import re as _re  # noqa: E402
import unicodedata as _ud  # noqa: E402

from dedupe import normalize as _norm  # noqa: E402


def _strip_reference(lines):
    """strip_boilerplate_lines as first written: every regex tried on every short line."""
    content = [line for line in lines if line]
    total_words = sum(len(line.split()) for line in content) or 1
    kept, seen, words_so_far = [], set(), 0
    for line in lines:
        if not line:
            kept.append(line)
            continue
        n_words = len(line.split())
        short = n_words <= 12
        if short and _norm._TEASER_HEADING.match(line) and words_so_far >= total_words * 0.3:
            break
        words_so_far += n_words
        if short and (_norm._BOILERPLATE_LINE.match(line) or _norm._BREADCRUMB.match(line)):
            continue
        if n_words >= 4 and line in seen:
            continue
        seen.add(line)
        kept.append(line)
    return kept


def _once_reference(text, config):
    if config.strip_html and "<" in text:
        text = _norm._TAG.sub(" ", text)
    if "&" in text:
        text = _html.unescape(text)
    text = _ud.normalize("NFKC", text).casefold()
    text = _norm._CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n")]
    if config.strip_boilerplate:
        lines = _strip_reference(lines)
    return _re.sub(r"\n\s*\n+", "\n\n", "\n".join(lines)).strip()


def _normalize_reference(text, config=None):
    config = config or NormalizeConfig()
    previous, current = None, text
    for _ in range(8):
        if current == previous:
            break
        previous, current = current, _once_reference(current, config)
    return current


#: lines built to hit every boilerplate alternative, the breadcrumb and the teaser heading
BOILERPLATE = [
    "comment Comments 0", "12 comments", "Leave a comment below", "Share", "Share this article now",
    "Tweet this", "Print via email", "Reading time: 4 min", "5 minute read", "Featured image credit: AP",
    "(Image credit: Reuters)", "Advertisement", "Sponsored content", "All rights reserved 2020",
    "Copyright © Acme", "Follow us on X", "Sign up for our newsletter", "Subscribe today",
    "Click here for more", "Posted on May 1, 2020", "Updated at 10:30", "Tags: phones, cameras",
    "Home > Tech > Phones", "News » World » Asia", "a / b / c", "Sport › Football › Results",
    "１２ comments", "٣ comments", "READ NEXT: other stories", "Related articles", "You may also like",
    "Popular now", "Also read: this", "More from the author", "Recommended for you",
]
WHITESPACE = " \t\u00a0\u2003\u3000\u2028\u2029\u0085\x0b\x0c\x1c\x1d\x1e\x1f\r\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(BOILERPLATE), st.text(alphabet=st.sampled_from(
    list(WHITESPACE) + list("abc >/»›(1é&<b>ß") + ["\u00bd", "\uff21", "\U0001d400"]), max_size=30)),
    max_size=12))
def test_fast_normalize_equals_the_reference_on_generated_text(parts):
    for sep in ("\n", "\n\n", " "):
        text = sep.join(parts)
        assert normalize_text(text) == _normalize_reference(text)


def test_fast_normalize_equals_the_reference_on_real_articles(shared_data):
    import random

    paths = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in random.Random(3).sample(paths, 150)]
    for sgm in sorted((shared_data / "reuters21578").glob("reut2-00[0-1].sgm")):
        raw = sgm.read_text(encoding="latin-1")
        texts += _re.findall(r"<BODY>(.*?)</BODY>", raw, _re.S)[::8]
    texts += ["\n".join(BOILERPLATE), "\n".join(BOILERPLATE[::-1] + ["word " * 40])]
    assert len(texts) > 200
    for text in texts:
        assert normalize_text(text) == _normalize_reference(text)
        cfg = NormalizeConfig(strip_html=False, strip_boilerplate=False)
        assert normalize_text(text, cfg) == _normalize_reference(text, cfg)


def test_every_boilerplate_line_passes_the_cheap_prefilters():
    """The prefilters are necessary conditions: each line the regexes match passes them."""
    for raw in BOILERPLATE:
        line = " ".join(_ud.normalize("NFKC", raw).casefold().split())
        if _norm._BOILERPLATE_LINE.match(line):
            assert _norm._may_be_boilerplate(line), line
        if _norm._BREADCRUMB.match(line):
            assert _norm._may_be_breadcrumb(line), line
        if _norm._TEASER_HEADING.match(line):
            assert line.startswith(_norm._TEASER_STARTS), line
    assert sum(bool(_norm._BOILERPLATE_LINE.match(" ".join(_ud.normalize("NFKC", b).casefold().split())))
               for b in BOILERPLATE) >= 20
