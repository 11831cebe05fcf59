"""Recurrent benchmark cases (``minnet-bench kernels --op gru|lstm|rnn``) and the ``seq2seq``
training model (``minnet-bench train --model seq2seq``).

Kernel cases, on the issue's three standard shapes (T, B, I, H) = (10, 64, 28, 128),
(50, 32, 64, 256), (100, 16, 32, 64), float32:
  - ``fwd``: minnet.kernels.<cell>_forward against minnet.reference (the "numpy" column) and
    torch.nn.<Cell> under no_grad;
  - ``fwd+bwd``: forward and backpropagation through time (dy over all outputs; no dx, as the
    input is data), against the reference and torch.nn.<Cell> forward + ``out.backward(dy)``
    (whose input does not require grad either);
  - ``nn fwd+bwd``: the same through the modules on both sides (minnet.nn.<Cell> with its
    autograd nodes against torch.nn.<Cell>): what a training loop pays.
"""

import numpy as np

import minnet
from minnet import kernels, reference
from minnet.bench.suites import Case
from minnet.bench.train import register

STANDARD = [(10, 64, 28, 128), (50, 32, 64, 256), (100, 16, 32, 64)]
_GATES = {"gru": 3, "lstm": 4, "rnn": 1}
_TORCH = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN"}


def _flops(op, T, B, I, H, backward):
    """Matmul flops: forward x W_ih^T and h W_hh^T; backward dW_ih, dW_hh and dh (no dx)."""
    f = 2.0 * T * B * _GATES[op] * H * (I + H)
    return 3 * f - 2.0 * T * B * _GATES[op] * H * I if backward else f


def _kernel_calls(mod, op, x, h0, p, dy):
    """(forward, forward + backward) zero-argument callables over module `mod`."""
    if op == "lstm":

        def fwd():
            return mod.lstm_forward(x, h0, h0, *p)

        def both():
            y, hn, cn, saved = mod.lstm_forward(x, h0, h0, *p)
            return mod.lstm_backward(dy, None, None, x, p[0], p[1], saved, need_dx=False)
    else:
        f = mod.gru_forward if op == "gru" else mod.rnn_forward
        b = mod.gru_backward if op == "gru" else mod.rnn_backward

        def fwd():
            return f(x, h0, *p)

        def both():
            y, hn, saved = f(x, h0, *p)
            return b(dy, None, x, p[0], p[1], saved, need_dx=False)

    return fwd, both


def _module_step(lib, layer, x, dy):
    def step():
        out = layer(x)[0]
        out.backward(dy)
        return out

    return step


def cases(op, quick=False, torch=None):
    out = []
    shapes = STANDARD[:1] if quick else STANDARD
    for T, B, I, H in shapes:
        rng = np.random.default_rng(0)
        G = _GATES[op]
        k = 1 / np.sqrt(H)
        x = rng.standard_normal((T, B, I)).astype(np.float32)
        h0 = np.zeros((B, H), np.float32)
        dy = rng.standard_normal((T, B, H)).astype(np.float32)
        p = [
            rng.uniform(-k, k, s).astype(np.float32)
            for s in [(G * H, I), (G * H, H), (G * H,), (G * H,)]
        ]
        name = f"T{T} B{B} I{I} H{H}"
        k_fwd, k_both = _kernel_calls(kernels, op, x, h0, p, dy)
        r_fwd, r_both = _kernel_calls(reference, op, x, h0, p, dy)
        impls_f = {"minnet": k_fwd, "numpy": r_fwd}
        impls_b = {"minnet": k_both, "numpy": r_both}

        layer = getattr(minnet.nn, _TORCH[op])(I, H)
        for n, arr in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), p):
            getattr(layer, n).data[...] = arr
        impls_nn = {
            "minnet": _module_step(minnet, layer, minnet.from_numpy(x), minnet.from_numpy(dy))
        }
        if torch is not None:
            tl = getattr(torch.nn, _TORCH[op])(I, H)
            with torch.no_grad():
                for n, arr in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), p):
                    getattr(tl, n).copy_(torch.from_numpy(arr))
            tx, tdy = torch.from_numpy(x), torch.from_numpy(dy)

            def t_fwd(tl=tl, tx=tx):
                with torch.no_grad():
                    return tl(tx)

            impls_f["torch"] = t_fwd
            impls_b["torch"] = impls_nn["torch"] = _module_step(torch, tl, tx, tdy)
        out.append(Case(op, f"{name} fwd", _flops(op, T, B, I, H, False), impls_f))
        out.append(Case(op, f"{name} fwd+bwd", _flops(op, T, B, I, H, True), impls_b))
        out.append(Case(op, f"{name} nn fwd+bwd", _flops(op, T, B, I, H, True), impls_nn))
    return out


# ---- seq2seq: the lectures' GRU encoder-decoder, reversing sequences -------------------------
SEQ_LEN, VOCAB, HIDDEN = 10, 28, 128


def seq2seq_data(batch, seed=0):
    """One-hot source sequences (batch, 10, 28), decoder inputs with teacher forcing (symbol 0
    as the start, then the target shifted right), and targets: the source reversed."""
    rng = np.random.default_rng(seed)
    src = rng.integers(1, VOCAB, (batch, SEQ_LEN))
    tgt = src[:, ::-1]
    dec = np.concatenate([np.zeros((batch, 1), np.int64), tgt[:, :-1]], axis=1)
    eye = np.eye(VOCAB, dtype=np.float32)
    return eye[src], eye[dec], np.ascontiguousarray(tgt.reshape(-1))


def _seq2seq_model(nn):
    """Encoder GRU(28, 128), decoder GRU(28, 128) started from the encoder's h_n, Linear(128,
    28); written once for either framework (the same module names)."""

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.GRU(VOCAB, HIDDEN, batch_first=True)
            self.decoder = nn.GRU(VOCAB, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, src, dec):
            _, h = self.encoder(src)
            out, _ = self.decoder(dec, h)
            return self.head(out.reshape(-1, HIDDEN))

    return Seq2Seq()


def _seq2seq_step(lib, src, dec, tgt):
    """One training step of the seq2seq model in ``lib`` (minnet or torch: the same calls),
    built from seed 0, as a zero-argument callable."""
    lib.manual_seed(0)
    model = _seq2seq_model(lib.nn)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    s, d, t = lib.from_numpy(src), lib.from_numpy(dec), lib.from_numpy(tgt)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(s, d), t)
        loss.backward()
        opt.step()
        return loss

    step.model, step.inputs = model, (s, d)  # for minnet.bench.roofline.step_flops
    return step


def _seq2seq(batch, torch):
    src, dec, tgt = seq2seq_data(batch)
    impls = {"minnet": _seq2seq_step(minnet, src, dec, tgt)}
    if torch is not None:
        impls["torch"] = _seq2seq_step(torch, src, dec, tgt)
    return impls


register(
    "seq2seq",
    _seq2seq,
    "GRU encoder (28 -> 128), GRU decoder with teacher forcing, "
    "Linear(128, 28), reversing length-10 sequences, Adam(lr 1e-3), cross-entropy",
    default_batch=64,
)
