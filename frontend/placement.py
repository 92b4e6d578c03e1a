"""Where a computation over sharded arrays runs and where its outputs go: the gathering path
on the mesh's first device, the per-device path for elementwise jit calls, the output rule,
jit's in_shardings/out_shardings and with_sharding_constraint (docs/sharding.md)."""

from __future__ import annotations

import weakref

from irjax.dialects import registry
from irjax.dialects.builder import aval as _value_aval
from irjax.dialects.func import body_ops, find_func, signature
from irjax.runtime import device as _rt

from . import tree_util
from .array import Array
from .core import ShapedArray, Tracer, current_trace
from .sharded import ShardedArray, device_list, put
from .sharding import NamedSharding, PartitionSpec, Sharding, SingleDeviceSharding, get_mesh


def _device_ids(a) -> list[int]:
    return [d.id for d in (device_list(a._sharding) if isinstance(a, ShardedArray) else [a._device])]


def _devset(a) -> frozenset:
    return a._sharding.device_set if isinstance(a, ShardedArray) else frozenset((a._device,))


def check_devices(arrays, what: str) -> None:
    """JAX's error for committed arguments on different devices. Sharded arguments must span one
    device set; a committed single-device argument must be on their home (first) device (JAX
    refuses that too; irjax allows it, since the computation runs there)."""
    sharded = [a for a in arrays if isinstance(a, ShardedArray)]
    first = sharded[0]
    want, home = _devset(first), first._device
    for a in arrays:
        if not (isinstance(a, Array) and a._committed):
            continue
        bad = _devset(a) != want if isinstance(a, ShardedArray) else a._device != home
        if bad:
            i, j = next(k for k, b in enumerate(arrays) if b is first), next(k for k, b in enumerate(arrays) if b is a)
            raise ValueError(
                f"Received incompatible devices for jitted computation. Got argument {i} of {what} with shape "
                f"{first.aval.str_short()} and with device ids {_device_ids(first)} on platform "
                f"{home.platform.upper()} and argument {j} of {what} with shape {a.aval.str_short()} "
                f"and with device ids {_device_ids(a)} on platform {a._device.platform.upper()}"
            )


class Placement:
    """The sharded inputs of one computation. It runs on their mesh's first device over the
    gathered global values; each output then gets a sharding by output_sharding()."""

    def __init__(self, arrays):
        self.inputs = [a for a in arrays if isinstance(a, ShardedArray)]
        self.home = self.inputs[0]._device

    def __bool__(self):  # (device_api.place returns it where it returns `committed`)
        return True

    def gather(self, arrays) -> list:
        return [a._global_array() if isinstance(a, ShardedArray) else a for a in arrays]

    def run(self, fn, arrays):
        """fn(gathered arrays) -> an Array or a list of Arrays; its outputs get shardings."""
        out = fn(self.gather(arrays))
        if isinstance(out, Array):
            return self.wrap(out)
        return [self.wrap(o) for o in out]

    def run_per_device(self, tr, arrays, compile_generic) -> list | None:
        """A jitted elementwise function over arguments that all have one sharding and their
        shards on their devices: each device runs the shape-generic module on its own shards
        (no gather; outputs keep the sharding). None where that does not apply."""
        s = self.inputs[0]._sharding
        if tr.captured or len(self.inputs) != len(arrays) or s.is_fully_replicated:
            return None
        for a in arrays:
            if a._sharding != s or a._shards is None:
                return None
        ok = tr.__dict__.get("shard_local")
        if ok is None:
            ok = tr.shard_local = is_elementwise(tr.module, tr.fname)
        if not ok:
            return None
        devs = device_list(s)
        cache = tr.__dict__.setdefault("shard_exes", {})
        exes = cache.get(s)
        if exes is None:
            exes = cache[s] = [compile_generic(tr.module, tr.fname, d) for d in devs]
        if exes[0] is None:
            tr.shard_local = False
            return None
        n = len(tr.out_avals)
        per_dev = []
        for k, (d, exe) in enumerate(zip(devs, exes)):
            bvs = exe.call(exe.entry, [a._shards[k]._bv for a in arrays], n)
            per_dev.append(
                [
                    Array(bv, ShapedArray(tuple(bv.shape), o.dtype, False), d, None, True)
                    for bv, o in zip(bvs, tr.out_avals)
                ]
            )
        return [ShardedArray(o, s, shards=[row[i] for row in per_dev]) for i, o in enumerate(tr.out_avals)]

    def wrap(self, out: Array) -> Array:
        if isinstance(out, ShardedArray):
            return out
        return ShardedArray(out.aval, output_sharding(out.aval.shape, self.inputs), global_=out)


