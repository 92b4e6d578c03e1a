"""irjax.example_libraries (optimizers, stax) against jax.example_libraries: the same
parameters, keys and data give the same numbers, under jit and grad."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import tree_util
from irjax.example_libraries import optimizers, stax

jax = pytest.importorskip("jax")
from jax.example_libraries import optimizers as jopt  # noqa: E402
from jax.example_libraries import stax as jstax  # noqa: E402

rng = np.random.RandomState(0)
P0 = {"w": rng.randn(3, 2).astype(np.float32), "b": [rng.randn(2).astype(np.float32), np.float32(0.5)]}
X = rng.randn(5, 3).astype(np.float32)


def _loss(np_):
    def loss(p):
        return np_.sum(np_.tanh(X @ p["w"] + p["b"][0]) ** 2) + p["b"][1] ** 2

    return loss


def _close(ours, theirs, rtol=2e-5, atol=1e-6):
    ol, ot = tree_util.tree_flatten(ours)
    tl, tt = jax.tree_util.tree_flatten(theirs)
    assert repr(ot) == repr(tt)
    for a, b in zip(ol, tl):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _run(lib, np_, grad, jit, make, steps=3):
    init, update, get_params = make(lib)
    state = init(P0)

    @jit
    def step(i, s):
        return update(i, grad(_loss(np_))(get_params(s)), s)

    for i in range(steps):
        state = step(i, state)
    return get_params(state), state


OPTIMIZERS = {
    "sgd": lambda o: o.sgd(0.1),
    "sgd_schedule": lambda o: o.sgd(o.exponential_decay(0.1, 2, 0.5)),
    "momentum": lambda o: o.momentum(0.05, mass=0.9),
    "nesterov": lambda o: o.nesterov(0.05, 0.8),
    "adagrad": lambda o: o.adagrad(0.1),
    "rmsprop": lambda o: o.rmsprop(0.01),
    "rmsprop_momentum": lambda o: o.rmsprop_momentum(0.01),
    "adam": lambda o: o.adam(0.01),
    "adam_schedule": lambda o: o.adam(o.polynomial_decay(0.01, 2, 0.001)),
    "adamax": lambda o: o.adamax(0.02),
    "sm3": lambda o: o.sm3(0.1),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_jax(name):
    make = OPTIMIZERS[name]
    # sm3 keeps the shape as int leaves, which JAX too cannot reshape by under jit
    ojit, tjit = (irjax.jit, jax.jit) if name != "sm3" else (lambda f: f, lambda f: f)
    ours, ostate = _run(optimizers, jnp, irjax.grad, ojit, make)
    theirs, tstate = _run(jopt, jax.numpy, jax.grad, tjit, make)
    _close(ours, theirs)
    assert isinstance(ostate, optimizers.OptimizerState)
    assert len(tree_util.tree_leaves(ostate)) == len(jax.tree_util.tree_leaves(tstate))


def test_schedules_match_jax():
    cases = [
        lambda o: o.constant(0.3),
        lambda o: o.exponential_decay(0.1, 10, 0.5),
        lambda o: o.inverse_time_decay(0.1, 4, 0.5),
        lambda o: o.inverse_time_decay(0.1, 4, 0.5, staircase=True),
        lambda o: o.polynomial_decay(1.0, 5, 0.1, power=2.0),
        lambda o: o.piecewise_constant([2, 5], [1.0, 0.5, 0.1]),
    ]
    for make in cases:
        ours, theirs = make(optimizers), make(jopt)
        for i in [0, 1, 3, 5, 9]:
            np.testing.assert_allclose(np.asarray(ours(i)), np.asarray(theirs(i)), rtol=1e-6)
        jitted = irjax.jit(ours)(jnp.int32(3))
        np.testing.assert_allclose(np.asarray(jitted), np.asarray(theirs(3)), rtol=1e-6)
    with pytest.raises(ValueError, match="one shorter"):
        optimizers.piecewise_constant([1, 2], [1.0, 2.0])
    with pytest.raises(TypeError, match="step size"):
        optimizers.sgd(np.ones(3))


def test_clip_grads_l2_norm_and_packing():
    g = {"a": np.array([3.0, 4.0], np.float32), "b": (np.float32(12.0),)}
    _close(optimizers.l2_norm(g), jopt.l2_norm(g))
    _close(optimizers.clip_grads(g, 1.0), jopt.clip_grads(g, 1.0))
    _close(optimizers.clip_grads(g, 100.0), jopt.clip_grads(g, 100.0))
    init, update, get_params = optimizers.adam(0.1)
    state = update(0, g, init(g))
    marked = optimizers.unpack_optimizer_state(state)
    assert all(isinstance(j, optimizers.JoinPoint) for j in tree_util.tree_leaves(marked))
    back = optimizers.pack_optimizer_state(marked)
    assert tree_util.tree_structure(back) == tree_util.tree_structure(state)
    _close(get_params(back), get_params(state))
    with pytest.raises(TypeError, match="gradient tree"):
        update(1, {"a": g["a"]}, state)
    with pytest.raises(TypeError, match="JoinPoint"):
        optimizers.pack_optimizer_state([1.0])


def _mlp(s):
    return s.serial(s.Dense(8), s.Relu, s.Dense(6), s.Gelu, s.Dense(4), s.LogSoftmax)


def test_stax_serial_init_apply_grad_match_jax():
    ours_init, ours_apply = _mlp(stax)
    theirs_init, theirs_apply = _mlp(jstax)
    oshape, oparams = ours_init(irjax.random.key(0), (-1, 3))
    tshape, tparams = theirs_init(jax.random.key(0), (-1, 3))
    assert oshape == tshape == (-1, 4)
    _close(oparams, tparams, rtol=0, atol=0)  # same key, same initializers: same bits
    _close(irjax.jit(ours_apply)(oparams, X), theirs_apply(tparams, X))
    _close(
        irjax.grad(lambda p: jnp.sum(ours_apply(p, X)[:, 0]))(oparams),
        jax.grad(lambda p: jax.numpy.sum(theirs_apply(p, X)[:, 0]))(tparams),
        rtol=1e-4,
        atol=1e-6,
    )
    # vmap over examples agrees with the batched call
    per_ex = irjax.vmap(lambda x: ours_apply(oparams, x[None])[0])(X)
    _close(per_ex, np.asarray(theirs_apply(tparams, X)))


@pytest.mark.parametrize(
    "layer",
    [
        "Tanh",
        "Relu",
        "Exp",
        "LogSoftmax",
        "Softmax",
        "Softplus",
        "Sigmoid",
        "Elu",
        "LeakyRelu",
        "Selu",
        "Gelu",
        "Identity",
        "Flatten",
    ],
)
def test_stax_elementwise_layers(layer):
    x = rng.randn(2, 3, 2).astype(np.float32)
    oshape, _ = getattr(stax, layer)[0](irjax.random.key(0), x.shape)
    tshape, _ = getattr(jstax, layer)[0](jax.random.key(0), x.shape)
    assert oshape == tshape
    _close(getattr(stax, layer)[1]((), x), getattr(jstax, layer)[1]((), x))


def test_stax_combinators_batchnorm_dropout():
    def net(s):
        return s.serial(
            s.Dense(4),
            s.FanOut(3),
            s.parallel(s.Dense(4), s.Identity, s.serial(s.Dense(4), s.Tanh)),
            s.FanInSum,
            s.BatchNorm(axis=(0,)),
            s.FanOut(2),
            s.parallel(s.Relu, s.Sigmoid),
            s.FanInConcat(),
            s.shape_dependent(lambda shape: s.Dense(shape[-1] // 2)),
            s.Dropout(0.7),
        )

    oinit, oapply = net(stax)
    tinit, tapply = net(jstax)
    oshape, op = oinit(irjax.random.key(1), X.shape)
    tshape, tp = tinit(jax.random.key(1), X.shape)
    assert oshape == tshape == (5, 4)
    _close(op, tp, rtol=0, atol=0)
    _close(oapply(op, X, rng=irjax.random.key(2)), tapply(tp, X, rng=jax.random.key(2)), rtol=1e-5)
    with pytest.raises(ValueError, match="PRNG key"):
        oapply(op, X)
    _, eval_apply = stax.Dropout(0.5, mode="test")
    np.testing.assert_array_equal(np.asarray(eval_apply((), X, rng=irjax.random.key(0))), X)
    bn_init, bn_apply = stax.BatchNorm(axis=(0, 1), center=False)
    _, bnp = bn_init(irjax.random.key(0), (2, 3, 4))
    _, tbnp = jstax.BatchNorm(axis=(0, 1), center=False)[0](jax.random.key(0), (2, 3, 4))
    x3 = rng.randn(2, 3, 4).astype(np.float32)
    _close(bn_apply(bnp, x3), jstax.BatchNorm(axis=(0, 1), center=False)[1](tbnp, x3), atol=1e-5)
