"""The MkDocs preview server: after a save it renders only the pages the change shows on.

`build.py --serve` runs it (publishing.renderers, as `python -m nbpress.publishing.partial`)
on the preview's copy of the published tree (publishing.preview), where `mkdocs serve` would
render the whole site again for every change. It is MkDocs' own server (its live reload, its
full build, its page functions), with one step of its own between them:

- The first render, and any change this module cannot place, is MkDocs' full build.
- A change to the text of existing pages re-renders those pages and the listings that show
  them: a post's page, the blog's index, archive, category and author pages it appears on.
  A changed figure or other file is copied.
- What a partial render cannot keep true by construction makes a full build instead: a file
  added or removed, a change to mkdocs.yml or the theme's folder, a quarter of the pages at
  once, and a page whose title or front matter (other than what only its own page and its
  listings show) changed, since the tags page, the order of the listings and the navigation
  read them.
- Each page reloads in the browser when its own new version is written, not when the whole
  render ends: the changed posts are written first, then the other changed pages (the
  execution report, whose table grows with the blog), then the listings. A page the save
  did not change does not reload; a full build, or a changed file that no page written
  names (a stylesheet), reloads every page.

What it leaves stale until the next full render: the search index and the feeds (written once
per full build). The deployed site is never rendered this way (`build.py --site` and `mkdocs
build` run the full build).

This leans on MkDocs 1.6's page functions (`_populate_page`, `_build_page`), its server's
reload script, and Material's blog structures (`Post`, the views' posts), all pinned in
requirements.txt; tests/test_partial.py compares each partial render with a full build of
the same tree, file by file.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mkdocs.livereload import _SCRIPT_TEMPLATE_STR as _RELOAD_TEMPLATE
from mkdocs.livereload import LiveReloadServer, _timestamp
from mkdocs.plugins import BasePlugin, event_priority

from ..filestate import State, of_stat, state

log = logging.getLogger("mkdocs.nbpress")

# Front matter that only a page itself and the listings showing it read (its head's meta tags,
# the listings' summary and card): a change there re-renders those pages and nothing else. The
# feeds read them too, and are left stale until a full build.
_PAGE_ONLY_KEYS = frozenset({"nbpress", "description", "image"})
# How long a burst of changes may pause before the server renders it (seconds).
_SETTLE = 0.03


def _snapshot(folder: Path) -> dict[str, State]:
    """Return each file under `folder` (links followed) by its path relative to it, with its state
    (filestate.state's). One listing of the folder per change: at 1,000 posts, 2,000 files in
    16 ms (os.walk and a stat of each path: 32 ms)."""
    found: dict[str, State] = {}
    stack = [("", os.fspath(folder))]
    while stack:
        prefix, path = stack.pop()
        try:
            listing = os.scandir(path)
        except OSError:  # removed meanwhile: the next change finds it gone
            continue
        with listing:
            for entry in listing:
                try:
                    now = of_stat(entry.stat())  # the link's target, as state() gives it
                except OSError:
                    continue  # a broken link, or removed meanwhile
                if entry.is_dir():
                    stack.append((f"{prefix}{entry.name}/", entry.path))
                else:
                    found[prefix + entry.name] = now
    return found


class _Capture(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """An MkDocs plugin that keeps what a full build worked with: its files, navigation and
    Jinja environment, which a partial render reuses."""

    def __init__(self) -> None:
        super().__init__()
        self.files: Any = None
        self.nav: Any = None
        self.env: Any = None

    # Last, so what is kept is what every plugin made of the files, navigation and environment.
    @event_priority(-200)
    def on_nav(self, nav: Any, *, config: Any, files: Any) -> Any:
        self.nav, self.files = nav, files
        return nav

    @event_priority(-200)
    def on_env(self, env: Any, *, config: Any, files: Any) -> Any:
        self.env = env
        return env


@dataclass
class Site:
    """The preview's site: the config it is built from, the served folder, and the last build's state."""

    config_file: str
    site_dir: str
    serve_url: str
    watched: list[str] = field(default_factory=list)
    config: Any = None
    capture: _Capture = field(default_factory=_Capture)
    state: dict[str, State] = field(default_factory=dict)
    theme_state: dict[str, State] = field(default_factory=dict)
    # Told of each page as it is written (its dest_uri), or None after a render that changed
    # what every page may show: the server reloads the browsers that show them.
    written: Callable[[list[str] | None], None] = lambda pages: None

    def load(self) -> Any:
        """Return a freshly loaded config, served at `serve_url`, with the capture plugin added."""
        from mkdocs.config import load_config

        config = load_config(config_file=self.config_file, site_dir=self.site_dir)
        if self.serve_url:
            config.site_url = self.serve_url
        self.capture = _Capture()
        config.plugins["nbpress/partial-capture"] = self.capture
        return config

    def full(self, config: Any = None) -> None:
        """Build the whole site, as `mkdocs serve` does, and keep its state."""
        from mkdocs.commands.build import build
        from mkdocs_rss_plugin.plugin import GitRssPlugin  # type: ignore[import-untyped]

        log.info("Building documentation...")
        self.config = config if config is not None else self.load()
        for plugin in self.config.plugins.values():
            # The feeds' plugin collects its pages from `on_startup` on, so every build in one
            # process (as `mkdocs serve`'s) would list them again: each full build starts afresh.
            if isinstance(plugin, GitRssPlugin):
                plugin.pages_to_filter = []
        self.state = _snapshot(Path(self.config.docs_dir))
        self.theme_state = self._theme_files()
        try:
            build(self.config, serve_url=self.serve_url)
        except Exception:
            self.capture = _Capture()  # a failed build is no base for a partial render
            raise
        self.written(None)

    def update(self) -> None:
        """Render what changed since the last render: only the pages it shows on, or the whole site."""
        now = _snapshot(Path(self.config.docs_dir))
        changed = {rel for rel in now.keys() | self.state.keys() if now.get(rel) != self.state.get(rel)}
        started = time.perf_counter()
        try:
            rendered = None if self._theme_files() != self.theme_state else self._partial(changed, now)
        except Exception:
            self.capture = _Capture()  # the pages are half rendered: the next change builds in full
            raise
        if rendered is None:
            self.full()
            return
        self.state = now
        seconds = time.perf_counter() - started
        print(
            f"rendered {rendered} page(s) for {len(changed)} changed file(s) in {seconds:.2f} s", flush=True
        )

    def _theme_files(self) -> dict[str, State]:
        """Return the state of the config files and of the theme's own folder (overrides/)."""
        found: dict[str, State] = {}
        custom = self.config.theme.custom_dir if self.config is not None else None
        for folder in [custom] if custom else []:
            found.update({f"{folder}/{rel}": s for rel, s in _snapshot(Path(folder)).items()})
        found.update({path: now for path in self.watched if (now := state(path)) is not None})
        return found

    def _partial(self, changed: set[str], now: dict[str, State]) -> int | None:
        """Return how many pages were rendered for `changed` (paths in docs_dir, `now` those that
        exist), or None when only a full build renders it right (said before anything is written,
        but for a title or front matter change, found as each page is read: the full build then
        writes every page again)."""
        from material.plugins.blog.plugin import BlogPlugin  # type: ignore[import-untyped]
        from material.plugins.blog.structure import Post  # type: ignore[import-untyped]
        from mkdocs.commands.build import _populate_page
        from mkdocs.structure.files import InclusionLevel

        config, files, nav, env = self.config, self.capture.files, self.capture.nav, self.capture.env
        if files is None or nav is None or env is None:
            return None
        doc_files = files.documentation_pages(inclusion=InclusionLevel.is_in_serve)
        pages, copied = [], []
        for rel in sorted(changed):
            file = files.get_file_from_path(rel)
            if file is None and (rel.startswith(".") or "/." in rel):
                continue  # a file being written (a dot-file), or one no site publishes
            if file is None or rel not in now:
                log.info("a full render: %s was added or removed", rel)
                return None  # the navigation, the listings and the links move
            if not file.is_documentation_page():
                copied.append(file)
            elif file.page is not None:  # else a page this build leaves out
                pages.append(file.page)
        if len(pages) > len(doc_files) // 4:
            log.info("a full render: %d of %d pages changed", len(pages), len(doc_files))
            return None  # a full build renders many pages faster, each listing once
        blogs = [p for p in config.plugins.values() if isinstance(p, BlogPlugin)]
        for page in pages:
            if isinstance(page, Post) and not any(page in blog.blog.posts for blog in blogs):
                log.info("a full render: %s is not among the blog's posts", page.file.src_uri)
                return None  # the blog plugin's state is another build's
        for file in copied:  # first: the pages written below show them
            file.copy_file(dirty=False)
        # The changed posts first (what the author is looking at), then the other changed pages.
        pages.sort(key=lambda page: not isinstance(page, Post))
        shown: list[Any] = []  # what was rendered, each page once
        for page in pages:
            before = (page.title, _listed(page.meta))
            if isinstance(page, Post):
                _reread_post(page, config)
            _populate_page(page, config, files)
            if (page.title, _listed(page.meta)) != before:
                log.info("a full render: the title or front matter of %s changed", page.file.src_uri)
                return None  # the tags page, the navigation and the listings' order read them
            if isinstance(page, Post):
                for blog in blogs:  # its related links, read again with it, point at pages again
                    blog._generate_links(page, config, files)
            self._write(page, doc_files, nav, env)
            shown.append(page)
        for page in pages:
            if isinstance(page, Post):
                for blog in blogs:
                    for view in _listings(blog, page):
                        if not any(view is s for s in shown):
                            _populate_page(view, config, files)  # its contents made again, then its excerpts
                            self._write(view, doc_files, nav, env)
                            shown.append(view)
        for page in shown:
            page.validate_anchor_links(files=files, log_level=config.validation.links.anchors)
        if copied and not all(_shown_on(file, shown) for file in copied):
            self.written(None)  # a stylesheet, a script, a file of a page not rendered: every page
        return len(shown)

    def _write(self, page: Any, doc_files: Any, nav: Any, env: Any) -> None:
        """Render `page` (populated) into the site and say it was written."""
        from mkdocs.commands.build import _build_page

        _build_page(page, self.config, doc_files, nav, env, excluded=page.file.inclusion.is_excluded())
        self.written([page.file.dest_uri])


def _shown_on(file: Any, pages: list[Any]) -> bool:
    """Return True if one of `pages`, as written, names `file` (so reloading it shows the new one)."""
    for page in pages:
        html = Path(page.file.abs_dest_path).read_text(encoding="utf-8", errors="replace")
        if file.url_relative_to(page.file) in html:
            return True
    return False


def _listed(meta: dict[str, Any]) -> dict[str, Any]:
    """Return the front matter pages other than its own and its listings may show."""
    return {k: v for k, v in meta.items() if k not in _PAGE_ONLY_KEYS}


def _reread_post(post: Any, config: Any) -> None:
    """Read a blog post's file again, in place, keeping what the blog plugin attached to it.

    Material reads a post when it builds the blog (`Post.__init__`), not when it renders the
    page; the listings hold the post itself, so it is read again where it stands."""
    kept = {name: getattr(post, name) for name in ("parent", "previous_page", "next_page", "categories")}
    type(post).__init__(post, post.file, config)
    for name, value in kept.items():
        setattr(post, name, value)
    post._set_canonical_url(config.site_url)


def _listings(blog: Any, post: Any) -> list[Any]:
    """Return the pages of `blog`'s listings that show `post`: for each view holding it, the
    page of the view it falls on."""
    found = []
    for view in blog._resolve_views(blog.blog):
        if post not in view.posts:
            continue
        if blog._config_pagination(view):
            at = view.posts.index(post) // blog._config_pagination_per_page(view)
            found.append(view.pages[at])
        else:
            found.append(view)
    return found


def serve(config_file: str, address: str) -> None:
    """Serve the site of `config_file` on `address` (IP:PORT) until Ctrl-C, re-rendering what changes."""
    from mkdocs.__main__ import ColorFormatter

    # build.py stops its server with SIGTERM: end as Ctrl-C does, the served folder removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stream = logging.StreamHandler()
    stream.setFormatter(ColorFormatter())
    logger = logging.getLogger("mkdocs")
    logger.addHandler(stream)
    logger.setLevel(logging.INFO)
    site_dir = tempfile.mkdtemp(prefix="nbpress-preview-site-")
    try:
        _serve(Site(config_file, site_dir, "", watched=[config_file]), address)
    finally:
        shutil.rmtree(site_dir, ignore_errors=True)


def _serve(site: Site, address: str) -> None:
    """Build `site`, then serve it on `address` and render what changes, until Ctrl-C."""
    from mkdocs.livereload import _serve_url

    host, port = address.rsplit(":", 1)
    config = site.load()
    config.plugins.on_startup(command="serve", dirty=False)
    mount = urlsplit(config.site_url or "/").path
    site.serve_url = _serve_url(host, int(port), mount)
    config.site_url = site.serve_url
    first = True

    def builder() -> None:
        nonlocal first
        if first:
            first = False
            site.full(config)
        else:
            site.update()

    server = _Server(builder=builder, host=host, port=int(port), root=site.site_dir, mount_path=mount)
    site.written = server.written
    server.error_handler = lambda code: _error_page(site.site_dir, code)
    # MkDocs' server polls its folders every 0.5 s; the preview is told at once (inotify), and
    # the watcher writes a build's files in one burst, so the server waits for no more after it.
    server.build_delay = 0.0  # _notify has waited for the burst to end
    stop = threading.Event()
    watched = [
        config.docs_dir,
        site.config_file,
        *([config.theme.custom_dir] if config.theme.custom_dir else []),
    ]
    server.watching(watched)
    notifier = threading.Thread(target=_notify, args=(server, watched, stop), daemon=True)
    try:
        builder()
        server = config.plugins.on_serve(server, config=config, builder=builder)
        notifier.start()
        try:
            server.serve()
        except KeyboardInterrupt:
            log.info("Shutting down...")
        finally:
            # Ctrl-C in a terminal reaches this server and build.py, which then stops it with
            # SIGTERM too: the second signal must not break off the shutdown.
            for stopping in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stopping, signal.SIG_IGN)
            stop.set()
            server.shutdown()
    finally:
        config.plugins.on_shutdown()


