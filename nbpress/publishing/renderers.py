"""The site renderers: what turns the published tree (site_src/, assets/) into a site.

MkDocs (Material's blog plugin) and Zensical read the same tree. A `SiteRenderer` builds it
once, or serves the preview's copy of it (publishing.preview) while the build republishes
posts: the watcher updates the copy once per build, and the server renders what changed.
`build.py --site` renders the deployable site after a build, and only when `site_state`
(one digest of what the render reads) differs from the last finished render's.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..atomic import atomic_write
from ..layout import CACHE
from . import mkdocs_render
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

    def render(self, root: Path, env: dict[str, str]) -> Rendered:
        """Return how the build of the whole site of the blog at `root` ended, with `env` set."""

    def prepare(self, root: Path) -> Prepared | None:
        """Return a render of the blog at `root` readied while its build still runs: what can
        happen before the published tree is final (MkDocs' imports) starts now, beside it.
        None if nothing can: `render` then does it all, once the tree is final."""


@dataclass(frozen=True)
class Rendered:
    """How a site render ended: its exit code, and what the renderer said (for a failed one)."""

    returncode: int
    messages: str


class Prepared(Protocol):
    """A site render readied beside the build (SiteRenderer.prepare): run once, or closed."""

    def render(self, env: dict[str, str]) -> Rendered:
        """Return how the render of the published tree as it is now ended, with `env` set."""

    def close(self) -> None:
        """End what the render readied, if it was not run (a build that renders nothing)."""


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

    def render(self, root: Path, env: dict[str, str]) -> Rendered:
        """Return how `build_command()` ended in the blog's root, with `env` set."""
        command = self.build_command()
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, env=env)
        return Rendered(done.returncode, done.stdout + done.stderr)

    def prepare(self, root: Path) -> Prepared | None:
        """Return None: the render runs in a process of its own anyway, started when it is run."""
        return None


_CHECKOUT = Path(__file__).resolve().parents[2]  # the folder nbpress/ is in
_PARTIAL = "nbpress.publishing.partial"


@dataclass(frozen=True)
class _MkDocs(_Renderer):
    """MkDocs, whose render `build.py --site` readies before its build starts: a process of its
    own (`_Worker`) imports MkDocs and the blog's plugins on the other core meanwhile."""

    def prepare(self, root: Path) -> Prepared | None:
        """Return a render of the blog at `root` in a process that starts importing MkDocs now."""
        return _Worker.start(root)

    def serve_command(self, address: str, config: str | None = None) -> list[str]:
        """Return the command that serves a live preview on `address` (IP:PORT), of `config` if given:
        MkDocs' server, rendering after a change only the pages it shows on (publishing.partial)."""
        chosen = ["--config-file", config] if config else []
        # Run in the blog's root, where nbpress is not importable: its checkout goes on the path.
        start = (
            f"import runpy, sys; sys.path.insert(0, {str(_CHECKOUT)!r}); "
            f"runpy.run_module({_PARTIAL!r}, run_name='__main__')"
        )
        return [sys.executable, "-c", start, *chosen, "--dev-addr", address]


class _Worker:
    """A render in a process of its own (publishing.mkdocs_render): started as the build starts,
    it imports MkDocs, then waits for the published tree to be final; `render` sends the go.

    The process ends with the build: at the end of its input (the build closed it, or died),
    and by its parent-death signal (reaper.launch_command) if the build dies mid-render. It
    ignores Ctrl-C, which the build handles: it closes the worker.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    @classmethod
    def start(cls, root: Path) -> _Worker:
        """Return the worker rendering the blog at `root`, started (it imports meanwhile)."""
        from ..execution.reaper import launch_command

        # Its file run alone: it imports nothing of nbpress, whose package would load nbconvert.
        start = f"import runpy; runpy.run_path({mkdocs_render.__file__!r}, run_name='__main__')"
        names = json.dumps(mkdocs_render.wanted(root))  # read now, before any kernel runs
        command = launch_command([sys.executable, "-c", start, str(root), names])
        pipe = subprocess.PIPE
        proc = subprocess.Popen(
            command, cwd=root, stdin=pipe, stdout=pipe, stderr=pipe, encoding="utf-8", errors="replace"
        )
        return cls(proc)

    def render(self, env: dict[str, str]) -> Rendered:
        """Return how the worker's render of the published tree as it is now ended, with `env` set."""
        out, err = self.proc.communicate(json.dumps(env) + "\n")
        *said, last = out.rstrip("\n").split("\n")
        try:
            result = json.loads(last)
            before = "".join(f"{line}\n" for line in said if line.strip()) + err  # printed outside the render
            return Rendered(int(result["returncode"]), before + str(result["messages"]))
        except (ValueError, KeyError, TypeError):  # it died before its answer: what it printed says why
            return Rendered(self.proc.returncode or 1, out + err)

    def close(self) -> None:
        """End the worker if its render was not run (or was stopped half-way)."""
        if self.proc.returncode is None:  # `render` reaps it
            self.proc.kill()
            self.proc.communicate()


MKDOCS = _MkDocs("mkdocs", ("--strict",))
ZENSICAL = _Renderer("zensical", ("--clean",))
RENDERERS: dict[str, SiteRenderer] = {r.name: r for r in (MKDOCS, ZENSICAL)}


def build_site(renderer: SiteRenderer, root: Path) -> subprocess.CompletedProcess[str]:
    """Return the finished build of the site of the blog at `root` by `renderer` (its output captured)."""
    return subprocess.run(renderer.build_command(), cwd=root, capture_output=True, text=True, check=False)


