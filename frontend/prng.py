"""irjax.prng: the threefry2x32 PRNG and typed key arrays, bit-identical with JAX.

JAX's defaults are reproduced: the ``threefry2x32`` implementation with
``jax_threefry_partitionable=True`` (split / random_bits count with a 64-bit iota over
the output shape, held as two uint32 words) and x64 disabled (seeds keep their low 32
bits). Everything is built from jx primitives through `bind`, so jit, vmap and grad
apply; the samplers in `irjax.random` call the functions here inside `irjax.jit`.

A typed key is a `PRNGKeyArray`: a pytree node whose single child is the uint32 key
data of shape ``(*key_shape, 2)``; transformations see only that data.
"""

from __future__ import annotations

import math

import numpy as np
from irjax import dtypes, tree_util
from irjax import numpy as jnp
from irjax.array import from_numpy
from irjax.core import Tracer, aval_of, bind, current_trace

from . import xla_math
from .core import jx

U32 = np.dtype(np.uint32)
F32 = np.dtype(np.float32)

# ---- a tiny lax over jx primitives ------------------------------------------------------------


def shape_of(x) -> tuple:
    return tuple(aval_of(x).shape)


def dtype_of(x) -> np.dtype:
    return aval_of(x).dtype


def value(x):
    """x as an irjax value: Arrays/Tracers pass; NumPy data becomes a constant."""
    if hasattr(x, "aval"):
        return x
    arr = np.asarray(x)
    t = current_trace()
    if t is not None:
        return t.constant(arr)

    return from_numpy(arr, dtype=arr.dtype)


def full(val, dtype, shape=()):
    """A constant of `shape`, built as a broadcast of a scalar literal."""
    dtype = np.dtype(dtype)
    arr = np.array(val).astype(dtype)
    if dtype.kind == "V":
        # ml_dtypes floats (bfloat16, ...): irjax's dense-attribute encoder does not handle
        # them (it hangs), so build the constant from its bits and bitcast.
        c = bitcast(value(arr.view(UINT_DTYPES[8 * dtype.itemsize])), dtype)
    else:
        c = value(arr)
    shape = tuple(shape)
    if shape:
        c = jx.broadcast_in_dim(c, shape=shape, broadcast_dimensions=())
    return c


def broadcast_to(x, shape):
    """NumPy-style broadcast of x to shape (rank may grow on the left)."""
    x = value(x)
    shape = tuple(shape)
    xs = shape_of(x)
    if xs == shape:
        return x
    if np.broadcast_shapes(xs, shape) != shape:
        raise ValueError(f"Incompatible shapes for broadcasting: {xs} and requested shape {shape}")
    lead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    if len(keep) != len(xs):
        x = jx.reshape(x, new_sizes=tuple(xs[i] for i in keep))
    return jx.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(lead + i for i in keep))


def binop(name, x, y):
    """Apply a same-dtype binary primitive with NumPy broadcasting."""
    x, y = value(x), value(y)
    sx, sy = shape_of(x), shape_of(y)
    if sx != sy:
        s = tuple(np.broadcast_shapes(sx, sy))
        x, y = broadcast_to(x, s), broadcast_to(y, s)
    dt = dtype_of(x)
    if dt.kind == "V":
        # irjax's elementwise primitives reject ml_dtypes floats (bfloat16): compute in
        # float32 and round after every op, as XLA's CPU backend does for bfloat16.
        f32 = np.dtype(np.float32)
        out = bind(name, convert(x, f32), convert(y, f32))
        return out if dtype_of(out) == np.bool_ else convert(out, dt)
    return bind(name, x, y)


def unary(name, x):
    """A unary primitive; ml_dtypes floats go through float32 (see binop).

    log, log1p, erf and erf_inv on floats use XLA:CPU's algorithms (see `math_fn`)."""
    x = value(x)
    dt = dtype_of(x)
    if name in xla_math.XLA_F32 and (dt.kind == "f" or dt.kind == "V"):
        return math_fn(name, x)
    if dt.kind == "V":
        return convert(bind(name, convert(x, np.float32)), dt)
    return bind(name, x)


