"""compile / fit / evaluate / predict for keras Models: whole-array batching (one NumPy
slice or gather per batch), a final softmax/sigmoid fused into the crossentropy (the model
runs to its logits in training and the loss takes them), metrics in NumPy."""

import math

import numpy as np

from minnet.autograd import no_grad
from minnet.keras import _distribute
from minnet.keras import callbacks as callbacks_module
from minnet.keras import losses as losses_module
from minnet.keras import metrics as metrics_module
from minnet.keras import optimizers as optimizers_module
from minnet.nn import functional as F
from minnet.random import get_generator
from minnet.tensor import Tensor

__all__ = ["Trainer"]


def _array(x, what):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)) and len(x) and isinstance(x[0], (np.ndarray, Tensor)):
        raise ValueError(
            f"{what}: minnet's keras models take a single input array, got a "
            f"list of {len(x)} arrays"
        )
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as e:  # a tf.data.Dataset, a generator, ...
        raise TypeError(
            f"{what}: expected a NumPy array (or list/Tensor), got {type(x).__name__}"
        ) from e


def _batch_x(x, idx, dtype=np.float32):
    xb = x[idx]
    return Tensor(xb if xb.dtype == dtype else xb.astype(dtype))


def _sample_weights(y, sample_weight, class_weight, what):
    """Per-sample loss weights (N,) from sample_weight and/or class_weight, or None."""
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if w.shape[0] != len(y):
            raise ValueError(
                f"{what}: sample_weight has {w.shape[0]} entries for {len(y)} samples"
            )
    if class_weight is not None:
        labels = np.asarray(y)
        labels = (
            labels.argmax(-1)
            if labels.ndim > 1 and labels.shape[-1] > 1
            else labels.reshape(len(labels), -1)[:, 0]
        )
        labels = labels.astype(np.int64)
        missing = set(np.unique(labels).tolist()) - set(int(k) for k in class_weight)
        if missing:
            raise ValueError(f"{what}: class_weight has no entry for classes {sorted(missing)}")
        table = np.zeros(int(labels.max()) + 1)
        for k, v in class_weight.items():
            if 0 <= int(k) < len(table):
                table[int(k)] = v
        cw = table[labels]
        w = cw if w is None else w * cw
    return w


def _order(gen, n, batch_size, shuffle):
    """The epoch's sample order: a permutation (shuffle=True), whole batches in a random
    order (shuffle='batch'), or None (in order)."""
    if shuffle == "batch":
        starts = gen.permutation(math.ceil(n / batch_size)) * batch_size
        return np.concatenate([np.arange(s, min(s + batch_size, n)) for s in starts])
    return gen.permutation(n) if shuffle else None


def _batches(n, batch_size, order):
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def _batch_size(batch_size):
    """Keras's default of 32 for None; anything else must be a positive integer."""
    if batch_size is None:
        return 32
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    return int(batch_size)


