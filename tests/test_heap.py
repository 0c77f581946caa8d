"""What the imports built is kept out of the garbage collector's full passes (issue 12): a full
pass over it stalled relaying for 30–55 ms on the benchmark's machine (bench/PROFILE.md)."""

from __future__ import annotations

import gc

from bridge.cli import settle_heap


def test_settle_heap_leaves_what_exists_out_of_later_collections() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000  # pytest, the bridge and its libraries
    finally:
        gc.unfreeze()
