"""The site renderers: what turns the published tree (site_src/, assets/) into a site.

MkDocs (Material's blog plugin) and Zensical read the same tree. A `SiteRenderer` builds it
once, or serves the preview's copy of it (publishing.preview) while the build republishes
posts: the watcher updates the copy once per build, and the server renders what changed.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .preview import Preview


class SiteRenderer(Protocol):
    """Renders the blog's published tree into a site; see the module's docstring."""

    @property
    def name(self) -> str:
        """Return the renderer's name, as `build.py --renderer` takes it."""

    def build_command(self) -> list[str]:
        """Return the command that builds the whole site, run in the blog's root."""

    def serve_command(self, address: str, config: str | None = None) -> list[str]:
        """Return the command that serves a live preview on `address` (IP:PORT), of `config` if given."""


@dataclass(frozen=True)
class _Renderer:
    """A renderer run as `python -m <module>`, serving with `serve --dev-addr`."""

    name: str
    build_args: tuple[str, ...]

    def build_command(self) -> list[str]:
        """Return the command that builds the whole site, run in the blog's root."""
        return [sys.executable, "-m", self.name, "build", *self.build_args]

    def serve_command(self, address: str, config: str | None = None) -> list[str]:
        """Return the command that serves a live preview on `address` (IP:PORT), of `config` if given."""
        chosen = ["--config-file", config] if config else []
        return [sys.executable, "-m", self.name, "serve", *chosen, "--dev-addr", address]


MKDOCS = _Renderer("mkdocs", ("--strict",))
ZENSICAL = _Renderer("zensical", ("--clean",))
RENDERERS: dict[str, SiteRenderer] = {r.name: r for r in (MKDOCS, ZENSICAL)}


def build_site(renderer: SiteRenderer, root: Path) -> subprocess.CompletedProcess[str]:
    """Return the finished build of the site of the blog at `root` by `renderer` (its output captured)."""
    return subprocess.run(renderer.build_command(), cwd=root, capture_output=True, text=True, check=False)


def serve_site(renderer: SiteRenderer, root: Path, address: str, preview: Preview) -> subprocess.Popen[bytes]:
    """Return the running preview server of the blog at `root` on `address`, serving `preview`'s copy."""
    return subprocess.Popen(renderer.serve_command(address, str(preview.config.relative_to(root))), cwd=root)
