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
