"""The design's layers: each module imports only modules of lower layers; only cli imports click;
``import dedupe`` loads neither click, scikit-learn nor redis."""

import ast
import subprocess
import sys
from pathlib import Path

import dedupe

PACKAGE = Path(dedupe.__file__).resolve().parent

#: Lower number = lower layer.  A module may import its own layer's foundation modules listed in
#: SAME_LAYER_OK, and anything strictly below.
LAYERS = {
    "errors": 0, "model": 0,
    "config": 1,
    "normalize": 2, "shingle": 2, "io": 2, "background": 2,
    "signature": 3,
    "index": 4, "compare": 4, "verifier": 4,
    "cluster": 5, "classify": 5, "metrics": 5,
    "explain": 6, "training": 6,
    "pipeline": 7,
    "spark": 8,
    "report": 8,
    "cli": 9,
    "__init__": 10, "__main__": 10,
}
#: Same-layer imports that are part of the design: shingle needs the background table.
SAME_LAYER_OK = {("shingle", "background"), ("background", "normalize"), ("background", "shingle")}


def _module_layer(path: Path) -> tuple[str, int]:
    rel = path.relative_to(PACKAGE).with_suffix("")
    top = rel.parts[0]
    if top == "resources":
        return top, -1
    assert top in LAYERS, f"{rel}: module not placed in a layer; add it to tests/test_layering.py LAYERS"
    return top, LAYERS[top]


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def test_every_module_imports_only_lower_layers():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top, layer = _module_layer(path)
        if layer < 0:
            continue
        for name, line in _imports(path):
            parts = name.split(".")
            if parts[0] == "click" and top != "cli":
                problems.append(f"{path.name}:{line} imports click (only cli.py may)")
            if parts[0] != "dedupe" or len(parts) < 2:
                continue
            target = parts[1]
            if target == top or (top, target) in SAME_LAYER_OK:
                continue
            if target not in LAYERS:
                problems.append(f"{path.name}:{line} imports unknown module dedupe.{target}")
            elif LAYERS[target] >= layer and top not in ("__init__", "__main__"):
                problems.append(f"{path.relative_to(PACKAGE)}:{line} ({top}, layer {layer}) imports "
                                f"dedupe.{target} (layer {LAYERS[target]})")
    assert problems == []


def test_import_dedupe_stays_light():
    code = ("import sys, dedupe; heavy = [m for m in ('click', 'sklearn', 'redis', 'pyspark') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
