"""minnet.save / minnet.load: round trips, the documented format, atomicity, bad files."""

import json
import os
import zipfile

import numpy as np
import pytest

import minnet


def sample(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "model": {
            "0.weight": rng.standard_normal((3, 2)).astype(np.float32),
            "0.bias": rng.standard_normal(3),
            "1.num_batches_tracked": np.array(7, dtype=np.int64),
        },
        "optim": {
            "state": {0: {"step": 3, "exp_avg": rng.standard_normal(4)}},
            "param_groups": [
                {"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False, "name": None, "params": [0]}
            ],
        },
        "epoch": 12,
        "best": float("inf"),
        "loss": float("nan"),
        "tag": "run/1",
        "list": [1, 2.5, [np.arange(3)], "x"],
        "empty": {},
        "flag": True,
    }


def assert_same(a, b):
    assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)), (
        type(a),
        type(b),
    )
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_keeps_nesting_types_and_dtypes(tmp_path):
    obj = sample()
    path = tmp_path / "ckpt.mnt"
    minnet.save(obj, path)
    assert_same(obj, minnet.load(path))
    assert_same(obj, minnet.load(str(path)))
    assert os.listdir(tmp_path) == ["ckpt.mnt"]  # the temp file is gone


def test_file_is_the_documented_npz(tmp_path):
    path = tmp_path / "m.mnt"
    minnet.save({"a": {"w": np.ones(2)}, "n": 3}, path)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["__minnet__", "a.w"]
        manifest = json.loads(z["__minnet__"].tobytes())
    assert manifest == {
        "format": "minnet",
        "version": 1,
        "root": {"dict": [["a", {"dict": [["w", {"array": "a.w"}]]}], ["n", 3]]},
    }


def test_colliding_paths_get_distinct_members(tmp_path):
    obj = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}}
    minnet.save(obj, tmp_path / "c.mnt")
    out = minnet.load(tmp_path / "c.mnt")
    np.testing.assert_array_equal(out["a.b"], [0.0])
    np.testing.assert_array_equal(out["a"]["b"], [1.0])


def test_tensors_are_saved_as_arrays(tmp_path):
    class FakeTensor:
        def __init__(self, a):
            self.data = a

    minnet.save({"w": FakeTensor(np.arange(4.0))}, tmp_path / "t.mnt")
    out = minnet.load(tmp_path / "t.mnt")
    assert isinstance(out["w"], np.ndarray)
    np.testing.assert_array_equal(out["w"], np.arange(4.0))


def test_overwrite_is_atomic_replace(tmp_path):
    path = tmp_path / "x.mnt"
    minnet.save({"v": 1}, path)
    minnet.save({"v": 2}, path)
    assert minnet.load(path) == {"v": 2}
    # a failing save leaves the old file intact and no temp file behind
    with pytest.raises(TypeError, match="cannot save a object"):
        minnet.save({"v": object()}, path)
    assert minnet.load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["x.mnt"]


@pytest.mark.parametrize("cut", [10, 100, 0.5, -30])
def test_truncated_file_raises_value_error_naming_path(tmp_path, cut):
    path = tmp_path / "ckpt.mnt"
    minnet.save(sample(), path)
    raw = path.read_bytes()
    n = int(len(raw) * cut) if isinstance(cut, float) else cut
    path.write_bytes(raw[:n])
    with pytest.raises(ValueError, match=str(path).replace("\\", "\\\\")):
        minnet.load(path)


def test_corrupt_and_foreign_files(tmp_path):
    p = tmp_path / "garbage.bin"
    p.write_bytes(b"\x00\x01not a zip at all" * 10)
    with pytest.raises(ValueError, match="garbage.bin"):
        minnet.load(p)
    q = tmp_path / "plain.npz"  # a plain np.savez file loads as a dict of its arrays
    np.savez(q, a=np.ones(2), b=np.arange(3))
    plain = minnet.load(q)
    assert list(plain) == ["a", "b"]
    np.testing.assert_array_equal(plain["b"], np.arange(3))
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    with pytest.raises(ValueError, match="empty.npz.*not a minnet file"):
        minnet.load(empty)
    r = tmp_path / "flipped.mnt"
    minnet.save(sample(), r)
    raw = bytearray(r.read_bytes())
    for i in range(200, 260):
        raw[i] ^= 0xFF
    r.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="flipped.mnt"):
        minnet.load(r)
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match="single.npy"):
        minnet.load(npy)
    future = tmp_path / "future.mnt"
    blob = np.frombuffer(
        json.dumps({"format": "minnet", "version": 99, "root": 1}).encode(), np.uint8
    )
    with open(future, "wb") as f:
        np.savez(f, __minnet__=blob)
    with pytest.raises(ValueError, match="version 99"):
        minnet.load(future)
    with pytest.raises(FileNotFoundError):
        minnet.load(tmp_path / "missing.mnt")


