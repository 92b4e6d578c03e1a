"""Arrays split over several devices (ShardedArray), placing values by a Sharding, and the rule
that runs a computation over sharded inputs (on the mesh's first device, after a gather) and
gives its outputs a sharding. docs/sharding.md describes the rule and its costs."""

from __future__ import annotations

import weakref

import numpy as np
from irjax.dialects import registry
from irjax.dialects.builder import aval as _value_aval
from irjax.dialects.func import body_ops, find_func, signature

from . import dtypes, tree_util
from .array import DELETED, Array
from .core import ShapedArray, Tracer, current_trace
from .sharding import NamedSharding, PartitionSpec, Shard, Sharding, SingleDeviceSharding, get_mesh


class ShardedArray(Array):
    """A global array laid out by a NamedSharding. It holds the per-device shards, the global
    value on the mesh's first device (its "home", where computations on it run), or both;
    each is made from the other on first use."""

    __slots__ = ("_sharding", "_shards", "_global")

    def __init__(self, aval: ShapedArray, sharding: NamedSharding, shards=None, global_=None):
        devs = list(sharding.mesh.devices.flat)
        super().__init__(None, aval, devs[0], None, committed=True)
        self._sharding = sharding
        self._shards = shards  # list of single-device Arrays in mesh order, or None
        self._global = global_  # a single-device Array on devs[0] (maybe pending), or None

    # -- the two representations --------------------------------------------------------------
    def _global_array(self) -> Array:
        if self._lazy is DELETED:
            raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()}.")
        g = self._global
        if g is None:
            if self._sharding.is_fully_replicated:
                g = self._shards[0]  # the home device's own copy: no gather
            else:
                host = self._value
                g = Array(self._device.put(host), self.aval, self._device, host, True)
            self._global = g
        return g

    def _shard_arrays(self) -> list:
        if self._lazy is DELETED:
            raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()}.")
        if self._shards is None:
            g = self._global
            host = g._value
            idx = self._sharding.devices_indices_map(self.aval.shape)
            self._shards = [
                g if (d is self._device and self._sharding.is_fully_replicated) else _put(host[i], d)
                for d, i in idx.items()
            ]
        return self._shards

    @property
    def _bv(self):
        return self._global_array()._bv

    @property
    def _value(self) -> np.ndarray:
        if self._npy is None:
            if self._global is not None:
                self._npy = self._global._value
            else:
                shards = self._shard_arrays()
                if self._sharding.is_fully_replicated:
                    self._npy = shards[0]._value
                else:
                    out = np.empty(self.aval.shape, self.aval.dtype)
                    for s, i in zip(shards, self._sharding.devices_indices_map(self.aval.shape).values()):
                        out[i] = s._value
                    out.flags.writeable = False
                    self._npy = out
        return self._npy

    def delete(self) -> None:
        if self._lazy is DELETED:
            return
        self._donated = self._global_array()._bv if self._global is not None else None
        for s in self._shards or ():
            s.delete()
        self._shards, self._global, self._npy, self._lazy = None, None, None, DELETED

    def block_until_ready(self):
        if self._global is not None:
            self._global.block_until_ready()
        for s in self._shards or ():
            s.block_until_ready()
        return self

    # -- JAX's Array attributes ------------------------------------------------------------
    @property
    def sharding(self) -> NamedSharding:
        return self._sharding

    @property
    def addressable_shards(self) -> list[Shard]:
        out, seen = [], {}
        idx = self._sharding.devices_indices_map(self.aval.shape)
        for (d, i), data in zip(idx.items(), self._shard_arrays()):
            key = _index_key(i, self.aval.shape)
            r = seen[key] = seen.get(key, -1) + 1
            out.append(Shard(d, i, r, data))
        return out

    global_shards = addressable_shards

    @property
    def is_fully_replicated(self) -> bool:
        return self._sharding.is_fully_replicated

    def devices(self) -> set:
        return set(self._sharding.device_set)

    @property
    def device(self):
        raise ValueError("Length of devices is greater than 1. Please use `.devices()`.")

    def __iter__(self):
        return iter(self._global_array())

    def __reduce__(self):
        return (_rebuild_sharded, (self._value, self.aval.weak_type, self._sharding))


def _rebuild_sharded(value, weak, sharding):
    return put(np.asarray(value), sharding, weak)


def _index_key(index, shape) -> tuple:
    return tuple(s.indices(n)[:2] for s, n in zip(index, shape))


def _put(host: np.ndarray, dev) -> Array:
    host = np.array(host, copy=True, order="C")
    host.flags.writeable = False
    return Array(dev.put(host), ShapedArray(host.shape, host.dtype, False), dev, host, True)


def device_list(sharding: Sharding) -> list:
    """The devices of a sharding in its order (a mesh's flat order)."""
    if isinstance(sharding, NamedSharding):
        return list(sharding.mesh.devices.flat)
    return list(sharding.device_set)


# ---- placing values -----------------------------------------------------------------------------


def _host_value(v) -> tuple[np.ndarray, bool]:
    """(canonical host value, weak_type) of an Array, NumPy value or Python scalar."""
    if isinstance(v, Array):
        return np.asarray(v), v.aval.weak_type
    arr = np.asarray(v)
    dt = dtypes.check_supported(arr.dtype)
    return (arr if arr.dtype == dt else arr.astype(dt)), False


