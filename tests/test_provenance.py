"""The provenance line: what a post imports, the versions, and that the cache keeps it."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import sys
import venv
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbpress.execution import provenance
from nbpress.execution.store import Store
from nbpress.rendering.render import provenance_markdown


def test_imports_are_read_from_code_cells_with_ipython_syntax() -> None:
    sources = [
        "%matplotlib inline\nimport numpy as np, os\nfrom scipy.stats import linregress\n!pip list",
        "%%time\nimport yaml\n",  # a cell magic: not Python, read line by line
        "from . import local\nimport matplotlib.pyplot as plt\nx = np.zeros(3)?",
    ]
    assert provenance.imported_modules(sources) == {"numpy", "os", "scipy", "yaml", "matplotlib"}


def test_versions_are_those_installed_and_skip_the_standard_library() -> None:
    python, versions = provenance.package_versions({"numpy", "yaml", "os", "json", "no_such_module_here"})
    assert python == platform.python_version()
    assert versions == {
        "numpy": importlib.metadata.version("numpy"),
        "PyYAML": importlib.metadata.version("PyYAML"),
    }


def test_versions_are_asked_of_the_kernels_interpreter(tmp_path: Path) -> None:
    # A bare virtual environment has no numpy: the answer must come from it, not from this process.
    venv.create(tmp_path / "env", with_pip=False)
    other = tmp_path / "env" / "bin" / "python"
    assert provenance.package_versions({"numpy"}, str(other)) == (platform.python_version(), {})
    assert provenance.package_versions({"numpy"}, str(tmp_path / "missing")) == (None, {})


def test_the_kernel_interpreter_is_resolved_like_jupyter_client() -> None:
    assert provenance.kernel_python("python3") == sys.executable
    assert provenance.kernel_python("no-such-kernel-here") is None


def test_collect_and_the_markdown_line() -> None:
    nb = new_notebook(cells=[new_markdown_cell("import torch"), new_code_cell("import numpy")])
    record = provenance.collect(nb, "python3", now=dt.datetime(2026, 3, 9, 5, 17, 44, 999, tzinfo=dt.UTC))
    assert record["executed"] == "2026-03-09T05:17:44Z" and record["kernel"] == "python3"
    assert record["packages"] == {"numpy": importlib.metadata.version("numpy")}  # markdown is not code
    line = provenance_markdown(record)
    assert line.startswith(f"*Executed 2026-03-09 05:17:44 UTC with Python {record['python']}, numpy ")
    assert line.endswith(".*\n{: .nbpress-provenance }\n")
    unknown = provenance.collect(nb, "no-such-kernel-here")
    assert unknown["python"] is None and unknown["packages"] == {}
    assert "with the kernel no-such-kernel-here." in provenance_markdown(unknown)


def test_the_store_keeps_provenance_with_the_outputs(tmp_path: Path) -> None:
    store = Store(tmp_path)
    executed = SimpleNamespace(cells=[nbformat.from_dict({"cell_type": "code", "outputs": []})])
    record = {"executed": "2026-03-09T05:17:44Z", "python": "3.11.7", "packages": {"numpy": "2.4.6"}}
    store.save("k1", executed, record)
    assert store.load("k1") == [[]] and store.provenance("k1") == record
    store.save("k2", executed)  # an entry written before provenance existed
    assert store.load("k2") == [[]] and store.provenance("k2") is None
    assert store.provenance("missing") is None
