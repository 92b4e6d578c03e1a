"""Mesh / PartitionSpec / NamedSharding as data, against JAX's devices_indices_map on the same layout."""

import irjax
import jax
import numpy as np
import pytest
from irjax.runtime import device as rt
from irjax.sharding import Mesh, NamedSharding, P, SingleDeviceSharding


def _fake_devices(n):
    return [rt.Device("cpu", "local-sync", i) for i in range(n)]


def _jax_devices(n):
    return jax.devices("cpu")[:n]


@pytest.mark.parametrize(
    "mesh_shape,spec,shape",
    [
        ((1,), P("x"), (4, 3)),
        ((1, 1), P(("x", "y"), None), (4, 3)),
        ((1, 1), P(None, "y"), (4, 3)),
        ((1,), P(), (4, 3)),
    ],
)
def test_indices_match_jax_one_device(mesh_shape, spec, shape):
    names = ("x", "y")[: len(mesh_shape)]
    ours = NamedSharding(Mesh(np.array(_fake_devices(1)).reshape(mesh_shape), names), spec)
    theirs = jax.sharding.NamedSharding(
        jax.sharding.Mesh(np.array(_jax_devices(1)).reshape(mesh_shape), names), jax.sharding.PartitionSpec(*spec)
    )
    assert list(ours.devices_indices_map(shape).values()) == list(theirs.devices_indices_map(shape).values())
    assert ours.shard_shape(shape) == theirs.shard_shape(shape)
    assert ours.is_fully_replicated == theirs.is_fully_replicated


def test_indices_2x4():
    devs = _fake_devices(8)
    mesh = Mesh(np.array(devs).reshape(2, 4), ("data", "model"))
    s = NamedSharding(mesh, P("data", "model"))
    m = s.devices_indices_map((4, 8))
    assert m[devs[0]] == (slice(0, 2), slice(0, 2))
    assert m[devs[5]] == (slice(2, 4), slice(2, 4))
    assert s.shard_shape((4, 8)) == (2, 2)
    both = NamedSharding(mesh, P(("data", "model")))
    assert both.devices_indices_map((16,))[devs[6]] == (slice(12, 14),)  # (1, 2) -> 1*4 + 2
    assert both.devices_indices_map((16, 3))[devs[6]] == (slice(12, 14), slice(None))
    rep = NamedSharding(mesh, P(None, "model"))
    assert rep.devices_indices_map((3, 8))[devs[4]] == (slice(None), slice(0, 2))
    assert not s.is_fully_replicated and NamedSharding(mesh, P()).is_fully_replicated


def test_errors():
    devs = _fake_devices(4)
    mesh = Mesh(np.array(devs).reshape(2, 2), ("a", "b"))
    with pytest.raises(ValueError, match="not found in mesh"):
        NamedSharding(mesh, P("c"))
    with pytest.raises(ValueError, match="duplicate"):
        NamedSharding(mesh, P("a", "a"))
    with pytest.raises(ValueError, match="divisible by 2"):
        NamedSharding(mesh, P("a")).devices_indices_map((3,))
    with pytest.raises(ValueError, match="rank at least 2"):
        NamedSharding(mesh, P("a", "b")).devices_indices_map((4,))
    with pytest.raises(ValueError, match="ndim"):
        Mesh(np.array(devs), ("a", "b"))
    with pytest.raises(ValueError, match="unique"):
        Mesh(np.array(devs).reshape(2, 2), ("a", "a"))
    with pytest.raises(ValueError, match="product"):
        irjax.make_mesh((3,), ("a",), devices=devs)
    with pytest.raises(TypeError):
        P(3)


def test_spec_and_mesh_basics():
    assert repr(P("a", None)) == repr(jax.P("a", None))
    assert P(("a",)) == P("a") and P("a") != P("a", None) and len(P("a", None)) == 2
    devs = _fake_devices(4)
    mesh = irjax.make_mesh((2, 2), ("a", "b"), devices=devs)
    assert dict(mesh.shape) == {"a": 2, "b": 2} and mesh.size == 4
    assert mesh.device_ids.tolist() == [[0, 1], [2, 3]]
    with mesh:
        assert irjax.sharding.get_mesh() is mesh
    assert irjax.sharding.get_mesh() is None
    one = SingleDeviceSharding(devs[1])
    assert one.device_set == {devs[1]} and one.is_fully_replicated and one.shard_shape((3, 2)) == (3, 2)
    assert one.is_equivalent_to(NamedSharding(Mesh(np.array([devs[1]]), ("a",)), P()), 2)