# The script that reloads a page once it has changed: MkDocs' own, started from its tag's data,
# not inline, and asking after its own page (location.pathname) rather than the whole site.
_RELOAD_PATH = "/.nbpress-livereload.js"
_POLL_PATH = "/.nbpress-livereload/"
_MKDOCS_POLL = '"/livereload/" + epoch + "/" + requestId'
assert _MKDOCS_POLL in _RELOAD_TEMPLATE, "MkDocs' reload script changed: see requirements.txt's pin"
_RELOAD_SCRIPT = (
    _RELOAD_TEMPLATE.replace(
        _MKDOCS_POLL,
        f'"{_POLL_PATH}" + epoch + "/" + requestId + "?page=" + encodeURIComponent(location.pathname)',
    ).rsplit("livereload(${epoch}", 1)[0]
    + ";livereload(+document.currentScript.dataset.epoch, +document.currentScript.dataset.request);\n"
).encode()


class _Server(LiveReloadServer):
    """MkDocs' preview server, whose pages reload one by one as they are written.

    Its reload script is a file of its own: the site's policy (script-src 'self',
    overrides/partials/nbpress-csp.html) refuses MkDocs' inline one, so no page would reload.
    A page asks to reload when its own version is newer than the one it shows: `written`
    dates each page as the render writes it (a full build dates them all), so a partial render
    serves each page as soon as it is written and leaves the pages it did not change alone.
    It watches nothing itself (`_notify` tells it of changes).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._all_epoch = self._visible_epoch  # when every page last changed (a full build)
        self._page_epochs: dict[str, int] = {}  # {dest_uri: when that page was last written}
        self._last_epoch = self._all_epoch  # the newest date given: each write's is newer
        self._request = threading.local()

    def watching(self, paths: list[str]) -> None:
        """Name the paths `_notify` watches: MkDocs adds its script to pages only while it
        watches some, and says which at start."""
        self._watched_paths = dict.fromkeys(paths, 1)

    def written(self, pages: list[str] | None) -> None:
        """Date `pages` (dest_uris; None: every page) now, and reload the browsers showing them.

        A partial render calls it as it writes each page: the pages it has not written yet are
        served meanwhile as they were (MkDocs would hold every request until the render ends).
        """
        with self._epoch_cond:
            now = self._last_epoch = max(_timestamp(), self._last_epoch + 1)
            if pages is None:
                self._all_epoch = now
                self._page_epochs.clear()
            else:
                self._page_epochs.update(dict.fromkeys(pages, now))
                self._visible_epoch = self._wanted_epoch  # written page by page: serve what is there
            self._epoch_cond.notify_all()

    def _epoch_of(self, page: str) -> int:
        return max(self._all_epoch, self._page_epochs.get(page, 0))

    def _page_of(self, path: str) -> str:
        """Return the dest_uri a URL path of the site is served from."""
        path = unquote(path)
        rel = path[len(self.mount_path) :] if path.startswith(self.mount_path) else path.lstrip("/")
        return rel + "index.html" if rel.endswith("/") or not rel else rel

    def _inject_js_into_html(self, content: bytes, epoch: int) -> bytes:
        end = content.rfind(b"</body>")
        end = len(content) if end < 0 else end
        # The page's date as it was before its file was read (`_serve_request`): a write after
        # that makes the page reload, even if what was read is already the new version.
        epoch = getattr(self._request, "epoch", epoch)
        data = f'data-epoch="{epoch}" data-request="{time.monotonic_ns()}"'
        return content[:end] + f'<script src="{_RELOAD_PATH}" {data}></script>'.encode() + content[end:]

    def _serve_request(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == _RELOAD_PATH:
            start_response("200 OK", [("Content-Type", "text/javascript"), ("Cache-Control", "no-store")])
            return [_RELOAD_SCRIPT]
        if path.startswith(_POLL_PATH):
            return self._poll(path, environ, start_response)
        with self._epoch_cond:
            self._request.epoch = self._epoch_of(self._page_of(path))
        return super()._serve_request(environ, start_response)

    def _poll(self, path: str, environ: dict[str, Any], start_response: Any) -> Any:
        """Answer a page's poll with its date, once it is newer than the one it shows (or a minute passed)."""
        try:
            epoch = int(path[len(_POLL_PATH) :].split("/", 1)[0])
        except ValueError:
            return None  # not found
        page = self._page_of(parse_qs(environ.get("QUERY_STRING", "")).get("page", ["/"])[0])
        start_response("200 OK", [("Content-Type", "text/plain")])
        with self._epoch_cond:
            self._epoch_cond.wait_for(
                lambda: self._epoch_of(page) > epoch, timeout=self.poll_response_timeout
            )
            return [b"%d" % self._epoch_of(page)]


def _notify(server: Any, paths: list[str], stop: threading.Event) -> None:
    """Ask `server` for a render after each burst of changes under `paths`, until `stop` is set."""
    import watchfiles

    for _changes in watchfiles.watch(
        *paths, stop_event=stop, step=int(_SETTLE * 1000), yield_on_timeout=False
    ):
        with server._rebuild_cond:  # as LiveReloadServer.watch's own callback does
            server._want_rebuild = True
            server._rebuild_cond.notify_all()


def _error_page(site_dir: str, code: int) -> bytes | None:
    """Return the site's own page for a 404 or 500, as `mkdocs serve` does, or None."""
    path = Path(site_dir, f"{code}.html")
    return path.read_bytes() if code in (404, 500) and path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    """Run the server from the command line; return its exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m nbpress.publishing.partial", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config-file", "-f", default="mkdocs.yml")
    parser.add_argument("--dev-addr", "-a", default="127.0.0.1:8000")
    args = parser.parse_args(argv)
    from mkdocs.exceptions import MkDocsException

    try:
        serve(args.config_file, args.dev_addr)
    except MkDocsException as err:  # a config or build that fails: said as `mkdocs serve` says it
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # stopped (Ctrl-C, or build.py's SIGTERM) before it served
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
