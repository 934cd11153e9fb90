"""A kernel client whose waits for a message cannot miss one that has arrived.

jupyter_client waits for a kernel's message with `await socket.poll(timeout)` on pyzmq's
asyncio sockets, which learn of a message through ZeroMQ's edge-triggered file descriptor.
Should that edge be lost (pyzmq's issues #1203 and #2173 describe such races), the wait
lasts the whole timeout, a cell's 600 s, with the reply already in the socket: seen in a
hostile build, the kernel idle and the build waiting for its `execute_reply`. Here each
wait is cut into slices of WAIT_SLICE s; every new slice asks the socket itself first
(pyzmq does, before it waits), so a message that arrived unannounced is read within one.

Imported only when kernels run (jupyter_client costs a no-op build its import time).
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

WAIT_SLICE = 1.0  # seconds: how late a message whose wake-up was lost can be read


class SlicedChannel(AsyncZMQSocketChannel):
    """A channel whose `get_msg` waits in slices of WAIT_SLICE s."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        """Return the next message; raise queue.Empty if none arrives within `timeout` s (None: wait)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await super().get_msg(timeout=WAIT_SLICE if left is None else min(WAIT_SLICE, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedClient(AsyncKernelClient):
    """jupyter_client's async client with SlicedChannel for the shell, iopub, stdin and control channels."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    stdin_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)
