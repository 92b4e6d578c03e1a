"""irjax.prng: the threefry2x32 PRNG and typed key arrays, bit-identical with JAX.

JAX's defaults are reproduced: the ``threefry2x32`` implementation with
``jax_threefry_partitionable=True`` (split / random_bits count with a 64-bit iota over
the output shape, held as two uint32 words) and x64 disabled (seeds keep their low 32
bits). Everything is built from irjax.lax ops, so jit, vmap and grad apply; the samplers
in `irjax.random` call the functions here inside `irjax.jit`.

A typed key is a `PRNGKeyArray`: a pytree node whose single child is the uint32 key
data of shape ``(*key_shape, 2)``; transformations see only that data.
"""

from __future__ import annotations

import math

import numpy as np
from irjax import basearray, dtypes, tree_util
from irjax import numpy as jnp
from irjax.array import from_numpy
from irjax.core import Tracer

from . import lax

U32 = np.dtype(np.uint32)
F32 = np.dtype(np.float32)

UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32), 64: np.dtype(np.uint64)}


def stack_last(xs):
    """Stack same-shape arrays along a new trailing axis, as selects on an iota of that axis
    rather than a concatenate: IREE cut the threefry chain that fed the concatenate into 12
    dispatches (a split compiled in 0.78 s); with selects it is one (0.52 s)."""
    s = tuple(xs[0].shape)
    out = s + (len(xs),)
    lane = lax.broadcasted_iota(U32, out, len(s))
    wide = [lax.broadcast_in_dim(x, out, tuple(range(len(s)))) for x in xs]
    res = wide[-1]
    for i in range(len(xs) - 2, -1, -1):
        res = lax.select(lax.eq(lane, np.uint32(i)), wide[i], res)
    return res


