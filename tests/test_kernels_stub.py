"""minnet/kernels.pyi, the types mypy reads for minnet.kernels (whose names are copied from the
Cython wrappers at import time), against the runtime: the same names as
``minnet.kernels.__all__``, and for each op the parameters of its ``inspect.signature`` (names,
kinds and defaults; the wrappers embed their signatures). It is read from beside the imported
module, so it also checks that the stub ships with the package.
"""

import ast
import inspect
import pathlib

import pytest

from minnet import _ops, kernels

STUB = pathlib.Path(kernels.__file__).with_suffix(".pyi")
IDS = [op.name for op in _ops.OPS]


def _stub():
    return ast.parse(STUB.read_text(), filename=str(STUB))


def _public_names(tree):
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in names if not n.startswith("_")]


def _stub_params(fn):
    """(name, kind, default) of a stub function, as inspect.Parameter spells them."""
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(a.defaults)) + [
        ast.literal_eval(d) for d in a.defaults
    ]
    params = [
        (p.arg, inspect.Parameter.POSITIONAL_ONLY, d)
        for p, d in zip(a.posonlyargs, defaults[: len(a.posonlyargs)])
    ]
    params += [
        (p.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, d)
        for p, d in zip(a.args, defaults[len(a.posonlyargs) :])
    ]
    if a.vararg:
        params.append((a.vararg.arg, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty))
    params += [
        (
            p.arg,
            inspect.Parameter.KEYWORD_ONLY,
            inspect.Parameter.empty if d is None else ast.literal_eval(d),
        )
        for p, d in zip(a.kwonlyargs, a.kw_defaults)
    ]
    if a.kwarg:
        params.append((a.kwarg.arg, inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty))
    return params


def _runtime_params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_stub_ships_beside_the_module():
    assert STUB.is_file(), f"{STUB} is missing: is it in the package data?"
    assert (STUB.parent / "py.typed").is_file()


def test_the_stub_declares_exactly_the_exported_names():
    names = _public_names(_stub())
    assert len(names) == len(set(names)), "a name is declared twice"
    assert sorted(names) == sorted(kernels.__all__)


@pytest.mark.parametrize("op", _ops.OPS, ids=IDS)
def test_the_stub_has_the_runtime_signature(op):
    defs = {n.name: n for n in _stub().body if isinstance(n, ast.FunctionDef)}
    fn = defs[op.name]
    assert _stub_params(fn) == _runtime_params(getattr(kernels, op.name))
    assert fn.returns is not None, f"{op.name} has no return type"
    args = fn.args
    for p in args.posonlyargs + args.args + args.kwonlyargs:
        assert p.annotation is not None, f"{op.name}: parameter {p.arg} has no type"
