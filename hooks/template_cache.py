"""MkDocs hook: Jinja's compiled templates kept between renders by `build.py --site`.

Compiling Material's templates is about a quarter of a small blog's `mkdocs build`. When
build.py runs the render it names a folder in the build cache (NBPRESS_TEMPLATE_CACHE), and
Jinja keeps each template's bytecode there, checked against the template's source and
Python's version on every load. Every environment the theme makes for the render gets it:
MkDocs' own, and those Material's blog and search plugins make to translate a label (each a
new one, compiling the language templates again). Any other run (`mkdocs build`, `mkdocs
serve`) compiles as usual and writes nothing: the build guards its cache while kernels run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemBytecodeCache
from mkdocs.plugins import event_priority

VARIABLE = "NBPRESS_TEMPLATE_CACHE"  # nbpress.publishing.renderers.TEMPLATE_CACHE_VARIABLE


@event_priority(100)  # before the plugins' own on_config, where the search plugin translates
def on_config(config: Any) -> Any:
    """Return `config`, whose theme's environments keep compiled templates (NBPRESS_TEMPLATE_CACHE set)."""
    folder = os.environ.get(VARIABLE)
    if folder:
        # One folder per Jinja release: bytecode is checked against Python's version, not Jinja's.
        where = Path(folder) / f"jinja2-{jinja2.__version__}"
        where.mkdir(parents=True, exist_ok=True)
        cache = FileSystemBytecodeCache(str(where))
        theme = config.theme
        make = theme.get_env

        def get_env() -> jinja2.Environment:
            """Return the theme's new environment, keeping its compiled templates in `cache`."""
            env: jinja2.Environment = make()
            env.bytecode_cache = cache
            return env

        theme.get_env = get_env  # this render's theme only: the instance, not MkDocs' class
    return config