_LOCAL_FAMILIES = frozenset({"unary", "binary", "select", "convert", "elementwise"})


def is_elementwise(module, fname: str) -> bool:
    """Whether @fname computes each output element from the same element of its inputs alone,
    so that it commutes with slicing: every value has the inputs' shape or is a scalar, every op
    is elementwise (or a scalar constant, or a scalar broadcast). iota, reductions, shape ops,
    calls and control flow make it False."""
    f = find_func(module, fname)
    ins, outs = signature(f)
    if not ins:
        return False
    shape = ins[0].shape
    if not shape or any(a.shape != shape for a in ins + outs):
        return False
    for op in body_ops(f):
        name = op.name
        if name == "func.return":
            continue
        prim = registry.lookup(name)
        if prim is None:
            return False
        shapes = [_value_aval(v).shape for v in list(op.operands) + list(op.results)]
        if prim.family in _LOCAL_FAMILIES or prim.name == "stop_gradient":
            if any(sh != () and sh != shape for sh in shapes):
                return False
        elif prim.name == "constant":
            if any(sh != () for sh in shapes):
                return False
        elif prim.name == "broadcast_in_dim":
            if shapes[0] != () or shapes[-1] != shape:
                return False
        else:
            return False
    return True


def place(arrays, what: str):
    """device_api.place for arguments that include sharded arrays: (home device, arrays, Placement)."""
    check_devices(arrays, what)
    p = Placement(arrays)
    return p.home, arrays, p


def output_sharding(shape: tuple, inputs: list) -> NamedSharding:
    """The propagation rule for an output without an explicit sharding, given the sharded inputs:
    1. an input of the same shape: its sharding (the first such input that is split, else the
       first such input);
    2. an input whose leading dimension is split and equals the output's: that split of the
       leading dimension, the rest replicated (batch-parallel results: per-example losses, logits);
    3. otherwise replicated over the first input's mesh."""
    same = [a for a in inputs if a.aval.shape == shape]
    if same:
        return next((a._sharding for a in same if not a._sharding.is_fully_replicated), same[0]._sharding)
    for a in inputs:
        s = a._sharding
        if shape and a.aval.shape and s.spec.axes_of(0) and a.aval.shape[0] == shape[0]:
            return NamedSharding(s.mesh, PartitionSpec(s.spec[0]))
    return NamedSharding(inputs[0]._sharding.mesh, PartitionSpec())


# ---- jit's in_shardings / out_shardings, with_sharding_constraint --------------------------------


def _is_sharding_leaf(x) -> bool:
    return x is None or isinstance(x, (Sharding, PartitionSpec, _rt.Device))


def _with_mesh(s):
    """A bare PartitionSpec means a NamedSharding over the mesh of the enclosing `with mesh:`."""
    return _as_sharding(s) if isinstance(s, PartitionSpec) else s


def broadcast_shardings(shardings, tree, what: str) -> list:
    """One sharding (or None) per leaf of `tree`: `shardings` is a pytree prefix of it, a
    single Sharding applies to every leaf."""
    leaves, treedef = tree_util.tree_flatten(tree)
    if _is_sharding_leaf(shardings):
        return [_with_mesh(shardings)] * len(leaves)
    try:
        full = treedef.flatten_up_to(tree_util.tree_broadcast(shardings, tree, is_leaf=_is_sharding_leaf))
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what} must be a pytree prefix of the values' structure: {e}") from None
    return [_with_mesh(s) for s in full]


