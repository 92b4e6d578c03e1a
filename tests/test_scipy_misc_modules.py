"""irjax.scipy.fft / integrate / interpolate / ndimage against jax.scipy on the same
inputs: values and dtypes, errors, jit, grad and vmap."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.scipy import cluster, fft, integrate, interpolate, ndimage

jax = pytest.importorskip("jax")
jjnp = jax.numpy
import jax.scipy.fft  # noqa: E402, F401
import jax.scipy.integrate  # noqa: E402, F401
import jax.scipy.interpolate  # noqa: E402, F401
import jax.scipy.ndimage  # noqa: E402, F401

jsp = jax.scipy

R = np.random.RandomState(0)
X = R.randn(3, 7).astype(np.float32)
GRID = (np.linspace(0, 1, 5).astype(np.float32), np.sort(R.rand(6)).astype(np.float32))
V = R.randn(5, 6).astype(np.float32)
XI = np.stack([R.uniform(-0.1, 1.1, 9), R.uniform(GRID[1][0] - 0.05, GRID[1][-1] + 0.05, 9)], -1).astype(np.float32)
IMG = R.randn(5, 6).astype(np.float32)
COORDS = [R.uniform(-3, 8, 12).astype(np.float32), R.uniform(-3, 9, 12).astype(np.float32)]


def _check(ours, theirs, rtol=1e-5, atol=2e-5):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.slow  # many eager compiles: > 15 s on 2 shared cores
@pytest.mark.parametrize("n,norm", [(None, None), (None, "ortho"), (5, "backward"), (9, "ortho")])
def test_dct_idct(n, norm):
    for name in ["dct", "idct"]:
        _check(getattr(fft, name)(X, n=n, norm=norm), getattr(jsp.fft, name)(X, n=n, norm=norm))
        _check(getattr(fft, name)(X, n=n, axis=0, norm=norm), getattr(jsp.fft, name)(X, n=n, axis=0, norm=norm))
    # idct inverts dct
    np.testing.assert_allclose(fft.idct(fft.dct(X, norm=norm), norm=norm), X, atol=1e-5)


@pytest.mark.slow  # many eager compiles: > 15 s on 2 shared cores
def test_dctn_idctn_int_complex():
    for name in ["dctn", "idctn"]:
        _check(getattr(fft, name)(X, norm="ortho"), getattr(jsp.fft, name)(X, norm="ortho"))
        _check(getattr(fft, name)(X, s=(4,)), getattr(jsp.fft, name)(X, s=(4,)))
        _check(getattr(fft, name)(X, axes=(0,)), getattr(jsp.fft, name)(X, axes=(0,)))
    xi = np.arange(6)
    _check(fft.dct(xi), jsp.fft.dct(xi))
    xc = (X + 0.5j * X[::-1]).astype(np.complex64)
    _check(fft.dct(xc), jsp.fft.dct(xc))


def test_fft_errors():
    for mod in (fft, jsp.fft):
        with pytest.raises(NotImplementedError, match="Only DCT type 2"):
            mod.dct(X, type=3)
        with pytest.raises(ValueError, match="is not implemented"):
            mod.idctn(X, norm="forward")
        with pytest.raises(ValueError, match="s must have at most x.ndim"):
            mod.dctn(X, s=(1, 2, 3))


def test_trapezoid():
    _check(integrate.trapezoid(X), jsp.integrate.trapezoid(X))
    _check(integrate.trapezoid(X, dx=0.5, axis=0), jsp.integrate.trapezoid(X, dx=0.5, axis=0))
    x = np.cumsum(R.rand(7)).astype(np.float32)
    _check(integrate.trapezoid(X, x=x), jsp.integrate.trapezoid(X, x=x))
    _check(integrate.trapezoid(np.arange(5)), jsp.integrate.trapezoid(np.arange(5)))


@pytest.mark.slow  # many eager compiles: > 15 s on 2 shared cores
@pytest.mark.parametrize("method", ["linear", "nearest"])
def test_regular_grid_interpolator(method):
    for fv in [np.nan, None, 0.5]:
        ours = interpolate.RegularGridInterpolator(GRID, V, method=method, fill_value=fv)(XI)
        theirs = jsp.interpolate.RegularGridInterpolator(GRID, V, method=method, fill_value=fv)(XI)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=2e-5)
    V3 = np.stack([V, 2 * V], -1)
    pts = (XI[:4, 0].clip(0, 1), XI[:4, 1].clip(GRID[1][0], GRID[1][-1]))
    _check(
        interpolate.RegularGridInterpolator(GRID, V3)(pts, method=method),
        jsp.interpolate.RegularGridInterpolator(GRID, V3)(pts, method=method),
    )


def test_interpolator_errors_and_pytree():
    for mod in (interpolate, jsp.interpolate):
        with pytest.raises(ValueError, match="method 'cubic' is not defined"):
            mod.RegularGridInterpolator(GRID, V, method="cubic")
        with pytest.raises(NotImplementedError, match="bounds_error"):
            mod.RegularGridInterpolator(GRID, V, bounds_error=True)
        with pytest.raises(ValueError, match="there are 3 point arrays"):
            mod.RegularGridInterpolator(GRID + GRID[:1], V)
        with pytest.raises(ValueError, match="requested sample points xi have dimension"):
            mod.RegularGridInterpolator(GRID, V)(np.zeros((2, 3), np.float32))
    interp = interpolate.RegularGridInterpolator(GRID, V)
    leaves, tree = irjax.tree_util.tree_flatten(interp)
    assert len(leaves) == 4
    again = irjax.tree_util.tree_unflatten(tree, leaves)
    _check(irjax.jit(lambda f, x: f(x))(again, XI[:3].clip(0.2, 0.8)), interp(XI[:3].clip(0.2, 0.8)))


@pytest.mark.slow  # many eager compiles: > 15 s on 2 shared cores
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_map_coordinates(mode):
    for order in (0, 1):
        _check(
            ndimage.map_coordinates(IMG, COORDS, order, mode=mode, cval=1.5),
            jsp.ndimage.map_coordinates(IMG, COORDS, order, mode=mode, cval=1.5),
        )


def test_map_coordinates_int_and_errors():
    img = np.arange(30).reshape(5, 6)
    _check(
        ndimage.map_coordinates(img, COORDS, 1, mode="nearest"),
        jsp.ndimage.map_coordinates(img, COORDS, 1, mode="nearest"),
    )
    for mod in (ndimage, jsp.ndimage):
        with pytest.raises(ValueError, match="coordinates must be a sequence of length input.ndim"):
            mod.map_coordinates(IMG, COORDS[:1], 1)
        with pytest.raises(NotImplementedError, match="does not yet support mode"):
            mod.map_coordinates(IMG, COORDS, 1, mode="grid-wrap")
        with pytest.raises(NotImplementedError, match="requires order<=1"):
            mod.map_coordinates(IMG, COORDS, 3)


@irjax.jit
def _mixed(img, c0, c1, x):
    sampled = ndimage.map_coordinates(img, [c0, c1], 1, mode="reflect")
    return jnp.sum(sampled**2) + jnp.sum(fft.dct(x, norm="ortho") ** 3) + integrate.trapezoid(x[0] ** 2)


def _jmixed(img, c0, c1, x):
    sampled = jsp.ndimage.map_coordinates(img, [c0, c1], 1, mode="reflect")
    return jjnp.sum(sampled**2) + jjnp.sum(jsp.fft.dct(x, norm="ortho") ** 3) + jsp.integrate.trapezoid(x[0] ** 2)


@pytest.mark.slow  # many eager compiles: > 15 s on 2 shared cores
def test_jit_grad_vmap():
    args = (IMG, COORDS[0], COORDS[1], X)
    _check(_mixed(*args), _jmixed(*args), rtol=1e-4)
    for x, y in zip(irjax.grad(_mixed, argnums=(0, 1, 3))(*args), jax.grad(_jmixed, argnums=(0, 1, 3))(*args)):
        _check(x, y, rtol=1e-4, atol=1e-4)
    got = irjax.vmap(lambda r: fft.idct(r, norm="ortho"))(X)
    _check(got, np.stack([jsp.fft.idct(r, norm="ortho") for r in X]))
    interp = interpolate.RegularGridInterpolator(GRID, V)
    pts = XI.clip(0.3, 0.7)
    _check(irjax.vmap(lambda p: interp(p[None])[0])(pts), jsp.interpolate.RegularGridInterpolator(GRID, V)(pts))


def test_vq():
    import jax.scipy.cluster.vq as jvq

    obs = R.randn(8, 3).astype(np.float32)
    book = R.randn(4, 3).astype(np.float32)
    for o, b in [(obs, book), (obs[:, 0], book[:, 0]), (np.arange(6).reshape(3, 2), np.array([[0, 1], [4, 4]]))]:
        (c1, d1), (c2, d2) = cluster.vq.vq(o, b), jvq.vq(o, b)
        _check(c1, c2)
        _check(d1, d2)
    for mod in (cluster.vq, jvq):
        with pytest.raises(ValueError, match="same rank"):
            mod.vq(obs, book[0])
        with pytest.raises(ValueError, match="ndim different than 1 or 2"):
            mod.vq(obs[None], book[None])
