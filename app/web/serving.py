"""How `arbiter serve` runs uvicorn: with TCP_NODELAY on every connection, in every worker.

asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections accepted from a
listening socket whose ``proto`` is ``IPPROTO_TCP``. uvicorn creates that socket itself in
one process, and then it is; with ``--workers N`` it binds ``socket.socket(family)`` in the
supervisor and hands it to the workers, ``proto`` is 0, and accepted connections keep
Nagle on. A response goes out as two writes (the head, then the body), so the second waits
for the client's delayed ACK of the first: a delay added to every request on a keep-alive
connection (uvicorn issue #3149). The protocol classes below set the option themselves, so
one process or many answer alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from importlib.util import find_spec

from uvicorn.protocols.http.h11_impl import H11Protocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is already gone
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class H11NoDelay(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


HTTP_PROTOCOL = "app.web.serving:H11NoDelay"
"""What uvicorn's "auto" would pick (httptools when installed, else h11), with TCP_NODELAY."""

if find_spec("httptools") is not None:  # pragma: no cover - an optional speed-up
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsNoDelay(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            set_nodelay(transport)
            super().connection_made(transport)

    HTTP_PROTOCOL = "app.web.serving:HttpToolsNoDelay"
