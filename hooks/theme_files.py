"""MkDocs hook: the theme's static files found without walking its hidden folders.

To find the theme's static files (stylesheets, scripts, fonts) MkDocs lists every file of the
theme's folders, then drops each path with a part that starts with a dot. Material's theme
holds some 14,000 icons in `.icons/` (the emoji extension reads them from the folder itself;
they are never copied): listing and filtering them took about 0.08 s of every render, to keep
43 files. The theme's environments list their files without hidden folders and files, which
MkDocs' own filter drops anyway: the same files, in about a millisecond.
"""

from __future__ import annotations

import os
from typing import Any

import jinja2


class _VisibleFilesLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, whose list of templates leaves out hidden folders and files."""

    def list_templates(self) -> list[str]:
        """Return the sorted paths of the files under the search path, none with a part starting
        with a dot (Jinja's own listing, pruned as it walks)."""
        found: set[str] = set()
        for searchpath in self.searchpath:
            for folder, folders, files in os.walk(searchpath, followlinks=self.followlinks):
                folders[:] = [name for name in folders if not name.startswith(".")]
                for name in files:
                    if not name.startswith("."):
                        path = os.path.join(folder, name)[len(searchpath) :].strip(os.path.sep)
                        path = path.replace(os.path.sep, "/")
                        found.add(path[2:] if path[:2] == "./" else path)
        return sorted(found)


def on_config(config: Any) -> Any:
    """Return `config`, whose theme's environments list their files without hidden ones."""
    theme = config.theme
    make = theme.get_env

    def get_env() -> jinja2.Environment:
        """Return the theme's new environment, with a loader that skips hidden folders."""
        env: jinja2.Environment = make()
        loader = env.loader
        if type(loader) is jinja2.FileSystemLoader:  # MkDocs' own: anything else is left alone
            env.loader = _VisibleFilesLoader(loader.searchpath, loader.encoding, loader.followlinks)
        return env

    theme.get_env = get_env  # this render's theme only: the instance, not MkDocs' class
    return config
