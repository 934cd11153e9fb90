"""MkDocs' render of a blog's site in a worker process started as `build.py --site` starts.

The worker (publishing.renderers._Worker) runs this file alone: it imports nothing of nbpress
(whose package would load nbconvert), only MkDocs and what the blog's mkdocs.yml names (read
by the build as it starts: `wanted`), while the build plans, executes and publishes; then it
waits for one line, the render's environment as JSON (end of input: nothing to render),
renders, and prints the outcome as a last line of JSON. The config-reading helpers serve
renderers.site_state too.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import sys
from pathlib import Path

import yaml


class _Collected(logging.Handler):
    """Keeps the text of each warning and error MkDocs logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def render(root: Path, env: dict[str, str]) -> tuple[int, str]:
    """Return (exit code, messages) of `mkdocs build --strict` of the blog at `root`, run here, `env` set.

    It sets this process's environment and working folder and leaves them so: the worker ends
    after its one render.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    said = io.StringIO()  # what plugins print (Material's notices) is shown only on a failure
    collected = _Collected()
    logging.getLogger("mkdocs").addHandler(collected)
    os.environ.update(env)
    os.chdir(root)  # as `mkdocs build` run in the blog: plugins may read the current folder
    try:
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            config = load_config(config_file=str(root / "mkdocs.yml"), strict=True)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                build(config)
            finally:
                config.plugins.on_shutdown()
    except Exception as err:  # the renderer's own failure (strict mode's Abort), in its words
        lines = [*collected.lines, f"{type(err).__name__}: {err}"]
        return 1, said.getvalue() + "\n".join(lines) + "\n"
    return 0, said.getvalue()


def wanted(root: Path) -> dict[str, list[str]]:
    """Return what `preload` imports for the blog at `root`: {"markdown_extensions", "mkdocs.themes",
    "mkdocs.plugins": the names its mkdocs.yml gives}.

    The build reads them as it starts, before any kernel runs, and hands them to the worker: a
    cell that rewrites mkdocs.yml (which the build puts back) never chooses what it imports.
    """
    _, settings, _ = config_chain(root / "mkdocs.yml")

    def named(key: str) -> list[str]:
        """Return the names a list setting holds (`- name` or `- name: {options}`)."""
        found = setting(settings, key)
        entries = [e for e in found if isinstance(e, (str, dict))] if isinstance(found, list) else []
        return sorted({e if isinstance(e, str) else str(next(iter(e), "")) for e in entries} - {""})

    return {
        "markdown_extensions": named("markdown_extensions"),
        "mkdocs.themes": [str(setting(settings, "theme", "name") or "mkdocs")],
        "mkdocs.plugins": named("plugins"),
    }


def preload(names: dict[str, list[str]]) -> None:
    """Import MkDocs and the Markdown extensions, theme and plugins `names` (`wanted`) gives.

    The worker calls it while the build runs, so the render finds them loaded. Only installed
    modules are imported: nothing is written, and the blog's hooks load at the render (the
    build guards hooks/ while kernels run).
    """
    import importlib
    import importlib.metadata

    for module in ("mkdocs.commands.build", "mkdocs.config.defaults"):
        importlib.import_module(module)
    for name in names.get("markdown_extensions", []):
        with contextlib.suppress(Exception):  # the render says what is wrong with it
            importlib.import_module(name if "." in name else f"markdown.extensions.{name}")
    for group in ("mkdocs.themes", "mkdocs.plugins"):
        chosen = set(names.get(group, []))
        for entry in importlib.metadata.entry_points(group=group):
            if entry.name in chosen or f"material/{entry.name}" in chosen:
                with contextlib.suppress(Exception):
                    entry.load()


class _ConfigLoader(yaml.SafeLoader):
    """mkdocs.yml's YAML, its `!!python/...` and other tags read as null, its `!ENV` names noted."""

    env_names: list[str]


def _any_tag(loader: _ConfigLoader, suffix: str, node: yaml.Node) -> object:
    if suffix == "!ENV":
        value = node.value if isinstance(node, yaml.ScalarNode) else [n.value for n in node.value]
        names = [value] if isinstance(value, str) else value
        loader.env_names += [name for name in names if isinstance(name, str)]
    return None


_ConfigLoader.add_multi_constructor("", _any_tag)


def config_chain(config: Path) -> tuple[list[Path], list[dict[str, object]], set[str]]:
    """Return (the config files, each one's settings, the `!ENV` names) from `config` up its INHERIT chain."""
    files: list[Path] = []
    settings: list[dict[str, object]] = []
    names: set[str] = set()
    current: Path | None = config
    while current is not None and current not in files and len(files) < 10:
        files.append(current)
        try:
            text = current.read_text(encoding="utf-8")
            loader = _ConfigLoader(text)
            loader.env_names = []
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            break  # the renderer says what is wrong with it; the file's state is in the inputs
        names.update(loader.env_names)
        data = data if isinstance(data, dict) else {}
        settings.append(data)
        parent = data.get("INHERIT")
        current = current.parent / parent if isinstance(parent, str) else None
    return files, settings, names


def setting(settings: list[dict[str, object]], *keys: str) -> object:
    """Return the value at `keys` the config chain gives (the nearest file wins), None if none does."""
    for data in settings:
        value: object = data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def main() -> None:
    """Import what argv[2] names (JSON, `wanted`), wait for the go, render the blog at argv[1];
    print {"returncode", "messages"}."""
    # Ctrl-C reaches the whole terminal's process group: the build decides, and closes this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root = Path(sys.argv[1])
    preload(json.loads(sys.argv[2]))
    request = sys.stdin.readline()
    if not request:
        return
    code, messages = render(root, json.loads(request))
    sys.stdout.write("\n" + json.dumps({"returncode": code, "messages": messages}) + "\n")
    sys.stdout.flush()
    # The build waits for this process's end: MkDocs' objects need no tearing down.
    os._exit(0)


if __name__ == "__main__":
    main()