def serve_site(renderer: SiteRenderer, root: Path, address: str, preview: Preview) -> subprocess.Popen[bytes]:
    """Return the running preview server of the blog at `root` on `address`, serving `preview`'s copy."""
    return subprocess.Popen(renderer.serve_command(address, str(preview.config.relative_to(root))), cwd=root)


# --- The deployable site, rendered only when what it is rendered from changed -------------------

# In the build cache: what the last finished render read and wrote (`build.py --site`).
SITE_FILE = "site.json"
# Set for the renderer `build.py --site` runs: hooks/template_cache.py keeps Jinja's compiled
# templates there. Only then, so a `mkdocs serve` beside a running build never writes into the
# cache, which the build guards while kernels run.
TEMPLATE_CACHE_VARIABLE = "NBPRESS_TEMPLATE_CACHE"


def _file_state(file: Path, base: Path) -> list[object]:
    """Return [path from `base`, size, modified ns, changed ns, inode] of `file`; [path, None] if gone."""
    name = file.relative_to(base).as_posix() if file.is_relative_to(base) else file.as_posix()
    try:
        found = file.stat()
    except OSError:
        return [name, None]
    return [name, found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]


def _tree_state(path: Path, base: Path) -> list[list[object]]:
    """Return the _file_state of every file under `path` (of `path` itself if it is no folder).

    Symbolic links are followed, as MkDocs follows them in docs_dir (site_src/assets is one);
    `__pycache__` folders are left out (Python writes them while the renderer imports hooks).
    """
    if not path.is_dir():
        return [_file_state(path, base)]
    state: list[list[object]] = []
    seen: set[tuple[int, int]] = set()  # a link back to a folder above would walk forever
    for folder, dirs, names in os.walk(path, followlinks=True):
        found = os.stat(folder)
        if (found.st_dev, found.st_ino) in seen:
            dirs[:] = []
            state.append([Path(folder).relative_to(base).as_posix(), "seen"])
            continue
        seen.add((found.st_dev, found.st_ino))
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        state += [_file_state(Path(folder, name), base) for name in sorted(names)]
    return state


def _git_origin(root: Path) -> list[object]:
    """Return what `git remote get-url origin` says in `root`: what hooks/reader.py reads.

    Asked of git, as the hook asks, rather than read from `.git/config`: a worktree (whose
    `.git` is a file) or a blog inside a larger checkout has its remote elsewhere.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ["no git"]
    return [done.returncode, done.stdout.strip()]


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SiteState:
    """What a render of the site of a blog reads (`inputs`) and where it writes (`site_dir`)."""

    inputs: str
    site_dir: Path

    def output(self) -> str:
        """Return the digest of the files in the site folder now."""
        return _digest(_tree_state(self.site_dir, self.site_dir))


def site_state(renderer: SiteRenderer, root: Path) -> SiteState:
    """Return what the site of the blog at `root` is rendered from by `renderer`, as one digest.

    The same inputs `mkdocs serve` watches to render again: the config file (and what it
    INHERITs), docs_dir, the theme's custom_dir, the hooks and `watch`; and besides: the git
    config (hooks/reader.py reads the remote), the environment variables the config reads
    (`!ENV`), the renderer and the installed packages (the state of every sys.path folder,
    which an install or removal changes). Anything else in the blog (posts/ is read through
    site_src/) renders the same site. A change it cannot see errs one way: a render too many.
    """
    from ..execution.versions_probe import path_state

    config = root / "mkdocs.yml"
    files, settings, names = mkdocs_render.config_chain(config)
    roots = [str(mkdocs_render.setting(settings, "docs_dir") or "docs")]
    roots += [str(d) for d in [mkdocs_render.setting(settings, "theme", "custom_dir")] if isinstance(d, str)]
    for key in ("hooks", "watch"):
        found = mkdocs_render.setting(settings, key)
        roots += [str(p) for p in found if isinstance(p, str)] if isinstance(found, list) else []
    state: list[object] = [renderer.name, sys.executable, path_state(sys.path)]
    state += [[name, os.environ.get(name)] for name in sorted(names)]
    state += [_tree_state(file, root) for file in files]
    state += [_tree_state(root / rel, root) for rel in sorted(set(roots))]
    state.append(_git_origin(root))
    site_dir = root / str(mkdocs_render.setting(settings, "site_dir") or "site")
    return SiteState(_digest(state), site_dir)


def site_is_current(state: SiteState, root: Path) -> bool:
    """Return True if the site folder holds the finished render of `state`'s inputs, untouched since."""
    try:
        saved = json.loads((root / CACHE / SITE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved == {"inputs": state.inputs, "output": state.output()}


def render_site(
    renderer: SiteRenderer, root: Path, state: SiteState, prepared: Prepared | None = None
) -> Rendered:
    """Return the finished render of the site of the blog at `root`, from the inputs `state` read:
    `prepared`'s (renderer.prepare) if the build readied one, else the renderer's own, now.

    After a render that succeeded, the build cache notes the inputs and the site folder's
    files, so that a `build.py --site` that changed nothing renders nothing (site_is_current).
    """
    cache = root / CACHE
    env = {TEMPLATE_CACHE_VARIABLE: str((cache / "templates").resolve())}
    cache.mkdir(exist_ok=True)
    (cache / SITE_FILE).unlink(missing_ok=True)  # a render that stops half-way leaves no claim
    full = {**os.environ, **env}
    done = prepared.render(full) if prepared is not None else renderer.render(root, full)
    if done.returncode == 0:
        record = {"inputs": state.inputs, "output": state.output()}
        atomic_write(cache / SITE_FILE, json.dumps(record, sort_keys=True).encode())
    return done
