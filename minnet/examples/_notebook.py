"""Jupyter notebooks generated from the example modules, so the notebook a student opens and
the module the test suite runs are the same code.

An example ``minnet/examples/NAME.py`` becomes, cell by cell:

1. a markdown cell from the module docstring (its first line is the title);
2. the module's imports, then each module-level helper (function, class, constant), in
   source order; ``run``, ``main = ...`` and the ``if __name__ == "__main__":`` block are left
   out (they are the command line, not the lesson);
3. a parameters cell (tagged ``parameters``, as papermill expects) assigning ``run``'s
   parameters their defaults: ``quick = False``, ``epochs = None``, ...;
4. the body of ``run``, dedented and split into cells at lines that are exactly ``# %%``
   (a code cell) or ``# %% [markdown]`` (the ``# `` comment lines after it are the text);
5. the final ``return X`` as a last cell ``result = X`` followed by ``result``, so the
   figures the script returns are the cell's displayed value.

``python -m minnet.examples._notebook [--out DIR] [--quick] [NAME ...]`` writes them (by
default every example into the package's ``notebooks/`` folder, which is what is committed).
The files are built by hand as nbformat 4.5 JSON, byte for byte what ``nbformat.write``
produces, so writing them needs no Jupyter package; :func:`make_notebook` returns an
``nbformat.NotebookNode`` when nbformat is installed.
"""

import ast
import copy
import io
import json
import os
import sys
import textwrap
import tokenize
from importlib import util as importlib_util

from minnet._atomic import atomic_write

__all__ = [
    "make_notebook",
    "notebook_from_source",
    "dumps",
    "write_notebook",
    "write_all",
    "available",
    "main",
]

NOTEBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notebooks")

# Fixed metadata (no Python version, no timestamps) so that generating twice, on any machine,
# gives the same file: the test suite compares the committed notebooks with fresh ones.
_METADATA = {
    "kernelspec": {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    },
    "language_info": {"name": "python"},
}

_CODE_MARK = "# %%"
_MARKDOWN_MARK = "# %% [markdown]"


def _cell(kind, source, index, tags=None):
    """One nbformat 4.5 cell; ids are the cell's position, stable from run to run."""
    cell = {"cell_type": kind, "id": f"cell-{index}", "metadata": {}, "source": source}
    if tags:
        cell["metadata"]["tags"] = list(tags)
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


