"""Crafted, corrupt and truncated artifacts: every manifest field is checked against what the
compiled module declares before any call, so a lie in the manifest is an ArtifactError, never a
read past a buffer. Loads and calls run in child processes."""

from __future__ import annotations

import json
import os
import random

import irjax
import numpy as np
import pytest
from child_process import assert_clean_exit, run_python, run_tool
from irjax.runtime import artifact as art


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    """Two entry points: main(f32[2,3], f32[4]) -> (f32[2,3], i32[4]) and neg(f32[5]) -> f32[5]."""
    main = irjax.export(irjax.jit(lambda x, y: (x * 2, (y + 1).astype(np.int32))))(
        np.zeros((2, 3), np.float32), np.zeros(4, np.float32)
    )
    neg = irjax.export(irjax.jit(lambda v: -v))(np.zeros(5, np.float32))
    path = tmp_path_factory.mktemp("art") / "two.irjax"
    irjax.export.save(str(path), {"main": main, "neg": neg})
    return path.read_bytes()


def _unpack(data: bytes) -> tuple[dict, dict]:
    f = art.ArtifactFile(data)
    m = json.loads(json.dumps(f.manifest))
    return m, {name: bytes(f.section(name)) for name in m["sections"]}


def _repack(manifest: dict, sections: dict) -> bytes:
    """A crafted artifact: changed manifest, all checksums valid again."""
    return art.pack({k: v for k, v in manifest.items() if k not in ("sections", "format_version")}, sections)


LOAD_AND_CALL = """
    import sys
    import numpy as np
    from irjax.runtime import load
    try:
        a = load(sys.argv[1])
        out = a["main"](np.ones((2, 3), np.float32), np.ones(4, np.float32))
        print("RESULT ok", [np.asarray(o).tolist() for o in out])
    except Exception as e:
        print("RESULT", type(e).__name__, str(e).replace("\\n", " "))
"""


def _load_in_child(tmp_path, data: bytes) -> str:
    path = tmp_path / "crafted.irjax"
    path.write_bytes(data)
    p = run_python(LOAD_AND_CALL.replace("sys.argv[1]", repr(str(path))))
    assert_clean_exit(p)
    return p.stdout.split("RESULT ", 1)[1].strip()


def test_good_artifact_loads_and_calls(good, tmp_path):
    out = _load_in_child(tmp_path, good)
    assert out == "ok [[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], [2, 2, 2, 2]]"


def _set(m, ep, kind, i, **fields):
    m["entry_points"][ep][kind][i].update(fields)
    return m


