"""``irisdq --help`` starts fast: no command's help loads numpy.

numpy takes about a third of a second to import; help is text, and the
parser is built from every subcommand module, so each must keep its heavy
imports inside the functions that run a command.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import irisdq

# Runs every command's --help in one fresh interpreter and prints, as JSON,
# the heavy packages loaded after each one (those loaded already stay
# listed, so the first command that loads one is the one to blame).
_PROBE = """
import argparse, contextlib, io, json, sys
from irisdq.cli.main import build_parser, main

def commands(parser, prefix):
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, [*prefix, name])

HEAVY = ("numpy", "astropy", "asdf", "distributed", "matplotlib")
report = []
for argv in list(commands(build_parser(), [])):
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
        main([*argv, "--help"])
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
    report.append([" ".join(argv), "usage: irisdq" in text.getvalue(), loaded])
print(json.dumps(report))
"""


def _help_report() -> list:
    source = str(Path(irisdq.__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": source},
    )
    return json.loads(done.stdout)


def test_no_help_loads_numpy_or_astropy():
    report = _help_report()
    names = [command for command, _, _ in report]
    # Every level of the command tree was asked: the tool, each command
    # and each action (a new subcommand is covered without editing this).
    assert {"", "dq-init", "crds", "crds bestref", "mask build", "flags decode"} <= (
        set(names)
    )
    for command, printed_usage, loaded in report:
        assert printed_usage, f"irisdq {command} --help printed no usage"
        assert loaded == [], f"irisdq {command} --help loaded {loaded}"
