"""MkDocs hook: Jinja's compiled templates kept between renders by `build.py --site`.

Compiling Material's templates is about a quarter of a small blog's `mkdocs build`. When
build.py runs the render it names a folder in the build cache (NBPRESS_TEMPLATE_CACHE), and
Jinja keeps each template's bytecode there, checked against the template's source and
Python's version on every load. Any other run (`mkdocs build`, `mkdocs serve`) compiles as
usual and writes nothing: the build guards its cache while kernels run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemBytecodeCache

VARIABLE = "NBPRESS_TEMPLATE_CACHE"  # nbpress.publishing.renderers.TEMPLATE_CACHE_VARIABLE


def on_env(env: Any, config: Any, files: Any) -> Any:
    """Return `env`, keeping compiled templates in NBPRESS_TEMPLATE_CACHE's folder when it is set."""
    folder = os.environ.get(VARIABLE)
    if folder:
        # One folder per Jinja release: bytecode is checked against Python's version, not Jinja's.
        where = Path(folder) / f"jinja2-{jinja2.__version__}"
        where.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = FileSystemBytecodeCache(str(where))
    return env