def _trim(lines):
    """Drop leading and trailing blank lines; returns the text ('' when nothing is left)."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(line.rstrip() for line in lines)


def _header_end(source, func):
    """The line holding the colon that ends ``def run(...) -> ...:``: the first ``:`` outside
    brackets after ``def`` (tokenize, because defaults and annotations may hold colons)."""
    depth, seen_def = 0, False
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if not seen_def:
            seen_def = tok.start[0] == func.lineno and tok.string == "def"
        elif tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
            depth += 1
        elif tok.type == tokenize.OP and tok.string in (")", "]", "}"):
            depth -= 1
        elif tok.type == tokenize.OP and tok.string == ":" and depth == 0:
            return tok.start[0]
    raise ValueError("could not find the end of run's header")  # unreachable for valid code


def _returns(func):
    """The return statements of ``func`` itself (not those of functions nested in it)."""
    found, todo = [], list(func.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _is_main_guard(node):
    """``if __name__ == "__main__":``"""
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _assigns(node, *names):
    targets = (
        node.targets
        if isinstance(node, ast.Assign)
        else [node.target]
        if isinstance(node, ast.AnnAssign)
        else []
    )
    return any(isinstance(t, ast.Name) and t.id in names for t in targets)


def _string_lines(source):
    """Line numbers inside multi-line strings (after their first line): left exactly as
    written when the body is dedented or split, since they are string content."""
    inside, starts = set(), []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        name = tokenize.tok_name[tok.type]
        if name == "STRING":
            inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
        elif name in ("FSTRING_START", "TSTRING_START"):  # Python 3.12+ splits f-strings
            starts.append(tok.start[0])
        elif name in ("FSTRING_END", "TSTRING_END"):
            inside.update(range(starts.pop() + 1, tok.end[0] + 1))
    return inside


def _unused_import(node, used):
    """An import none of whose names the notebook uses (``import sys`` for sys.exit(main()))."""
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        return False
    bound = [a.asname or a.name.split(".")[0] for a in node.names]
    return "*" not in bound and not any(b in used for b in bound)


def _module_cells(lines, tree):
    """Code cells for the module level: consecutive imports share a cell, consecutive
    constants share a cell, each function or class has its own. A statement keeps the
    comment lines just above it (and its decorators). ``run`` is left out here (its body
    becomes the lesson's cells), as are ``main = ...``, ``__all__`` and the main guard."""
    body = tree.body
    prev_end = 0
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        prev_end, body = body[0].end_lineno, body[1:]  # the docstring: markdown
    kept = [n for n in body if not (_assigns(n, "main", "__all__") or _is_main_guard(n))]
    used = {n.id for k in kept for n in ast.walk(k) if isinstance(n, ast.Name)}
    groups, prev_kind = [], None
    for node in body:
        start, prev_end = prev_end, node.end_lineno
        if _unused_import(node, used):
            continue  # dropped; the imports around it still share a cell
        if node not in kept or (isinstance(node, ast.FunctionDef) and node.name == "run"):
            prev_kind = None
            continue
        kind = (
            "import"
            if isinstance(node, (ast.Import, ast.ImportFrom))
            else "constant"
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            else None
        )
        text = lines[start : node.end_lineno]
        if kind is not None and kind == prev_kind and groups:
            groups[-1].extend(text)
        else:
            groups.append(list(text))
        prev_kind = kind
    return [t for t in (_trim(g) for g in groups) if t]


def _parameters(source, func, quick, who):
    """``name = default`` for each parameter of run, ``quick`` set as asked."""
    args = func.args
    if args.vararg or args.kwarg:
        raise ValueError(
            f"{who}: run() must not take *args or **kwargs: its parameters "
            "become the notebook's parameters cell"
        )
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    out = [
        "# Parameters (papermill-style): quick = True is the small, fast version the tests run."
    ]
    for arg, default in pairs:
        if default is None:
            raise ValueError(
                f"{who}: run()'s parameter {arg.arg!r} needs a default value: "
                "the notebook's parameters cell assigns it"
            )
        value = "True" if arg.arg == "quick" and quick else ast.get_source_segment(source, default)
        out.append(f"{arg.arg} = {value}")
    return "\n".join(out)


def _dedent(line, indent, in_string):
    """Remove the body's indentation, except from string content."""
    return line if in_string or line[:indent].strip() else line[indent:]


def _body_cells(lines, first, last, indent, strings):
    """Split run's body (source lines ``first..last``, 1-based) into (kind, text) cells."""
    cells, kind, buf = [], "code", []

    def flush():
        text = _trim(buf)
        if text:
            cells.append((kind, text))

    for number in range(first, last + 1):
        line = _dedent(lines[number - 1], indent, number in strings)
        if number in strings:
            buf.append(line)
            continue
        mark = line.rstrip()
        if mark in (_CODE_MARK, _MARKDOWN_MARK):
            flush()
            kind, buf = ("markdown" if mark == _MARKDOWN_MARK else "code"), []
            continue
        if kind == "markdown":
            stripped = line.strip()
            if stripped == "" or stripped == "#" or stripped.startswith("# "):
                buf.append(stripped[2:] if stripped.startswith("# ") else "")
                continue
            flush()  # code right after the text: a new code cell
            kind, buf = "code", []
        buf.append(line)
    flush()
    return cells


def notebook_from_source(source, quick=False, name=None):
    """The notebook (a plain dict, nbformat 4.5) of the example whose module source is
    ``source``; ``name`` (the example's name) adds a line saying where the code comes from.
    ValueError when the module does not follow the examples convention (see the package
    docstring of :mod:`minnet.examples`)."""
    who = f"example {name!r}" if name else "the example"
    tree = ast.parse(source)
    lines = source.splitlines()
    runs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"]
    if len(runs) != 1:
        raise ValueError(f"{who} must define one module-level function run()")
    func = runs[0]
    last = func.body[-1]
    if not isinstance(last, ast.Return) or last.value is None or _returns(func) != [last]:
        raise ValueError(
            f"{who}: run() must have exactly one return, `return X` as its "
            "last statement (it becomes the notebook's last cell)"
        )

    cells = []
    doc = ast.get_docstring(tree)
    if doc:
        title, _, rest = doc.partition("\n")
        text = f"# {title.strip()}\n"
        if rest.strip():
            text += "\n" + textwrap.dedent(rest).strip() + "\n"
        if name:
            text += (
                f"\n*This notebook is generated from `minnet/examples/{name}.py`, so "
                f"the two never differ: the same code runs as "
                f"`python -m minnet.examples.{name} --quick`.*\n"
            )
        cells.append(("markdown", text.rstrip("\n")))
    cells += [("code", text) for text in _module_cells(lines, tree)]
    cells.append(("parameters", _parameters(source, func, quick, who)))

    # The body: from the line after the header to the line before the return; comment lines
    # right above the return go with it into the last cell.
    first, ret = _header_end(source, func) + 1, last.lineno
    indent = func.body[0].col_offset
    above = ret - 1
    while (
        above >= first
        and lines[above - 1].strip().startswith("#")
        and lines[above - 1].strip() not in (_CODE_MARK, _MARKDOWN_MARK)
    ):
        above -= 1
    if above >= first and lines[above - 1].strip() == _MARKDOWN_MARK:
        above = ret - 1  # those comments are a markdown cell's text
    docstring = ast.get_docstring(func, clean=False) is not None
    if docstring:  # run's own docstring is not lesson code
        first = func.body[0].end_lineno + 1
    strings = _string_lines(source)
    cells += _body_cells(lines, first, above, indent, strings)
    comments = _trim([l.strip() for l in lines[above : ret - 1]])
    # `return X` -> `result = X`; continuation lines move right by the two characters
    # "result = " is longer than "return ", so they stay aligned under X.
    ret_lines = ["result = " + lines[ret - 1][indent + len("return ") :]]
    for number in range(ret + 1, last.end_lineno + 1):
        line = _dedent(lines[number - 1], indent, number in strings)
        ret_lines.append(line if number in strings else "  " + line)
    result = (comments + "\n" if comments else "") + _trim(ret_lines) + "\nresult"
    cells.append(("code", result))

    nb_cells = []
    for kind, text in cells:
        if kind == "parameters":
            nb_cells.append(_cell("code", text, len(nb_cells), tags=["parameters"]))
        else:
            nb_cells.append(_cell(kind, text, len(nb_cells)))
    return {
        "cells": nb_cells,
        "metadata": copy.deepcopy(_METADATA),
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _source_of(name):
    """The source of ``minnet.examples.NAME`` without importing it."""
    from minnet.examples import EXAMPLES

    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; the examples are: {', '.join(EXAMPLES)}")
    spec = importlib_util.find_spec(f"minnet.examples.{name}")
    if spec is None or not spec.origin or not os.path.exists(spec.origin):
        raise ValueError(f"example {name!r} has no module minnet/examples/{name}.py yet")
    with open(spec.origin, encoding="utf-8") as f:
        return f.read()


def available():
    """The registered examples whose module exists, in course order."""
    from minnet.examples import EXAMPLES

    return [n for n in EXAMPLES if importlib_util.find_spec(f"minnet.examples.{n}") is not None]


def make_notebook(name, quick=False):
    """The notebook of example ``name``: an ``nbformat.NotebookNode`` (nbformat 4.5, no
    outputs) when nbformat is installed, else the same content as a plain dict.

    Args:
        name (str): a registered example, e.g. ``"mnist_dense"``.
        quick (bool): the parameters cell says ``quick = True`` (the fast version).
    """
    nb = notebook_from_source(_source_of(name), quick=quick, name=name)
    try:
        import nbformat  # an optional extra: imported only when present
    except ImportError:
        return nb
    return nbformat.from_dict(nb)


def dumps(nb):
    """The notebook as the text ``nbformat.write`` would save: sorted keys, indent 1, cell
    sources as lists of lines, a final newline."""

    def split(cell):
        cell = dict(cell)
        if isinstance(cell["source"], str):
            cell["source"] = cell["source"].splitlines(keepends=True)
        return cell

    nb = dict(nb, cells=[split(c) for c in nb["cells"]])
    return (
        json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False) + "\n"
    )


def _write_text(path, text):
    """Write atomically: a temp file beside ``path`` (created with mode 0o666, which the
    umask trims like any new file's) then os.replace, so a reader never sees half a file."""
    with atomic_write(path, "w", newline="\n") as f:
        f.write(text)


def write_notebook(name, path, quick=False):
    """Write example ``name``'s notebook to ``path`` (a file, or an existing folder to write
    ``NAME.ipynb`` into); returns the path written."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"write_notebook: path must be a str or path, got {type(path).__name__}")
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, f"{name}.ipynb")
    _write_text(path, dumps(notebook_from_source(_source_of(name), quick=quick, name=name)))
    return path


def write_all(folder=NOTEBOOKS, quick=False):
    """Write the notebook of every example that has a module into ``folder`` (created if
    needed); returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    return [
        write_notebook(n, os.path.join(folder, f"{n}.ipynb"), quick=quick) for n in available()
    ]


def main(argv=None):
    """``python -m minnet.examples._notebook [--out DIR] [--quick] [NAME ...]``."""
    from minnet.examples import EXAMPLES, _common

    p = _common.ArgumentParser(
        prog="python -m minnet.examples._notebook",
        description="Write the Jupyter notebooks generated from the examples.",
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="examples to write (default: every example that exists)",
    )
    p.add_argument(
        "--out",
        type=_common.output_folder,
        default=NOTEBOOKS,
        help="folder to write NAME.ipynb into (default: the package's notebooks/, "
        "the committed ones)",
    )
    p.add_argument("--quick", action="store_true", help="set quick = True in the parameters cell")
    args = p.parse_args(argv)
    for n in args.names:
        if n not in EXAMPLES:
            p.error(f"unknown example {n!r}; the examples are: {', '.join(EXAMPLES)}")
    try:
        os.makedirs(args.out, exist_ok=True)
        paths = (
            [write_notebook(n, args.out, quick=args.quick) for n in args.names]
            if args.names
            else write_all(args.out, quick=args.quick)
        )
    except (ValueError, SyntaxError, OSError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
