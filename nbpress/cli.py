"""Print a build's progress and summary; the only module that talks to the terminal.

On a terminal a live display (rich) shows which posts are running, done, cached or
failed; elsewhere (CI, pipes) each post gets one plain line as it ends.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import interrupt
from .errors import BuildInterrupted, NbpressError
from .pipeline import Options, PostResult, Reporter, Results, Status, build, default_jobs, warm
from .publishing import Changes

if TYPE_CHECKING:
    from rich.table import Table

EXIT_INTERRUPTED = 130
OUT_OF_MEMORY = (
    "nbpress ran out of memory; build the posts one at a time (python build.py SLUG) "
    "to find the one that needs it."
)


def _stopped(err: NbpressError | MemoryError) -> int:
    """Print the one line a whole command stops with (its error, or no memory left); return 2."""
    print(f"error: {OUT_OF_MEMORY if isinstance(err, MemoryError) else err}", file=sys.stderr)
    return 2


def _line(result: PostResult) -> str:
    seconds = f"{result.seconds:6.1f} s" if result.seconds else " " * 8
    why = f" ({result.reason})" if result.reason and result.error is None else ""
    return f"{result.status:<9} {seconds}  {result.name}{why}"


def _plain(text: str, stream: TextIO) -> str:
    """Return `text` without ANSI colour codes unless `stream` is a terminal (tracebacks carry them)."""
    if stream.isatty():
        return text
    from .terminal import strip_ansi

    return strip_ansi(text)


class PlainReporter(Reporter):
    """One line per post as it ends; errors (with the cell's traceback) on stderr."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err

    def finished(self, result: PostResult) -> None:
        """Print the post's line, and for a failure its traceback and one error line."""
        if result.error is None:
            print(_line(result), file=self.out, flush=True)
            for warning in result.warnings:
                print(f"warning: {warning}", file=self.err, flush=True)
            return
        if result.detail:
            print(_plain(result.detail, self.err).rstrip(), file=self.err)
        print(f"{_line(result)}\nerror: {result.error}", file=self.err, flush=True)
        for warning in result.warnings:  # a cache entry that could not be used, say
            print(f"warning: {warning}", file=self.err, flush=True)

    def waiting(self, line: str) -> None:
        """Say, once, that another build holds the blog and this one waits for it."""
        print(line, file=self.err, flush=True)


class LiveReporter(PlainReporter):
    """A rich live table of running posts above the plain lines of finished ones."""

    def __init__(self) -> None:
        super().__init__()
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.running: dict[str, float] = {}
        # get_renderable rebuilds the table at each refresh, so elapsed times tick.
        self.live = Live(
            console=self.console, get_renderable=self._table, refresh_per_second=4, transient=True
        )
        self.live.start()
        self.out = self.err = sys.stderr

    def _table(self) -> Table:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.perf_counter()
        for name, start in self.running.items():
            table.add_row("[cyan]running[/]", f"{now - start:5.1f} s", name)
        return table

    def started(self, name: str) -> None:
        """Show the post as running."""
        self.running[name] = time.perf_counter()

    def finished(self, result: PostResult) -> None:
        """Move the post from the running table to the printed lines."""
        self.running.pop(result.name, None)
        colour = {Status.FAILED: "red", Status.EXECUTED: "green", Status.CACHED: "blue"}.get(
            result.status, "dim"
        )
        if result.error is not None and result.detail:
            self.live.console.print(result.detail.rstrip(), markup=False, highlight=False)
        self.live.console.print(f"[{colour}]{result.status:<9}[/]", _line(result)[10:], highlight=False)
        if result.error is not None:
            self.live.console.print(f"error: {result.error}", highlight=False, markup=False)
        for warning in result.warnings:
            self.live.console.print(f"warning: {warning}", highlight=False, markup=False)

    def waiting(self, line: str) -> None:
        """Say, above the live display, that this build waits for another one."""
        self.live.console.print(line, highlight=False, markup=False)

    def stop(self) -> None:
        """End the live display."""
        self.live.stop()


def summary(results: list[PostResult], cache_size: tuple[int, int] | None = None) -> str:
    """Return the closing line: how many posts ended in each status, how many warnings, the cache's size."""
    counts = {s: sum(r.status == s for r in results) for s in Status}
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    warnings = sum(len(r.warnings) for r in results)
    noted = f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    line = f"{len(results)} posts: {parts or 'nothing to do'}{noted}"
    if cache_size is not None:
        line += f"; cache: {_cache_size(cache_size)}"
    return line


def _cache_size(size: tuple[int, int]) -> str:
    entries, nbytes = size
    amount = f"{nbytes / 1e6:.1f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:.0f} kB"
    return f"{entries} {'entry' if entries == 1 else 'entries'}, {amount}"


def prune_cache(root: Path) -> int:
    """Remove the cache entries no current post uses; print what was removed and what is left."""
    from .execution import Store
    from .layout import Layout
    from .plan import used_keys

    store = Store(Layout(root.resolve()).cache)
    try:
        removed = store.prune(used_keys(root))
    except NbpressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"removed {len(removed)} cache {'entry' if len(removed) == 1 else 'entries'} no post uses; "
        f"cache: {_cache_size(store.size())}"
    )
    return 0


