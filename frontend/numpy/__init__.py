"""irjax.numpy: the NumPy API on irjax arrays (works eagerly and under transformations)."""

import numpy as _np
from irjax.basearray import Array as ndarray  # noqa: F401  (jnp.ndarray is jax.Array)
from irjax.dtypes import float0, issubdtype, promote_types, result_type  # noqa: F401  (issubdtype: bfloat16 is floating)

# array API 2023.12 names, set operations, polynomials, histograms, index helpers, the rest of NumPy
from . import array_api as _array_api
from . import (
    fft,  # noqa: F401
    linalg,  # noqa: F401
)
from . import key_arrays as _key_arrays
from . import narrow_dtypes as _narrow_dtypes
from . import ufunc_methods as _ufunc_methods
from .array_api import __array_api_version__, __array_namespace_info__, can_cast, from_dlpack, isdtype  # noqa: F401
from .creation import *  # noqa: F401,F403
from .creation import (  # noqa: F401
    arange,
    array,
    asarray,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    identity,
    linspace,
    meshgrid,
    ones,
    ones_like,
    tri,
    tril,
    triu,
    zeros,
    zeros_like,
)
from .dtype_info import finfo, iinfo  # noqa: F401
from .functional import apply_along_axis, apply_over_axes, frompyfunc, piecewise, ufunc, vectorize  # noqa: F401
from .histograms import (  # noqa: F401
    bincount,
    digitize,
    histogram,
    histogram2d,
    histogram_bin_edges,
    histogramdd,
    interp,
)
from .index_tricks import (  # noqa: F401
    c_,
    choose,
    compress,
    diagflat,
    extract,
    fill_diagonal,
    index_exp,
    ix_,
    mask_indices,
    mgrid,
    ogrid,
    place,
    put,
    put_along_axis,
    r_,
    ravel_multi_index,
    s_,
    unravel_index,
)
from .indexing import argwhere, flatnonzero, nonzero, take, take_along_axis, where  # noqa: F401
from .misc import (  # noqa: F401
    array_equiv,
    array_repr,
    array_str,
    bartlett,
    bitwise_count,
    blackman,
    block,
    copy,
    dsplit,
    einsum_path,
    frexp,
    frombuffer,
    fromfile,
    fromiter,
    fromstring,
    get_printoptions,
    gradient,
    hamming,
    hanning,
    i0,
    iterable,
    kaiser,
    load,
    nextafter,
    packbits,
    printoptions,
    resize,
    save,
    savez,
    set_printoptions,
    spacing,
    trim_zeros,
    unpackbits,
    unwrap,
)
from .nanfunctions import (  # noqa: F401
    nanargmax,
    nanargmin,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanpercentile,
    nanprod,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
)
from .narrow_dtypes import *  # noqa: F401,F403  (int4, float8_e4m3fn, ...: names, no storage)
from .padding import pad  # noqa: F401
from .polynomial import poly, polyadd, polyder, polydiv, polyfit, polyint, polymul, polysub, polyval  # noqa: F401
from .products import (  # noqa: F401
    convolve,
    correlate,
    cross,
    dot,
    einsum,
    inner,
    kron,
    matmul,
    matvec,
    outer,
    tensordot,
    trapezoid,
    vdot,
    vecdot,
    vecmat,
)
from .reductions import (  # noqa: F401
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    average,
    count_nonzero,
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    max,
    mean,
    min,
    prod,
    ptp,
    std,
    sum,
    var,
)
from .roots import roots, sort_complex  # noqa: F401
from .setops import intersect1d, setdiff1d, setxor1d, union1d, unique_all, unique_counts, unique_inverse, unique_values  # noqa: F401
from .shape import (  # noqa: F401
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,
    broadcast_shapes,
    broadcast_to,
    column_stack,
    concat,
    concatenate,
    delete,
    diag,
    diagonal,
    diff,
    dstack,
    ediff1d,
    expand_dims,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    insert,
    matrix_transpose,
    moveaxis,
    ndim,
    permute_dims,
    ravel,
    repeat,
    reshape,
    roll,
    rollaxis,
    rot90,
    row_stack,
    shape,
    size,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    trace,
    transpose,
    unstack,
    vsplit,
    vstack,
)
from .sorting import argpartition, argsort, isin, lexsort, partition, searchsorted, sort, unique  # noqa: F401
from .statistics import corrcoef, cov, median, percentile, quantile  # noqa: F401
from .ufuncs import *  # noqa: F401,F403
from .ufuncs import abs, absolute, astype, clip, divmod, pow, round  # noqa: F401

# device= on every creation function (the array API's keyword; JAX has it too)
_CREATION = (
    "arange array asarray empty empty_like eye full full_like linspace ones ones_like zeros zeros_like identity tri"
)
for _name in _CREATION.split():
    globals()[_name] = _array_api.with_device(globals()[_name])

# JAX's scalar types: dtype-likes whose call returns an Array (jnp.float32(1.5) is 0-d)
from .scalar_types import *  # noqa: E402,F403
from .scalar_types import bool_, complex64, complex128, float32, float64, int64, uint64  # noqa: E402
from .scalar_types import scalar_type as _scalar_type  # noqa: E402

for _name in _narrow_dtypes.__all__:  # int4, float8_*: their call raises irjax's TypeError naming the dtype
    globals()[_name] = _scalar_type(_name, getattr(_narrow_dtypes, _name))
# NumPy's C-style aliases, as JAX has them (64-bit names; with x64 off arrays get 32 bits)
single, double, csingle, cdouble = float32, float64, complex64, complex128
float_, int_, uint, complex_ = float64, int64, uint64, complex128
bool = bool_  # noqa: A001
character, flexible, object_ = _np.character, _np.flexible, _np.object_  # (NumPy's type classes, as in JAX)
ComplexWarning = _np.exceptions.ComplexWarning
dtype = _np.dtype
integer, floating, inexact, number, signedinteger, unsignedinteger, complexfloating, generic = (
    _np.integer,
    _np.floating,
    _np.inexact,
    _np.number,
    _np.signedinteger,
    _np.unsignedinteger,
    _np.complexfloating,
    _np.generic,
)
pi, e, inf, nan, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma
newaxis = None


def isscalar(element):
    return _np.isscalar(element) or (hasattr(element, "aval") and element.ndim == 0)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = asarray(a), asarray(b)
    dt = result_type(a, b)
    if not issubdtype(dt, _np.inexact):
        return equal(a, b)
    a, b = a.astype(dt), b.astype(dt)
    out = less_equal(abs(a - b), atol + rtol * abs(b))
    # an infinity is close only to itself (|inf - -inf| <= inf would say otherwise); NaN to nothing
    out = logical_and(out, logical_not(logical_or(isinf(a), isinf(b))))
    out = logical_or(out, equal(a, b))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(a), isnan(b)))
    return out


def array_equal(a1, a2, equal_nan=False):
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return asarray(False)
    eq = equal(a1, a2)
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return all(eq)


def zeros_like_shape(shape, dtype=None):  # noqa: F811  # pragma: no cover  (internal helper name kept stable)
    return zeros(shape, dtype)


_ufunc_methods.attach(globals())  # jnp.add.at / .reduce / .outer ..., as JAX's ufunc objects
for _name in _key_arrays.NAMES:  # stack, where, take, ... move typed PRNG keys whole
    globals()[_name] = _key_arrays.keys_through(globals()[_name])