def test_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil.mnt"
    minnet.save({"a": np.ones(1)}, path)
    with zipfile.ZipFile(path, "a") as z:
        import io

        buf = io.BytesIO()
        np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        z.writestr("evil.npy", buf.getvalue())
    with pytest.raises(ValueError, match="evil.mnt"):
        minnet.load(path)


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        minnet.save({"a": np.array([None, 1], dtype=object)}, tmp_path / "o.mnt")
    with pytest.raises(TypeError, match="dict keys"):
        minnet.save({(1, 2): 3}, tmp_path / "o.mnt")


def test_module_state_dict_round_trip_reproduces_outputs(tmp_path):
    from minnet import nn

    minnet.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(3, 5), nn.BatchNorm1d(5), nn.GELU(), nn.LayerNorm(5), nn.Linear(5, 2)
    )
    x = minnet.Tensor(np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32))
    for _ in range(3):
        net(x)  # move BatchNorm's running statistics
    net.eval()
    minnet.save(net.state_dict(), tmp_path / "net.mnt")
    loaded = minnet.load(tmp_path / "net.mnt")
    assert list(loaded) == list(net.state_dict())
    assert all(isinstance(v, np.ndarray) for v in loaded.values())
    nbt = loaded["1.num_batches_tracked"]
    assert nbt.dtype == np.int64 and nbt.shape == () and nbt == 3
    minnet.manual_seed(1)
    other = nn.Sequential(
        nn.Linear(3, 5), nn.BatchNorm1d(5), nn.GELU(), nn.LayerNorm(5), nn.Linear(5, 2)
    ).eval()
    assert not np.array_equal(other(x).data, net(x).data)
    other.load_state_dict(loaded)
    np.testing.assert_array_equal(other(x).data, net(x).data)


def test_sigkill_mid_save_leaves_no_temp_files_and_the_old_checkpoint(tmp_path):
    """A writer killed while saving cannot remove its temporary file; the next save of that
    path does. The checkpoint under the final name is always a complete one."""
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "ckpt.pt"
    big = {"w": np.arange(2_000_000, dtype=np.float64)}  # 16 MB
    minnet.save({"version": -1, **big}, target)
    code = (
        f"import numpy as np, minnet\n"
        f"w = np.arange(2_000_000, dtype=np.float64)\n"
        f"print('ready', flush=True)\n"
        f"for v in range(1000):\n"
        f"    minnet.save({{'version': v, 'w': w}}, {str(target)!r})\n"
    )
    rng = np.random.default_rng(0)
    kills = 12
    for k in range(kills):
        p = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(tmp_path.parent),
        )
        assert p.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.02, 0.3)))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        p.stdout.close()
        ck = minnet.load(target)  # complete: the previous or a newer version
        assert ck["w"].shape == (2_000_000,) and ck["w"][-1] == 1_999_999
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    minnet.save({"version": "final", **big}, target)  # removes the dead writers' temps
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []
    assert minnet.load(target)["version"] == "final"
    # (most kills land mid-write: the temps were there to clean)
    assert len(leftovers) >= 1


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    from minnet._atomic import remove_stale_temps

    target = tmp_path / "m.pt"
    mine = tmp_path / f".m.pt.{os.getpid()}.abcd1234.tmp"  # this process: live
    mine.write_bytes(b"x")
    dead = tmp_path / ".m.pt.999999999.abcd1234.tmp"  # no such pid
    dead.write_bytes(b"x")
    other = tmp_path / ".other.pt.999999999.abcd1234.tmp"  # another target's
    other.write_bytes(b"x")
    assert remove_stale_temps(target) == 1
    assert mine.exists() and not dead.exists() and other.exists()


def test_a_failed_save_removes_its_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "x.pt"
    minnet.save({"a": 1}, target)

    def half_then_fail(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(minnet.serialization.np, "savez", half_then_fail)
    with pytest.raises(OSError, match="No space"):
        minnet.save({"a": 2}, target)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["x.pt"] and minnet.load(target) == {"a": 1}
