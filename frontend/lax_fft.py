"""irjax.lax.fft and FftType: the jx.fft primitive over the trailing axes (as jax.lax.fft)."""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np

from .core import jx
from .device_api import default_backend
from .numpy._util import asarray_any

__all__ = ["FftType", "fft"]

_MAX_F64_LENGTH = 2048  # complex128 lowers to a DFT matmul whose n x n constants grow as n^2


class FftType(enum.IntEnum):
    """JAX's FFT kinds: FFT/IFFT complex to complex, RFFT real to half-complex, IRFFT back."""

    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3


def _fft_type_name(fft_type) -> str:
    if isinstance(fft_type, FftType):
        return fft_type.name
    if isinstance(fft_type, str) and fft_type.upper() in FftType.__members__:
        return fft_type.upper()
    raise ValueError(f"fft_type must be an FftType or one of 'fft', 'ifft', 'rfft', 'irfft', got {fft_type!r}")


def fft(x, fft_type: FftType | str, fft_lengths: Sequence[int]):
    """FFT of kind `fft_type` over the last len(fft_lengths) axes (at most 3, as in JAX)."""
    name = _fft_type_name(fft_type)
    x = asarray_any(x)
    lengths = tuple(int(n) for n in fft_lengths)
    if not 1 <= len(lengths) <= 3:
        raise ValueError(f"lax.fft takes 1 to 3 fft_lengths, got {lengths}")
    if len(lengths) > x.ndim:
        raise ValueError(f"lax.fft: {len(lengths)} fft_lengths for an operand of rank {x.ndim}")
    if name == "RFFT" and x.dtype not in (np.float32, np.float64):
        raise TypeError(f"lax.fft RFFT takes float32 or float64, got {x.dtype.name}")
    if name != "RFFT" and x.dtype.kind != "c":
        raise TypeError(f"lax.fft {name} takes complex64 or complex128, got {x.dtype.name}")
    if max(lengths) > _MAX_F64_LENGTH:
        if x.dtype in (np.float64, np.complex128):
            raise NotImplementedError(
                f"lax.fft of {x.dtype.name} supports lengths up to {_MAX_F64_LENGTH} (a DFT by matmul: IREE 3.13's "
                f"FFT does not compile for float64), got {lengths}"
            )
        if default_backend() != "cpu":  # GPU targets lower every FFT to a DFT (dialects/fft.py)
            raise NotImplementedError(
                f"lax.fft on {default_backend()} supports lengths up to {_MAX_F64_LENGTH} (a DFT by matmul: IREE "
                f"3.13's FFT compiles only for the CPU), got {lengths}"
            )
    k = len(lengths)
    want = lengths[:-1] + (lengths[-1] // 2 + 1,) if name == "IRFFT" else lengths
    if tuple(x.shape[-k:]) != want:
        raise ValueError(f"lax.fft {name}: the last {k} axes of {x.shape} must be {want} for fft_lengths {lengths}")
    return jx.fft(x, fft_type=name, fft_lengths=lengths)
