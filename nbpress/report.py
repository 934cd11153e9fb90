"""The execution report: every post with its status, run time, cache state and provenance.

Like Jupyter Book's execution table. Each build records what happened to each post in
`.nbpress-cache/report.json`; a failing post's full traceback goes to
`site_src/execution/logs/<slug>.log`. `rows` joins that record with the cache and the
provenance stored with the outputs; the build writes them as a page of the site
(`site_src/execution/index.md`, git-ignored), and `python build.py --report` prints them.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import filestate
from .atomic import atomic_write
from .errors import NbpressError, one_post
from .execution import Store
from .layout import REPORT, Layout
from .pipeline import Results, Status
from .plan import Context, context, decide
from .publishing import Site
from .sources import posts, read_authors


@dataclass(frozen=True)
class Row:
    """One post in the report."""

    source: str  # posts/<file>
    slug: str
    status: str  # ok, failed, not built, unreadable
    seconds: float | None
    cache: str  # cached, not cached, unknown
    executed: str  # when the cached outputs were made ("" if unknown)
    environment: str  # "Python 3.11.7, numpy 2.4.6" ("" if unknown)
    error: str = ""
    log: str = ""  # path of the log, relative to site_src/execution/


def _load_state(root: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(Layout(root).report_state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def _write(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`; leave it untouched when it already holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A message quoting an author's lone surrogate is written escaped, never refused.
    atomic_write(path, text.encode("utf-8", errors="backslashreplace"))


def record(root: Path, results: Results) -> None:
    """Merge a build's results into the report's state, write the failure logs and the page.

    The posts the build decided are shown with its decisions (pipeline.Results), not decided
    again; the posts it did not build (a build of some posts, a watch's rebuild) as the last
    build that decided them left them (`rows`).
    """
    state = _load_state(root)
    layout = Layout(root)
    for result in results:
        if not result.name.startswith("posts/"):
            continue  # a removed post's Markdown; its entry goes with its source below
        slug = posts.name_slug(Path(result.name))
        files = layout.post(slug)
        log = files.log
        entry: dict[str, object] = dict(state.get(result.name, {}))
        if result.status is Status.FAILED:
            from .terminal import clean_text

            text = f"{result.error}\n"
            if result.detail:
                text = f"{result.detail.rstrip()}\n\n{text}"
            # Served with the site: no terminal colours, no paths of the build machine.
            _write(log, clean_text(text, [root]))
            entry.update(status="failed", error=str(result.error), log=files.log_link)
        else:
            log.unlink(missing_ok=True)
            entry.update(status="ok", error="", log="")
        if result.status is Status.EXECUTED or (result.status is Status.FAILED and result.seconds):
            entry["seconds"] = round(result.seconds, 1)
        entry.pop(_KEY, None)  # decided by this build: its key is the build's (or none, if it failed first)
        state[result.name] = entry
    if results.sources is not None:
        sources = set(results.sources)
    else:
        sources = {p.relative_to(root).as_posix() for p in posts.discover(layout.sources)}
    state = {k: v for k, v in sorted(state.items()) if k in sources}
    report = _rows(root, sorted(sources), state, results.keys, results.context)
    _write(Layout(root).report_state, json.dumps(state, sort_keys=True) + "\n")
    _write(layout.report_page, page(report))


# In the report's state, beside what the last build that decided a post said of it: the
# execution key it decided, and what the row shows of that key's cache entry with the entry's
# file state then (nbpress.filestate), so a row is derived again only when its entry changed.
_KEY = "key"
_SHOWN = "shown"


def rows(root: Path, keys: Mapping[str, str] | None = None, ctx: Context | None = None) -> list[Row]:
    """Return one Row per source in posts/, in name order, every post decided as a build would.

    `keys` ({source: execution key}) are the decisions of the build just done (pipeline.Results),
    `ctx` what they shared; the other posts are read and decided here (plan.decide).
    """
    layout = Layout(root)
    sources = [p.relative_to(root).as_posix() for p in posts.discover(layout.sources)]
    state = {k: {n: v for n, v in e.items() if n != _KEY} for k, e in _load_state(root).items()}
    return _rows(root, sources, state, keys or {}, ctx)


def _rows(
    root: Path,
    sources: list[str],
    state: dict[str, dict[str, object]],
    keys: Mapping[str, str],
    ctx: Context | None,
) -> list[Row]:
    """Return the Row of each of `sources`, updating `state` (each post's entry) with what they show.

    A post's key is the one `keys` gives (decided by the build), else the one its entry
    keeps (the last build that decided it), else it is read and decided here.
    """
    layout = Layout(root)
    store = Store(layout.cache)
    durations = store.durations()
    stored = store.keys()
    authors: dict[str, object] | None = None
    found = []
    for source in sources:
        entry = state.setdefault(source, {})
        slug = posts.name_slug(Path(source))
        status = str(entry.get("status", "not built"))
        cache_state, executed, environment = "unknown", "", ""
        key = keys.get(source)
        if key is None and isinstance(entry.get(_KEY), str):
            key = str(entry[_KEY])
        if key is None and (ctx is None or authors is None):
            ctx = ctx or context(Site(root, layout.sources))
            authors = read_authors(layout)  # once for all posts, as the build reads it
        try:
            if key is None:
                assert ctx is not None and authors is not None
                with one_post(source, "reading it"):
                    post = posts.read_post(root / source, root, authors)
                    key = decide(post, ctx).exec_key  # the key a build would run it under
        except NbpressError as err:
            status = "failed" if status == "failed" else "unreadable"
            entry.pop(_KEY, None)
            entry.pop(_SHOWN, None)
            entry = {**entry, "error": entry.get("error") or str(err)}
        else:
            entry[_KEY] = key
            cached = key in stored
            cache_state = "cached" if cached else "not cached"
            if cached:
                executed, environment = _shown(store, key, entry)
            else:
                entry.pop(_SHOWN, None)
        seconds = entry.get("seconds", durations.get(slug))
        found.append(
            Row(
                source=source,
                slug=slug,
                status=status,
                seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
                cache=cache_state,
                executed=executed,
                environment=environment,
                error=str(entry.get("error", "")),
                log=str(entry.get("log", "")),
            )
        )
    return found


def _shown(store: Store, key: str, entry: dict[str, object]) -> tuple[str, str]:
    """Return (executed, environment) of the cached entry `key`, derived once per file state of it.

    What was derived is kept in the post's report `entry`, with the entry file's state.
    """
    path = store.entry_path(key)
    now = filestate.state(path)
    kept = entry.get(_SHOWN)
    if isinstance(kept, dict) and now is not None and kept.get("key") == key:
        at, was = kept.get("at"), kept.get("state")
        if isinstance(at, int) and was == list(now) and filestate.settled(now, at):
            return str(kept.get("executed", "")), str(kept.get("environment", ""))
    at = time.time_ns()  # before the entry is read: a write after it is a later state
    executed, environment = "", ""
    provenance = store.provenance(key)
    if provenance:
        executed = str(provenance.get("executed", "")).replace("T", " ").replace("Z", " UTC")
        python = provenance.get("python")
        parts = [f"Python {python}" if python else f"kernel {provenance.get('kernel', '?')}"]
        packages = provenance.get("packages")
        parts += [f"{n} {v}" for n, v in (packages.items() if isinstance(packages, dict) else [])]
        environment = ", ".join(parts)
    if now is not None:
        entry[_SHOWN] = {
            "key": key,
            "state": list(now),
            "at": at,
            "executed": executed,
            "environment": environment,
        }
    return executed, environment


def _cell(text: str) -> str:
    """Return `text` as HTML text: a post's path and error come from its author and its code."""
    return html.escape(text.replace("\n", " "), quote=True)


def page(report: list[Row]) -> str:
    """Return the report as a page of the site: Markdown around one HTML table.

    Every value is escaped as HTML text where it is written (an error's message is the code's
    to choose, `<img onerror=...>` included), and an HTML table renders in half the time of
    a Markdown one with a row per post, which a preview renders again after each code edit.
    """
    lines = [
        "---",
        "title: Execution report",
        "search:",
        "  exclude: true",
        "---",
        "",
        "# Execution report",
        "",
        "Every post of the blog as the last build left it: whether it built, how long its",
        "notebook ran, whether its outputs are in the build cache, and when and with what",
        "they were executed. A failed post links the log with its full traceback.",
        "",
        "<table>",
        "<thead><tr><th>post</th><th>status</th><th>run time</th><th>cache</th><th>executed</th>"
        "<th>with</th></tr></thead>",
        "<tbody>",
    ]
    for row in report:
        status = _cell(row.status)
        if row.log:
            status = f'<a href="{_cell(row.log)}">{status}</a>'
        seconds = f"{row.seconds:.1f} s" if row.seconds is not None else ""
        cells = [f"<code>{_cell(row.source)}</code>", status, seconds, _cell(row.cache), _cell(row.executed)]
        cells.append(_cell(row.environment))
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines += ["</tbody>", "</table>"]
    failures = [r for r in report if r.error]
    if failures:
        lines += ["", "## Failures", "", "<ul>"]
        lines += [f"<li><code>{_cell(r.source)}</code>: {_cell(r.error)}</li>" for r in failures]
        lines.append("</ul>")
    return "\n".join(lines) + "\n"


def text(report: list[Row]) -> str:
    """Return the report as plain aligned columns for a terminal."""
    header = ("post", "status", "run time", "cache", "executed", "with")
    table = [header] + [
        (
            r.source,
            r.status,
            f"{r.seconds:.1f} s" if r.seconds is not None else "-",
            r.cache,
            r.executed or "-",
            r.environment or "-",
        )
        for r in report
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in table
    ]
    for r in report:
        if r.error:
            lines.append(f"{r.status}: {r.error}")
            if r.log:
                lines.append(f"       traceback: {REPORT}/{r.log}")
    return "\n".join(line.rstrip() for line in lines) + "\n"
