"""Many browser pages at once: playwright's async API in one event loop, on its own thread.

A test that opens a hundred pages one after another spends most of its time waiting (for a
page's load, for an onerror that would run): `visit_all` keeps several pages in flight in one
headless Chromium and returns each address's own result, so a verdict stays the page's and a
failure can name it. The thread keeps the async loop apart from the sync playwright a module's
other tests drive.

The pages of a call share one browser context: a context of its own for each page cost the
browser a new context and the renderer a fresh process each time, more CPU than the page itself
(Chromium's CPU time for the 82 pages of one attack pass: about 140 s with a context per page,
65 s in one context). What a context would have
kept apart is kept apart by attribution instead: every binding call, request to another host,
dialog, popup and WebSocket is traced to the page it came from (a popup to the page that
opened it, however deep), recorded on that address's `Tab`, and an event no visited page owns
fails the call. Pages of different sites (another port) never share storage either; pages of
one site share the browser's cache and storage as one reader's tabs do. With `reuse_pages` a
page visits address after address (a reader's tab following links does too), about:blank between
two: the attack passes' CPU again (a renderer process and playwright's setup per page; see
visit_all).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.helpers import CHROMIUM_ARGS, HANG, chromium_path

T = TypeVar("T")

# Pages in flight at once: most of a page's time is waiting, so a few more than the cores.
IN_FLIGHT = 6
# What a page waits for before it is a hang.
TIMEOUT_MS = HANG * 1000
# How long a page's close may take before it is left to the context's.
CLOSE_S = 10
# A request to any host but 127.0.0.1 (the served site): aborted and recorded, so no page of a
# test reaches the network. Matched by playwright's driver: the site's own requests go on
# without a round trip to Python.
OUTSIDE = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")
# Material's search index (visit_all's `skip`): downloaded and indexed by its search worker on
# every page, a tenth of a page's CPU, read only by a query typed in the search box.
SEARCH_INDEX = r"search/search_index\.json$"


@dataclass
class Tab:
    """One address's page in the shared context, and what it and any page it opened did.

    `calls[name]` holds (URL of the calling frame, arguments) of each call of the binding `name`
    (visit_all's `bindings`). The lists may still grow after `visit` returned, until visit_all
    returns (what a page does until it is closed; what a popup did, traced at the end).
    """

    address: str
    page: Any = None
    url: str = ""  # where the page was when `visit` returned
    outside: list[str] = field(default_factory=list)  # requests to other hosts (aborted)
    dialogs: list[str] = field(default_factory=list)  # dismissed
    popups: list[str] = field(default_factory=list)  # the address each opened page started at
    websockets: list[str] = field(default_factory=list)
    calls: dict[str, list[tuple[str, tuple[Any, ...]]]] = field(default_factory=dict)


def _executable() -> str:
    """Return the Chromium the other browser tests launch (helpers.launch_chromium's)."""
    return str(chromium_path())


class _Owners:
    """Which visited address each page of the context belongs to: its own, or its opener's."""

    def __init__(self) -> None:
        self.tabs: dict[Any, Tab] = {}
        self.reused: set[Any] = set()  # pages that visit one address after another
        self.untraced: list[tuple[Any, Callable[[Tab], None], str]] = []

    def own(self, page: Any, tab: Tab) -> None:
        """Make `tab` the owner of `page` (and of what it does from now on, popups included)."""
        known = page in self.tabs
        self.tabs[page] = tab
        if not known:  # a reused page keeps its listeners: they look its current tab up
            page.on("popup", lambda popup: self.opened(popup, self.tabs[page]))
            page.on(
                "websocket",
                lambda ws: self.record(lambda: page, lambda t: t.websockets.append(ws.url), ws.url),
            )

    def opened(self, popup: Any, tab: Tab) -> None:
        if popup not in self.tabs:
            tab.popups.append(popup.url)
            self.own(popup, tab)

    def record(self, page: Callable[[], Any], write: Callable[[Tab], None], what: str) -> None:
        """Write an event on the tab of its page (`page()`), or keep it until trace."""
        tab = self.tabs.get(_or_none(page))
        if tab is None:
            self.untraced.append((page, write, what))
        else:
            write(tab)

    async def trace(self) -> None:
        """Write each kept event on the tab of its page, or of the page that opened its page
        (however deep); fail naming those of no visited page."""
        lost = []
        for page_of, write, what in self.untraced:
            # A popup's first request comes before its page is made: its page is known by now.
            page = opener = _or_none(page_of)
            seen = set()
            while opener is not None and opener not in self.tabs and id(opener) not in seen:
                seen.add(id(opener))
                opener = await opener.opener()
            # A reused page's owner now is its last address's, not the event's: never guessed.
            if opener is None or opener not in self.tabs or opener in self.reused:
                lost.append(what)
            else:
                self.tabs[page] = self.tabs[opener]
                write(self.tabs[opener])
        if lost:
            raise AssertionError(f"events no visited page owns: {lost}")


def _or_none(page: Callable[[], Any]) -> Any:
    """Return `page()`, or None where playwright has no page for it (a service worker's request,
    or a popup's first request before its page is made)."""
    try:
        return page()
    except Exception:
        return None


async def _visit_all(
    addresses: Sequence[str],
    visit: Callable[[Tab], Awaitable[T]],
    in_flight: int,
    bindings: Sequence[str],
    init_script: str | None,
    reuse_pages: bool,
    skip: str | None,
    context_options: dict[str, Any],
) -> dict[str, T]:
    from playwright.async_api import async_playwright

    assert len(set(addresses)) == len(addresses), "an address is visited twice"
    owners = _Owners()

    async def outside(route: Any) -> None:
        url = route.request.url
        owners.record(lambda: route.request.frame.page, lambda t: t.outside.append(url), f"request {url}")
        await route.abort()

    async def on_dialog(dialog: Any) -> None:
        message = dialog.message
        owners.record(lambda: dialog.page, lambda t: t.dialogs.append(message), f"dialog {message}")
        await dialog.dismiss()

    def binding(name: str) -> Callable[..., None]:
        def called(source: dict[str, Any], *args: Any) -> None:
            url = source["frame"].url
            owners.record(
                lambda: source["page"],
                lambda t: t.calls.setdefault(name, []).append((url, args)),
                f"{name}{args}",
            )

        return called

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=_executable(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(**context_options)
            context.set_default_timeout(TIMEOUT_MS)
            for name in bindings:
                await context.expose_binding(name, binding(name))
            if init_script:
                await context.add_init_script(init_script)
            await context.route(OUTSIDE, outside)
            if skip is not None:  # the site's own only: a request to another host is always recorded
                await context.route(re.compile(rf"^https?://127\.0\.0\.1(:\d+)?/(.*/)?{skip}"), _abort)
            context.on("dialog", on_dialog)
            results: dict[str, T] = {}
            waiting = collections.deque(addresses)

            async def visit_one(page: Any, address: str) -> Any:
                """Visit `address` in `page`; return the page, or None where it is left behind."""
                tab = Tab(address, page)
                owners.own(page, tab)
                try:
                    results[address] = await visit(tab)
                    tab.url = page.url
                except Exception as error:
                    raise AssertionError(f"{address}: {error}") from error
                finally:
                    # A page whose close (or navigation away) never returns (seen on a page that
                    # ran its own script, after the visit returned) is left to the context's close,
                    # still this tab's.
                    for opened in [p for p, t in owners.tabs.items() if t is tab and p is not page]:
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(opened.close(), CLOSE_S)
                    if reuse_pages:
                        # The address's document ends (its unload handlers run) while its tab
                        # still owns the page: the next address starts on a blank page.
                        try:
                            await asyncio.wait_for(page.goto("about:blank"), CLOSE_S)
                        except Exception:
                            page = None
                    else:
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(page.close(), CLOSE_S)
                        page = None
                return page

            async def worker() -> None:
                page = None
                while waiting:
                    address = waiting.popleft()
                    if page is None:
                        page = await context.new_page()
                        if reuse_pages:
                            owners.reused.add(page)
                    page = await visit_one(page, address)
                if page is not None:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(page.close(), CLOSE_S)

            await asyncio.gather(*(worker() for _ in range(min(in_flight, len(addresses)))))
            await owners.trace()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(context.close(), CLOSE_S)
        finally:
            await browser.close()
    return {address: results[address] for address in addresses}


async def _abort(route: Any) -> None:
    await route.abort()


def visit_all(
    addresses: Sequence[str],
    visit: Callable[[Tab], Awaitable[T]],
    in_flight: int = IN_FLIGHT,
    bindings: Sequence[str] = (),
    init_script: str | None = None,
    reuse_pages: bool = False,
    skip: str | None = None,
    **context_options: Any,
) -> dict[str, T]:
    """Return {address: await visit(tab)} for every address, `in_flight` at once.

    `visit` gets the address's `Tab`: a fresh page (`tab.page`, not navigated yet; closed after
    `visit` returns) in the call's one browser context (`context_options`: viewport...), whose
    `bindings` (names a page's script may call) and `init_script` (run in every frame before
    its own scripts) the tab records. What `visit` raises fails the whole call, naming the
    address (a verdict belongs in T).

    With `reuse_pages`, each of the `in_flight` pages visits one address after another (between
    two, a navigation to about:blank ends the last address's document while its tab still owns
    the page): a new page costs the browser a renderer process and playwright its setup, often
    more CPU than a page's own work. `visit` then adds no listener of its own to `tab.page`,
    which the next address's tab gets too.

    A request of the site's own whose path ends with `skip` (a regular expression) is aborted
    unrecorded: what a test does not look at
    and the browser would spend its CPU on (the search index, which Material's search worker
    downloads and indexes on every page, though no visit types a query).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(
            asyncio.run,
            _visit_all(
                addresses, visit, in_flight, bindings, init_script, reuse_pages, skip, context_options
            ),
        ).result()
