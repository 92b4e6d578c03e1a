"""irjax-run: call an entry point of an artifact and print (or save) its outputs.

    irjax-run model.irjax --input x.npy --input 'f32[3]=1 2 3' [--entry NAME] [--output y.npy] [--time]

Needs only iree.runtime and numpy, like `irjax.runtime.load`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence

import numpy as np
from irjax.runtime.artifact import aval_str, dtype_from_name, load

from .atomic import write_atomic

_DTYPES = {
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
    "bf16": "bfloat16",
    "i8": "int8",
    "i16": "int16",
    "i32": "int32",
    "i64": "int64",
    "u8": "uint8",
    "u16": "uint16",
    "u32": "uint32",
    "u64": "uint64",
    "ui8": "uint8",
    "ui16": "uint16",
    "ui32": "uint32",
    "ui64": "uint64",
    "si8": "int8",
    "si16": "int16",
    "si32": "int32",
    "si64": "int64",
    "i1": "bool",
    "bool": "bool",
    "pred": "bool",
    "float16": "float16",
    "float32": "float32",
    "float64": "float64",
    "bfloat16": "bfloat16",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
}
_JAX_FORM = re.compile(r"^\s*([a-z0-9]+)\s*\[\s*([0-9,\s]*)\]\s*$")  # f32[3,4]
_IREE_FORM = re.compile(r"^\s*((?:\d+x)*)([a-z0-9]+)\s*$")  # 3x4xf32, f32


class SpecError(ValueError):
    pass


def parse_spec(spec: str) -> tuple[tuple[int, ...], np.dtype]:
    """'f32[10000,10]' or '10000x10xf32' -> ((10000, 10), float32)."""
    m = _JAX_FORM.match(spec)
    if m:
        name, dims = m.group(1), [d.strip() for d in m.group(2).split(",") if d.strip()]
    else:
        m = _IREE_FORM.match(spec)
        if not m:
            raise SpecError(
                f"cannot read the shape {spec!r}; expected a dtype and dimensions like 'f32[10000,10]', 'i32[]' or '4x3xf32'"
            )
        name, dims = m.group(2), [d for d in m.group(1).split("x") if d]
    if name not in _DTYPES:
        raise SpecError(
            f"unknown dtype {name!r} in {spec!r}; expected one of {', '.join(sorted(k for k in _DTYPES if len(k) <= 4))}"
        )

    return tuple(int(d) for d in dims), dtype_from_name(_DTYPES[name])


def parse_input(text: str) -> np.ndarray:
    """x.npy, @x.npy, 'f32[3]=1 2 3', '2x2xf32=1,2,3,4', 'f32[3]=0.5' (splat) or 'f32[3]' (zeros)."""
    path = text[1:] if text.startswith("@") else text
    if path.endswith(".npy") or os.path.isfile(path):
        try:
            return np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise SpecError(f"no such input file: {path}") from None
        except (ValueError, OSError) as e:
            raise SpecError(f"cannot read {path} as a .npy array: {e}") from None
    spec, eq, values = text.partition("=")
    shape, dtype = parse_spec(spec)
    size = int(np.prod(shape, dtype=np.int64))
    if not eq:
        return np.zeros(shape, dtype)
    toks = [t for t in re.split(r"[\s,\[\]]+", values) if t]
    try:
        vals = _values(toks, dtype)
    except ValueError as e:
        raise SpecError(f"cannot read the values of {text!r}: {e}") from None
    if vals.size == 1 and size != 1:
        return np.full(shape, vals[0], dtype)
    if vals.size != size:
        raise SpecError(f"{text!r}: shape {list(shape)} needs {size} values, got {vals.size}")
    return vals.reshape(shape)


_BOOLS = {"1": True, "true": True, "0": False, "false": False}


def _values(toks: list[str], dtype: np.dtype) -> np.ndarray:
    """The tokens as `dtype`; ValueError for a value the dtype cannot hold (no wrap-around:
    i8 300 is refused, not read as 44; f16 1e6 is refused, not read as inf)."""
    if dtype == np.bool_:
        bad = [t for t in toks if t.lower() not in _BOOLS]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a bool (expected 0, 1, true or false)")
        return np.array([_BOOLS[t.lower()] for t in toks], dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        ints = []
        for t in toks:
            try:
                v = int(t, 0) if t.lower().startswith(("0x", "-0x", "0b", "-0b", "0o", "-0o")) else int(t)
            except ValueError:
                raise ValueError(f"{t!r} is not an integer (the dtype is {dtype.name})") from None
            if not info.min <= v <= info.max:
                raise ValueError(f"{t} is out of range for {dtype.name} [{info.min}, {info.max}]")
            ints.append(v)
        return np.array(ints, dtype)
    floats = np.array([float(t) for t in toks], np.float64)
    limit = float(np.finfo(dtype).max)
    over = [t for t, v in zip(toks, floats) if np.isfinite(v) and abs(v) > limit]
    if over:
        raise ValueError(f"{over[0]} is out of range for {dtype.name} (largest finite value {limit:g})")
    return floats.astype(dtype)


def format_array(a: np.ndarray) -> str:
    """As iree-run-module prints a buffer view: 2x3xf32=[1 2 3][4 5 6]."""
    short = aval_str((), a.dtype)[:-2]
    head = "".join(f"{d}x" for d in a.shape) + short

    def fmt(x):
        if a.ndim == 0:
            return _num(x)
        if x.ndim == 1:
            return " ".join(_num(v) for v in x)
        return "".join(f"[{fmt(s)}]" for s in x)

    return f"{head}={fmt(a)}"


def _num(v) -> str:
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:g}" if abs(v) < 1e16 else repr(v)
    return str(v)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="irjax-run", description="Run an entry point of an irjax artifact.")
    p.add_argument("artifact", help="an .irjax file from irjax-compile or Exported.save")
    p.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="X",
        help="an input, in order: x.npy, or 'f32[3]=1 2 3' / '3xf32=1,2,3' (one value splats)",
    )
    p.add_argument("--entry", "-e", default=None, help="the entry point (default: the only one, or 'main')")
    p.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="PATH",
        help="save output k to the k-th --output (.npy); one .npz path takes them all",
    )
    p.add_argument("--device", default=None, help="cpu (default), cuda, vulkan, ...")
    p.add_argument("--time", action="store_true", help="report load, first-call and steady-state times")
    p.add_argument("--repeat", type=int, default=20, help="calls to average with --time (default 20)")
    p.add_argument("--list", action="store_true", help="print the manifest's entry points and exit")
    p.add_argument("--print-manifest", action="store_true", help="print the manifest as JSON and exit")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print outputs")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        return 1
    except (ValueError, TypeError, LookupError, OSError) as e:
        print(f"irjax-run: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001  (last resort: one line, no traceback)
        print(f"irjax-run: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _run(args) -> int:
    t0 = time.perf_counter()
    art = load(args.artifact, device=args.device)
    if args.print_manifest:
        print(json.dumps(art.manifest, indent=1))
        return 0
    if args.list:
        for ep in art.entry_points.values():
            print(ep.signature())
        return 0
    ep = art.entry(args.entry) if args.entry else art.default_entry
    inputs = [parse_input(x) for x in args.input]
    t1 = time.perf_counter()
    outs = ep.call_flat(inputs)
    t2 = time.perf_counter()
    if not args.quiet:
        print(f"EXEC @{ep.name}")
        for i, o in enumerate(outs):
            print(f"result[{i}]: hal.buffer_view")
            print(format_array(o))
    _save(args.output, outs)
    if args.time:
        n = max(1, args.repeat)
        s = time.perf_counter()
        for _ in range(n):
            ep.call_flat(inputs)
        mean = (time.perf_counter() - s) / n
        print(
            f"load: {(t1 - t0) * 1e3:.2f} ms, first call: {(t2 - t1) * 1e3:.2f} ms, "
            f"mean of {n} calls: {mean * 1e3:.3f} ms (numpy in and out, {art.target})",
            file=sys.stderr,
        )
    return 0


def _save(paths: list[str], outs: list[np.ndarray]) -> None:
    """Each file is written to a temp file and renamed into place: a failed write keeps the old file."""
    if not paths:
        return
    if len(paths) == 1 and paths[0].endswith(".npz"):
        _write(paths[0], lambda f: np.savez(f, *outs))
        return
    if len(paths) != len(outs):
        raise ValueError(
            f"the entry point has {len(outs)} output(s) but {len(paths)} --output path(s) were given "
            "(give one per output, or one .npz path)"
        )
    for p, o in zip(paths, outs):
        p = p[1:] if p.startswith("@") else p
        if not p.endswith(".npy"):
            p += ".npy"  # (np.save's own rule for a path)
        _write(p, lambda f, o=o: np.save(f, o))


def _write(path: str, write) -> None:
    try:
        write_atomic(path, write)
    except OSError as e:
        raise OSError(f"cannot write output {path!r}: {e.strerror or e}") from None


if __name__ == "__main__":
    sys.exit(main())