def _sharding_of(a):
    return a._sharding if isinstance(a, ShardedArray) else SingleDeviceSharding(a._device)


def place_inputs(args: tuple, in_shardings, names: list[str]) -> tuple:
    """jit's in_shardings applied to positional args: uncommitted values are placed; committed
    arrays must already have the sharding (JAX's ValueError otherwise)."""
    leaves, tree = tree_util.tree_flatten(args)
    shs = broadcast_shardings(in_shardings, args, "jit's in_shardings")
    out = []
    for k, (v, s) in enumerate(zip(leaves, shs)):
        if s is None or isinstance(v, Tracer):
            out.append(v)
            continue
        if isinstance(v, Array) and v._committed:
            have = _sharding_of(v)
            if have != s and not have.is_equivalent_to(s, v.ndim):
                raise ValueError(
                    f"Sharding passed to jit does not match the sharding on the respective arg. Got jit sharding: "
                    f"{s},\narg sharding: {have} for arg type: {v.aval.str_short()}"
                )
            out.append(v)
            continue
        try:
            out.append(put(v, s))
        except ValueError as e:
            raise ValueError(
                f"One of jit's arguments with pytree key path {names[k] if k < len(names) else k} is "
                f"incompatible with its sharding annotation {s}: {e}"
            ) from None
    return tree_util.tree_unflatten(tree, out)


def place_outputs(flat_outs: list, shardings: list) -> list:
    """Outputs with a sharding (out_shardings, with_sharding_constraint) are laid out by it."""
    return [o if s is None or not isinstance(o, Array) else put(o, s) for o, s in zip(flat_outs, shardings)]


_constraints: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Trace -> {id(tracer): (tracer, s)}


def with_sharding_constraint(x, shardings):
    """Identity in value. Outside jit the result is laid out by `shardings` (as device_put);
    inside jit a constrained value that is an output of the jitted function gets that sharding
    (elsewhere inside jit it has no effect: the computation runs on one device)."""
    leaves, tree = tree_util.tree_flatten(x)
    shs = broadcast_shardings(shardings, x, "with_sharding_constraint's shardings")
    out = []
    for v, s in zip(leaves, shs):
        if s is None:
            out.append(v)
        elif isinstance(v, Tracer):
            s = _as_sharding(s)
            s.shard_shape(v.aval.shape)  # the shape must divide (JAX checks at trace time)
            _constraints.setdefault(v._trace, {})[id(v)] = (v, s)
            out.append(v)
        else:
            out.append(put(v, _as_sharding(s)))
    return tree_util.tree_unflatten(tree, out)


def _as_sharding(s):
    if isinstance(s, PartitionSpec):
        mesh = get_mesh()
        if mesh is None:
            raise ValueError(
                "Using PartitionSpec when you are not under a mesh context is not allowed. Please pass a "
                f"NamedSharding instance or enter into a mesh context via `jax.set_mesh`. Got {s}"
            )
        return NamedSharding(mesh, s)
    if not isinstance(s, Sharding):
        raise TypeError(f"expected a Sharding or a PartitionSpec, got {s!r}")
    return s


def output_constraints(out) -> list | None:
    """Per output leaf of the function being traced: the sharding a with_sharding_constraint or
    a device_put inside it asked for, else None. None when no leaf has one."""
    trace = current_trace()
    table = _constraints.get(trace) if trace is not None else None
    if not table:
        return None
    res = []
    for v in tree_util.tree_leaves(out):
        hit = table.get(id(v))
        res.append(hit[1] if hit is not None and hit[0] is v else None)
    return res if any(s is not None for s in res) else None


def reshard(x, out_shardings):
    """`x` laid out by `out_shardings` (a pytree prefix of x); as device_put."""
    return with_sharding_constraint(x, out_shardings)
