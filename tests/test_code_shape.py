"""The shape of the package: a module past 600 lines says why in its
docstring, so the next engineer knows it was a choice, not drift."""

import ast
from pathlib import Path

import pytest

import irisdq

PACKAGE = Path(irisdq.__file__).parent
LIMIT = 600


def long_modules_without_reason(root: Path, limit: int = LIMIT) -> list[str]:
    """The modules under ``root`` longer than ``limit`` lines whose
    docstring does not mention the limit ("600 lines") with a reason."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= limit:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        # The mention and at least a sentence around it.
        if f"{limit} lines" not in docstring or len(docstring.split()) < 40:
            found.append(f"{path.relative_to(root)} ({lines} lines)")
    return found


def test_every_long_module_gives_its_reason():
    assert long_modules_without_reason(PACKAGE) == []


@pytest.mark.parametrize(
    ("docstring", "flagged"),
    [
        ("A module.", True),
        ("A module past 600 lines.", True),  # a mention is not a reason
        (
            "A module. It is one piece past 600 lines: "
            + "the class and its loader read each other's fields " * 4,
            False,
        ),
    ],
)
def test_a_long_module_is_found_unless_it_says_why(tmp_path, docstring, flagged):
    body = "x = 1\n" * (LIMIT + 1)
    (tmp_path / "long.py").write_text(f'"""{docstring}"""\n{body}')
    (tmp_path / "short.py").write_text('"""Short."""\nx = 1\n')
    expected = [f"long.py ({LIMIT + 2} lines)"] if flagged else []
    assert long_modules_without_reason(tmp_path) == expected