# ---- threefry2x32 ---------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(v, d):
    return lax.bitwise_or(lax.shift_left(v, np.uint32(d)), lax.shift_right_logical(v, np.uint32(32 - d)))


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 block cipher (20 rounds): key words k1, k2, counter words x1, x2.

    All operands are uint32 and broadcast together; returns the two output words.
    """
    k1, k2, x1, x2 = (jnp.asarray(v) for v in (k1, k2, x1, x2))
    if any(v.dtype != U32 for v in (k1, k2, x1, x2)):
        raise TypeError(f"threefry2x32 requires uint32 arguments, got {[str(v.dtype) for v in (k1, k2, x1, x2)]}")
    shape = tuple(np.broadcast_shapes(*(v.shape for v in (k1, k2, x1, x2))))
    # the key schedule is cheap on the (usually scalar) key words
    ks = [k1, k2, lax.bitwise_xor(lax.bitwise_xor(k1, k2), np.uint32(0x1BD11BDA))]
    if k1.shape != k2.shape:
        ks = [jnp.broadcast_to(k, shape) for k in ks]
    x = [jnp.broadcast_to(jnp.add(x1, ks[0]), shape), jnp.broadcast_to(jnp.add(x2, ks[1]), shape)]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            a = lax.add(x[0], x[1])
            x = [a, lax.bitwise_xor(a, _rotl(x[1], r))]
        x = [jnp.add(x[0], ks[(i + 1) % 3]), jnp.add(x[1], lax.add(ks[(i + 2) % 3], np.uint32(i + 1)))]
    return x[0], x[1]


def threefry2x32_np(k1, k2, x1, x2):
    """NumPy reference of threefry2x32 (for tests)."""
    with np.errstate(over="ignore"):
        k1, k2, x1, x2 = (np.asarray(v, np.uint32) for v in (k1, k2, x1, x2))
        rot = lambda v, d: (v << np.uint32(d)) | (v >> np.uint32(32 - d))  # noqa: E731
        ks = [k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA)]
        x = [x1 + ks[0], x2 + ks[1]]
        for i in range(5):
            for r in _ROTATIONS[i % 2]:
                a = x[0] + x[1]
                x = [a, a ^ rot(x[1], r)]
            x = [x[0] + ks[(i + 1) % 3], x[1] + ks[(i + 2) % 3] + np.uint32(i + 1)]
        return x[0], x[1]


# ---- key data operations (one key: uint32[2]) -----------------------------------------------


def _key_words(data):
    if tuple(data.shape) != (2,):
        raise TypeError(f"expected a single threefry key (uint32[2]), got shape {tuple(data.shape)}")
    return lax.index_in_dim(data, 0, keepdims=False), lax.index_in_dim(data, 1, keepdims=False)


def iota_2x32_shape(shape):
    """A 64-bit row-major iota over `shape` as (hi, lo) uint32 words (sizes < 2**32)."""
    shape = tuple(shape)
    size = math.prod(shape)
    if size >= 2**32:
        raise NotImplementedError("random arrays with 2**32 or more elements are not supported")
    lo = lax.reshape(lax.iota(U32, size), shape) if size else lax.full(shape, 0, U32)
    return lax.full(shape, 0, U32), lo


def seed_data(seed):
    """threefry_seed for a traced integer scalar (x64 off: [0, low 32 bits])."""
    seed = jnp.asarray(seed)
    dt = np.dtype(seed.dtype)
    if seed.shape:
        raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
    if dt.kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    lo = lax.bitcast_convert_type(seed, U32) if dt.itemsize == 4 else lax.convert_element_type(seed, U32)
    if dt.itemsize == 8:  # x64: the high word is the seed's upper 32 bits, as JAX bit-casts it
        hi = lax.convert_element_type(lax.shift_right_logical(seed, dt.type(32)), U32)
    else:
        hi = lax.full((), 0, U32)
    return lax.concatenate([lax.reshape(hi, (1,)), lax.reshape(lo, (1,))], 0)


def seed_data_np(seed) -> np.ndarray:
    """threefry_seed on the host, as JAX does it with x64 disabled."""
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    if isinstance(seed, int):
        seed = np.int64(seed)  # OverflowError beyond int64, as in JAX
    arr = np.asarray(seed)
    if arr.shape:
        raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    lo = np.uint32(int(arr) & 0xFFFFFFFF)
    # with x64 a Python int seed is int64 and its upper 32 bits form the key's first word
    wide = arr.dtype.itemsize == 8 and dtypes.x64_enabled()
    hi = np.uint32((int(arr) >> 32) & 0xFFFFFFFF) if wide else 0
    return np.array([hi, lo], dtype=U32)


def split_data(data, shape):
    """Partitionable threefry split: uint32[*shape, 2]."""
    k1, k2 = _key_words(data)
    hi, lo = iota_2x32_shape(shape)
    b1, b2 = threefry2x32(k1, k2, hi, lo)
    return stack_last([b1, b2])


def fold_in_data(data, msg):
    """threefry_2x32(key, threefry_seed(msg)) for a uint32 scalar msg."""
    k1, k2 = _key_words(data)
    msg = jnp.asarray(msg)
    if msg.dtype != U32:
        msg = lax.convert_element_type(msg, U32)
    b1, b2 = threefry2x32(k1, k2, lax.full((), 0, U32), msg)
    return stack_last([b1, b2])


def random_bits_data(data, bit_width, shape):
    """Partitionable threefry random bits: uint{bit_width}[*shape]."""
    if bit_width not in (8, 16, 32, 64) or (bit_width == 64 and not dtypes.x64_enabled()):
        raise TypeError("requires 8-, 16- or 32-bit field width (64-bit needs jax_enable_x64).")
    k1, k2 = _key_words(data)
    hi, lo = iota_2x32_shape(shape)
    b1, b2 = threefry2x32(k1, k2, hi, lo)
    if bit_width == 64:  # JAX: the two words side by side
        u64 = UINT_DTYPES[64]
        w1, w2 = lax.convert_element_type(b1, u64), lax.convert_element_type(b2, u64)
        return lax.bitwise_or(lax.shift_left(w1, np.uint64(32)), w2)
    bits = lax.bitwise_xor(b1, b2)
    if bit_width != 32:
        bits = lax.convert_element_type(bits, UINT_DTYPES[bit_width])
    return bits


# ---- typed key arrays -----------------------------------------------------------------------


class KeyTy(dtypes.ExtendedDType):
    """The dtype of typed threefry keys: prints as ``key<fry>``."""

    type = dtypes.prng_key
    name = "key<fry>"
    itemsize = 8
    kind = "V"
    _impl_name = "threefry2x32"

    def __repr__(self):
        return self.name

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, KeyTy) or (isinstance(other, str) and other in (self.name, "threefry2x32"))

    def __hash__(self):
        return hash(self.name)


KEY_DTYPE = KeyTy()


class PRNGKeyArray:
    """An array of typed PRNG keys: uint32 data of shape ``(*shape, 2)`` underneath."""

    __slots__ = ("_base_array",)
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, base_array):
        self._base_array = base_array

    # -- array-like attributes ------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self._base_array.shape[:-1])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        return KEY_DTYPE

    @property
    def itemsize(self):
        return KEY_DTYPE.itemsize

    @property
    def nbytes(self):
        return self.itemsize * self.size

    def _is_concrete(self):
        return not isinstance(self._base_array, Tracer)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d key array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if self.ndim == 0 and any(i is not None and i is not Ellipsis for i in idx):
            raise IndexError("Too many indices: 0-dimensional key array indexed")
        full_idx = idx + (slice(None),)
        data = self._base_array
        if self._is_concrete() and not any(hasattr(i, "aval") and isinstance(i, Tracer) for i in idx):
            host_idx = tuple(np.asarray(i) if hasattr(i, "aval") else i for i in full_idx)

            return PRNGKeyArray(from_numpy(np.asarray(data)[host_idx], dtype=U32))
        return PRNGKeyArray(data[full_idx])

    def __bool__(self):
        raise TypeError("key array cannot be converted to boolean.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "JAX array with PRNGKey dtype cannot be converted to a NumPy array. Use "
            "jax.random.key_data(arr) if you wish to extract the underlying integer array."
        )

    def __eq__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented

        return jnp.all(jnp.equal(self._base_array, other._base_array), axis=-1)

    def __ne__(self, other):
        if not isinstance(other, PRNGKeyArray):
            return NotImplemented

        return jnp.logical_not(self == other)

    def __repr__(self):
        if isinstance(self._base_array, Tracer):
            return f"JitTracer(key<fry>[{','.join(map(str, self.shape))}])"
        return f"Array({self.shape}, dtype={KEY_DTYPE.name}) overlaying:\n{self._base_array}"

    __str__ = __repr__

    def block_until_ready(self):
        if hasattr(self._base_array, "block_until_ready"):
            self._base_array.block_until_ready()
        return self

    def copy(self):
        return PRNGKeyArray(self._base_array)

    def devices(self):
        return self._base_array.devices()

    @property
    def device(self):
        return self._base_array.device

    # -- shape manipulation (on the key dims) ----------------------------------------------------
    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(int(d) for d in shape)
        if -1 in shape:
            known = math.prod(d for d in shape if d != -1)
            shape = tuple(self.size // known if d == -1 else d for d in shape)
        return PRNGKeyArray(lax.reshape(self._base_array, shape + (2,)))

    def ravel(self):
        return self.reshape((self.size,))

    flatten = ravel

    def squeeze(self, axis=None):
        if axis is None:
            shape = tuple(d for d in self.shape if d != 1)
        else:
            axes = {a % self.ndim for a in ((axis,) if isinstance(axis, int) else axis)}
            shape = tuple(d for i, d in enumerate(self.shape) if i not in axes)
        return self.reshape(shape)

    def transpose(self, *axes):
        if not axes or axes == (None,):
            axes = tuple(reversed(range(self.ndim)))
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        perm = tuple(a % self.ndim for a in axes) + (self.ndim,)
        return PRNGKeyArray(lax.transpose(self._base_array, perm))

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, axis1, axis2):
        return jnp.swapaxes(self, axis1, axis2)

    @property
    def at(self):
        """key.at[i].set(other_keys) / .get(): updates move whole keys, as JAX's."""
        return _KeyAt(self)


class _KeyAt:
    __slots__ = ("keys",)

    def __init__(self, keys):
        self.keys = keys

    def __getitem__(self, idx):
        return _KeyAtIndex(self.keys, idx if isinstance(idx, tuple) else (idx,))


class _KeyAtIndex:
    __slots__ = ("keys", "idx")

    def __init__(self, keys, idx):
        self.keys, self.idx = keys, idx

    def get(self, **kw):
        return self.keys[self.idx]

    def set(self, values, **kw):
        if not isinstance(values, PRNGKeyArray):
            raise TypeError(f"key.at[].set needs key array values (jax.random.key), got {type(values).__name__}")
        data = self.keys._base_array.at[self.idx + (slice(None),)].set(values._base_array, **kw)
        return PRNGKeyArray(data)


def _flatten_keys(k):
    return (k._base_array,), None


def _unflatten_keys(aux, children):
    (data,) = children
    return PRNGKeyArray(data)


tree_util.register_pytree_node(PRNGKeyArray, _flatten_keys, _unflatten_keys)


def is_key_array(x) -> bool:
    return isinstance(x, PRNGKeyArray)


basearray.Array.register(PRNGKeyArray)  # (a typed key array is a jax.Array, as JAX)