def _summary_table(results: list[PostResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="nbpress build")
    for column in ("post", "status", "seconds", "warnings"):
        table.add_column(column)
    for r in results:
        table.add_row(r.name, r.status, f"{r.seconds:.1f}" if r.seconds else "", str(len(r.warnings) or ""))
    Console().print(table)


def run(
    root: Path,
    slugs: tuple[str, ...],
    force: bool,
    jobs: int | None = None,
    shard: tuple[int, int] | None = None,
    strict: bool = False,
) -> int:
    """Build the blog at `root`, reporting each post; return the exit code (1 if any failed).

    With `strict`, a warning fails the build too (exit 1), for CI.

    Ctrl-C or SIGTERM stop it with EXIT_INTERRUPTED: kernels shut down, no post half-written.
    """
    return _run(root, slugs, force, jobs, shard, strict)[0]


def _run(
    root: Path,
    slugs: tuple[str, ...],
    force: bool,
    jobs: int | None = None,
    shard: tuple[int, int] | None = None,
    strict: bool = False,
    typed: bool = True,
) -> tuple[int, Changes]:
    """Return (run's exit code, the pages the build changed).

    `typed`: the names in `slugs` come from the command line, and are checked before anything
    starts; a watch's names come from the sources it saw change, and the build resolves them.
    """
    # SIGTERM takes Ctrl-C's path, so kernels are shut down and no post is left half-written.
    interrupt.install()
    unknown = _unknown_names(root, slugs) if typed else None
    if unknown is not None:  # said before the live display starts, so the line is all there is
        return _stopped(unknown), Changes()
    live = sys.stderr.isatty() and sys.stdout.isatty()
    reporter: PlainReporter = LiveReporter() if live else PlainReporter()
    try:
        jobs = jobs or default_jobs()
        options = Options(root=root, slugs=slugs, force=force, jobs=jobs, shard=shard)
        results = build(options, reporter, then=None if shard else lambda results: _record(root, results))
    except (BuildInterrupted, KeyboardInterrupt) as err:
        return _interrupted(str(err)), Changes()
    except (NbpressError, MemoryError) as err:
        # MemoryError is never one post's failure (errors.one_post lets it pass): the build stops.
        return _stopped(err), Changes()
    finally:
        if isinstance(reporter, LiveReporter):
            reporter.stop()
    if live and results:
        _summary_table(results)
    code = _close(root, results, strict)
    if interrupt.REQUESTED.is_set():
        # Asked to stop, but something swallowed the KeyboardInterrupt and the build went on.
        return _interrupted(""), results.changes
    return code, results.changes


def _interrupted(reason: str) -> int:
    """Print the line an interrupted build ends with; return EXIT_INTERRUPTED."""
    reason = reason or "the build was interrupted; every post already published is whole."
    print(f"interrupted: {reason}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _unknown_names(root: Path, names: tuple[str, ...]) -> NbpressError | None:
    """Return the one-line error of a name on the command line that is no post (None if all are).

    Resolved as the build resolves them (pipeline.select_sources), before anything starts.
    """
    if not names:
        return None
    from .layout import Layout
    from .pipeline import select_sources
    from .sources import posts

    try:
        select_sources(posts.discover(Layout(root.resolve()).sources), names, root.resolve())
    except NbpressError as err:
        return err
    return None


def _close(root: Path, results: list[PostResult], strict: bool) -> int:
    """Print the summary and the posts that failed (or warned, with `strict`); return the exit code."""
    from .execution import Store
    from .layout import Layout

    print(summary(results, Store(Layout(root.resolve()).cache).size()))
    failed = [r for r in results if r.status is Status.FAILED]
    if failed:
        # Each error was printed once already, with its post; this only names them together.
        print(f"failed: {', '.join(r.name for r in failed)}", file=sys.stderr)
    warned = [r for r in results if r.warnings]
    if strict and warned:
        print(
            f"strict: {sum(len(r.warnings) for r in warned)} warnings fail the build "
            f"({', '.join(r.name for r in warned)}); fix them, or build without --strict.",
            file=sys.stderr,
        )
        return 1
    return 1 if failed else 0


def site(
    root: Path,
    slugs: tuple[str, ...],
    force: bool,
    jobs: int | None = None,
    strict: bool = False,
    renderer: str = "mkdocs",
) -> int:
    """Build, then render the deployable site (`mkdocs build --strict`); return the exit code.

    The render is skipped when the site folder holds the render of exactly what it would read
    (publishing.renderers.site_state): a build that changed nothing renders nothing. A build
    that stopped renders nothing; one whose posts failed renders the last good versions and
    keeps exit 1. A render that fails prints the renderer's messages and one line, exit 1.
    The render is readied before the build starts (SiteRenderer.prepare), so that it imports
    MkDocs on the other core while the build plans, executes and publishes.
    """
    from .publishing import RENDERERS, Prepared, render_site, site_is_current, site_state

    chosen = RENDERERS[renderer]
    prepared: list[Prepared] = []
    with contextlib.suppress(OSError):  # none readied (no process to spare): rendered later
        prepared.extend(r for r in [chosen.prepare(root)] if r is not None)
    try:
        code, _ = _run(root, slugs, force, jobs, None, strict)
        if code not in (0, 1):
            return code
        state = site_state(chosen, root)
        where = state.site_dir.relative_to(root) if state.site_dir.is_relative_to(root) else state.site_dir
        if site_is_current(state, root):
            print(f"site: {where}/ is current (nothing it is rendered from changed); not rendered again")
            return code
        start = time.monotonic()
        done = render_site(chosen, root, state, prepared[0] if prepared else None)
    except KeyboardInterrupt:
        return _interrupted("the site render was stopped; run build.py --site again to render it.")
    finally:
        for render in prepared:
            render.close()  # a build that renders nothing (or stopped): its worker ends
    if done.returncode != 0:
        sys.stderr.write(_plain(done.messages, sys.stderr))
        command = " ".join(chosen.build_command()[2:])
        print(
            f"error: {command} failed (exit {done.returncode}); its messages are above: "
            f"fix what they name, then run build.py --site again",
            file=sys.stderr,
        )
        return 1
    print(f"site: rendered into {where}/ by {chosen.name} in {time.monotonic() - start:.1f} s")
    return _interrupted("") if interrupt.REQUESTED.is_set() else code


def _record(root: Path, results: Results) -> None:
    """Merge the build's results into the execution report (under the build lock: no lost update)."""
    from .report import record

    try:
        record(root, results)
    except OSError as err:  # the posts are published; only the report could not be written
        print(f"warning: the execution report was not written ({err}).", file=sys.stderr)


def report(root: Path) -> int:
    """Print the execution report (nbpress.report) of every post; return 1 if any failed."""
    from .report import rows, text

    try:
        found = rows(root)
    except (NbpressError, MemoryError) as err:
        return _stopped(err)
    print(text(found), end="")
    return 1 if any(r.status in ("failed", "unreadable") for r in found) else 0


def check_posts(root: Path) -> int:
    """Print the posts whose generated Markdown is stale or missing; return 1 if there are any."""
    from .check import Problem, find_stale

    try:
        current, findings = find_stale(root)
    except (NbpressError, MemoryError) as err:
        return _stopped(err)
    for finding in findings:
        # An error's message already starts with the file's name.
        where = "" if finding.problem is Problem.ERROR else f"{finding.name}: "
        print(f"{finding.problem:<8} {where}{finding.reason}", file=sys.stderr)
    if findings:
        print(f"{len(findings)} not current, {current} current; run python build.py and commit the result.")
        return 1
    print(f"{current} posts current")
    return 0


def drift(root: Path, revision: str) -> int:
    """Print one line per post whose outputs drifted from `revision` (and its diff); return 1 if any."""
    from .drift import find_drift

    drifted = find_drift(root.resolve(), revision)
    for lines in drifted.values():
        print("\n".join(lines[1:80]))
        print(f"drifted: {lines[0]} (compared with {revision}); run it and look.", file=sys.stderr)
    if not drifted:
        print("no drift: every generated post shows what is committed")
    return 1 if drifted else 0


def new(root: Path, title: str, fmt: str, slug: str | None, author: str | None) -> int:
    """Create a post source and print what to do next; return the exit code."""
    from .sources import new_post

    try:
        path = new_post(root, title, fmt, slug=slug, author=author)
    except NbpressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    editor = "Jupyter or VS Code" if fmt == "ipynb" else "your editor (or Jupyter, with jupytext)"
    print(
        f"created {rel} (a draft: it shows in the preview, not in the published site)\n"
        "next:\n"
        f"  1. open it in {editor} and write\n"
        "  2. python build.py --serve   (rebuilds the post on every save; the preview at the\n"
        "                                address the server prints reloads)\n"
        "  3. remove 'draft: true' from its front matter to publish, run python build.py,\n"
        f"     then commit {rel}, site_src/posts/ and assets/images/"
    )
    return 0


def import_project(root: Path, path: Path, series: str | None, dry_run: bool) -> int:
    """Import a Jupyter Book or Quarto project into posts/ (nbpress.importing); return the exit code.

    Prints each file written (or, with `dry_run`, that would be) and, one line each, what could
    not be carried over; exit 0 when imported (notes or not), 1 when refused (nothing written).
    """
    from .importing import describe, plan_import, read_project, write_plan

    try:
        project = read_project(path)
        plan = plan_import(project, root.resolve(), series)
        if not dry_run:
            write_plan(plan, root.resolve())
    except NbpressError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(
            f"error: {err.filename or path}: {err.strerror or err}; nothing more was imported.",
            file=sys.stderr,
        )
        return 1
    verb = "would write" if dry_run else "wrote"
    for line in describe(plan):
        print(f"{verb} {line}")
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    posts = sum(write.post for write in plan.writes)
    print(
        f"{'dry run: ' if dry_run else ''}{project.kind} {project.title!r}: {posts} posts in the series "
        f"{plan.series!r}, {len(plan.notes)} notes; next: python build.py"
        + (" (nothing was written)" if dry_run else "")
    )
    return 0


def watch(
    root: Path,
    slugs: tuple[str, ...],
    force: bool,
    jobs: int | None = None,
    serve: str | bool = False,
    renderer: str = "mkdocs",
) -> int:
    """Build, then rebuild posts as their sources or inputs change, until Ctrl-C; return 0.

    With `serve` (an IP:PORT), the site renderer's preview server (MkDocs' rendering only the
    pages a save changed, publishing.partial, or `zensical serve` with `renderer`) runs beside
    the watcher and is stopped with it. It serves
    the preview's copy of the published tree (publishing.preview), which the watcher updates
    once after each build, so a save makes it render once. An address that cannot be served (a port in
    use: a second --serve) is said in one line before anything is built, exit 1; a server
    that stops by itself ends the watch with exit 1, nothing left running. A name in `slugs`
    that is no post is said in one line before anything is built, exit 2.
    """
    from .publishing import RENDERERS, Preview, serve_site
    from .watch import snapshot, watch_posts

    site = RENDERERS[renderer]
    if serve:
        problem = _unservable(str(serve))
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return 1

    def rebuild(changed: tuple[str, ...]) -> None:
        code, changes = _run(root, changed, force=False, jobs=jobs, typed=False)
        if code == EXIT_INTERRUPTED:
            raise KeyboardInterrupt  # Ctrl-C during a rebuild ends the watch too
        if server is not None:
            # What the build wrote reaches the server at once, after the build; a build that
            # stopped reports no pages, so the whole tree is compared then.
            preview.sync(changes if code == 0 else None)

    unknown = _unknown_names(root, slugs)  # a name that is no post stops the watch before it starts
    if unknown is not None:
        return _stopped(unknown)
    before = snapshot(root.resolve())  # a save during the first build is rebuilt after it
    if run(root, slugs, force=force, jobs=jobs) == EXIT_INTERRUPTED:
        return EXIT_INTERRUPTED
    server = None
    stop = threading.Event()
    preview = Preview(root)
    if serve:
        preview.create()
        server = serve_site(site, root, str(serve), preview)
        # The watch lives only while its server does: one that stops (its port taken meanwhile)
        # is reaped here and ends the watch.
        threading.Thread(target=_reap, args=(server, stop), daemon=True).start()
    # What a render loads on first use loads now (while the server renders, with --serve), so
    # the first save shows as fast as the next ones; a save meanwhile is seen (`before`).
    warm(root)
    print("watching posts/ for changes (Ctrl-C to stop)", flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a watch ends
            watch_posts(root.resolve(), rebuild, stop=stop, since=before)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
    return 0 if server is None else _server_ended(server, stop, site.name)


def _server_ended(server: subprocess.Popen[bytes], stop: threading.Event, name: str) -> int:
    """Return the watch's exit code once its server is down: 1 (said) if the server stopped by itself."""
    if stop.is_set() and server.returncode not in (0, -signal.SIGTERM):
        print(
            f"error: {name} serve stopped (exit code {server.returncode}), so the watch stopped too; "
            f"{_PORT_ADVICE}",
            file=sys.stderr,
        )
        return 1
    return 0


def _reap(server: subprocess.Popen[bytes], stop: threading.Event) -> None:
    """Wait for the server to end (reaping it, so no zombie is left), then stop the watch."""
    server.wait()
    stop.set()


_PORT_ADVICE = "choose another address with --dev-addr IP:PORT (e.g. --dev-addr 127.0.0.1:8001)"


def _unservable(address: str) -> str | None:
    """Return why a preview server (`mkdocs serve --dev-addr address`) could not listen there, or None."""
    import socket

    host, _, port_text = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return f"--dev-addr {address!r} is not IP:PORT; {_PORT_ADVICE}."
    port = int(port_text)
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as err:
        return f"--dev-addr {address!r}: {host!r} is not an address of this machine ({err}); {_PORT_ADVICE}."
    with socket.socket(family, kind, proto) as sock:
        # As mkdocs' server binds: a port left in TIME_WAIT is free, one a server listens on is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(where)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return (
                    f"port {port} is in use: another server (another --serve?) listens on {address}; "
                    f"stop it, or {_PORT_ADVICE}."
                )
            return f"cannot serve on {address} ({err.strerror or err}); {_PORT_ADVICE}."
    return None
