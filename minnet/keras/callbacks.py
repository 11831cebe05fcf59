"""Keras callbacks: Callback, History, EarlyStopping, LearningRateScheduler,
ReduceLROnPlateau, ModelCheckpoint (weights only), LambdaCallback, TerminateOnNaN, CSVLogger,
TensorBoard (accepted, writes nothing: it warns), and the ProgbarLogger that prints fit's
progress like Keras 3."""

import math
import os
import sys
import time
import warnings

import numpy as np

__all__ = [
    "Callback",
    "CallbackList",
    "History",
    "EarlyStopping",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "ModelCheckpoint",
    "LambdaCallback",
    "TerminateOnNaN",
    "ProgbarLogger",
    "CSVLogger",
    "TensorBoard",
]


class Callback:
    """Base class; override the hooks you need. ``self.model`` and ``self.params``
    (verbose, epochs, steps) are set before training starts."""

    # writes files: in fit(distribute='mpi') only rank 0 runs it
    _rank0_only = False

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for c in self.callbacks:
                getattr(c, hook)(*args, **kwargs)

        return call


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses,
    ``history.epoch`` the epoch indices. ``fit`` returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


def _monitor_op(monitor, mode, who):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{who}: mode {mode!r} is unknown, falling back to 'auto'")
        mode = "auto"
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        mode = (
            "max"
            if (name.endswith("acc") or "accuracy" in name or name.endswith("auc"))
            else "min"
        )
    return mode