class Trainer:
    """The training half of keras.Model (mixed into it)."""

    compiled = False
    stop_training = False

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configure training.

        Args:
            optimizer: a name ('adam', 'sgd', 'rmsprop', 'adagrad', 'adamw') or a
                ``keras.optimizers`` object. Default: 'rmsprop' (Keras's).
            loss: a name ('sparse_categorical_crossentropy', 'categorical_crossentropy',
                'binary_crossentropy', 'mse', 'mae', 'huber'), a ``keras.losses`` object or
                a function ``(y_true, y_pred) -> Tensor``.
            metrics: a list of names ('accuracy', 'mae', ...), Metric objects or functions.
            run_eagerly, steps_per_execution, jit_compile: accepted and ignored.
        """
        if loss_weights is not None or weighted_metrics is not None:
            raise ValueError(
                f'Model "{self.name}": loss_weights and weighted_metrics are not '
                f"supported by minnet"
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss = losses_module.get(loss) if loss is not None else None
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        self._metric_ids = list(metrics or [])
        self._metrics = None
        self.compiled = True

    def _check_compiled(self, what):
        if not self.compiled:
            raise ValueError(f'Model "{self.name}": you must call `compile()` before `{what}()`')
        if self._loss is None:
            raise ValueError(f'Model "{self.name}": compile() was called without a loss')

    def _make_metrics(self, y, out_shape):
        if self._metrics is None:
            self._metrics = [
                metrics_module.get(m, self._loss, y.shape, out_shape) for m in self._metric_ids
            ]
        return self._metrics

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in (self._metrics or [])]

    def _fused_activation(self):
        """'softmax' or 'sigmoid' when the final activation can be folded into the loss."""
        act = self._final_activation()
        if act is not None and not self._loss.from_logits and act == self._loss.logit_activation:
            return act
        return None

    def _loss_of(self, out, yb, fused, wb=None):
        logits = fused is not None or self._loss.from_logits
        if wb is None:
            loss = self._loss.compute(yb, out, logits)
        else:  # Keras: sum(weight * per-sample loss) / number of per-sample losses
            values = self._loss.call(yb, out, logits)
            w = wb.reshape(wb.shape + (1,) * (values.ndim - wb.ndim)).astype(values.dtype)
            loss = (values * Tensor(w)).sum() / max(values.numel(), 1)
        for reg in self.regularization_losses():
            loss = loss + reg
        return loss

    def _batch_loss(self, x, y, sw, idx, training, fused):
        """(targets, output, loss) of the samples ``idx``: the output is the logits when a
        final activation is ``fused`` into the loss."""
        yb = y[idx]
        out = self._forward(_batch_x(x, idx, self.input_dtype), training, fused is not None)
        return yb, out, self._loss_of(out, yb, fused, None if sw is None else sw[idx])

    @staticmethod
    def _probabilities(out, fused):
        if fused == "softmax":
            return F.softmax(out, dim=-1).data
        if fused == "sigmoid":
            return F.sigmoid(out).data
        return out.data

    def _prepare(self, x, y, what):
        x = _array(x, what)
        y = _array(y, what)
        if y is None:
            raise ValueError(f"{what}: y (the targets) is required")
        if len(x) != len(y):
            raise ValueError(
                f"{what}: x and y must have the same number of samples, got "
                f"x.shape={x.shape} and y.shape={y.shape}"
            )
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._check_input(x.shape)
        return x, y

    def _log_values(self, loss_tracker, metrics):
        logs = {m.name: float(m.result()) for m in metrics}
        logs["loss"] = float(loss_tracker.result())
        return dict(sorted(logs.items()))

    def _trainable_parameters(self):
        return [p for p in self.parameters() if p.requires_grad]

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
        distribute=None,
    ):
        """Train for ``epochs`` epochs on arrays ``x``, ``y``; returns a ``History``.

        ``validation_split`` holds out the *last* fraction of the samples (before
        shuffling), as Keras. ``shuffle`` reshuffles the training samples each epoch from
        minnet's generator (``keras.utils.set_random_seed``); ``'batch'`` shuffles the
        order of whole batches.

        ``distribute='mpi'`` trains data-parallel over the ranks ``mpirun`` started (every
        rank runs the same script with the same arrays): ``batch_size`` is the global
        batch, each rank computes its share of it, the gradients are averaged over the
        ranks, the logs are the global batch's, and only rank 0 prints and writes
        checkpoints (see ``minnet/keras/_distribute.py``).
        """
        self._check_compiled("fit")
        _distribute.check(distribute)
        x, y = self._prepare(x, y, "fit")
        sw = _sample_weights(y, sample_weight, class_weight, "fit")
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
            split_at = int(math.floor(len(x) * (1.0 - validation_split)))
            if split_at == 0 or split_at == len(x):
                raise ValueError(
                    f"Training data contains {len(x)} samples, which is not "
                    f"sufficient to split it into a validation and training set "
                    f"as specified by `validation_split={validation_split}`."
                )
            validation_data = (x[split_at:], y[split_at:]) + (
                (sw[split_at:],) if sw is not None else ()
            )
            x, y = x[:split_at], y[:split_at]
            sw = sw[:split_at] if sw is not None else None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError(
                    "validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight)"
                )
            xv, yv = self._prepare(validation_data[0], validation_data[1], "fit(validation_data)")
            swv = _sample_weights(
                yv,
                validation_data[2] if len(validation_data) == 3 else None,
                None,
                "fit(validation_data)",
            )
            validation_data = (xv, yv, swv)
        batch_size = _batch_size(batch_size)
        n = len(x)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            steps = min(steps, int(steps_per_epoch))
        verbose = 1 if verbose == "auto" else int(verbose)
        mp = None
        if distribute is not None:
            self.optimizer.build(self._trainable_parameters())
            mp = _distribute.MPIFit(self, batch_size)
            if mp.rank != 0:
                verbose = 0
                callbacks = [c for c in callbacks or [] if not c._rank0_only]
        try:
            return self._fit_loop(
                x, y, sw, validation_data, batch_size, epochs, verbose, callbacks, shuffle,
                initial_epoch, steps, validation_steps, validation_batch_size,
                validation_freq, mp,
            )  # fmt: skip
        finally:
            if mp is not None:
                mp.close()

    def _fit_loop(
        self, x, y, sw, validation_data, batch_size, epochs, verbose, callbacks, shuffle,
        initial_epoch, steps, validation_steps, validation_batch_size, validation_freq, mp,
    ):  # fmt: skip
        n = len(x)
        history = callbacks_module.History()
        cbs = list(callbacks or []) + [history]
        if verbose:
            cbs.append(callbacks_module.ProgbarLogger(verbose))
        cbs = callbacks_module.CallbackList(
            cbs, self, {"verbose": verbose, "epochs": epochs, "steps": steps}
        )
        self.optimizer.build(self._trainable_parameters())
        fused = self._fused_activation()
        loss_tracker = metrics_module.Mean(name="loss")
        self.stop_training = False
        cbs.on_train_begin()
        gen = get_generator()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            metrics = None
            loss_tracker.reset_state()
            cbs.on_epoch_begin(epoch)
            order = _order(gen, n, batch_size, shuffle)
            if mp is not None:
                order = mp.order(order)
            self.train()
            logs = {}
            for step, idx in enumerate(_batches(n, batch_size, order)):
                if step >= steps:
                    break
                cbs.on_train_batch_begin(step)
                factor = 1.0
                if mp is not None:
                    idx, factor = mp.local(idx, n)
                    if idx is None:
                        continue
                yb, out, loss = self._batch_loss(x, y, sw, idx, True, fused)
                for p in self.optimizer._params:
                    p.grad = None
                _distribute.scaled(loss, factor).backward()
                self.optimizer.apply()
                loss_tracker.update_state(float(loss.data), sample_weight=len(yb))
                if metrics is None:
                    metrics = self._make_metrics(y, out.shape)
                    for m in metrics:
                        m.reset_state()
                if metrics:
                    probs = self._probabilities(out, fused)
                    for m in metrics:
                        m.update_state(yb, probs)
                if mp is None:
                    logs = self._log_values(loss_tracker, metrics)
                else:
                    logs = dict(sorted(mp.logs([loss_tracker] + list(metrics)).items()))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if mp is not None:
                mp.end_epoch()
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val = self._evaluate(
                    *validation_data,
                    batch_size=validation_batch_size or batch_size,
                    cbs=cbs,
                    steps=validation_steps,
                )
                epoch_logs.update({"val_" + k: v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        self.eval()
        return history

    # ------------------------------------------------------------------ evaluate, predict
    def _evaluate(self, x, y, sw=None, batch_size=32, cbs=None, steps=None):
        fused = self._fused_activation()
        loss_tracker = metrics_module.Mean(name="loss")
        metrics = None
        self.eval()
        cbs.on_test_begin()
        logs = {}
        with no_grad():
            for step, idx in enumerate(_batches(len(x), batch_size, None)):
                if steps is not None and step >= steps:
                    break
                cbs.on_test_batch_begin(step)
                yb, out, loss = self._batch_loss(x, y, sw, idx, False, fused)
                loss_tracker.update_state(float(loss.data), sample_weight=len(yb))
                if metrics is None:
                    metrics = self._make_metrics(y, out.shape)
                    for m in metrics:
                        m.reset_state()
                probs = self._probabilities(out, fused) if metrics else None
                for m in metrics:
                    m.update_state(yb, probs)
                logs = self._log_values(loss_tracker, metrics)
                cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """Loss and metrics on ``x``, ``y`` in inference mode: the loss alone (a float) when
        there are no metrics, else ``[loss, metric...]`` in compile's order, or a dict with
        ``return_dict``."""
        self._check_compiled("evaluate")
        x, y = self._prepare(x, y, "evaluate")
        sw = _sample_weights(y, sample_weight, None, "evaluate")
        batch_size = _batch_size(batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(len(x) / batch_size) if steps is None else int(steps)
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(callbacks_module.ProgbarLogger(verbose, mode="test"))
        cbs = callbacks_module.CallbackList(cbs, self, {"verbose": verbose, "steps": n_steps})
        logs = self._evaluate(x, y, sw, batch_size, cbs, steps)
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in (self._metrics or [])]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on ``x`` as a float32 NumPy array, batch by batch in
        inference mode."""
        x = _array(x, "predict")
        if not self.built:
            self.build((None,) + x.shape[1:])
        self._check_input(x.shape)
        batch_size = _batch_size(batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        n_steps = math.ceil(len(x) / batch_size)
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(callbacks_module.ProgbarLogger(verbose, mode="predict"))
        cbs = callbacks_module.CallbackList(cbs, self, {"verbose": verbose, "steps": n_steps})
        self.eval()
        outs = []
        cbs.on_predict_begin()
        with no_grad():
            for step, idx in enumerate(_batches(len(x), batch_size, None)):
                cbs.on_predict_batch_begin(step)
                out = self._forward(_batch_x(x, idx, self.input_dtype), False)
                outs.append(np.array(out.data))
                cbs.on_predict_batch_end(step, {"outputs": outs[-1]})
        cbs.on_predict_end()
        if not outs:
            return np.zeros(
                (0,) + tuple(self.compute_output_shape((None,) + x.shape[1:])[1:]), np.float32
            )
        return np.concatenate(outs)

    def train_on_batch(self, x, y, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics) of that batch."""
        self._check_compiled("train_on_batch")
        x, y = self._prepare(x, y, "train_on_batch")
        self.optimizer.build(self._trainable_parameters())
        fused = self._fused_activation()
        self.train()
        out = self._forward(_batch_x(x, slice(None), self.input_dtype), True, fused is not None)
        loss = self._loss_of(out, y, fused)
        self.zero_grad()
        loss.backward()
        self.optimizer.apply()
        self.eval()
        logs = {"loss": float(loss.data)}
        for m in self._make_metrics(y, out.shape):
            m.reset_state()
            m.update_state(y, self._probabilities(out, fused))
            logs[m.name] = float(m.result())
        logs = dict(sorted(logs.items()))
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self._metrics]
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y, return_dict=False):
        return self.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=return_dict)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(len(x), 1), verbose=0)