def const_like(x, val):
    """A constant with x's dtype (shape () — binop broadcasts it)."""
    return full(val, dtype_of(x))


def add(x, y):
    return binop("add", x, y)


def sub(x, y):
    return binop("sub", x, y)


def mul(x, y):
    return binop("mul", x, y)


def xor(x, y):
    return binop("xor", x, y)


def bor(x, y):
    return binop("or", x, y)


def band(x, y):
    return binop("and", x, y)


def shl(x, y):
    return binop("shift_left", x, y)


def shr(x, y):
    return binop("shift_right_logical", x, y)


def convert(x, dtype):
    x = value(x)
    dtype = np.dtype(dtype)
    if dtype_of(x) == dtype:
        return x
    return jx.convert_element_type(x, new_dtype=dtype)


def bitcast(x, dtype):
    x = value(x)
    dtype = np.dtype(dtype)
    if dtype_of(x) == dtype:
        return x
    return jx.bitcast_convert_type(x, new_dtype=dtype)


def reshape(x, shape):
    x = value(x)
    shape = tuple(shape)
    if shape_of(x) == shape:
        return x
    return jx.reshape(x, new_sizes=shape)


def concatenate(xs, dimension):
    xs = [value(x) for x in xs]
    if len(xs) == 1:
        return xs[0]
    return jx.concatenate(*xs, dimension=dimension)


def slice_axis(x, axis, start, stop):
    x = value(x)
    s = shape_of(x)
    starts = tuple(start if i == axis else 0 for i in range(len(s)))
    limits = tuple(stop if i == axis else d for i, d in enumerate(s))
    return jx.slice(x, start_indices=starts, limit_indices=limits, strides=(1,) * len(s))


def index_axis(x, axis, i):
    """x[..., i, ...] along `axis` (static i), dropping the axis."""
    s = shape_of(x)
    return reshape(slice_axis(x, axis, i, i + 1), s[:axis] + s[axis + 1 :])


def stack_last(xs):
    """Stack same-shape arrays along a new trailing axis, as selects on an iota of that axis
    rather than a concatenate: IREE cut the threefry chain that fed the concatenate into 12
    dispatches (a split compiled in 0.78 s); with selects it is one (0.52 s)."""
    s = shape_of(xs[0])
    out = s + (len(xs),)
    lane = jx.iota(dtype=U32, shape=out, dimension=len(s))
    wide = [broadcast_to(reshape(x, s + (1,)), out) for x in xs]
    res = wide[-1]
    for i in range(len(xs) - 2, -1, -1):
        res = select(cmp("eq", lane, full(i, U32, out)), wide[i], res)
    return res


def iota_u32(shape):
    """The row-major linear index of each element of `shape`, as uint32."""
    shape = tuple(shape)
    size = math.prod(shape)
    if size == 0 or not shape:
        return full(0, U32, shape)
    return reshape(jx.iota(dtype=U32, shape=(size,), dimension=0), shape)


