"""The notebooks generated from the examples (minnet.examples._notebook).

* the generator, on a small example of the test's own: the cells it makes, and that running
  them gives what the module's run() returns;
* the committed notebooks (minnet/examples/notebooks) are exactly what the generator makes now;
* every example's quick notebook runs in a real Jupyter kernel: no errors, the last cell shows
  the returned figures, Keras's fit prints one progress line per epoch and summary() its table;
* Keras's progress bar in Jupyter: one output per epoch, updated in place (a fake display, and
  a real kernel).

The kernel tests need nbclient, nbformat and ipykernel (the ``test`` extra) and are skipped
without them. They run the kernel from a kernelspec written into a temporary JUPYTER_PATH
(which jupyter_client searches first), so the kernel is this interpreter even when the machine
has some other ``python3`` kernel installed for the user.
"""

import ast
import importlib.util
import math
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pytest

from minnet import keras
from minnet.examples import EXAMPLES, _common, _notebook
from minnet.keras import callbacks, layers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A small example of the test's own, following the examples convention, with the awkward
# cases: a multi-line header, constants, a multi-line string, a comment above the return.
TOY = '''\
"""Toy: fit a slope with least squares.

The one-parameter least-squares fit, in closed form."""
import sys

import numpy as np

from minnet.examples import _common

# the slope hidden in the data
SLOPE = 2.5
NOISE = 0.1


def make_data(rng, n):
    """Noisy points on the line y = SLOPE x."""
    x = rng.uniform(-1, 1, n)
    return x, SLOPE * x + NOISE * rng.standard_normal(n)


def run(quick=False, epochs=None, threads=None, seed=0,
        out_dir=".", verbose=1):
    # %% [markdown]
    # ## Data
    #
    # We draw *n* points.
    # %%
    rng = _common.setup(threads, seed)
    n = 200 if quick else 20_000
    x, y = make_data(rng, n)
    # %% [markdown]
    # ## Fit
    # %%
    note = """slope by
  least squares"""
    m = float(np.sum(x * y) / np.sum(x * x))
    if verbose:
        print(note.split()[0], round(m, 3))
    # the figures a test asserts
    return _common.report("toy", slope=m,
                          n=n)


main = _common.main_for("toy", run)

if __name__ == "__main__":
    sys.exit(main())
'''


def _sources(nb, kind="code"):
    return [c["source"] for c in nb["cells"] if c["cell_type"] == kind]


# --- the generator ------------------------------------------------------------------------


def test_cells_of_a_small_example():
    nb = _notebook.notebook_from_source(TOY, quick=False, name="toy")
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == [
        "markdown",
        "code",
        "code",
        "code",
        "code",
        "markdown",
        "code",
        "markdown",
        "code",
        "code",
    ]
    title = nb["cells"][0]["source"]
    assert title.startswith("# Toy: fit a slope with least squares.\n\nThe one-parameter")
    assert "minnet/examples/toy.py" in title
    imports, constants, helper, params, data, fit, result = _sources(nb)
    # `import sys` only serves the command line: left out; run/main/__main__ left out.
    assert imports == "import numpy as np\n\nfrom minnet.examples import _common"
    assert constants == "# the slope hidden in the data\nSLOPE = 2.5\nNOISE = 0.1"
    assert helper.startswith("def make_data(rng, n):\n")
    assert params.splitlines()[1:] == [
        "quick = False",
        "epochs = None",
        "threads = None",
        "seed = 0",
        'out_dir = "."',
        "verbose = 1",
    ]
    assert nb["cells"][4]["metadata"] == {"tags": ["parameters"]}
    assert data.startswith("rng = _common.setup(threads, seed)\n")  # dedented
    assert 'note = """slope by\n  least squares"""' in fit  # string untouched
    assert result == (
        '# the figures a test asserts\nresult = _common.report("toy", slope=m,'
        '\n                        n=n)\nresult'
    )
    assert _sources(nb, "markdown")[1:] == ["## Data\n\nWe draw *n* points.", "## Fit"]
    code = "\n".join(_sources(nb))
    assert "def run" not in code and "main_for" not in code and "__main__" not in code
    quick = _notebook.notebook_from_source(TOY, quick=True)
    assert "quick = True" in _sources(quick)[3] and "quick = False" not in _sources(quick)[3]
    assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])
    assert _notebook.notebook_from_source(TOY) == _notebook.notebook_from_source(TOY)