def _both_meshes(names=("a", "b"), axis_types=None, make=False):
    shape = (1,) * len(names)
    if make:
        ours = irjax.make_mesh(shape, names, devices=_fake_devices(1), axis_types=axis_types)
        theirs = jax.make_mesh(shape, names, devices=_jax_devices(1), axis_types=axis_types and _jax_types(axis_types))
        return ours, theirs
    ours = Mesh(np.array(_fake_devices(1)).reshape(shape), names, axis_types)
    theirs = jax.sharding.Mesh(np.array(_jax_devices(1)).reshape(shape), names, _jax_types(axis_types))
    return ours, theirs


def _jax_types(axis_types):
    conv = lambda t: getattr(jax.sharding.AxisType, t.name)  # noqa: E731
    if axis_types is None:
        return None
    return conv(axis_types) if isinstance(axis_types, irjax.sharding.AxisType) else tuple(map(conv, axis_types))


def test_axis_type_matches_jax():
    ours, theirs = irjax.sharding.AxisType, jax.sharding.AxisType
    assert [(t.name, t.value, repr(t), str(t)) for t in ours] == [(t.name, t.value, repr(t), str(t)) for t in theirs]


@pytest.mark.parametrize(
    "axis_types,make",
    [(None, False), (None, True), ("E", False), (("E", "A"), False), (("A", "E"), True), (("M", "M"), False)],
)
def test_mesh_axis_types_match_jax(axis_types, make):
    AT = irjax.sharding.AxisType
    letters = {"E": AT.Explicit, "A": AT.Auto, "M": AT.Manual}
    names = ("a",) if axis_types == "E" else ("a", "b")
    if axis_types is not None:
        axis_types = letters[axis_types] if isinstance(axis_types, str) else tuple(letters[t] for t in axis_types)
    ours, theirs = _both_meshes(names, axis_types, make)
    assert [t.name for t in ours.axis_types] == [t.name for t in theirs.axis_types]
    for attr in ("explicit_axes", "auto_axes", "manual_axes"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)


def test_mesh_axis_types_errors_match_jax():
    AT, JAT = irjax.sharding.AxisType, jax.sharding.AxisType
    for ours_t, theirs_t in [((AT.Explicit, AT.Auto), (JAT.Explicit, JAT.Auto)), (("Explicit",), ("Explicit",))]:
        with pytest.raises(Exception) as theirs:
            jax.sharding.Mesh(np.array(_jax_devices(1)), ("a",), theirs_t)
        with pytest.raises(type(theirs.value)) as ours:
            Mesh(np.array(_fake_devices(1)), ("a",), ours_t)
        assert str(ours.value) == str(theirs.value)
    # axis types are part of a mesh's identity
    a = Mesh(np.array(_fake_devices(1)), ("a",), AT.Explicit)
    assert a != Mesh(np.array(_fake_devices(1)), ("a",)) and a == Mesh(np.array(_fake_devices(1)), ("a",), AT.Explicit)


def test_set_mesh_and_reshard_with_a_bare_spec():
    mesh, jmesh = _both_meshes(("a",), make=True)
    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    with pytest.raises(ValueError) as theirs:
        jax.sharding.reshard(x, jax.P("a"))
    with pytest.raises(ValueError) as ours:
        irjax.sharding.reshard(x, P("a"))
    assert str(ours.value) == str(theirs.value)
    assert irjax.sharding.get_mesh() is None
    with irjax.set_mesh(mesh) as m:
        assert m is mesh and irjax.sharding.get_mesh() is mesh
        y = irjax.reshard(x, P("a"))
        assert y.sharding == NamedSharding(mesh, P("a")) and np.array_equal(np.asarray(y), x)
    assert irjax.sharding.get_mesh() is None
    irjax.set_mesh(mesh)  # as a plain call it stays set
    try:
        assert irjax.sharding.get_mesh() is mesh
    finally:
        irjax.set_mesh(None)
    assert irjax.sharding.get_mesh() is None
    with pytest.raises(TypeError, match="set_mesh expects a Mesh"):
        irjax.set_mesh("a")
