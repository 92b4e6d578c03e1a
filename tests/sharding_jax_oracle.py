"""JAX's answers for tests/test_sharding.py, computed on 8 forced CPU devices in a subprocess
(XLA_FLAGS must be set before jax is imported). Prints one JSON object. Importing this file
(for CASES and the MLP data) does not import jax."""

import json
import os
import sys

import numpy as np

# (mesh shape, axis names, spec entries, global shape): shared with the test file
CASES = [
    ((4, 2), ("data", "model"), ("data", None), (8, 4)),
    ((4, 2), ("data", "model"), ("model", "data"), (8, 4)),
    ((4, 2), ("data", "model"), (None, ("data", "model")), (2, 16)),
    ((4, 2), ("data", "model"), (), (6, 3)),
    ((8,), ("d",), ("d",), (16,)),
    ((2, 2, 2), ("a", "b", "c"), (("c", "a"), None, "b"), (4, 3, 2)),
]


def spec(P, entries):
    return P(*[tuple(e) if isinstance(e, list) else e for e in entries])


def index_json(index, shape):
    return [list(s.indices(n)[:2]) for s, n in zip(index, shape)]


def shards_json(arr):
    return [
        [s.device.id, index_json(s.index, arr.shape), s.replica_id, np.asarray(s.data).tolist()]
        for s in arr.addressable_shards
    ]


def mlp_params(key_seed=0):
    rng = np.random.RandomState(key_seed)
    w1 = rng.randn(6, 16).astype(np.float32) * 0.3
    b1 = np.zeros(16, np.float32)
    w2 = rng.randn(16, 3).astype(np.float32) * 0.3
    b2 = np.zeros(3, np.float32)
    x = rng.randn(32, 6).astype(np.float32)
    y = rng.randn(32, 3).astype(np.float32)
    return (w1, b1, w2, b2), x, y


def mlp_loss(jnp, params, x, y):
    w1, b1, w2, b2 = params
    h = jnp.tanh(x @ w1 + b1)
    return jnp.mean((h @ w2 + b2 - y) ** 2)


def main():
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    os.environ["JAX_PLATFORMS"] = "cpu"
    import jax
    import jax.numpy as jnp
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    def mesh_of(shape, names):
        devs = jax.devices()[: int(np.prod(shape))]
        return jax.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(names), devices=devs)

    out = {"cases": []}
    for mshape, names, entries, shape in CASES:
        mesh = mesh_of(mshape, names)
        x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        a = jax.device_put(x, NamedSharding(mesh, spec(P, entries)))
        out["cases"].append({"shards": shards_json(a), "replicated": a.is_fully_replicated})

    mesh = mesh_of((4, 2), ("data", "model"))
    x = np.arange(32, dtype=np.float32).reshape(8, 4)
    xs = jax.device_put(x, NamedSharding(mesh, P("data", None)))
    f = jax.jit(lambda a: a + 1, in_shardings=NamedSharding(mesh, P(None, "model")))
    try:
        f(xs)
        out["in_mismatch"] = None
    except ValueError as e:
        out["in_mismatch"] = str(e)
    out["in_placed"] = shards_json(f(x))
    g = jax.jit(lambda a: (a * 2, a.sum(0)), out_shardings=(None, NamedSharding(mesh, P("data"))))
    r = g(xs)
    out["out_second"] = shards_json(r[1])
    h = jax.jit(lambda a: jax.lax.with_sharding_constraint(a * 2, NamedSharding(mesh, P(None, "model"))))
    out["wsc_jit"] = shards_json(h(xs))
    out["wsc_eager"] = shards_json(jax.lax.with_sharding_constraint(x, NamedSharding(mesh, P("model"))))
    cb = jax.make_array_from_callback((8, 4), NamedSharding(mesh, P("data", "model")), lambda idx: x[idx] * 3)
    out["callback"] = shards_json(cb)
    out["reshard"] = shards_json(jax.device_put(cb, NamedSharding(mesh, P("model", "data"))))

    # the data-parallel MLP: 3 SGD steps, batch split over 'data' on 4 devices, params replicated
    mesh4 = mesh_of((4,), ("data",))
    params, bx, by = mlp_params()
    rep = NamedSharding(mesh4, P())
    params = jax.device_put(params, rep)
    bx = jax.device_put(bx, NamedSharding(mesh4, P("data", None)))
    by = jax.device_put(by, NamedSharding(mesh4, P("data", None)))
    step = jax.jit(jax.value_and_grad(lambda p, x, y: mlp_loss(jnp, p, x, y)))
    losses = []
    for _ in range(3):
        loss, grads = step(params, bx, by)
        params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        losses.append(float(loss))
    out["mlp_losses"] = losses
    out["mlp_params"] = [np.asarray(p).tolist() for p in params]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
