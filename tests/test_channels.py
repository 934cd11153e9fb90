"""A kernel's message whose wake-up was lost is read within a slice, not after the cell's timeout.

The wake-up is lost as it can be in a build: something reads the socket's ZMQ_EVENTS behind
pyzmq's back (pyzmq issue #2173), which consumes the edge of its file descriptor. Real
sockets and a real event loop; jupyter_client's own channel is the reference that hangs.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session

from nbpress.execution.channels import WAIT_SLICE, SlicedChannel, SlicedClient
from nbpress.execution.execute import _client_class

# How long a test waits for the message: past a slice by far (a deadline for hangs), far short
# of the wait's own 30 s timeout, which the reference channel waits out.
GIVE_UP = WAIT_SLICE + 5


async def _wait_after_a_lost_wakeup(channel_class: type[AsyncZMQSocketChannel]) -> float:
    """Return the seconds `channel_class.get_msg(timeout=30)` took for a message whose wake-up was lost."""
    context = zmq.asyncio.Context()
    kernel, client = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    try:
        kernel.bind("inproc://channel")
        client.connect("inproc://channel")
        session = Session()
        channel = channel_class(client, session)
        waiting = asyncio.ensure_future(channel.get_msg(timeout=30))
        await asyncio.sleep(0.3)  # the wait has started
        start = time.monotonic()
        session.send(zmq.Socket.shadow(kernel.underlying), "execute_reply", {"status": "ok"})
        zmq.Socket.shadow(client.underlying).get(zmq.EVENTS)  # the edge, consumed unseen
        msg = await asyncio.wait_for(waiting, GIVE_UP)
        assert msg["msg_type"] == "execute_reply"
        return time.monotonic() - start
    finally:
        kernel.close(linger=0)
        client.close(linger=0)
        context.term()


def test_a_message_whose_wakeup_was_lost_is_read_within_a_slice() -> None:
    assert asyncio.run(_wait_after_a_lost_wakeup(SlicedChannel)) < GIVE_UP


@pytest.mark.slow  # it waits GIVE_UP seconds by design
def test_jupyter_clients_own_channel_misses_it() -> None:
    """The reference: without slices the same wait is still waiting when the sliced one has long read it."""
    with pytest.raises(TimeoutError):
        asyncio.run(_wait_after_a_lost_wakeup(AsyncZMQSocketChannel))


def test_the_builds_kernels_get_the_sliced_client() -> None:
    manager_class = _client_class()(None).kernel_manager_class  # type: ignore[attr-defined]
    assert manager_class().client_factory is SlicedClient