def _get_monitor(logs, monitor, who):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{who} conditioned on metric `{monitor}` which is not available. "
            f"Available metrics are: {','.join(logs or {})}"
        )
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving.

    Args:
        monitor (str): Default: 'val_loss'.
        min_delta (float): an improvement must exceed it. Default: 0.
        patience (int): epochs without improvement before stopping. Default: 0.
        verbose (int): print when stopping. Default: 0.
        mode: 'auto', 'min' or 'max'. Default: 'auto' ('max' for accuracies).
        baseline (float): the value to beat. Default: None.
        restore_best_weights (bool): restore the best epoch's weights at the end.
        start_from_epoch (int): epochs to wait before monitoring. Default: 0.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _monitor_op(monitor, mode, "EarlyStopping")
        self.min_delta = abs(min_delta) * (1 if self.mode == "max" else -1)

    def _better(self, value, reference):
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        current = _get_monitor(logs, self.monitor, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``); the rate is logged as 'learning_rate'."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError(f"The output of the schedule function should be a float. Got: {lr}")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without
    improvement of ``monitor`` (Keras's defaults: 'val_loss', 0.1, 10, min_delta 1e-4,
    cooldown 0, min_lr 0)."""

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.mode = _monitor_op(monitor, mode, "ReduceLROnPlateau")

    def on_train_begin(self, logs=None):
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait, self.cooldown_counter = 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = _get_monitor(logs, self.monitor, "Learning rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = (
            current > self.best + self.min_delta
            if self.mode == "max"
            else current < self.best - self.min_delta
        )
        if better:
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new}."
                        )
                    self.cooldown_counter, self.wait = self.cooldown, 0


class ModelCheckpoint(Callback):
    """Save the weights (``filepath`` ending in '.weights.npz', may hold ``{epoch}`` and log
    keys like ``{val_loss:.2f}``) at each epoch end, or only when ``monitor`` improves with
    ``save_best_only``. Whole-model saving is not supported: pass save_weights_only=True."""

    _rank0_only = True

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
    ):
        super().__init__()
        if not str(filepath).endswith(".weights.npz"):
            raise ValueError(
                f"ModelCheckpoint: minnet saves weights only, to a file ending in "
                f"'.weights.npz' (with save_weights_only=True); got "
                f"filepath={filepath!r}"
            )
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint: only save_freq='epoch' is supported")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only = save_best_only
        self.mode = _monitor_op(monitor, mode, "ModelCheckpoint")
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = _get_monitor(logs, self.monitor, "Can save best model only with")
            if current is None:
                return
            if self.best is not None and not (
                current > self.best if self.mode == "max" else current < self.best
            ):
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.best = current
        self.model.save_weights(path)


class LambdaCallback(Callback):
    """A callback from functions, Keras 3's signature. Each is called with positional
    arguments: ``on_epoch_begin/end(epoch, logs)``, ``on_train_begin/end(logs)``,
    ``on_train_batch_begin/end(batch, logs)``. Any other hook (``on_test_batch_end=``, ...)
    may be given by keyword, and Keras 2's ``on_batch_begin``/``on_batch_end`` mean the
    train-batch hooks.

    Examples::

        >>> seen = []
        >>> count = keras.callbacks.LambdaCallback(
        ...     on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
        >>> model.fit(x, y, batch_size=32, callbacks=[count])   # len(seen): the batches
    """

    _ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        known = [h for h in vars(Callback) if h.startswith("on_")]
        for name, fn in kwargs.items():
            hook = self._ALIASES.get(name, name)
            if hook not in known:
                raise TypeError(
                    f"LambdaCallback: unknown hook {name!r}; the hooks are "
                    f"{', '.join(known)} (and on_batch_begin/on_batch_end)"
                )
            if hooks.get(hook) is not None:
                raise TypeError(
                    f"LambdaCallback: {name!r} and {hook!r} are the same hook; give one"
                )
            hooks[hook] = fn
        for hook, fn in hooks.items():
            if fn is not None:
                setattr(self, hook, _positional(fn, hook))


def _positional(fn, hook):
    """``fn`` as the hook, called with positional arguments as LambdaCallback promises
    (``lambda batch, logs: ...`` works however fit passes ``logs``)."""
    takes_index = hook.endswith(("_batch_begin", "_batch_end")) or hook.startswith("on_epoch")

    if takes_index:

        def call(index, logs=None):
            return fn(index, logs)
    else:

        def call(logs=None):
            return fn(logs)

    call.__name__ = hook
    return call


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Append each epoch's logs to a CSV file: a header ``epoch,<sorted keys>`` then one
    row per epoch (``append=True`` keeps an existing file's rows)."""

    _rank0_only = True

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = str(filename), separator, append

    def on_train_begin(self, logs=None):
        self._header = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._file = open(self.filename, "a" if self.append else "w")
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            if not self._header:
                self._file.write(self.sep.join(["epoch"] + self._keys) + "\n")
        self._file.write(
            self.sep.join(
                [str(epoch)] + [repr(float(logs.get(k, float("nan")))) for k in self._keys]
            )
            + "\n"
        )
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class TensorBoard(Callback):
    """Accepted so ported code runs; minnet writes no TensorBoard event files (it warns
    once). Use ``CSVLogger`` or the ``History`` that fit returns."""

    def __init__(self, log_dir="logs", **kwargs):
        super().__init__()
        self.log_dir = log_dir
        warnings.warn(
            "keras.callbacks.TensorBoard: minnet writes no TensorBoard logs; the "
            "callback does nothing (use CSVLogger or fit's History)"
        )


def _format_time(per_step):
    if per_step >= 1:
        return f"{per_step:.0f}s/step"
    if per_step >= 1e-3:
        return f"{per_step * 1e3:.0f}ms/step"
    return f"{per_step * 1e6:.0f}us/step"


def _notebook_display():
    """IPython's ``display`` when we print into a Jupyter kernel's output (so an output can
    be updated in place), else None: a terminal, plain IPython, or stdout redirected."""
    ipython = sys.modules.get("IPython")  # never import IPython just to ask
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    if not type(sys.stdout).__module__.startswith("ipykernel"):
        return None
    from IPython.display import display

    return display


def _format_eta(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


class ProgbarLogger(Callback):
    """Prints Keras 3's progress: ``Epoch 1/5`` then ``1875/1875 ━━━━ 3s 1ms/step -
    accuracy: 0.8766 - loss: 0.4287``; verbose=1 redraws one line (with ``\\r`` on a
    terminal or in PyCharm; in Jupyter one output per epoch updated in place, so a saved
    notebook keeps just the final line; else it prints at the end), verbose=2 one line per
    epoch."""

    WIDTH = 20
    INTERVAL = 0.05  # seconds between \r redraws on a terminal
    NOTEBOOK_INTERVAL = 0.1  # between notebook updates: each is a message to the frontend

    def __init__(self, verbose=1, mode="train"):
        super().__init__()
        self.verbose, self.mode = verbose, mode

    def _start(self):
        self.t0, self.last = time.time(), 0.0
        # In Jupyter, \r-redrawn text would be saved in the notebook as every redraw; an
        # updatable display (display_id) is replaced in place instead.
        self.display = _notebook_display() if self.verbose == 1 else None
        self.handle = None
        self.dynamic = (
            self.verbose == 1
            and self.display is None
            and (
                (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
                or "PYCHARM_HOSTED" in os.environ
            )
        )

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Epoch {epoch + 1}/{self.epochs}")
        self._start()

    def on_test_begin(self, logs=None):
        if self.mode == "test":
            self._start()

    def on_predict_begin(self, logs=None):
        self._start()

    def _line(self, step, logs, final):
        steps = self.params.get("steps") or step
        elapsed = time.time() - self.t0
        per = elapsed / max(step, 1)
        count = f"{step:>{len(str(steps))}}/{steps}"
        if self.verbose == 1:
            done = int(self.WIDTH * step / max(steps, 1))
            bar = "━" * done + " " * (self.WIDTH - done)
            when = f"{elapsed:.0f}s" if final else _format_eta(per * (steps - step))
            line = f"{count} {bar} {when} {_format_time(per)}"
        else:
            line = f"{count} - {elapsed:.0f}s - {_format_time(per)}"
        for k, v in (logs or {}).items():
            line += f" - {k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {k}: {v:.4e}"
        return line

    def _update(self, step, logs, final=False):
        if self.display is not None:
            now = time.time()
            if final or now - self.last > self.NOTEBOOK_INTERVAL:
                self.last = now
                bundle = {"text/plain": self._line(step, logs, final)}
                if self.handle is None:  # the epoch's one output, updated from now on
                    self.handle = self.display(bundle, raw=True, display_id=True)
                else:
                    self.handle.update(bundle, raw=True)
        elif self.verbose == 1 and self.dynamic:
            now = time.time()
            if final or now - self.last > self.INTERVAL:
                self.last = now
                sys.stdout.write("\r" + self._line(step, logs, final) + ("\n" if final else ""))
                sys.stdout.flush()
        elif final:
            print(self._line(step, logs, True))

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._update(self.params.get("steps"), logs, final=True)

    def on_test_batch_end(self, batch, logs=None):
        if self.mode == "test":
            self._update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if self.mode == "test":
            self._update(self.params.get("steps"), logs, final=True)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch + 1, None)

    def on_predict_end(self, logs=None):
        self._update(self.params.get("steps"), None, final=True)
