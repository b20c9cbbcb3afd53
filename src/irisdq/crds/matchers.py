"""The key syntaxes of a Match selector, each turned into a scoring function.

A key is compared with one conditioned dataset value and scores 1 (it
matches), 0 (``N/A``: the rule does not care) or -1 (the candidate is
eliminated). A dataset value of ``*`` matches every key but ``N/A``.

Syntaxes, tried in this order on the conditioned key:

========================  ==============================================
``N/A``                   don't care, score 0
``NOT x``                 matches when ``x`` does not
``(regex)``               a regular expression matching the whole value
``{text}``                the literal text, no glob or ``|``
``#>1 and <=20#``         a relational expression (and, or, parentheses)
``between lo hi``         ``lo <= value < hi``, numerically
``A|B|C``                 alternatives, each a glob
``text*``                 a glob: ``*`` is any run of characters
anything else             equality
========================  ==============================================
"""

import re
from collections.abc import Callable

from irisdq.crds.values import condition_value

__all__ = ["DONT_CARE", "Matcher", "condition_key", "make_matcher"]

Score = Callable[[str], int]


class Matcher:
    """One key of a Match rule, ready to score dataset values.

    Attributes
    ----------
    key : str
        The conditioned key as the explanation shows it.
    score : callable
        ``score(value) -> 1, 0 or -1`` for a conditioned dataset value.
    """

    __slots__ = ("key", "score")

    def __init__(self, key: str, score: Score):
        self.key = key
        self.score = score

    def __repr__(self) -> str:
        return f"Matcher({self.key!r})"


def _dont_care(value: str) -> int:
    return 0


#: The matcher of an ``N/A`` key.
DONT_CARE = Matcher("N/A", _dont_care)


def condition_key(raw: object) -> str:
    """Condition a Match key like a dataset value, sparing regex escapes.

    Examples
    --------
    >>> condition_key("iris1"), condition_key(2), condition_key(r"(f\\d+w)")
    ('IRIS1', '2.0', '(F\\\\d+W)')
    """
    text = str(raw).strip()
    if len(text) >= 2 and text[0] == "(" and text[-1] == ")":
        return _upper_outside_escapes(text)
    return condition_value(text)


def _upper_outside_escapes(text: str) -> str:
    # A regex keeps the meaning of its escapes (\d is not \D).
    pieces = re.split(r"(\\.)", text)
    return "".join(
        piece if piece.startswith("\\") else piece.upper() for piece in pieces
    )


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
        If the key uses a syntax wrongly (a bad regex, relation or range).

    Examples
    --------
    >>> m = make_matcher("IRIS1|IRIS2")
    >>> m.score("IRIS2"), m.score("IRIS3"), m.score("*")
    (1, -1, 1)
    >>> make_matcher("BETWEEN 1 5").score("5.0")
    -1
    >>> make_matcher("#>1 AND <=20#").score("20.0")
    1
    """
    if key == "N/A":
        return DONT_CARE
    return Matcher(key, _with_wildcard(_test(key)))


def _with_wildcard(test: Callable[[str], bool]) -> Score:
    def score(value: str) -> int:
        return 1 if value == "*" or test(value) else -1

    return score


def _test(key: str) -> Callable[[str], bool]:
    if key.startswith("NOT "):
        inner = make_matcher(condition_key(key[4:])).score
        return lambda value: inner(value) < 0
    if len(key) >= 2 and key[0] == "(" and key[-1] == ")":
        try:
            pattern = re.compile(key)
        except re.error as exc:
            raise ValueError(f"bad regular expression {key!r}: {exc}") from None
        return lambda value: pattern.fullmatch(value) is not None
    if len(key) >= 2 and key[0] == "{" and key[-1] == "}":
        literal = key[1:-1]
        return literal.__eq__
    if len(key) >= 2 and key[0] == "#" and key[-1] == "#":
        return _relational(key)
    if key.startswith("BETWEEN "):
        return _between(key)
    if "|" in key:
        return _glob("|".join(condition_value(part) for part in key.split("|")))
    if "*" in key:
        return _glob(key)
    return key.__eq__


def _glob(key: str) -> Callable[[str], bool]:
    alternatives = [
        ".*".join(map(re.escape, part.split("*"))) for part in key.split("|")
    ]
    pattern = re.compile("|".join(f"(?:{alt})" for alt in alternatives), re.DOTALL)
    return lambda value: pattern.fullmatch(value) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _between(key: str) -> Callable[[str], bool]:
    words = key.split()
    bounds = [_number(word) for word in words[1:]]
    if len(bounds) != 2 or None in bounds:
        raise ValueError(f"{key!r} is not 'between LOW HIGH' with two numbers")
    low, high = bounds

    def test(value: str) -> bool:
        number = _number(value)
        return number is not None and low <= number < high

    return test


_TOKEN = re.compile(
    r"\s*(<=|>=|==|!=|<|>|=|\(|\)|AND\b|OR\b|'[^']*'|\"[^\"]*\"|[^\s()<>=!']+)"
)
_OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _relational(key: str) -> Callable[[str], bool]:
    text = key[1:-1].strip()
    tokens: list[str] = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or not found.group(1):
            raise ValueError(f"cannot read the relational expression {key!r}")
        tokens.append(found.group(1))
        position = found.end()
        if not text[position:].strip():
            break
    parser = _RelationParser(tokens, key)
    test = parser.expression()
    if parser.position != len(tokens):
        raise ValueError(f"unexpected {tokens[parser.position]!r} in {key!r}")
    return test


class _RelationParser:
    """Recursive descent over ``or`` of ``and`` of ``op operand`` terms."""

    def __init__(self, tokens: list[str], key: str):
        self.tokens = tokens
        self.key = key
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError(f"the relational expression {self.key!r} ends too early")
        self.position += 1
        return token

    def expression(self) -> Callable[[str], bool]:
        terms = [self.conjunction()]
        while self._peek() == "OR":
            self._take()
            terms.append(self.conjunction())
        if len(terms) == 1:
            return terms[0]
        return lambda value: any(term(value) for term in terms)

    def conjunction(self) -> Callable[[str], bool]:
        terms = [self.atom()]
        while self._peek() == "AND":
            self._take()
            terms.append(self.atom())
        if len(terms) == 1:
            return terms[0]
        return lambda value: all(term(value) for term in terms)

    def atom(self) -> Callable[[str], bool]:
        token = self._take()
        if token == "(":
            inner = self.expression()
            if self._take() != ")":
                raise ValueError(f"unbalanced parentheses in {self.key!r}")
            return inner
        if token not in _OPERATORS:
            raise ValueError(f"expected a comparison such as '>1' in {self.key!r}")
        compare = _OPERATORS[token]
        operand = self._take()
        if operand in ("(", ")", "AND", "OR") or operand in _OPERATORS:
            raise ValueError(f"a comparison in {self.key!r} lacks its value")
        if operand[0] in "'\"":
            operand = operand[1:-1]
        number = _number(operand)
        if number is None:
            text = condition_value(operand)
            return lambda value: compare(value, text)

        def test(value: str) -> bool:
            actual = _number(value)
            return actual is not None and compare(actual, number)

        return test
