"""jax.lax.rng_bit_generator on uint32 ops: XLA's Philox4x32-10 (RNG_DEFAULT on CPU) and
ThreeFry2x32-20 over a uint32[4] key, bit for bit (the key is XLA's u64[2] state: key, counter)."""

from __future__ import annotations

import functools
import math

import numpy as np

from . import numpy as jnp
from .api import jit
from .dtypes import canonicalize_dtype
from .lax_names import mulhi
from .lax_types import RandomAlgorithm
from .operands import asarray_any

__all__ = ["rng_bit_generator"]

_U32 = np.uint32
_PHILOX_M = (0xD2511F53, 0xCD9E8D57)
_PHILOX_W = (0x9E3779B9, 0xBB67AE85)
_THREEFRY_ROT = ((13, 15, 26, 6), (17, 29, 16, 24))


def _c(v: int):
    return jnp.asarray(v, _U32)


def _counters(key, n: int):
    """n 64-bit counters (lo, hi) from the state's second word, and that word advanced by n."""
    step = jnp.arange(n, dtype=_U32)
    lo = key[2] + step
    hi = key[3] + (lo < key[2]).astype(_U32)  # carry out of the low word
    lo_next = key[2] + _c(n)
    return (lo, hi), (lo_next, key[3] + (lo_next < key[2]).astype(_U32))


def _philox(key, n_words: int):
    blocks = -(-n_words // 4)
    (lo, hi), state = _counters(key, blocks)
    # the 128-bit counter is (state word 1, state word 0): a wrap of word 1 carries into the key
    hi_carry = (hi < key[3]).astype(_U32)
    mid = key[0] + hi_carry
    zeros = jnp.zeros(blocks, _U32)
    c = [lo, hi, mid, key[1] + (mid < key[0]).astype(_U32)]
    k = [key[0], key[1]]
    for _ in range(10):
        p0, p1 = c[0] * _c(_PHILOX_M[0]), c[2] * _c(_PHILOX_M[1])
        h0, h1 = mulhi(c[0], zeros + _c(_PHILOX_M[0])), mulhi(c[2], zeros + _c(_PHILOX_M[1]))
        c = [h1 ^ c[1] ^ k[0], p1, h0 ^ c[3] ^ k[1], p0]
        k = [k[0] + _c(_PHILOX_W[0]), k[1] + _c(_PHILOX_W[1])]
    return jnp.stack(c, axis=1).reshape(-1)[:n_words], state


def _rotl(x, r: int):
    return (x << _c(r)) | (x >> _c(32 - r))


def _threefry(key, shape: tuple[int, ...]):
    """ThreeFry words laid out as XLA does: the two halves of each block interleave along the first
    even dim (the first dim is padded to even when none is)."""
    shape = shape or (1,)
    even = next((d for d, s in enumerate(shape) if s % 2 == 0), None)
    full = shape if even is not None else (shape[0] + 1, *shape[1:])
    d = 0 if even is None else even
    blocks = math.prod(full) // 2
    (x0, x1), state = _counters(key, blocks)
    ks = [key[0], key[1], key[0] ^ key[1] ^ _c(0x1BD11BDA)]
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in _THREEFRY_ROT[i % 2]:
            x0 = x0 + x1
            x1 = _rotl(x1, r) ^ x0
        x0, x1 = x0 + ks[(i + 1) % 3], x1 + ks[(i + 2) % 3] + _c(i + 1)
    half = (*full[:d], full[d] // 2, *full[d + 1 :])
    words = jnp.stack([x0.reshape(half), x1.reshape(half)], axis=d + 1).reshape(full)
    return words[tuple(slice(0, s) for s in shape)].reshape(-1), state


def rng_bit_generator(key, shape, dtype=np.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT, *, out_sharding=None):
    """(new key, random bits of shape and unsigned dtype) from a uint32[4] key, as XLA's
    RngBitGenerator on CPU: each 8/16/32-bit value takes one 32-bit word's low bits."""
    key = asarray_any(key)
    if key.shape != (4,) or key.dtype != np.uint32:
        raise TypeError(f"rng_bit_generator: key must be uint32[4], got {key.dtype.name}{list(key.shape)}")
    dt = canonicalize_dtype(dtype)
    if dt not in (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32)):
        raise TypeError(f"rng_bit_generator: unsupported dtype {dt.name}; expected uint8, uint16 or uint32")
    return _generate(key, tuple(int(s) for s in shape), dt, RandomAlgorithm(algorithm))


@functools.partial(jit, static_argnums=(1, 2, 3))  # one module per call shape, not ~100 eager ops
def _generate(key, shape: tuple[int, ...], dt: np.dtype, algorithm: RandomAlgorithm):
    n = math.prod(shape)
    if algorithm == RandomAlgorithm.RNG_THREE_FRY:
        words, (lo, hi) = _threefry(key, shape)
    else:  # RNG_DEFAULT is Philox on XLA's CPU backend
        words, (lo, hi) = _philox(key, n)
    new_key = jnp.stack([key[0], key[1], lo, hi])
    return new_key, words[:n].astype(dt).reshape(shape)
