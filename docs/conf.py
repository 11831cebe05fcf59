"""Sphinx configuration for minnet's API reference.

Build (warnings are errors, as in CI and tests/test_docs.py):

    python -m sphinx -W --keep-going -b html docs /tmp/minnet-docs

The pages document the installed package: autodoc imports minnet, so its kernels must be
built (``pip install .`` or ``pip install -e . --no-build-isolation``).
"""

import importlib.machinery
import inspect
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _built_in_place(root):
    """True when the source tree's minnet has compiled kernels next to its .pyx files."""
    kernels = root / "minnet" / "_kernels"
    return any(
        p.name.endswith(suffix)
        for p in kernels.iterdir()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


# ``python -m sphinx`` run from the repository root puts the root first on sys.path, and the
# source tree's minnet has no kernels unless they were built in place: drop that entry so
# autodoc imports the installed package, as README says of ``python -m pytest``.
if sys.path and Path(sys.path[0] or os.getcwd()).resolve() == ROOT and not _built_in_place(ROOT):
    del sys.path[0]

import minnet  # noqa: E402

project = "minnet"
author = "the minnet authors"
copyright = "2026, the minnet authors"
release = version = minnet.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.extlinks"]

# README.md, CHANGELOG.md and LICENSE are copied next to the pages, so the links the index
# makes to README's sections work in the built site as in the repository.
html_extra_path = ["../README.md", "../CHANGELOG.md", "../LICENSE"]
extlinks = {"readme": ("README.md#%s", "%s")}

html_theme = "alabaster"
html_theme_options = {
    "description": "a small, fast neural-network framework",
    "sidebar_collapse": True,
}
html_title = f"minnet {release}"
exclude_patterns = ["_build"]

# Docstrings follow PyTorch's Google style: Args:, Returns:, Shape:, Examples:.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shape"]  # a plain section (a bullet list of shapes)
napoleon_use_rtype = False

# Each page asks for ``:members:``, which follow the module's __all__, in its order. (Not in
# autodoc_default_options: a default ``members: True`` overrides a directive's own list.)
autodoc_member_order = "bysource"
# A module's __all__ is its API, so a name there is listed even without a docstring (the
# torch- and Keras-named functions such as ``minnet.zeros`` or ``keras.ops.add`` explain
# themselves by their signature). Inside a class an undocumented member is an implementation
# detail (``forward``, ``call``, class constants): _skip_undocumented_class_members drops it.
autodoc_default_options = {"show-inheritance": True, "undoc-members": True}
# The code's few type hints are left out of the signatures.
autodoc_typehints = "none"


def _skip_undocumented_class_members(app, what, name, obj, skip, options):
    """autodoc-skip-member: skip a class member without a docstring of its own (or
    inherited). A plain value (a constant, an enum member) whose docstring is its type's
    counts as undocumented, as autodoc counts it."""
    if skip or what not in ("class", "exception"):
        return None
    doc = inspect.getdoc(obj)
    if doc and not (inspect.isroutine(obj) or inspect.isclass(obj) or isinstance(obj, property)):
        doc = None if doc == inspect.getdoc(type(obj)) else doc
    return True if not doc else None


def _public_bases(app, name, obj, options, bases):
    """autodoc-process-bases: show a class's public ancestors (``Module`` for ``Conv2d``,
    not the private ``_ConvNd``; a private mixin drops out)."""
    shown = []
    for base in bases:
        while isinstance(base, type) and base.__name__.startswith("_") and base.__bases__:
            base = base.__bases__[0]
        if base not in shown:
            shown.append(base)
    if len(shown) > 1 and object in shown:
        shown.remove(object)
    bases[:] = shown


def setup(app):
    app.connect("autodoc-skip-member", _skip_undocumented_class_members)
    app.connect("autodoc-process-bases", _public_bases)