def put(v, sharding: Sharding, weak_type: bool | None = None) -> Array:
    """`v` laid out by `sharding`, every shard copied onto its device now (device_put's work)."""
    if isinstance(sharding, SingleDeviceSharding):
        dev = next(iter(sharding.device_set))
        host, weak = _host_value(v)
        a = _put(host, dev)
        a.aval = ShapedArray(host.shape, host.dtype, weak if weak_type is None else weak_type)
        return a
    if not isinstance(sharding, NamedSharding):
        raise TypeError(f"device_put expects a Device, a SingleDeviceSharding or a NamedSharding; got {sharding!r}")
    if isinstance(v, ShardedArray):
        if v._sharding == sharding:
            v._shard_arrays()  # an explicit placement: the shards exist from now on
            return v
        if v._shards is not None and v._sharding.is_equivalent_to(sharding, v.ndim):
            return ShardedArray(v.aval, sharding, shards=v._shards)
    host, weak = _host_value(v)
    idx = sharding.devices_indices_map(host.shape)
    shards = [_put(host[i], d) for d, i in idx.items()]
    aval = ShapedArray(host.shape, host.dtype, weak if weak_type is None else weak_type)
    out = ShardedArray(aval, sharding, shards=shards)
    if not sharding.is_fully_replicated:  # keep the host value, as from_numpy does: a later gather needs no read-back
        keep = np.array(host, copy=True, order="C")
        keep.flags.writeable = False
        out._npy = keep
    return out


def make_array_from_callback(shape, sharding: Sharding, data_callback, dtype=None) -> Array:
    """An array of global `shape` whose shard on each device is data_callback(index)."""
    shape = tuple(int(n) for n in shape)
    idx = sharding.devices_indices_map(shape)
    want = sharding.shard_shape(shape)
    shards, dt = [], None
    for d, i in idx.items():
        host, _ = _host_value(data_callback(i))
        if dtype is not None:
            host = host.astype(dtypes.check_supported(dtype))
        if host.shape != want:
            raise ValueError(
                f"Expected shard shape {want} doesn't match the single device array shape {host.shape} "
                f"returned by data_callback for index {i} on {d}"
            )
        if dt is not None and host.dtype != dt:
            raise ValueError(f"data_callback returned shards of different dtypes: {dt.name} and {host.dtype.name}")
        dt = host.dtype
        shards.append(_put(host, d))
    if dt is None:
        raise ValueError("make_array_from_callback: the sharding has no devices")
    aval = ShapedArray(shape, dt, False)
    if isinstance(sharding, SingleDeviceSharding):
        return shards[0]
    return ShardedArray(aval, sharding, shards=shards)


def make_array_from_single_device_arrays(shape, sharding: Sharding, arrays, *, dtype=None) -> Array:
    """An array of global `shape` from one single-device Array per device of `sharding` (any
    order; each is matched to its device's shard, and its buffer is used without a copy)."""
    shape = tuple(int(n) for n in shape)
    idx = sharding.devices_indices_map(shape)
    want = sharding.shard_shape(shape)
    by_dev = {}
    for a in arrays:
        if not isinstance(a, Array) or isinstance(a, ShardedArray):
            raise TypeError(f"make_array_from_single_device_arrays expects single-device irjax Arrays, got {a!r}")
        if a._device in by_dev:
            raise ValueError(f"two of the arrays are on one device, {a._device}")
        if a._device not in idx:
            raise ValueError(f"an array is on {a._device}, which is not a device of {sharding}")
        if a.shape != want:
            raise ValueError(
                f"Expected shard shape {want} doesn't match the single device array shape {a.shape} on {a._device}"
            )
        by_dev[a._device] = a
    missing = [d for d in idx if d not in by_dev]
    if missing:
        raise ValueError(f"no array given for devices {missing} of {sharding}")
    dts = {a.dtype for a in by_dev.values()}
    if len(dts) != 1 or (dtype is not None and np.dtype(dtype) not in dts):
        raise ValueError(f"the arrays must all have one dtype{'' if dtype is None else f' ({dtype})'}, got {dts}")
    shards = [by_dev[d] if by_dev[d]._committed else _recommit(by_dev[d]) for d in idx]
    aval = ShapedArray(shape, dts.pop(), False)
    if isinstance(sharding, SingleDeviceSharding):
        return shards[0]
    return ShardedArray(aval, sharding, shards=shards)


def _recommit(a: Array) -> Array:
    return Array(a._bv, a.aval, a._device, a._npy, True)


# ---- running computations over sharded inputs ---------------------------------------------------


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
    1. an input of the same shape: its sharding (the first such input);
    2. an input whose leading dimension is split and equals the output's: that split of the
       leading dimension, the rest replicated (batch-parallel results: per-example losses, logits);
    3. otherwise replicated over the first input's mesh."""
    for a in inputs:
        if a.aval.shape == shape:
            return a._sharding
    for a in inputs:
        s = a._sharding
        if shape and a.aval.shape and s.spec.axes_of(0) and a.aval.shape[0] == shape[0]:
            return NamedSharding(s.mesh, PartitionSpec(s.spec[0]))
    return NamedSharding(inputs[0]._sharding.mesh, PartitionSpec())


# ---- jit's in_shardings / out_shardings, with_sharding_constraint --------------------------------


def _is_sharding_leaf(x) -> bool:
    return x is None or isinstance(x, Sharding)


def broadcast_shardings(shardings, tree, what: str) -> list:
    """One sharding (or None) per leaf of `tree`: `shardings` is a pytree prefix of it, a
    single Sharding applies to every leaf."""
    leaves, treedef = tree_util.tree_flatten(tree)
    if shardings is None or isinstance(shardings, Sharding):
        return [shardings] * len(leaves)
    try:
        return treedef.flatten_up_to(tree_util.tree_broadcast(shardings, tree, is_leaf=_is_sharding_leaf))
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what} must be a pytree prefix of the values' structure: {e}") from None


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
            if s is not None:
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
                "with_sharding_constraint was given a bare PartitionSpec outside any `with mesh:` "
                "block; give a NamedSharding"
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
