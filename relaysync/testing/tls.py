"""Test TLS material for the simulator: a throwaway CA and a server certificate."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from typing import Optional


class TlsMaterial:
    """A freshly generated CA, a server certificate for ``localhost`` and ``127.0.0.1``,
    and the CA certificate written to a temporary PEM file for clients to trust.

    Requires the ``trustme`` package (the ``sim`` extra).
    """

    def __init__(self) -> None:
        """Generate the CA and the server certificate, and write the CA PEM file.

        Raises:
            ImportError: ``trustme`` is not installed.
        """
        import trustme

        ca = trustme.CA()
        server_cert = ca.issue_cert("localhost", "127.0.0.1")
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(self._context)
        fd, path = tempfile.mkstemp(prefix="relaysync-sim-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as handle:
            handle.write(ca.cert_pem.bytes())
        self._ca_file: Optional[str] = path

    @property
    def server_context(self) -> ssl.SSLContext:
        """The server-side SSL context presenting the generated certificate."""
        return self._context

    @property
    def ca_file(self) -> Optional[str]:
        """Path of the CA certificate (PEM), or ``None`` after :meth:`cleanup`."""
        return self._ca_file

    def client_context(self) -> ssl.SSLContext:
        """Return a client SSL context that trusts the generated CA (for tests and demos).

        Raises:
            RuntimeError: the material was already cleaned up.
        """
        if self._ca_file is None:
            raise RuntimeError("TLS material was cleaned up")
        return ssl.create_default_context(cafile=self._ca_file)

    def cleanup(self) -> None:
        """Delete the CA PEM file (idempotent)."""
        path, self._ca_file = self._ca_file, None
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
