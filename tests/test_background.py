import gzip

import pytest

from dedupe.background import Background, build_background, load_background, parse_background
from dedupe.errors import ConfigError


def test_shipped_table_loads_and_knows_common_words():
    bg = load_background()
    assert bg.n_docs > 20_000 and len(bg.df) > 10_000
    assert bg.idf("year") < bg.idf("camera") < bg.idf("xylophonist-unknown")


def test_build_and_parse_round_trip():
    data = build_background(["Markets rose today.", "Markets fell today.", "A cat sat."], min_df=2)
    bg = parse_background(data)
    assert bg.n_docs == 3
    assert bg.df == {"market": 2, "today": 2}


def test_unknown_words_get_the_largest_idf():
    bg = Background(99, {"a": 50})
    assert bg.idf("zzz") > bg.idf("a")


def test_bad_tables_are_refused():
    with pytest.raises(ConfigError, match="no dedupe header"):
        parse_background(gzip.compress(b"term\t1\n"))
    with pytest.raises(ConfigError, match="version v9 is not supported"):
        parse_background(gzip.compress(b"#dedupe-background\tv9\tN=3\n"))
