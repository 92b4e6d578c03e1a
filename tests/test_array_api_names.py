"""The array API standard's names on irjax.numpy: dtype queries, the namespace info, device=,
to_device, DLPack (zero-copy with NumPy on the CPU), checked against jax.numpy and NumPy."""

import gc

import irjax
import irjax.numpy as inp
import jax.numpy as jnp
import numpy as np
import pytest

DTYPES = ["bool", "int8", "int16", "int32", "uint8", "uint16", "uint32", "float16", "float32", "bfloat16"]
KINDS = ["bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric"]


def test_version_and_namespace():
    assert inp.__array_api_version__ == "2023.12"
    x = inp.arange(3)
    assert x.__array_namespace__() is inp


@pytest.mark.parametrize("src", DTYPES)
def test_can_cast_and_isdtype_match_jax(src):
    for dst in DTYPES:
        assert inp.can_cast(getattr(inp, src), getattr(inp, dst)) == jnp.can_cast(getattr(jnp, src), getattr(jnp, dst))
    for kind in KINDS + [("integral", "real floating"), inp.float32]:
        jkind = kind if not isinstance(kind, type) else jnp.float32
        assert inp.isdtype(getattr(inp, src), kind) == jnp.isdtype(getattr(jnp, src), jkind), (src, kind)
    # an array stands for its dtype in can_cast
    assert inp.can_cast(inp.zeros(2, src), "float32") == jnp.can_cast(jnp.zeros(2, src).dtype, "float32")


def test_isdtype_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        inp.isdtype(inp.float32, "floating point")


def test_namespace_info_matches_jax():
    info, jinfo = inp.__array_namespace_info__(), jnp.__array_namespace_info__()
    assert info.capabilities() == jinfo.capabilities()
    assert info.default_dtypes() == jinfo.default_dtypes()
    for kind in (None, "integral", "real floating", "bool", ("bool", "unsigned integer")):
        want = {k: v for k, v in jinfo.dtypes(kind=kind).items() if not k.startswith("complex")}
        got = {k: v for k, v in info.dtypes(kind=kind).items() if not k.startswith("complex")}
        assert got == want, kind
    assert info.default_device() in info.devices()
    assert info.devices() == irjax.devices()


