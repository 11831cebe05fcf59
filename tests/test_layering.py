"""The layering of ARCHITECTURE.md, checked from the source: each layer imports only the layers
below it, at the top of the module or inside a function alike (a lazy import is still an
upward dependency), and no module assigns attributes of another (no monkey-patching)."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "minnet"

# layer of each module prefix (the longest prefix wins); a module may import from its own
# layer and below, never above
LAYERS = [
    ("minnet._kernels", 0),
    ("minnet.kernels", 0),
    ("minnet._ops", 0),
    ("minnet.reference", 0),
    ("minnet.device", 0),
    ("minnet._arena", 0),
    ("minnet.random", 1),
    ("minnet.autograd", 1),
    ("minnet._dtypes", 1),
    ("minnet._functions", 2),
    ("minnet._tensor", 3),
    ("minnet._creation", 4),
    ("minnet.tensor", 5),
    ("minnet.nn.functional._checks", 6),
    ("minnet.distributed", 6),
    ("minnet.nn.functional", 7),
    ("minnet.nn", 8),
    ("minnet.optim", 8),
    ("minnet.keras", 10),
]
CORE = [name for name, level in LAYERS if level <= 5]


def _layer(module):
    best = None
    for prefix, level in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level)
    return None if best is None else best[1]


def _module_name(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree, module):
    """Every module an import statement anywhere in tree names (relative ones resolved)."""
    package = module if module.endswith("__init__") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            for a in node.names:
                # `from minnet.nn import functional` imports minnet.nn.functional
                yield node.lineno, f"{base}.{a.name}" if _layer(f"{base}.{a.name}") else base


def _sources():
    for path in sorted(PKG.rglob("*.py")):
        yield _module_name(path), path, ast.parse(path.read_text(), str(path))


def test_every_module_imports_only_its_layer_and_below():
    bad = []
    for module, path, tree in _sources():
        mine = _layer(module)
        if mine is None:
            continue
        for line, target in _imports(tree, module):
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {target}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("core", CORE)
def test_the_core_does_not_reach_into_nn_or_keras(core):
    for module, path, tree in _sources():
        if _layer(module) is None or not (module == core or module.startswith(core + ".")):
            continue
        for line, target in _imports(tree, module):
            assert not target.startswith(("minnet.nn", "minnet.keras", "minnet.optim")), (
                f"{path.name}:{line} imports {target}"
            )


def test_no_module_assigns_into_another_module():
    """`other_module.name = value` at module level is monkey-patching; layers register through
    a declared function instead (autograd.register_tensor_type)."""
    bad = []
    for module, path, tree in _sources():
        imported = {
            (a.asname or a.name).split(".")[0]
            for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for a in node.names
        }
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if (
                        isinstance(t, ast.Attribute)
                        and isinstance(t.value, ast.Name)
                        and t.value.id in imported
                    ):
                        bad.append(f"{path.relative_to(PKG.parent)}:{node.lineno}")
    assert not bad, bad


def test_the_tensor_type_is_registered_once():
    import minnet
    from minnet import autograd

    assert autograd.Tensor is minnet.Tensor
    with pytest.raises(RuntimeError, match="already registered"):
        autograd.register_tensor_type(type("Other", (), {"_wrap": staticmethod(lambda a: a)}))