CRAFTED = {
    "void dtype": (lambda m: _set(m, "main", "out_avals", 0, dtype="V100000000"), "names dtype 'V100000000'"),
    "object dtype": (lambda m: _set(m, "main", "in_avals", 0, dtype="object"), "names dtype 'object'"),
    "wider result dtype": (
        lambda m: _set(m, "main", "out_avals", 1, dtype="float64"),
        "results ['tensor<2x3xf32>', 'tensor<4xf64>'] do not match the compiled module's",
    ),
    "larger result shape": (
        lambda m: _set(m, "main", "out_avals", 0, shape=[1000, 1000]),
        "do not match the compiled module's",
    ),
    "smaller input shape": (
        lambda m: _set(m, "main", "in_avals", 1, shape=[1]),
        "inputs ['tensor<2x3xf32>', 'tensor<1xf32>'] do not match",
    ),
    "negative dim": (lambda m: _set(m, "main", "in_avals", 0, shape=[-2, 3]), "invalid shape [-2, 3]"),
    "second entry lies": (
        lambda m: _set(m, "neg", "out_avals", 0, dtype="float64"),
        "entry point 'neg': the manifest's results",
    ),
    "missing function": (lambda m: m["entry_points"]["neg"].update(function="nope") or m, "has no function 'nope'"),
    "missing field": (lambda m: m["entry_points"]["main"].pop("in_avals") and m, "malformed manifest entry (KeyError"),
    "extra constant": (
        lambda m: (
            m["entry_points"]["main"].update(
                consts=[{"section": "vmfb/neg/llvm-cpu", "shape": [3], "dtype": "float32"}]
            )
            or m
        ),
        "constant section 'vmfb/neg/llvm-cpu' holds",
    ),
    "entry points not a table": (
        lambda m: m.update(entry_points=[1, 2]) or m,
        "'entry_points' must be a non-empty table",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_manifest_is_refused_at_load(good, tmp_path, case):
    edit, msg = CRAFTED[case]
    m, sections = _unpack(good)
    out = _load_in_child(tmp_path, _repack(edit(m), sections))
    assert out.startswith("ArtifactError"), out
    assert msg in out, out


@pytest.mark.parametrize("case", ["negative offset", "sections not a table", "manifest a list"])
def test_malformed_section_table(good, case):
    m, sections = _unpack(good)
    data = _repack(m, sections)
    f = art.ArtifactFile(data)
    mt = dict(f.manifest)
    if case == "negative offset":
        name = next(iter(mt["sections"]))
        mt["sections"] = dict(mt["sections"], **{name: dict(mt["sections"][name], offset=-64)})
    elif case == "sections not a table":
        mt["sections"] = ["x"]
    else:
        mt = [mt]
    text = json.dumps(mt).encode()
    import hashlib

    head = art._HEADER.pack(art.MAGIC, art.FORMAT_VERSION, 0, len(text), hashlib.sha256(text).digest())
    with pytest.raises(art.ArtifactError):
        art.ArtifactFile(head + text + b"\0" * 100)


def test_random_bytes_and_truncations_are_artifact_errors(good):
    rng = random.Random(0)
    cases = [os.urandom(n) for n in (0, 1, 10, 100, 5000)] + [art.MAGIC + os.urandom(200)]
    cases += [good[: rng.randrange(len(good))] for _ in range(30)]
    for data in cases:
        with pytest.raises(art.ArtifactError):
            art.loads(data)


LOAD_ONLY = """
    import hashlib, json, random, sys
    from irjax.runtime import artifact as art
    data = open(sys.argv[1], "rb").read()
    f = art.ArtifactFile(data)
    m = json.loads(json.dumps(f.manifest))
    secs = {n: bytearray(f.section(n)) for n in m["sections"]}
    rng = random.Random(int(sys.argv[2]))
    kinds = {}
    for trial in range(40):
        s = {n: bytearray(b) for n, b in secs.items()}
        target = s["vmfb/main/llvm-cpu"]
        mode = trial % 3
        if mode == 0:  # random bytes of the same size
            target[:] = bytes(rng.randrange(256) for _ in range(len(target)))
        elif mode == 1:  # truncated module
            del target[rng.randrange(1, len(target)):]
        else:  # a few flipped bytes in the flatbuffer header region
            for _ in range(4):
                k = rng.randrange(min(len(target), 512))
                target[k] ^= 1 + rng.randrange(255)
        crafted = art.pack({k: v for k, v in m.items() if k not in ("sections", "format_version")}, {n: bytes(b) for n, b in s.items()})
        try:
            art.loads(crafted)
            kinds["loaded"] = kinds.get("loaded", 0) + 1
        except art.ArtifactError as e:
            kinds["ArtifactError"] = kinds.get("ArtifactError", 0) + 1
    print("RESULT", json.dumps(kinds))
"""


def test_corrupt_vmfb_with_valid_checksums_is_an_error_not_a_crash(good, tmp_path):
    """Garbage, truncated or damaged module bytes (checksums recomputed, as an attacker would)
    are refused at load with ArtifactError; the process survives. (Only loading is checked:
    code bytes that still load are not called.)"""
    path = tmp_path / "good.irjax"
    path.write_bytes(good)
    p = run_python(LOAD_ONLY.replace("sys.argv[1]", repr(str(path))).replace("sys.argv[2]", "1"))
    assert_clean_exit(p)
    kinds = json.loads(p.stdout.split("RESULT ", 1)[1])
    assert kinds.get("ArtifactError", 0) >= 27, kinds  # random and truncated modules: always refused


def test_irjax_run_on_crafted_artifact_is_a_clean_error(good, tmp_path):
    m, sections = _unpack(good)
    path = tmp_path / "crafted.irjax"
    path.write_bytes(_repack(CRAFTED["void dtype"][0](m), sections))
    p = run_tool("run", str(path), "--entry", "main", "--input", "f32[2,3]=1", "--input", "f32[4]=1")
    err = p.stderr.decode()
    assert (
        p.returncode == 1 and err.startswith("irjax-run: error: ") and "V100000000" in err and "Traceback" not in err
    ), err