CREATORS = [
    ("arange", (5,), {}),
    ("asarray", ([1.0, 2.0],), {}),
    ("array", ([1, 2],), {}),
    ("empty", ((2, 2),), {}),
    ("eye", (3,), {}),
    ("full", ((2,), 7.0), {}),
    ("linspace", (0.0, 1.0, 5), {}),
    ("ones", ((3,),), {}),
    ("zeros", ((3,),), {"dtype": "int32"}),
    ("identity", (2,), {}),
    ("tri", (3,), {}),
    ("zeros_like", (np.ones(3, np.float32),), {}),
    ("ones_like", (np.ones(3, np.int32),), {}),
    ("empty_like", (np.ones(3, np.int32),), {}),
    ("full_like", (np.ones(3, np.float32), 2.0), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CREATORS, ids=[c[0] for c in CREATORS])
def test_creation_device_keyword(name, args, kwargs):
    dev = irjax.devices()[0]
    out = getattr(inp, name)(*args, device=dev, **kwargs)
    want = getattr(jnp, name)(*args, **kwargs)
    assert out.device == dev and out.devices() == {dev}
    assert out._committed  # an explicit device commits, as device_put does
    assert out.dtype == want.dtype and out.shape == want.shape
    if name not in ("empty", "empty_like"):
        np.testing.assert_array_equal(np.asarray(out), np.asarray(want))
    assert "device" in __import__("inspect").signature(getattr(inp, name)).parameters
    # by platform name too; device=None keeps the uncommitted default
    assert getattr(inp, name)(*args, device="cpu", **kwargs).device == dev
    assert not getattr(inp, name)(*args, **kwargs)._committed


def test_to_device_and_device_property():
    dev = irjax.devices()[0]
    x = inp.arange(4.0)
    y = x.to_device(dev)
    assert y.device == dev and y._committed
    np.testing.assert_array_equal(np.asarray(y), np.arange(4.0))
    assert y.to_device(dev) is y
    assert x.__dlpack_device__() == tuple(int(v) for v in jnp.arange(4.0).__dlpack_device__())


def test_astype_and_reshape_copy():
    x = inp.arange(6.0)
    assert x.astype("float32") is x
    y = x.astype("float32", copy=True)
    assert y is not x and y.dtype == np.float32
    z = inp.astype(x, "int32", device=irjax.devices()[0])
    assert z.dtype == np.int32 and z._committed
    r = inp.reshape(x, (2, 3), copy=True)
    assert r.shape == (2, 3)
    assert x.reshape(2, 3, copy=False).shape == (2, 3)
    np.testing.assert_array_equal(np.asarray(irjax.jit(lambda v: v.astype("int32", copy=True))(x)), np.arange(6))


def _ptr(a):
    return np.asarray(a).__array_interface__["data"][0]


def test_dlpack_export_is_zero_copy_on_cpu():
    x = inp.arange(12.0).reshape(3, 4) * 2
    h1, h2 = np.from_dlpack(x), np.from_dlpack(x)
    np.testing.assert_array_equal(h1, np.arange(12.0).reshape(3, 4) * 2)
    assert h1.dtype == np.float32 and h1.shape == (3, 4)
    assert h1.ctypes.data == h2.ctypes.data  # both view the device buffer
    assert h1.ctypes.data == x._bv.map().asarray([3, 4], np.dtype(np.float32)).ctypes.data
    # copy=True gives separate memory
    h3 = np.from_dlpack(x, copy=True)
    assert h3.ctypes.data != h1.ctypes.data
    # the export keeps the buffer alive after the Array is gone
    del x
    gc.collect()
    _ = [inp.ones(64) + i for i in range(3)]
    np.testing.assert_array_equal(h1, np.arange(12.0).reshape(3, 4) * 2)
    # JAX imports it too
    np.testing.assert_array_equal(np.asarray(jnp.from_dlpack(inp.arange(5))), np.arange(5))
    # 0-d and empty arrays
    assert np.from_dlpack(inp.asarray(3.5)).item() == 3.5
    assert np.from_dlpack(inp.zeros((0, 2))).shape == (0, 2)


def _host_at(n, offset, dtype=np.float32):
    """n values of dtype starting `offset` bytes past a 64-byte boundary, in a fresh NumPy buffer."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.zeros(n * itemsize + 128, np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    host = raw[start : start + n * itemsize].view(dtype)
    host[:] = np.arange(n)
    return host


def test_from_dlpack_imports_numpy_without_copy():
    host = _host_at(8, 0)  # aliasing needs IREE's 64-byte alignment (a 16-byte aligned one is copied)
    a = inp.from_dlpack(host)
    assert a.dtype == np.float32 and a.shape == (8,)
    f = irjax.jit(lambda v: v * 2 + 1)
    np.testing.assert_array_equal(np.asarray(f(a)), host * 2 + 1)
    host[0] = 100.0  # aliasing: the Array views NumPy's memory (copy=None)
    assert float(f(a)[0]) == 201.0
    b = inp.from_dlpack(host, copy=True)
    host[1] = -5.0
    assert float(b[1]) == 1.0 and float(a[1]) == -5.0
    # a copy where the buffer cannot be used: another dtype (float64 -> float32) or strides
    c = inp.from_dlpack(np.arange(4, dtype=np.float64))
    assert c.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(c), np.arange(4))
    d = inp.from_dlpack(np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2])
    np.testing.assert_array_equal(np.asarray(d), np.arange(12).reshape(3, 4)[:, ::2])
    with pytest.raises(BufferError, match="copy=False"):
        inp.from_dlpack(np.arange(4, dtype=np.float64), copy=False)
    with pytest.raises(BufferError, match="64-byte aligned=False"):
        inp.from_dlpack(_host_at(8, 16), copy=False)
    # from JAX, and from irjax itself
    np.testing.assert_array_equal(np.asarray(inp.from_dlpack(jnp.arange(3.0))), np.arange(3.0))
    e = inp.from_dlpack(a)
    np.testing.assert_array_equal(np.asarray(e), np.asarray(a))
    with pytest.raises(TypeError, match="__dlpack__"):
        inp.from_dlpack([1, 2])


def test_from_dlpack_device_keyword():
    dev = irjax.devices()[0]
    a = inp.from_dlpack(np.ones(3, np.float32), device=dev)
    assert a.device == dev and a._committed


def test_unique_all_matches_jax():
    x = np.array([[3.0, np.nan, 1.0], [np.nan, 3.0, 2.0]], np.float32)
    got, want = inp.unique_all(x), jnp.unique_all(x)
    assert type(got).__name__ == "UniqueAllResult" and got._fields == want._fields
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_linalg_cross_and_array_properties():
    a = np.random.RandomState(0).randn(2, 3).astype(np.float32)
    b = np.random.RandomState(1).randn(2, 3).astype(np.float32)
    np.testing.assert_allclose(np.asarray(inp.linalg.cross(a, b)), np.asarray(jnp.linalg.cross(a, b)), rtol=1e-6)
    with pytest.raises(ValueError, match="3-dimensional"):
        inp.linalg.cross(np.ones((2, 2)), np.ones((2, 2)))
    x = inp.asarray(a)
    np.testing.assert_array_equal(np.asarray(x.mT), a.T)
    assert [1, 2, 3][inp.asarray(1)] == 2 and bool(inp.asarray(1)) and complex(inp.asarray(2.0)) == 2 + 0j


def test_eye_diagonal_outside_the_matrix():
    # the suite draws any Python int for k; NumPy and JAX give all zeros
    for n, m, k in [(1, None, 2**31), (3, 4, -3), (3, 4, 4), (0, 2, 5), (2, 2, -(2**40))]:
        got = inp.eye(n, m, k=k)
        want = np.eye(n, m, k=k, dtype=np.float32)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), want)
    np.testing.assert_array_equal(np.asarray(inp.eye(3, 4, k=-2)), np.asarray(jnp.eye(3, 4, k=-2)))


def test_linalg_vecdot_keeps_dtype_and_checks_sizes():
    a, b = np.array([[1, 2, 3]], np.uint8), np.array([4, 5, 6], np.uint8)
    got, want = inp.linalg.vecdot(a, b), jnp.linalg.vecdot(a, b)
    assert got.dtype == want.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    x = np.random.RandomState(0).randn(3, 3).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(inp.linalg.vecdot(x, x.T, axis=0)), np.asarray(jnp.linalg.vecdot(x, x.T, axis=0)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="axis"):
        inp.linalg.vecdot(np.ones((2, 3), np.float32), np.ones((2, 1), np.float32))
