"""Collectives over process axes in compiled programs: a jx collective whose axes are a process
mesh's (`p@3`, process_collectives.traced_names) lowers to a host call (dialects/host_calls.py)
that runs it on the MPI engine, for the member that calls it, while the program runs."""

from __future__ import annotations

import numpy as np
from irjax.dialects import collectives as _collectives
from irjax.dialects.host_calls import HostFunction, register_host_function
from irjax.dialects.registry import ShapedType

from . import process_collectives as _pc

_REDUCE = {"psum": "sum", "pmax": "max", "pmin": "min"}


def _member_value(name: str, x: np.ndarray, pm, names: tuple[str, ...], params: dict) -> np.ndarray:
    """One member's result of jx.<name> over `names` on its operand x."""
    if name == "axis_index":
        return np.asarray(np.int32(_pc.member_index(pm, names)))
    if name in _REDUCE:
        return _pc.reduce_values(_REDUCE[name], [x], pm, names)[0]
    (axis,) = names
    if name == "all_gather":
        return _pc.all_gather_value(x, pm, axis, params["axis"], params["tiled"])
    if name == "psum_scatter":
        return _pc.psum_scatter_value(x, pm, axis, params["scatter_dimension"], params["tiled"])
    if name == "ppermute":
        return _pc.ppermute_value(x, pm, axis, tuple(tuple(p) for p in params["perm"]))
    if name == "all_to_all":
        p = params
        return _pc.all_to_all_value(x, pm, axis, p["split_axis"], p["concat_axis"], p["tiled"])
    raise NotImplementedError(f"jx.{name} over processes has no host implementation")


def _runner(name: str, names: tuple[str, ...], mid: int, params: dict):
    """The host side of one collective: NumPy operand in, this member's result out (or, for a
    program batched over this process's members, every member's, stacked on the last axis)."""

    def run(arrays: list) -> list:
        pm = _pc.running_mesh(names, mid)
        x = np.asarray(arrays[0])
        if isinstance(pm, _pc.StackedMesh):
            return [_pc.stacked_value(name, x, pm, names, lambda v, m: _member_value(name, v, m, names, params))]
        return [_member_value(name, x, pm, names, params)]

    return run


def _frozen(v):
    return tuple(_frozen(e) for e in v) if isinstance(v, (list, tuple)) else v


def serve(name: str, params: dict, in_avals: list, out_avals: list) -> int | None:
    """The host function number of a collective over process axes, else None (not ours)."""
    split = _pc.split_names(tuple(params["axis_name"]))
    if split is None:
        return None
    names, mid = split
    outs = tuple(ShapedType(tuple(a.shape), np.dtype(a.dtype)) for a in out_avals)
    ins = tuple(ShapedType(tuple(a.shape), np.dtype(a.dtype)) for a in in_avals)
    key = ("process collective", name, tuple(sorted((k, _frozen(v)) for k, v in params.items())), ins, outs)
    return register_host_function(key, lambda: HostFunction(_runner(name, names, mid, params), outs))


_collectives.serve_on_host(serve)
