"""WebSocket URL rules: which URL to connect to, and how to show one without its secrets.

``ws://`` only for loopback hosts (or with ``allow_insecure``); the URL from the
arguments, else from ``SIGNALWIRE_RELAY_URL`` or ``SIGNALWIRE_SPACE``.
"""

from __future__ import annotations

import ipaddress
from typing import Mapping, Optional
from urllib.parse import urlsplit

DEFAULT_HOST = "relay.signalwire.com"
RELAY_URL_ENV = "SIGNALWIRE_RELAY_URL"
SPACE_ENV = "SIGNALWIRE_SPACE"
_BAD_HOST_CHARS = set("@/?#\r\n \t")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` without what may hold a secret (user info, query, fragment), for messages."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = "?…" if parts.query else ""
        return f"{parts.scheme}://{netloc}{parts.path}{query}" if parts.scheme else "<url>"
    except ValueError:
        return "<unparseable url>"


def build_url(host: Optional[str], url: Optional[str], allow_insecure: bool) -> str:
    """Decide the WebSocket URL from ``url`` or ``host``.

    Raises:
        ValueError: the host is not a bare ``host[:port]``, the scheme is not ws/wss, or
            ``ws://`` is asked for a non-loopback host without ``allow_insecure``.
    """
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"url must start with ws:// or wss://, got {redact_url(url)!r}")
        if not parts.hostname:
            raise ValueError(f"url has no host: {redact_url(url)!r}")
        if parts.scheme == "ws" and not allow_insecure and not is_loopback(parts.hostname):
            raise ValueError(
                f"refusing plain ws:// to non-loopback host {parts.hostname!r}; "
                "use wss:// or pass allow_insecure=True"
            )
        scheme = parts.scheme  # lower case; websocket-client refuses any other
        if url[: len(scheme)].lower() == scheme:
            url = scheme + url[len(scheme) :]
        return url
    host = host or DEFAULT_HOST
    if any(c in _BAD_HOST_CHARS for c in host) or host.startswith(("ws:", "wss:", "http")):
        raise ValueError(f"host must be a bare host or host:port, got {host!r}")
    return f"wss://{host}"


def url_from(
    host: Optional[str], url: Optional[str], allow_insecure: bool, environ: Mapping[str, str]
) -> str:
    """The WebSocket URL from the arguments, else the environment.

    ``url=`` wins, then ``host=``, then ``SIGNALWIRE_RELAY_URL`` (a full URL, with the
    rules of ``url=``), then ``SIGNALWIRE_SPACE`` (a host: ``wss://host``).

    Raises:
        ValueError: as :func:`build_url`; naming the variable when it came from one.
    """
    if url or host:
        return build_url(host, url, allow_insecure)
    for name in (RELAY_URL_ENV, SPACE_ENV):
        value = environ.get(name)
        if value:
            try:
                if name == RELAY_URL_ENV:
                    return build_url(None, value, allow_insecure)
                return build_url(value, None, allow_insecure)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    return build_url(None, None, allow_insecure)


def is_secure(url: str) -> bool:
    """Whether ``url`` asks for TLS (``wss://``, the scheme in any case)."""
    return urlsplit(url).scheme == "wss"
