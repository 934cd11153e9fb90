"""Many browser pages at once: playwright's async API in one event loop, on its own thread.

A test that opens a hundred pages one after another spends most of its time waiting (for a
page's load, for an onerror that would run): `visit_all` keeps several pages in flight in one
headless Chromium, each in its own browser context (its own bindings, routes and storage),
and returns each address's own result, so a verdict stays the page's and a failure can name it.
The thread keeps the async loop apart from the sync playwright a module's other tests drive.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from tests.helpers import CHROMIUM_ARGS, HANG, chromium_path

T = TypeVar("T")

# Pages in flight at once: most of a page's time is waiting, so a few more than the cores.
IN_FLIGHT = 6
# What a page waits for before it is a hang.
TIMEOUT_MS = HANG * 1000
# How long a context's close may take before it is left to the browser's.
CLOSE_S = 10


def _executable() -> str:
    """Return the Chromium the other browser tests launch (helpers.launch_chromium's)."""
    return str(chromium_path())


async def _visit_all(
    addresses: Sequence[str],
    visit: Callable[[Any, str], Awaitable[T]],
    in_flight: int,
    context_options: dict[str, Any],
) -> dict[str, T]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=_executable(), headless=True, args=CHROMIUM_ARGS
        )
        gate = asyncio.Semaphore(in_flight)

        async def one(address: str) -> T:
            async with gate:
                context = await browser.new_context(**context_options)
                context.set_default_timeout(TIMEOUT_MS)
                try:
                    return await visit(context, address)
                except Exception as error:
                    raise AssertionError(f"{address}: {error}") from error
                finally:
                    # A context whose close never returns (seen on a page that ran its own script,
                    # after the visit returned) is left to browser.close(), which ends them all.
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(context.close(), CLOSE_S)

        try:
            results = await asyncio.gather(*(one(a) for a in addresses))
        finally:
            await browser.close()
    return dict(zip(addresses, results, strict=True))


def visit_all(
    addresses: Sequence[str],
    visit: Callable[[Any, str], Awaitable[T]],
    in_flight: int = IN_FLIGHT,
    **context_options: Any,
) -> dict[str, T]:
    """Return {address: await visit(context, address)} for every address, `in_flight` at once.

    `visit` gets a fresh async playwright BrowserContext (`context_options`: viewport...;
    closed after it returns) and the
    address; what it raises fails the whole call, naming the address (a verdict belongs in T).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, _visit_all(addresses, visit, in_flight, context_options)).result()
