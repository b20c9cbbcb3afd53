"""The ``irisdq`` command line: argument parsing and exit codes only.

Each subcommand lives in its own module exposing ``register(subparsers)``;
the module adds its parser and sets ``func`` to the handler. Handlers import
what they need lazily so that ``irisdq --help`` starts fast.
"""