# ---- threefry2x32 ---------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotl(v, d):
    return bor(shl(v, const_like(v, d)), shr(v, const_like(v, 32 - d)))


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 block cipher (20 rounds): key words k1, k2, counter words x1, x2.

    All operands are uint32 and broadcast together; returns the two output words.
    """
    k1, k2, x1, x2 = (value(v) for v in (k1, k2, x1, x2))
    for v in (k1, k2, x1, x2):
        if dtype_of(v) != U32:
            raise TypeError(
                f"threefry2x32 requires uint32 arguments, got {[str(dtype_of(a)) for a in (k1, k2, x1, x2)]}"
            )
    shape = tuple(np.broadcast_shapes(*(shape_of(v) for v in (k1, k2, x1, x2))))
    # the key schedule is cheap on the (usually scalar) key words
    ks = [k1, k2, xor(xor(k1, k2), full(0x1BD11BDA, U32))]
    x = [broadcast_to(add(x1, ks[0]), shape), broadcast_to(add(x2, ks[1]), shape)]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            a = add(x[0], x[1])
            x = [a, xor(a, _rotl(x[1], r))]
        x = [add(x[0], ks[(i + 1) % 3]), add(x[1], add(ks[(i + 2) % 3], full(i + 1, U32)))]
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
    if shape_of(data) != (2,):
        raise TypeError(f"expected a single threefry key (uint32[2]), got shape {shape_of(data)}")
    return index_axis(data, 0, 0), index_axis(data, 0, 1)


def iota_2x32_shape(shape):
    """A 64-bit row-major iota over `shape` as (hi, lo) uint32 words (sizes < 2**32)."""
    shape = tuple(shape)
    if math.prod(shape) >= 2**32:
        raise NotImplementedError("random arrays with 2**32 or more elements are not supported")
    return full(0, U32, shape), iota_u32(shape)


def seed_data(seed):
    """threefry_seed for a traced integer scalar (x64 off: [0, low 32 bits])."""
    seed = value(seed)
    dt = dtype_of(seed)
    if shape_of(seed):
        raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
    if dt.kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    if dt.itemsize == 4:
        lo = bitcast(seed, U32)
    else:
        lo = convert(seed, U32)
    if dt.itemsize == 8:  # x64: the high word is the seed's upper 32 bits, as JAX bit-casts it
        hi = convert(shr(seed, const_like(seed, 32)), U32)
    else:
        hi = full(0, U32)
    return concatenate([reshape(hi, (1,)), reshape(lo, (1,))], 0)


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
    msg = value(msg)
    if dtype_of(msg) != U32:
        msg = convert(msg, U32)
    b1, b2 = threefry2x32(k1, k2, full(0, U32), msg)
    return stack_last([b1, b2])


UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32), 64: np.dtype(np.uint64)}


def random_bits_data(data, bit_width, shape):
    """Partitionable threefry random bits: uint{bit_width}[*shape]."""
    if bit_width not in (8, 16, 32, 64) or (bit_width == 64 and not dtypes.x64_enabled()):
        raise TypeError("requires 8-, 16- or 32-bit field width (64-bit needs jax_enable_x64).")
    k1, k2 = _key_words(data)
    hi, lo = iota_2x32_shape(shape)
    b1, b2 = threefry2x32(k1, k2, hi, lo)
    if bit_width == 64:  # JAX: the two words side by side
        u64 = UINT_DTYPES[64]
        return bor(shl(convert(b1, u64), const_like(convert(b1, u64), 32)), convert(b2, u64))
    bits = xor(b1, b2)
    if bit_width != 32:
        bits = convert(bits, UINT_DTYPES[bit_width])
    return bits


# ---- typed key arrays -----------------------------------------------------------------------


class KeyTy:
    """The dtype of typed threefry keys: prints as ``key<fry>``."""

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
        return tuple(shape_of(self._base_array)[:-1])

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
        if self.ndim == 0:
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
        return PRNGKeyArray(reshape(self._base_array, shape + (2,)))

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
        return PRNGKeyArray(jx.transpose(value(self._base_array), permutation=perm))

    @property
    def T(self):
        return self.transpose()


def _flatten_keys(k):
    return (k._base_array,), None


def _unflatten_keys(aux, children):
    (data,) = children
    return PRNGKeyArray(data)


tree_util.register_pytree_node(PRNGKeyArray, _flatten_keys, _unflatten_keys)


def is_key_array(x) -> bool:
    return isinstance(x, PRNGKeyArray)


# ---- select and compare with NumPy broadcasting --------------------------------------------


def select(pred, a, b):
    a, b, pred = value(a), value(b), value(pred)
    s = tuple(np.broadcast_shapes(shape_of(pred), shape_of(a), shape_of(b)))
    return jx.select(broadcast_to(pred, s), broadcast_to(a, s), broadcast_to(b, s))


def cmp(direction, x, y):
    return binop(direction, x, y)


def math_fn(name, x):
    """log/log1p/erf/erf_inv as XLA:CPU computes them (float32 and narrower: via float32)."""
    x = value(x)
    dt = dtype_of(x)
    if name not in xla_math.XLA_F32:
        return unary(name, x)
    if dt == F32:
        return xla_math.exact_value_primitive_gradient(name, xla_math.XLA_F32[name], x)
    if dt.itemsize < 4:
        return convert(math_fn(name, convert(x, F32)), dt)
    return bind(name, x)
