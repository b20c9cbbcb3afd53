"""The key syntaxes of a Match selector, each turned into a scoring function.

A key is compared with one conditioned dataset value and scores 1 (it
matches), 0 (``N/A``: the rule does not care) or -1 (the candidate is
eliminated). Every key but ``N/A`` and ``NOT x`` first compares the value
itself: equal to the key or ``*`` scores 1, ``N/A`` (the dataset does not
care) scores 0; only then does the key's own syntax decide. This is the
stock CRDS client's ``crds.core.selectors.matcher``, which is the oracle.

Syntaxes, tried in this order on the conditioned key:

========================  ==============================================
``(regex)``               a regular expression matched at the start of
                          the value; the key is not upper-cased
``{text}``                the literal text, no glob or ``|``
``#a and b#``             one or two comparisons joined by ``and``/``or``
``between lo hi``         ``lo <= value < hi``, numerically
``NOT x``                 matches when ``x`` does not (``N/A`` stays 0)
``A|B|C`` or ``text*``    alternatives, each a shell glob (``*?[]``)
``N/A``                   don't care, score 0
``>1``, ``<=2.5``         a numeric comparison
anything else             equality
========================  ==============================================
"""

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

from irisdq.crds.values import condition_value

__all__ = ["DONT_CARE", "Matcher", "condition_key", "make_matcher"]

Score = Callable[[str], int]


@dataclass(slots=True, eq=False)
class Matcher:
    """One key of a Match rule, ready to score dataset values.

    Attributes
    ----------
    key : str
        The conditioned key as the explanation shows it.
    score : callable
        ``score(value) -> 1, 0 or -1`` for a conditioned dataset value.
    """

    key: str
    score: Score

    def __repr__(self) -> str:
        return f"Matcher({self.key!r})"


def _dont_care(value: str) -> int:
    return 0


#: The matcher of an ``N/A`` key.
DONT_CARE = Matcher("N/A", _dont_care)


def _esoteric(text: str) -> bool:
    upper = text.upper()
    return (
        upper.startswith(("{", "(", "#")) and upper.endswith(("}", ")", "#"))
    ) or upper.startswith(("BETWEEN", "NOT"))


def glob_parts(text: str) -> list[str]:
    """Return the sorted alternatives of ``A|B|C`` (stripped, empty ones
    dropped), or ``[text]`` for a key of another syntax.

    Examples
    --------
    >>> glob_parts("B | A|"), glob_parts("(A|B)")
    (['A', 'B'], ['(A|B)'])
    """
    if not _esoteric(text) and "|" in text:
        return sorted(part.strip() for part in text.split("|") if part.strip())
    return [text]


def condition_key(raw: object) -> str:
    """Condition a Match key as CRDS does; regexes and literals are kept as
    written.

    Examples
    --------
    >>> condition_key("iris1"), condition_key(2), condition_key(r"(f\\d+w)")
    ('IRIS1', '2.0', '(f\\\\d+w)')
    >>> condition_key(" b | a ")
    'A|B'
    """
    if isinstance(raw, str):
        if (raw.startswith("{") and raw.endswith("}")) or (
            raw.startswith("(") and raw.endswith(")")
        ):
            return raw
        if "|" in raw:
            return "|".join(condition_value(part) for part in glob_parts(raw))
        return condition_value("|".join(glob_parts(raw)))
    return condition_value(raw)


def make_matcher(key: str) -> Matcher:
    """Return the :class:`Matcher` of a conditioned Match key.

    Parameters
    ----------
    key : str
        A key already passed through :func:`condition_key`.

    Returns
    -------
    Matcher

    Raises
    ------
    ValueError
        If the key uses a syntax wrongly (a bad regex, relation or range),
        or a relation CRDS would read differently from how it is written.

    Examples
    --------
    >>> m = make_matcher("IRIS1|IRIS2")
    >>> m.score("IRIS2"), m.score("IRIS3"), m.score("*"), m.score("N/A")
    (1, -1, 1, 0)
    >>> make_matcher("BETWEEN 1 5").score("5.0")
    -1
    >>> make_matcher("#>1 AND <=20#").score("20.0")
    1
    """
    if key == "N/A":
        return DONT_CARE
    if key.startswith("(") and key.endswith(")"):
        try:
            pattern = re.compile(key[1:-1])
        except re.error as exc:
            raise ValueError(f"bad regular expression {key!r}: {exc}") from None
        return Matcher(key, _scored(key[1:-1], lambda v: pattern.match(v) is not None))
    if key.startswith("{") and key.endswith("}"):
        return Matcher(key, _scored(key[1:-1], lambda value: False))
    if key.startswith("#") and key.endswith("#"):
        return _relational(key)
    if key.upper().startswith("BETWEEN"):
        return Matcher(key, _between(key))
    if key.upper().startswith("NOT "):
        inner = make_matcher(key[4:].strip()).score
        return Matcher(key, lambda value: -inner(value))
    if "|" in key or "*" in key:
        pattern = re.compile(
            "^(" + "|".join(fnmatch.translate(p) for p in glob_parts(key)) + ")$"
        )
        return Matcher(key, _scored(None, lambda v: pattern.match(v) is not None))
    if key.startswith((">", "<")):
        return Matcher(key, _scored(key, _inequality(key)))
    return Matcher(key, _scored(key, lambda value: False))


def _scored(base: str | None, test: Callable[[str], bool]) -> Score:
    """The score of a key whose text is `base`: equal to it or ``*`` is 1,
    ``N/A`` is 0, else `test` decides."""

    def score(value: str) -> int:
        if value == base or value == "*":
            return 1
        if value == "N/A":
            return 0
        return 1 if test(value) else -1

    return score


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _between(key: str) -> Callable[[str], bool]:
    words = key.split()
    bounds = [_number(word) for word in words[1:]]
    if len(words) != 3 or None in bounds or bounds[0] > bounds[1]:
        raise ValueError(
            f"{key!r} is not 'between LOW HIGH' with two numbers, LOW <= HIGH"
        )
    # CRDS reads it as '#>=LOW AND <HIGH#'.
    return _binary(f">={words[1]} AND <{words[2]}", " AND ")


_INEQUALITY = re.compile(r"([><]=?)\s*([-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)")
_OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _inequality(key: str) -> Callable[[str], bool]:
    # As CRDS: the comparison and number at the start of the key count.
    found = _INEQUALITY.match(key)
    if found is None:
        raise ValueError(f"{key!r} is not a comparison such as '>1' or '<=2.5'")
    compare, bound = _OPERATORS[found[1]], float(found[2])

    def test(value: str) -> bool:
        number = _number(value)
        return number is not None and compare(number, bound)

    return test


def _relational(key: str) -> Matcher:
    text = key.upper()
    for joint in (" AND ", " OR "):
        if joint in text:
            return Matcher(key, _binary(text, joint))
    return make_matcher(key[1:-1])


def _binary(text: str, joint: str) -> Score:
    # CRDS reads the first two terms only, and a mix of and/or as one term:
    # refuse what it would misread.
    parts = [part.strip() for part in text.strip("#").split(joint)]
    if len(parts) != 2 or any(
        other in part for part in parts for other in (" AND ", " OR ")
    ):
        raise ValueError(
            f"{text!r}: a relational expression is one comparison or two joined "
            "by 'and' or 'or' (no parentheses, no third term)"
        )
    first, second = (make_matcher(part).score for part in parts)
    if joint == " AND ":
        test = lambda value: first(value) == 1 and second(value) == 1  # noqa: E731
    else:
        test = lambda value: first(value) == 1 or second(value) == 1  # noqa: E731
    return _scored(text, test)
