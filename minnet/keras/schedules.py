"""Learning-rate schedules (``keras.optimizers.schedules``): callables step -> rate, given
as an optimizer's ``learning_rate``; the step is the optimizer's ``iterations``."""

import math

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "InverseTimeDecay",
    "CosineDecay",
]


class LearningRateSchedule:
    def __call__(self, step):
        raise NotImplementedError


class _Decay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), decay_steps
        self.decay_rate, self.staircase = float(decay_rate), staircase


class ExponentialDecay(_Decay):
    """initial_learning_rate * decay_rate ** (step / decay_steps) (floored if staircase)."""

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (
            math.floor(p) if self.staircase else p
        )


class InverseTimeDecay(_Decay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps)."""

    def __call__(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate / (
            1 + self.decay_rate * (math.floor(p) if self.staircase else p)
        )


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (values has one more entry)."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay: len(values) must be len(boundaries) + 1")
        self.boundaries, self.values = list(boundaries), list(values)

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]


class CosineDecay(LearningRateSchedule):
    """Cosine decay from initial_learning_rate to alpha * initial over decay_steps
    (warmup not supported)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None):
        self.initial_learning_rate, self.decay_steps = float(initial_learning_rate), decay_steps
        self.alpha = alpha

    def __call__(self, step):
        p = min(step, self.decay_steps) / self.decay_steps
        cos = 0.5 * (1 + math.cos(math.pi * p))
        return self.initial_learning_rate * ((1 - self.alpha) * cos + self.alpha)