def test_the_cells_compute_what_run_returns(tmp_path, capsys):
    path = tmp_path / "toy.py"
    path.write_text(TOY)
    spec = importlib.util.spec_from_file_location("toy_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.run(quick=True)
    namespace = {}
    for source in _sources(_notebook.notebook_from_source(TOY, quick=True)):
        exec(compile(source, "<cell>", "exec"), namespace)
    assert namespace["result"] == expected
    assert namespace["result"]["n"] == 200 and abs(expected["slope"] - 2.5) < 0.05
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[2] and out[0].startswith("slope ")  # same prints, both ways


@pytest.mark.parametrize(
    "old, new",
    [
        ("        print(note.split()[0], round(m, 3))\n", "        return {}\n"),  # early return
        (
            '    return _common.report("toy", slope=m,\n                          n=n)\n',
            '    _common.report("toy", slope=m, n=n)\n',
        ),  # no return
        ("def run(quick=False,", "def run(quick,"),  # no default
    ],
)
def test_a_run_off_the_convention_is_refused(old, new):
    source = TOY.replace(old, new)
    assert source != TOY
    with pytest.raises(ValueError, match="toy.*(return|default)"):
        _notebook.notebook_from_source(source, name="toy")


def test_the_json_is_what_nbformat_writes():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed")
    nb = _notebook.notebook_from_source(TOY, quick=True, name="toy")
    node = nbformat.from_dict(nb)
    nbformat.validate(node)
    assert nbformat.writes(node) + "\n" == _notebook.dumps(nb)
    assert nbformat.reads(_notebook.dumps(nb), as_version=4) == node


def _existing():
    names = _notebook.available()
    if not names:
        pytest.skip("no example module exists yet")
    return names


def test_write_notebook_is_atomic_and_honours_the_umask(tmp_path):
    name = _existing()[0]
    old = os.umask(0o027)
    try:
        path = _notebook.write_notebook(name, tmp_path)  # a folder: NAME.ipynb in it
    finally:
        os.umask(old)
    assert path == os.path.join(tmp_path, f"{name}.ipynb")
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == [f"{name}.ipynb"]  # no temp file left over
    with open(path, encoding="utf-8") as f:
        assert f.read() == _notebook.dumps(_notebook.make_notebook(name))
    with pytest.raises(ValueError, match="unknown example 'nope'"):
        _notebook.write_notebook("nope", tmp_path)
    with pytest.raises(TypeError, match="path"):
        _notebook.write_notebook(name, 3)


def test_committed_notebooks_are_up_to_date():
    names = _existing()
    folder = _notebook.NOTEBOOKS
    fix = "regenerate them with: python -m minnet.examples._notebook"
    committed = (
        sorted(f[: -len(".ipynb")] for f in os.listdir(folder) if f.endswith(".ipynb"))
        if os.path.isdir(folder)
        else []
    )
    assert sorted(names) == committed, f"the notebooks are not those of the examples; {fix}"
    for name in names:
        with open(os.path.join(folder, f"{name}.ipynb"), encoding="utf-8") as f:
            text = f.read()
        assert text == _notebook.dumps(_notebook.make_notebook(name)), (
            f"notebooks/{name}.ipynb is stale; {fix}"
        )
        if importlib.util.find_spec("nbformat") is not None:
            import nbformat

            nbformat.validate(nbformat.reads(text, as_version=4))


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_notebook_code_stands_alone(name):
    """What a notebook does not have: the module's ``__file__`` (use the package's, e.g.
    ``os.path.dirname(_common.__file__)``), and ``run``/``main`` (not in the notebook)."""
    if importlib.util.find_spec(f"minnet.examples.{name}") is None:
        pytest.skip(f"minnet/examples/{name}.py does not exist yet")
    nb = _notebook.make_notebook(name)
    code = "\n".join(_sources(nb))
    names = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    defined = {
        n.name for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
    }
    assert "__file__" not in names, (
        f"{name}: the notebook uses __file__, which a notebook does not define"
    )
    assert not ({"run", "main"} & names) - defined, f"{name}: the notebook calls run/main"


def test_command_line(tmp_path):
    name = _existing()[0]
    cmd = [sys.executable, "-m", "minnet.examples._notebook", "--out", str(tmp_path), "--quick"]
    done = subprocess.run(
        cmd + [name], capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir()
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == os.path.join(tmp_path, f"{name}.ipynb")
    with open(done.stdout.strip(), encoding="utf-8") as f:
        assert f.read() == _notebook.dumps(_notebook.make_notebook(name, quick=True))
    bad = subprocess.run(
        cmd + ["nope"], capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir()
    )
    assert bad.returncode == 2 and "unknown example 'nope'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


# --- Keras's progress bar with a (fake) notebook display ----------------------------------


class FakeDisplay:
    """Records what ProgbarLogger shows: one list of texts per display() call."""

    def __init__(self):
        self.outputs = []

    def __call__(self, bundle, raw=False, display_id=None):
        assert raw and display_id is True
        texts = [bundle["text/plain"]]
        self.outputs.append(texts)

        class Handle:
            def update(self, bundle, raw=False):
                assert raw
                texts.append(bundle["text/plain"])

        return Handle()


def _blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(0, 3, (3, 8))[y] + rng.normal(size=(n, 8))).astype(np.float32)
    return x, y


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


BAR = re.compile(r"^ *(\d+)/(\d+) ━* *\S+ \S+/step( - \w+: \S+)*$")


def test_progress_in_a_notebook_is_one_output_per_epoch(monkeypatch, capsys):
    fake = FakeDisplay()
    monkeypatch.setattr(callbacks, "_notebook_display", lambda: fake)
    x, y = _blobs(600)
    model = _model()
    t0 = time.time()
    model.fit(x, y, epochs=3, batch_size=2, validation_data=(x[:50], y[:50]))  # 300 steps
    elapsed = time.time() - t0
    # stdout holds the epoch headers only; each epoch is one display, ending on its last step.
    assert capsys.readouterr().out.splitlines() == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(fake.outputs) == 3
    for texts in fake.outputs:
        final = BAR.match(texts[-1])
        assert final and final.group(1) == final.group(2) == "300", texts[-1]
        assert " - val_loss: " in texts[-1] and "━" * 20 in texts[-1]
        assert all(BAR.match(t) for t in texts)
    # Throttled to one update per 0.1 s (plus the first and the final one), not per step.
    updates = sum(len(t) for t in fake.outputs)
    assert updates <= 3 * 2 + elapsed / callbacks.ProgbarLogger.NOTEBOOK_INTERVAL, updates
    assert updates < 3 * 300
    model.evaluate(x, y, batch_size=300)
    model.predict(x, batch_size=300)
    assert [BAR.match(t[-1]).group(1, 2) for t in fake.outputs[3:]] == [("2", "2"), ("2", "2")]
    model.fit(x, y, epochs=2, batch_size=300, verbose=2)  # verbose=2: plain lines still
    assert len(fake.outputs) == 5 and " - loss: " in capsys.readouterr().out


def test_no_notebook_display_outside_a_kernel():
    pytest.importorskip("IPython", reason="IPython is not installed")
    import IPython  # noqa: F401  (imported, but this process is no kernel)

    assert callbacks._notebook_display() is None


# --- real kernels -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """Prepare to run notebooks in a real ``python3`` kernel that is this interpreter: write
    ipykernel's kernelspec (argv = sys.executable) into a temporary JUPYTER_PATH, which
    jupyter_client searches before the user's and the system's folders. The connection
    files and the IPython profile go to temporary folders too (a fresh, read-only HOME is
    fine). Yields a function executing a notebook in a folder."""
    for module in ("nbclient", "nbformat", "ipykernel"):
        pytest.importorskip(module, reason=f"{module} is not installed (the test extra)")
    import nbclient
    from ipykernel.kernelspec import install

    root = tmp_path_factory.mktemp("jupyter")
    mp = pytest.MonkeyPatch()
    paths = [str(root / "share" / "jupyter")] + [
        p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p
    ]
    mp.setenv("JUPYTER_PATH", os.pathsep.join(paths))
    mp.setenv("JUPYTER_RUNTIME_DIR", str(root / "runtime"))
    mp.setenv("IPYTHONDIR", str(root / "ipython"))
    mp.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's migration warning
    install(prefix=str(root))  # root/share/jupyter/kernels/python3

    class Client(nbclient.NotebookClient):
        """Also counts the kernel's messages per cell: the saved notebook keeps only the
        final state of an updated display, the messages show the updates themselves."""

        def process_message(self, msg, cell, cell_index):
            self.messages.setdefault(cell_index, []).append(msg["msg_type"])
            return super().process_message(msg, cell, cell_index)

    def execute(nb, cwd):
        """Run ``nb`` in a fresh kernel in folder ``cwd``; returns {cell index: message
        types received}."""
        client = Client(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        )
        client.messages = {}
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as e:
            pytest.fail(f"a cell failed in the kernel:\n{e}")
        errors = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, errors
        return client.messages

    yield execute
    mp.undo()


def _texts(cell):
    """The cell's outputs as text, in order: stream text and displays' text/plain."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif "text/plain" in o.get("data", {}):
            out.append(o.data["text/plain"] + "\n")
    return "".join(out)


def _check_fit_output(cell):
    """A cell calling fit in a notebook: each ``Epoch i/N`` is followed by exactly one
    progress line, its final state; no \\r redraws saved."""
    text = _texts(cell)
    assert "\r" not in text
    lines = text.splitlines()
    epochs = [i for i, line in enumerate(lines) if re.fullmatch(r"Epoch \d+/\d+", line)]
    bars = [i for i, line in enumerate(lines) if BAR.match(line)]
    assert epochs and bars == [i + 1 for i in epochs], text
    for i in bars:
        step, steps = BAR.match(lines[i]).group(1, 2)
        assert step == steps and "━" * 20 in lines[i], lines[i]
    displays = [o for o in cell.outputs if o.output_type == "display_data"]
    assert len(displays) == len(epochs)
    return len(epochs)


def _check_summary_output(cell):
    """``summary()`` printed its box-drawing table intact: every row of the table the same
    width, and the parameter totals after it."""
    text = _texts(cell)
    lines = text.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert table and table[0].startswith("┏") and "Layer (type)" in table[1], text
    assert len({len(line) for line in table}) == 1, table
    totals = re.findall(r"^ Total params: ([\d,]+) \(", text, re.M)
    assert totals and all(int(t.replace(",", "")) > 0 for t in totals)
    return len(totals)


def test_keras_fit_evaluate_summary_in_a_kernel(kernel, tmp_path):
    import nbformat

    code = [
        "import numpy as np\nfrom minnet import keras\nfrom minnet.keras import layers",
        textwrap.dedent("""\
            rng = np.random.default_rng(0)
            y = rng.integers(0, 3, 600)
            x = (rng.normal(0, 3, (3, 8))[y] + rng.normal(size=(600, 8))).astype("float32")
            model = keras.Sequential([keras.Input(shape=(8,)),
                                      layers.Dense(16, activation="relu"),
                                      layers.Dense(3, activation="softmax")])
            model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
            model.summary()"""),
        # 120 steps of at least 5 ms: 0.6 s an epoch, so the bar is seen moving.
        textwrap.dedent("""\
            import time
            slow = keras.callbacks.LambdaCallback(on_batch_end=lambda b, l: time.sleep(0.005))
            history = model.fit(x, y, epochs=3, batch_size=4, validation_split=0.2,
                                callbacks=[slow])"""),
        "loss, acc = model.evaluate(x, y, batch_size=60)\nacc",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    messages = kernel(nb, tmp_path)
    assert _check_summary_output(nb.cells[1]) == 1
    assert _check_fit_output(nb.cells[2]) == 3
    # Live, each epoch's line was updated in place a few times (throttled to 10 a second),
    # not redrawn 120 times.
    updates = messages[2].count("update_display_data")
    assert 3 * 2 <= updates <= 3 * 12, messages[2]
    assert messages[2].count("display_data") == 3
    (evaluate,) = [o for o in nb.cells[3].outputs if o.output_type == "display_data"]
    assert BAR.match(evaluate.data["text/plain"]).group(1, 2) == ("10", "10")
    acc = float(nb.cells[3].outputs[-1].data["text/plain"])
    assert acc > 0.9, acc


def _figures(text):
    """The returned dict from its repr (NumPy 2 writes np.float64(0.5))."""
    value = eval(
        text, {"__builtins__": {}, "np": np, "array": np.array, "nan": math.nan, "inf": math.inf}
    )
    assert isinstance(value, dict), text
    return value


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_notebook_runs_in_a_kernel(name, kernel, tmp_path):
    if importlib.util.find_spec(f"minnet.examples.{name}") is None:
        pytest.skip(f"minnet/examples/{name}.py does not exist yet")
    nb = _notebook.make_notebook(name, quick=True)
    kernel(nb, tmp_path)
    last = nb.cells[-1]
    assert last.source.startswith("result = ") or "\nresult = " in last.source
    (shown,) = [o for o in last.outputs if o.output_type == "execute_result"]
    figures = _figures(shown.data["text/plain"])
    # The last cell shows what run() returns: the figures of the printed report line,
    # at least one number, and the data used.
    numbers = {k: v for k, v in figures.items() if isinstance(v, (int, float, np.number))}
    assert numbers and "data" in figures, figures
    assert all(math.isfinite(v) for v in numbers.values()), figures
    line = ", ".join(
        f"{k} {_common._figure(v)}" if isinstance(v, float) else f"{k} {v}"
        for k, v in figures.items()
    )
    assert f"{name}: {line}" in _texts(last).splitlines(), _texts(last)
    # Keras (mnist_dense, ...): fit shows one progress line per epoch, summary() its table.
    code = [c for c in nb.cells if c.cell_type == "code"]
    fits = [c for c in code if ".fit(" in c.source and "verbose=verbose" in c.source]
    for cell in fits:
        assert _check_fit_output(cell) >= 1
    for cell in code:
        if ".summary()" in cell.source:
            assert _check_summary_output(cell) == cell.source.count(".summary()")
    if "from minnet import keras" in code[0].source and ".fit(" in "".join(c.source for c in code):
        assert fits, "a Keras example should pass verbose=verbose to fit"
