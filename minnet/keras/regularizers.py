"""Weight penalties added to the training loss: ``Dense(64, kernel_regularizer=L2(1e-4))``."""

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get"]


class Regularizer:
    def __call__(self, w):
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``. Defaults 0.0 (Keras's L1(0.01)/L2(0.01) differ)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        out = 0.0
        if self.l1:
            out = out + self.l1 * abs(w).sum()
        if self.l2:
            out = out + self.l2 * (w * w).sum()
        return out


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)


l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    table = {"l1": L1, "l2": L2, "l1_l2": L1L2}
    if identifier in table:
        return table[identifier]()
    raise ValueError(f"Unknown regularizer {identifier!r}")
