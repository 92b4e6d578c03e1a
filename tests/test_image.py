"""irjax.image.resize / scale_and_translate against jax.image: every method, up- and downsampling,
antialias on and off, concrete and traced scales, dtypes, gradients and errors."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from jax_diff import assert_matches_jax

jax = pytest.importorskip("jax")

X = np.random.default_rng(0).standard_normal((2, 7, 9, 3)).astype(np.float32)
SHAPES = [(2, 14, 18, 3), (2, 3, 4, 3), (2, 7, 5, 3), (2, 10, 9, 3), (4, 7, 9, 1), (2, 1, 1, 3)]
METHODS = ["nearest", "linear", "cubic", "lanczos3", "lanczos5", "CUBIC_PYTORCH", "AREA"]


def _method(mod, name):
    return getattr(mod.image.ResizeMethod, name) if name.isupper() else name


@pytest.mark.parametrize("name", METHODS)
def test_resize_matches_jax(name):
    for shape in SHAPES:
        for antialias in (True, False):
            got = irjax.image.resize(X, shape, _method(irjax, name), antialias=antialias)
            want = jax.image.resize(X, shape, _method(jax, name), antialias=antialias)
            assert_matches_jax(got, want, 1e-4)


@pytest.mark.parametrize("name", ["LINEAR", "CUBIC", "LANCZOS3", "AREA", "CUBIC_PYTORCH"])
def test_scale_and_translate_matches_jax(name):
    # (scale, translation, every sample inside the input)
    cases = [
        ((1.7, 0.6), (0.3, -1.2), False),
        ((0.5, 2.0), (1.0, 0.5), False),
        ((1.0, 1.0), (0.0, 0.0), True),
        ((6 / 7, 8 / 9), (0, 0), True),
    ]
    for scale, shift, inside in cases:
        args = (np.array(scale, np.float32), np.array(shift, np.float32))
        for antialias in (True, False):
            run = lambda mod, s, t: mod.image.scale_and_translate(  # noqa: E731
                X, (2, 6, 8, 3), (1, 2), s, t, _method(mod, name), antialias=antialias
            )
            want = run(jax, *args)
            if name == "CUBIC_PYTORCH" and not antialias and not inside:
                # JAX zeroes some samples outside the input by its own rule: irjax refuses those
                with pytest.raises(NotImplementedError, match="samples outside the input"):
                    run(irjax, *args)
                continue
            assert_matches_jax(run(irjax, *args), want, 1e-4)
            if name != "CUBIC_PYTORCH":
                assert_matches_jax(irjax.jit(lambda s, t: run(irjax, s, t))(*args), want, 1e-4)


def test_dtypes_follow_jax():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for dtype in (np.uint8, np.int32, np.float16, jnp.bfloat16, np.float32):
        for method in ("nearest", "linear"):
            got = irjax.image.resize(img.astype(dtype), (5, 2), method)
            want = jax.image.resize(img.astype(dtype), (5, 2), method)
            assert_matches_jax(got, want, 1e-2)


def test_gradient_and_vmap():
    f = lambda mod: lambda x: (mod.image.resize(x, (2, 4, 12, 3), "cubic") ** 2).sum()  # noqa: E731
    assert_matches_jax(irjax.grad(f(irjax))(X), jax.grad(f(jax))(X), 1e-4)
    got = irjax.vmap(lambda x: irjax.image.resize(x, (5, 6, 3), "linear"))(X)
    assert_matches_jax(got, np.stack([np.asarray(jax.image.resize(x, (5, 6, 3), "linear")) for x in X]), 1e-5)


def test_errors_match_jax():
    for mod in (irjax, jax):
        with pytest.raises(ValueError, match="Unknown resize method"):
            mod.image.resize(X, (1, 2, 3, 4), "bogus")
        with pytest.raises(ValueError, match="shape must have length equal to the number of dimensions"):
            mod.image.resize(X, (5,), "linear")
        with pytest.raises(ValueError, match="Nearest neighbor resampling is not currently supported"):
            mod.image.scale_and_translate(X, (2, 6, 8, 3), (1, 2), np.ones(2), np.zeros(2), "nearest")
    assert irjax.image.ResizeMethod.from_string("bicubic-pytorch") == irjax.image.ResizeMethod.CUBIC_PYTORCH
    assert [m.name for m in irjax.image.ResizeMethod] == [m.name for m in jax.image.ResizeMethod]
