"""Sphinx configuration of irisdq's documentation.

Build it strictly, as CI does::

    python3 -m pip install -e ".[docs]"
    python3 -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated from the numpydoc docstrings of every
module of the installed ``irisdq`` package (autosummary, recursive), so a
module added or moved needs no edit here.
"""

import irisdq

project = "irisdq"
author = "irisdq developers"
copyright = "2026, irisdq developers"
version = release = irisdq.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# The API reference: one page per module, generated at build time.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
# numpydoc renders the parameters; class members are listed by autodoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Markdown pages: ``(label)=`` targets, ```{note}``` blocks, heading anchors.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_static_path = []
html_title = f"irisdq {release}"
