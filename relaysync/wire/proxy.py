"""HTTP proxies: choosing one (argument or environment) and opening a CONNECT tunnel.

The tunnel is plain HTTP/1.1 ``CONNECT host:port`` with optional basic authentication;
TLS for ``wss://`` runs end to end through it, so the proxy sees only encrypted bytes.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
from typing import Mapping, Optional, Union
from urllib.parse import unquote, urlsplit

import attrs

from .._log import mask_url_credentials
from ..errors import RelayError
from .urls import is_loopback

_MAX_RESPONSE_HEAD = 16 * 1024
_HINTS = {
    407: "the proxy wants (other) credentials: pass them as http://user:password@host:port",
    403: "the proxy does not allow a tunnel to this host and port",
}

ProxySetting = Union[str, bool, None]


class ProxyRefused(RelayError):
    """The proxy answered the CONNECT request with a non-2xx status (``code``)."""


@attrs.frozen(repr=False)
class Proxy:
    """An HTTP proxy to tunnel through.

    Attributes:
        host: proxy host name or address.
        port: proxy port.
        username, password: basic-auth credentials, or ``None``.
    """

    host: str
    port: int
    username: Optional[str] = None
    password: Optional[str] = attrs.field(default=None)

    @property
    def display(self) -> str:
        """The proxy URL with the password masked, for messages and logs."""
        user = f"{self.username}:***@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{user}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"Proxy({self.display!r})"


def parse_proxy(url: str, name: str = "proxy") -> Proxy:
    """Parse ``http://[user:password@]host[:port]`` (port 8080 when left out).

    Args:
        url: the proxy URL; user and password may be percent-encoded.
        name: the argument or variable it came from, for the error message.

    Raises:
        TypeError: ``url`` is not a string.
        ValueError: not an ``http://`` URL with a host, or a bad port.
    """
    if not isinstance(url, str):
        raise TypeError(f"{name} must be a URL string, not {type(url).__name__}")
    if "://" not in url:
        url = "http://" + url  # the environment variables are often set without a scheme
    parts = urlsplit(url)
    masked = mask_url_credentials(url)
    if parts.scheme != "http":
        raise ValueError(f"{name} must be an http:// proxy URL, got {masked!r}")
    try:
        port = parts.port or 8080
    except ValueError:
        raise ValueError(f"{name} has a bad port: {masked!r}") from None
    if not parts.hostname or any(c in url for c in "\r\n\x00 "):
        raise ValueError(f"{name} must be http://[user:password@]host[:port], got {masked!r}")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Proxy(parts.hostname, port, username, password)


def choose_proxy(
    setting: ProxySetting, url: str, environ: Optional[Mapping[str, str]] = None
) -> Optional[Proxy]:
    """Decide which proxy, if any, a connection to ``url`` goes through.

    Args:
        setting: the ``proxy=`` argument: a URL (always used), ``False`` (no proxy,
            environment ignored) or ``None`` (look at the environment).
        url: the ``ws://`` or ``wss://`` URL to reach.
        environ: the environment (default ``os.environ``).

    The environment is read like curl and requests do: ``HTTPS_PROXY``/``https_proxy``
    for ``wss://``, ``HTTP_PROXY``/``http_proxy`` for ``ws://``, and hosts listed in
    ``NO_PROXY``/``no_proxy`` (``*``, names, ``.suffix`` domains) go direct. As in Go's
    HTTP client, loopback hosts never use an environment proxy.

    Returns:
        The proxy, or ``None`` for a direct connection.

    Raises:
        TypeError, ValueError: a malformed ``proxy`` argument or variable.
    """
    if setting is False or setting == "":
        return None
    if setting is True:
        raise ValueError("proxy must be a proxy URL, False or None, not True")
    if setting is not None:
        return parse_proxy(setting)
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    host = parts.hostname or ""
    scheme = "https" if parts.scheme == "wss" else "http"
    names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")
    for name in names:
        value = env.get(name)
        if value:
            break
    else:
        return None
    if is_loopback(host) or _bypassed(host, parts.port, env):
        return None
    return parse_proxy(value, name)


def _bypassed(host: str, port: Optional[int], env: Mapping[str, str]) -> bool:
    """True when ``NO_PROXY``/``no_proxy`` lists ``host`` (name, ``.domain``, IP or CIDR)."""
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
    host = host.lower().strip("[]")
    for entry in no_proxy.replace(",", " ").split():
        entry = entry.lower()
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and entry_port != str(port):
            continue
        name = name.strip("[]").lstrip("*").lstrip(".")
        if host == name or host.endswith("." + name) or _in_network(host, name):
            return True
    return False


def _in_network(host: str, entry: str) -> bool:
    """True when ``host`` is an IP address inside the CIDR network ``entry``."""
    if "/" not in entry:
        return False
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def open_tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int) -> None:
    """Ask the proxy on connected ``sock`` for a tunnel to ``host:port``.

    Reads the proxy's answer up to the end of its header, and no further: what follows
    belongs to the tunnelled connection.

    Raises:
        ProxyRefused: the proxy answered with a non-2xx status.
        OSError: the socket failed, or the proxy closed it or sent no valid answer.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.username is not None:
        secret = f"{proxy.username}:{proxy.password or ''}".encode()
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(secret).decode("ascii"))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)  # one at a time, so nothing past the header is consumed
        if not byte:
            raise OSError(f"proxy {proxy.display} closed the connection instead of a tunnel")
        head += byte
        if len(head) > _MAX_RESPONSE_HEAD:
            raise OSError(f"proxy {proxy.display} sent an oversized answer")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status_line.split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise OSError(f"proxy {proxy.display} sent no HTTP answer: {status_line[:80]!r}")
    status = int(fields[1])
    if not 200 <= status < 300:
        reason = fields[2] if len(fields) > 2 else ""
        hint = _HINTS.get(status)
        raise ProxyRefused(
            status,
            f"proxy {proxy.display} refused the tunnel to {authority}: {status} {reason}".rstrip()
            + (f" ({hint})" if hint else ""),
        )


__all__ = ["Proxy", "ProxyRefused", "ProxySetting", "choose_proxy", "open_tunnel", "parse_proxy"]
