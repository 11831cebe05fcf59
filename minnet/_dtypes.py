"""dtypes of minnet tensors and the default floating dtype (one process-wide setting, read by
every module that makes a tensor from Python floats)."""

import numpy as np

# dtypes are NumPy's scalar types: `x.dtype == minnet.float32` holds for a float32 tensor
# (a numpy.dtype equals its scalar type), and they can be given to NumPy as they are
float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8, bool_ = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_

_default_dtype = np.dtype(np.float32)


def get_default_dtype():
    """The floating dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    """Make ``dtype`` (float32 or float64) the default floating dtype."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 are supported, got {dtype}")
    _default_dtype = dtype


def _to_dtype(value, what):
    """A dtype argument as a numpy.dtype of a kind tensors hold (float, int, uint, bool)."""
    try:
        dt = np.dtype(value)
    except TypeError:
        if isinstance(value, str):
            raise ValueError(
                f"{what}: {value!r} is neither a device ('cpu') nor a dtype"
            ) from None
        raise TypeError(f"{what}: expected a dtype like minnet.float32, got {value!r}") from None
    if dt.kind not in "fiub":
        raise TypeError(f"{what}: unsupported dtype {dt}")
    return dt
