"""stax convolution and pooling layers against jax.example_libraries.stax: same key -> same
init bits and shapes; apply, grads (jit) and vmap agree within float tolerance."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import tree_util
from irjax.example_libraries import stax

jax = pytest.importorskip("jax")
from jax.example_libraries import stax as jstax  # noqa: E402

rng = np.random.RandomState(0)


def _close(ours, theirs, rtol=2e-5, atol=2e-6):
    ol, ot = tree_util.tree_flatten(ours)
    tl, tt = jax.tree_util.tree_flatten(theirs)
    assert repr(ot) == repr(tt)
    assert len(ol) == len(tl)
    for a, b in zip(ol, tl):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _check_layer(make, x, key=0, vmap=True):
    """init (bits, shape and its element types), jit(apply), jit(grad) and vmap vs JAX."""
    oinit, oapply = make(stax)
    tinit, tapply = make(jstax)
    oshape, op = oinit(irjax.random.key(key), x.shape)
    tshape, tp = tinit(jax.random.key(key), x.shape)
    assert oshape == tshape and [type(d) for d in oshape] == [type(d) for d in tshape], (oshape, tshape)
    _close(op, tp, rtol=0, atol=0)  # same key, same initializers: same bits
    out = irjax.jit(oapply)(op, x)
    ref = tapply(tp, x)
    assert out.shape == tuple(tshape)
    _close(out, ref)
    ct = rng.randn(*ref.shape).astype(np.float32)

    def oloss(p, x):
        return jnp.sum(oapply(p, x) * ct)

    def tloss(p, x):
        return jax.numpy.sum(tapply(p, x) * ct)

    _close(
        irjax.jit(irjax.grad(oloss, argnums=(0, 1)))(op, x),
        jax.grad(tloss, argnums=(0, 1))(tp, x),
        rtol=1e-4,
        atol=1e-5,
    )
    if vmap:  # one example at a time (batch axis 0) agrees with the batched call
        per_ex = irjax.vmap(lambda xi: oapply(op, xi[None])[0])(x)
        _close(per_ex, np.asarray(ref))
    return op


X4 = rng.randn(2, 9, 8, 3).astype(np.float32)  # NHWC

CONVS = {
    "Conv_valid": lambda s: s.Conv(4, (3, 3)),
    "Conv_same_strided": lambda s: s.Conv(5, (3, 2), strides=(2, 1), padding="SAME"),
    "Conv_explicit_pad": lambda s: s.Conv(2, (2, 3), padding=((1, 0), (2, 1))),
    "ConvTranspose_same": lambda s: s.ConvTranspose(4, (3, 3), strides=(2, 2), padding="SAME"),
    "ConvTranspose_valid": lambda s: s.ConvTranspose(3, (2, 3), strides=(2, 1)),
    "ConvTranspose_explicit_pad": lambda s: s.ConvTranspose(2, (3, 3), strides=(2, 1), padding=((1, 0), (2, 1))),
    "GeneralConv_HWOI": lambda s: s.GeneralConv(("NHWC", "HWOI", "NHWC"), 3, (2, 2), padding="SAME"),
    "GeneralConvTranspose_HWIO": lambda s: s.GeneralConvTranspose(
        ("NHWC", "OIHW", "NHWC"), 2, (3, 2), strides=(1, 2), padding="SAME"
    ),
    "Conv_W_b_init": lambda s: s.Conv(3, (2, 2), W_init=s.randn(0.5), b_init=s.glorot(0, 3)),
}


@pytest.mark.parametrize("name", CONVS)
def test_conv_layers_nhwc(name):
    _check_layer(CONVS[name], X4)


def test_general_conv_nchw_and_chwn_layouts():
    x = rng.randn(2, 3, 7, 6).astype(np.float32)
    _check_layer(lambda s: s.GeneralConv(("NCHW", "OIHW", "NCHW"), 4, (3, 2), strides=(2, 2), padding="SAME"), x)
    # batch not first: vmap over axis 0 would mean channels, so only jit/grad here
    _check_layer(lambda s: s.GeneralConv(("CHWN", "IHWO", "NCHW"), 2, (2, 2)), x, vmap=False)


def test_conv_1d_and_3d():
    x1 = rng.randn(3, 10, 2).astype(np.float32)
    _check_layer(lambda s: s.GeneralConv(("NHC", "HIO", "NHC"), 4, (3,), strides=(2,), padding="SAME"), x1)
    _check_layer(lambda s: s.Conv1DTranspose(3, (3,), strides=(2,), padding="VALID"), x1)
    x3 = rng.randn(1, 4, 5, 3, 2).astype(np.float32)
    _check_layer(lambda s: s.GeneralConv(("NDHWC", "DHWIO", "NDHWC"), 2, (2, 3, 2), padding="SAME"), x3, vmap=False)


POOLS = {
    "MaxPool_valid": lambda s: s.MaxPool((2, 2), (1, 1)),
    "MaxPool_same_strided": lambda s: s.MaxPool((3, 2), strides=(2, 2), padding="SAME"),
    "SumPool_valid": lambda s: s.SumPool((2, 3), strides=(2, 1)),
    "SumPool_same": lambda s: s.SumPool((3, 3), padding="SAME"),
    "AvgPool_valid": lambda s: s.AvgPool((2, 2), strides=(2, 2)),
    "AvgPool_same": lambda s: s.AvgPool((3, 3), strides=(2, 1), padding="SAME"),
    "AvgPool_same_nhwc_spec": lambda s: s.AvgPool((2, 3), padding="SAME", spec="NHWC"),
}


@pytest.mark.parametrize("name", POOLS)
def test_pooling_layers(name):
    _check_layer(POOLS[name], X4)


def test_avg_pool_same_divides_by_valid_count():
    """'SAME' borders average over only the real elements (JAX's normalize-by-window rule)."""
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    init, apply = stax.AvgPool((3, 3), padding="SAME")
    out = np.asarray(apply((), x))[0, :, :, 0]
    expected = np.array([[3.0, 3.5, 4.0], [4.5, 5.0, 5.5], [6.0, 6.5, 7.0]], np.float32)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert init(None, x.shape) == ((1, 3, 3, 1), ())


def test_pooling_with_channel_first_spec():
    x = rng.randn(2, 3, 7, 6).astype(np.float32)  # NCHW
    for make in (
        lambda s: s.MaxPool((2, 3), strides=(2, 2), spec="NCHW"),
        lambda s: s.AvgPool((3, 2), strides=(1, 2), padding="SAME", spec="NCHW"),
        lambda s: s.SumPool((2, 2), padding="SAME", spec="NCHW"),
    ):
        _check_layer(make, x)
    x1 = rng.randn(2, 9, 3).astype(np.float32)  # NWC: 1-d pooling
    _check_layer(lambda s: s.AvgPool((4,), strides=(3,), padding="SAME"), x1)


def test_per_example_grads_vmap_of_grad():
    """DP-SGD's pattern: vmap(grad) over single-example batches of a Conv/MaxPool net."""

    def net(s):
        return s.serial(
            s.Conv(3, (3, 3), padding="SAME", strides=(2, 2)), s.Relu, s.MaxPool((2, 2), (1, 1)), s.Flatten, s.Dense(2)
        )

    x = rng.randn(3, 1, 6, 6, 1).astype(np.float32)  # (examples, dummy batch of 1, H, W, C)
    oinit, oapply = net(stax)
    tinit, tapply = net(jstax)
    _, op = oinit(irjax.random.key(1), (-1, 6, 6, 1))
    _, tp = tinit(jax.random.key(1), (-1, 6, 6, 1))
    ours = irjax.jit(irjax.vmap(irjax.grad(lambda p, xi: jnp.sum(oapply(p, xi) ** 2)), (None, 0)))(op, x)
    theirs = jax.vmap(jax.grad(lambda p, xi: jax.numpy.sum(tapply(p, xi) ** 2)), (None, 0))(tp, x)
    _close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_unknown_batch_size_shapes_match_jax():
    """init with a -1 batch (as JAX's examples do): conv passes it through, pooling clamps it."""

    def net(s):
        return s.serial(
            s.Conv(4, (3, 3), padding="SAME", strides=(2, 2)),
            s.Relu,
            s.MaxPool((2, 2), (1, 1)),
            s.ConvTranspose(2, (2, 2), strides=(2, 2)),
            s.AvgPool((2, 2)),
            s.Flatten,
            s.Dense(3),
        )

    oshape, op = net(stax)[0](irjax.random.key(3), (-1, 12, 12, 1))
    tshape, tp = net(jstax)[0](jax.random.key(3), (-1, 12, 12, 1))
    assert oshape == tshape
    _close(op, tp, rtol=0, atol=0)
    for layer in ("Conv", "ConvTranspose"):
        o = getattr(stax, layer)(3, (2, 2))[0](irjax.random.key(0), (-1, 6, 5, 2))[0]
        t = getattr(jstax, layer)(3, (2, 2))[0](jax.random.key(0), (-1, 6, 5, 2))[0]
        assert o == t and [type(d) for d in o] == [type(d) for d in t]
    assert stax.MaxPool((2, 2))[0](None, (-1, 5, 5, 1)) == jstax.MaxPool((2, 2))[0](None, (-1, 5, 5, 1))


def test_stax_exports_match_jax():
    theirs = {n for n in dir(jstax) if not n.startswith("_")} - {"functools", "lax", "math", "jnp", "random"}
    missing = sorted(n for n in theirs if not hasattr(stax, n))
    assert not missing, missing
    assert stax.logsoftmax is irjax.nn.log_softmax
    assert set(stax.__all__) <= set(dir(stax))


def test_bad_conv_arguments_raise():
    with pytest.raises(TypeError, match="three layout strings"):
        stax.GeneralConv("NHWC", 3, (2, 2))
    init, _ = stax.GeneralConv(("NHWC", "HWIO", "NHWC"), 3, (2, 2), padding=((1, 1),))
    with pytest.raises(TypeError, match="Wrong number of explicit pads"):
        init(irjax.random.key(0), (1, 4, 4, 2))
    with pytest.raises(ValueError, match="Unknown padding type"):
        stax.MaxPool((2, 2), padding="FULL")[0](None, (1, 4, 4, 2))


def test_cnn_adam_training_matches_jax_step_by_step():
    """Conv+Relu+MaxPool+Flatten+Dense+LogSoftmax trained 3 adam steps under jit: loss and
    params agree with JAX after every step."""
    from irjax.example_libraries import optimizers
    from jax.example_libraries import optimizers as jopt

    x = rng.rand(8, 10, 10, 1).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.randint(0, 4, 8)]

    def make(lib, s, opt, key):
        init, apply = s.serial(
            s.Conv(4, (3, 3), padding="SAME", strides=(2, 2)),
            s.Relu,
            s.MaxPool((2, 2), (1, 1)),
            s.Conv(6, (2, 2)),
            s.Relu,
            s.AvgPool((2, 2)),
            s.Flatten,
            s.Dense(4),
            s.LogSoftmax,
        )
        _, params = init(key, (-1, 10, 10, 1))
        opt_init, opt_update, get_params = opt.adam(0.05)

        def loss(p):
            return -lib.numpy.mean(lib.numpy.sum(apply(p, x) * y, axis=1))

        @lib.jit
        def step(i, state):
            value, g = lib.value_and_grad(loss)(get_params(state))
            return value, opt_update(i, g, state)

        return opt_init(params), step, get_params

    ostate, ostep, oget = make(irjax, stax, optimizers, irjax.random.key(5))
    tstate, tstep, tget = make(jax, jstax, jopt, jax.random.key(5))
    _close(oget(ostate), tget(tstate), rtol=0, atol=0)
    losses = []
    for i in range(3):
        oloss, ostate = ostep(i, ostate)
        tloss, tstate = tstep(i, tstate)
        _close(oloss, tloss, rtol=1e-5)
        _close(oget(ostate), tget(tstate), rtol=1e-4, atol=1e-5)
        losses.append(float(tloss))
    assert losses[2] < losses[0]  # it trains


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
def test_max_pool_grad_with_ties_matches_jax(padding):
    """Tied maxima (as after Relu) route the cotangent to the same element JAX picks."""
    x = np.array([1, 1, 0, 2, 3, 3, 2, 2, 0, 0, 0, 0, 5, 5, 5, 5], np.float32).reshape(1, 4, 4, 1)
    ours = irjax.grad(lambda x: jnp.sum(stax.MaxPool((2, 2), (1, 1), padding)[1]((), x)))(x)
    theirs = jax.grad(lambda x: jax.numpy.sum(jstax.MaxPool((2, 2), (1, 1), padding)[1]((), x)))(x)
    _close(ours, theirs, rtol=0, atol=0)


# minutes of compiles on 2 cores: run with -m slow (.ci/run runs the slow set after the default one)
pytestmark = pytest.mark.slow
