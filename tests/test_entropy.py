"""Request ids and masking keys: UUID v4 strings, never repeated, fresh after a fork."""

from __future__ import annotations

import os
import uuid

import pytest

from relaysync import _entropy
from relaysync._entropy import new_id
from relaysync.rpc import request_frame


def test_ids_are_uuid4_strings_and_unique() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:2000]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower-case, canonical 8-4-4-4-12 form


def test_request_frames_get_fresh_ids() -> None:
    first, second = request_frame("signalwire.ping", {}), request_frame("signalwire.ping", {})
    assert first["id"] != second["id"]
    assert uuid.UUID(first["id"]).version == 4


def test_mask_keys_are_cut_from_the_pool_without_reuse() -> None:
    pool = _entropy._KeyPool()
    one = pool.take()
    assert len(one) == 4
    batch = pool.take(3)
    assert len(batch) == 12
    # the pool hands out consecutive slices; a refill starts a fresh read
    taken = [pool.take() for _ in range(_entropy.POOL_KEYS)]
    assert all(len(key) == 4 for key in taken)
    big = pool.take(_entropy.POOL_KEYS + 7)  # more than a pool's worth at once
    assert len(big) == 4 * (_entropy.POOL_KEYS + 7)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.timeout(30)
def test_a_forked_child_does_not_repeat_its_parents_ids_or_keys() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next id and key, then leave at once
        try:
            os.close(read_end)
            os.write(write_end, (new_id() + _entropy.keys.take().hex() + "\n").encode())
        finally:
            os._exit(0)
    os.close(write_end)
    parent = new_id() + _entropy.keys.take().hex()
    with os.fdopen(read_end) as pipe:
        child = pipe.readline().strip()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert child and child[:36] != parent[:36]
    assert child[36:] != parent[36:]  # a fresh key pool too
