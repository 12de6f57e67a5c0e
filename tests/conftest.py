import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def seeds_dir() -> Path:
    return SAMPLES / "xiaomi-leica"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared corpora are not at {SHARED_DATA} (only present on the developers' machines and CI)")
    return SHARED_DATA


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
