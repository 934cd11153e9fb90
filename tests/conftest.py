"""Shared fixtures: a throwaway blog folder laid out like the real one, the real blog built once.

Helpers (command lines, paths, comparisons) live in tests/helpers.py.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.helpers import REPO, build_real_blog, copy_skeleton, mkdocs, shared_blog, write_post
from tests.skeleton import vendor_copy_changes

# CI replays the same examples every run, so a landing never hinges on a lucky draw; local
# runs keep exploring new ones (a failure found there becomes an @example). No deadline:
# time is for the benchmarks, and a shared machine makes any per-example limit flaky.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Give every process the tests start the SIGINT a terminal gives it, and compile nbpress once.

    A test runner started in the background by a shell without job control (`pytest &` in a
    script, some CI runners) ignores SIGINT, and an ignored signal stays ignored across exec:
    every `build.py` a test starts would ignore the Ctrl-C the watch and interrupt tests send,
    and they would hang until killed. A handled SIGINT is reset to the default by exec.

    Compiled once, the hundreds of `build.py` subprocesses and kernels read bytecode instead of
    compiling nbpress from source (about 0.1 s each) where the environment says not to write it
    (PYTHONDONTWRITEBYTECODE=1), as some CI images do."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import compileall

    compileall.compile_dir(REPO / "nbpress", quiet=1)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every browser test slow too: Chromium and the site it loads cost seconds each."""
    if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
        item.add_marker(pytest.mark.slow)


@functools.cache
def _has_module_fixture(root: Path, module: str) -> bool:
    """Return whether test module `module` (a path under `root`) has a module- or class-scoped fixture."""
    path = root / module
    return path.is_file() and bool(_SHARED_SCOPE.search(path.read_text(encoding="utf-8")))


_SHARED_SCOPE = re.compile(r"""scope=["'](module|class|package)["']""")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under `--dist loadgroup` (pyproject), keep a module's tests together only if they share a fixture.

    A module that defines a module- or class-scoped fixture (a blog built once for its tests) is one
    work unit, so that blog is built once; every other test is a unit of its own and goes to
    whichever worker is free, so no long module holds a worker while the other waits. Units start
    largest first. (pytest-xdist's own `xdist_group` marks, when it honours them, group as usual.)
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    root = config.rootpath

    class SharedFixtureScheduling(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            scope = str(super()._split_scope(nodeid))
            if scope != nodeid:
                return scope
            module = nodeid.split("::", 1)[0]
            return module if _has_module_fixture(root, module) else nodeid

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session", autouse=True)
def vendor_copy_kept() -> Iterator[None]:
    """Fail the session if a test changed the vendored files its blogs hard-link to (tests/skeleton.py)."""
    yield
    changed = vendor_copy_changes()
    assert not changed, f"a test wrote through a blog's hard link into the shared vendor copy: {changed}"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def blog(tmp_path: Path) -> Path:
    """Return an empty blog folder with the real skeleton and an empty posts/."""
    return copy_skeleton(tmp_path / "blog")


@pytest.fixture
def add_post(blog: Path) -> Callable[..., Path]:
    """Return a function that writes a notebook into blog/posts from code cells and front matter."""
    return functools.partial(write_post, blog)


def _build_real_site(root: Path) -> None:
    build_real_blog(root)
    proc = mkdocs(root, "build", "--strict")
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the real blog built from scratch, then by `mkdocs build --strict` into site/.

    The only build of the torch and tensorflow posts in a run (`shared_blog`). No test changes
    it: one that changes or rebuilds the blog takes `real_copy` instead.
    """
    return shared_blog(tmp_path_factory, "real-site", _build_real_site)


@pytest.fixture
def real_copy(real_site: Path, tmp_path: Path) -> Path:
    """Return a copy of `real_site` without its site/, for a test that changes or rebuilds it."""
    return Path(
        shutil.copytree(real_site, tmp_path / "blog", symlinks=True, ignore=shutil.ignore_patterns("site"))
    )
