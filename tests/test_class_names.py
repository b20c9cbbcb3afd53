"""One class per concept: no class name is defined twice in irisdq.

Two classes of one name (an engine and its stpipe face, a model and its
adapter) leave a reader, an import and a traceback guessing which is meant.
Every class statement of every module counts, private and nested ones too.
"""

import ast
from collections import defaultdict
from pathlib import Path

import irisdq

SOURCE = Path(irisdq.__file__).resolve().parent


def _class_definitions() -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    return where


def test_no_class_name_is_defined_twice():
    twice = {
        name: places for name, places in _class_definitions().items() if len(places) > 1
    }
    assert twice == {}


def test_the_check_sees_every_module():
    found = _class_definitions()
    # A class of a subpackage, a private one and the stpipe step are seen.
    assert [place.split(":")[0] for place in found["DQInit"]] == ["dq_init/step.py"]
    assert any(place.startswith("stpipe/") for place in found["DQInitStep"])
    assert found["_NamingLogger"]
