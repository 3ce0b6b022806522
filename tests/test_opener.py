"""The session opener on its own: handed its parts, it opens a session over a real socket
and says whether the session was resumed, started fresh, or refused."""

from __future__ import annotations

import threading
from typing import Iterator, List

import pytest

from relaysync._log import LimitedLog
from relaysync.errors import AuthenticationError
from relaysync.rpc import PendingMap
from relaysync.testing import RelaySimulator
from relaysync.wire.inbound import FrameHandler
from relaysync.wire.opener import Opened, SessionOpener
from relaysync.wire.outbound import Link, shutdown
from relaysync.wire.resume import Session

pytestmark = pytest.mark.timeout(30)


class Parts:
    """An opener and the parts it is handed (no Connection)."""

    def __init__(self, sim: RelaySimulator, token: str) -> None:
        self.session = Session(["office"])
        self.closing = threading.Event()
        self.link = Link()
        self.pending = PendingMap()
        log = LimitedLog()
        frames = FrameHandler(
            link=self.link,
            pending=self.pending,
            on_event=lambda payload, event_id: None,
            on_auth_state=self.session.keep_authorization_state,
            on_disconnect=lambda restart: None,
            log=log,
        )
        self.opener = SessionOpener(
            url=sim.url,
            authentication={"project": sim.project, "token": token},
            session=self.session,
            sslopt={},
            proxy=None,
            request_timeout=10.0,
            read_timeout=40.0,
            backoff_initial=0.05,
            backoff_max=0.2,
            max_auth_attempts=1,
            closing=self.closing,
            link=self.link,
            pending=self.pending,
            frames=frames,
            log=log,
        )
        self.opened: List[Opened] = []

    def open(self, first: bool) -> Opened:
        opened = self.opener.open(10.0 if first else None)
        self.opened.append(opened)
        return opened

    def drop(self, opened: Opened) -> None:
        self.link.detach(opened.ws)
        shutdown(opened.ws)


@pytest.fixture
def parts(sim: RelaySimulator) -> Iterator[Parts]:
    made = Parts(sim, sim.token)
    yield made
    made.closing.set()
    for opened in made.opened:
        shutdown(opened.ws)


def test_first_open_then_resume_then_fresh(parts: Parts) -> None:
    first = parts.open(first=True)
    assert (first.resumed, first.fresh) == (False, False)
    assert parts.session.protocol and parts.session.resumed
    protocol = parts.session.protocol
    parts.drop(first)

    again = parts.open(first=False)
    assert (again.resumed, again.fresh) == (True, False)
    assert parts.session.protocol == protocol and parts.session.resumed
    parts.drop(again)

    parts.session.forget()
    fresh = parts.open(first=False)
    assert (fresh.resumed, fresh.fresh) == (False, True)
    assert parts.session.protocol not in (None, protocol)
    assert parts.session.resumed is False
    assert len(parts.pending) == 0


def test_rejected_credentials_name_the_project_not_the_token(sim: RelaySimulator) -> None:
    parts = Parts(sim, "wrong-token")
    with pytest.raises(AuthenticationError) as caught:
        parts.open(first=True)
    assert sim.project in str(caught.value)
    assert "wrong-token" not in str(caught.value)
    assert parts.session.protocol is None
    assert len(parts.pending) == 0
