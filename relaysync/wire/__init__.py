"""The RELAY wire: one WebSocket at a time, from TCP to JSON frames.

:class:`~relaysync.wire.connection.Connection` is the one public class; it is handed
its parts, each a module with one job:

- ``connection``: the reader thread, requests, pings, states, reconnects.
- ``opener``: the retrying connect and the ``signalwire.connect`` handshake.
- ``resume``: the session state a reconnect resumes with.
- ``urls``: which URL (and when ``ws://`` is allowed); URLs shown without secrets.
- ``sockets``: TCP (or a proxy tunnel), then TLS, then websocket-client's upgrade.
- ``proxy``: choosing an HTTP proxy and opening its ``CONNECT`` tunnel.
- ``tlspipe``: TLS on memory BIOs.
- ``framing``: the WebSocket frame codec; ``inbound`` acts on the frames read,
  ``outbound`` writes them, one writer at a time; ``dedupe`` drops redelivered events.
- ``backoff``: how often and on what to retry; ``_json``: the JSON codec.
- ``flowlog``: each call's frames, both ways, as plain entries for its timeline (only
  the code that draws builds a ``CallFlow`` from them).

**What websocket-client still does**: the opening handshake (the HTTP upgrade and its
checks, redirects refused) on a socket made here, and the ``WebSocket`` object whose
lock every write takes.

**What this package does itself, and why** (figures from ``benchmarks/RESULTS.md``,
same machine before and after each change):

- *Frames.* websocket-client reads a frame with three ``recv`` calls and holds all of
  it before its size can be checked. ``framing.FrameReader`` cuts frames out of one
  receive buffer: one ``recv`` per burst, and a frame over the limit is refused from its
  header (a 200 MB frame costs under 4 MiB of allocations, not 200 MB). The acks of a
  burst go out in one write (27 socket writes for 5,000 events, not 5,000).
- *TLS on memory BIOs.* An ``ssl.SSLSocket`` hands out one TLS record per read, after a
  ``select`` each, and polls before every write; RELAY sends each event in a record of
  its own. ``tlspipe.TlsPipe`` decrypts every record one ``recv`` took: 5.2 to 2.6 us
  of CPU per record (20,000 one-record frames), 8 to 5 system calls per request; with
  its kept receive buffer, 220-360 to 170-280 us of CPU per W1 request. Taking every
  waiting record in one read gave 160-256 frames per read in W4 and 92-99 to 26-32 us
  of CPU per event.
- *The proxy tunnel.* The TCP socket is made here, so that ``close()`` can abort a
  connect in progress and TLS can run on the pipe; websocket-client's own proxy support
  opens its socket itself, so the ``CONNECT`` tunnel is done here too.
"""
