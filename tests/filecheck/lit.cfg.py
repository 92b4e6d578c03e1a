"""lit configuration: FileCheck tests of irjax passes, driven by `irjax-opt` (run: lit -v tests/filecheck)."""

import importlib.util
import os
import shutil
import sys
import tempfile

import lit.formats

config.name = "irjax"  # noqa: F821  (lit injects `config`)
config.test_format = lit.formats.ShTest(execute_external=False)  # internal shell: has `not`
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
# Outputs (%t files, lit's .lit_test_times.txt) go outside the source tree.
config.test_exec_root = os.path.join(tempfile.gettempdir(), "irjax-filecheck")
# The same interpreter that runs lit runs the tools, so PATH and venvs do not matter.
config.substitutions.append((r"\birjax-opt\b", f'"{sys.executable}" -m irjax.tools.opt'))
if importlib.util.find_spec("filecheck"):  # PyPI `filecheck`, a Python FileCheck clone
    _filecheck = f'"{sys.executable}" -m filecheck'
else:
    _filecheck = shutil.which("FileCheck") or shutil.which("filecheck") or "filecheck"
config.substitutions.append((r"\bFileCheck\b", _filecheck))
