"""Memory stays flat in long training: after a warm-up, resident memory does not grow with the
number of steps (an MLP, the lecture CNN, a GRU), and empty_cache() gives the kernel
workspaces back. Each model trains in a fresh interpreter so nothing else's memory counts;
the 10,000-step figures are in bench/RESULTS.md (`python tests/test_leaks.py 10000`)."""

import json
import subprocess
import sys
import tempfile

import pytest

SCRIPT = r'''
import json, os, sys
import numpy as np
import minnet
from minnet import nn

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

model_name, steps = sys.argv[1], int(sys.argv[2])
minnet.manual_seed(0)
rng = np.random.default_rng(0)
if model_name == "mlp":
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    x = rng.standard_normal((32, 28, 28)).astype(np.float32)
elif model_name == "cnn":
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(288, 10))
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
else:
    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(28, 64, batch_first=True)
            self.fc = nn.Linear(64, 10)
        def forward(self, x):
            return self.fc(self.gru(x)[1][-1])
    model = G()
    x = rng.standard_normal((16, 28, 28)).astype(np.float32)
y = rng.integers(0, 10, len(x))
opt = minnet.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
xs, ys = minnet.tensor(x), minnet.tensor(y)
marks = {}
warm = steps // 10
for step in range(1, steps + 1):
    opt.zero_grad()
    loss = loss_fn(model(xs), ys)
    loss.backward()
    opt.step()
    if step in (warm, steps):
        marks[step] = rss()
before = rss()
freed = minnet.empty_cache()
print(json.dumps({"warm": marks[warm], "end": marks[steps], "freed": freed,
                  "after_empty_cache": rss(), "before_empty_cache": before,
                  "loss": float(loss.item())}))
'''


def measure(model, steps):
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT, model, str(steps)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tempfile.gettempdir(),
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("model,steps", [("mlp", 1500), ("cnn", 400), ("gru", 600)])
def test_resident_memory_is_flat_after_warm_up(model, steps):
    r = measure(model, steps)
    growth = r["end"] - r["warm"]
    # a leak of one small array per step would be >= 64 KiB x 0.9 steps here; allow 1 MiB
    # (allocator noise) or 1% of the resident size
    assert growth < max(1 << 20, 0.01 * r["warm"]), r
    assert r["freed"] >= 0


if __name__ == "__main__":  # the long runs recorded in bench/RESULTS.md
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    for m in ("mlp", "cnn", "gru"):
        r = measure(m, n)
        print(
            f"{m}: {n} steps, RSS at step {n // 10}: {r['warm'] / 2**20:.1f} MiB, at step "
            f"{n}: {r['end'] / 2**20:.1f} MiB, growth {(r['end'] - r['warm']) / r['warm']:+.3%}"
            f"; empty_cache() freed {r['freed'] / 2**20:.2f} MiB"
        )
