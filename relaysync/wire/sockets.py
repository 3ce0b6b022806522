"""Opening the WebSocket: TCP (or a proxy tunnel), TLS options, and websocket-client's
opening handshake on the socket made here."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import ssl
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlsplit

import websocket

from ..errors import RelayConnectionError
from .proxy import Proxy, ProxyRefused, open_tunnel
from .tlspipe import TlsPipe, Transport
from .urls import is_secure, redact_url

MAX_FRAME_BYTES = 16 * 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Unreachable(RelayConnectionError):
    """Opening the connection failed for a reason waiting will not fix soon: the name
    does not resolve, the port refuses, or the server's certificate is not trusted.

    Attributes:
        cause: what went wrong, in words, with the underlying error.
    """

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(-1, message)
        self.cause = cause


def lasting_cause(exc: BaseException) -> Optional[str]:
    """Describe ``exc`` if another attempt right away cannot help, else ``None``.

    A temporary resolver failure (``EAI_AGAIN``), a timeout or a reset is transient.
    """
    if isinstance(exc, socket.gaierror):
        if exc.errno == socket.EAI_AGAIN:
            return None
        return f"the name does not resolve ({exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"the connection was refused ({exc})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the server's TLS certificate is not trusted ({exc.verify_message or exc}); "
            "pass ca_file= or ssl_context= to trust its CA"
        )
    return None


def build_sslopt(
    ca_file: Optional[str], ssl_context: Optional[ssl.SSLContext], *, secure: bool = True
) -> Dict[str, Any]:
    """Build websocket-client ``sslopt``: verification on, with the given trust settings.

    Args:
        secure: whether the URL is ``wss://``. A plain ``ws://`` client given neither
            ``ca_file`` nor ``ssl_context`` gets no context: loading the system's
            certificates costs tens of milliseconds of CPU, for nothing there.
    """
    if ssl_context is not None:
        return {"context": ssl_context}
    if not secure and ca_file is None:
        return {}
    context = ssl.create_default_context(cafile=ca_file)
    return {"context": context}


def new_socket(sslopt: Dict[str, Any]) -> websocket.WebSocket:
    """A websocket-client socket, not yet connected.

    It skips websocket-client's pure-Python UTF-8 check: frames are JSON-decoded from
    bytes, which rejects invalid UTF-8 anyway, at a fraction of the cost.
    """
    return websocket.WebSocket(sslopt=sslopt, enable_multithread=True, skip_utf8_validation=True)


def open_socket(
    ws: websocket.WebSocket,
    url: str,
    *,
    timeout: float,
    sslopt: Dict[str, Any],
    on_socket: Callable[[Transport], None],
    proxy: Optional[Proxy] = None,
) -> None:
    """Open ``ws`` to ``url`` (TCP, TLS, HTTP upgrade) within ``timeout`` seconds.

    The TCP socket is made here and handed to ``on_socket`` before it connects, so that
    another thread can shut it down (which aborts even a pending TCP connect). With a
    ``proxy``, the TCP socket goes to the proxy and carries a CONNECT tunnel to the host
    of ``url``; TLS and the upgrade then run through the tunnel.

    Raises:
        ProxyRefused: the proxy refused the tunnel (its HTTP status is the code).
        RelayConnectionError: any other failure to open the connection.
    """
    parts = urlsplit(url)
    secure = is_secure(url)
    host = parts.hostname or ""
    sock: Optional[Transport] = None
    try:
        port = parts.port or (443 if secure else 80)
        if proxy is None:
            sock = _connect_tcp(host, port, timeout, on_socket)
        else:
            sock = _connect_tcp(proxy.host, proxy.port, timeout, on_socket)
            open_tunnel(sock, proxy, host, port)
        if secure:
            context: ssl.SSLContext = sslopt["context"]
            sock = TlsPipe(sock, context, host, timeout)
            on_socket(sock)
        # Redirects are refused: following one would skip the URL rules (TLS, loopback)
        # and send the credentials wherever the answer pointed.
        ws.connect(
            url,
            timeout=timeout,
            suppress_origin=True,  # type: ignore[no-untyped-call]
            socket=sock,
            redirect_limit=0,
        )
    except (OSError, websocket.WebSocketException, ValueError, AttributeError, ProxyRefused) as exc:
        reason = _redirect_refused(ws) or str(exc)
        with contextlib.suppress(Exception):  # already broken; nothing to release
            ws.shutdown()  # type: ignore[no-untyped-call]
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        if isinstance(exc, ProxyRefused):
            raise
        via = f" through proxy {proxy.display}" if proxy is not None else ""
        lasting = lasting_cause(exc)
        message = f"cannot connect to {redact_url(url)}{via}: {lasting or reason}"
        if lasting is not None:
            raise Unreachable(message, lasting) from exc
        raise RelayConnectionError(-1, message) from exc


def _redirect_refused(ws: websocket.WebSocket) -> Optional[str]:
    """The reason to give when the handshake was answered with a redirect, else None."""
    response = getattr(ws, "handshake_response", None)
    status = getattr(response, "status", None)
    if status not in _REDIRECT_STATUSES:
        return None
    headers = getattr(response, "headers", None) or {}
    location = headers.get("location")
    target = f" to {redact_url(location)}" if isinstance(location, str) else ""
    return (
        f"the server answered the handshake with a redirect (HTTP {int(status)}){target}; "
        "redirects are not followed: connect to the final URL directly"
    )


def _connect_tcp(
    host: str, port: int, timeout: float, on_socket: Callable[[Transport], None]
) -> socket.socket:
    """Connect a TCP socket to the first address of ``host`` that answers.

    The connect is started non-blocking and only then handed to ``on_socket``: a
    shutdown from another thread aborts a connect in progress, but is lost on a socket
    whose connect has not begun, and the caller's check for closing covers that case.
    """
    error: Optional[OSError] = None
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code not in (0, errno.EINPROGRESS):
                raise OSError(code, os.strerror(code))
            on_socket(sock)
            _, writable, _ = select.select([], [sock], [], timeout)
            if not writable:
                raise socket.timeout(f"TCP connect timed out after {timeout:g} s")
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, os.strerror(code))
            sock.settimeout(timeout)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError(f"no address found for {host!r}")
