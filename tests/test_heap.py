"""What start-up built is kept out of the garbage collector's full passes (issue 12): a full
pass over it stalled relaying for 30–55 ms on the benchmark's machine."""

from __future__ import annotations

import gc
import time

from bridge.app import settle_heap


def test_settle_heap_freezes_what_exists_and_full_passes_get_cheap() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    before = time.perf_counter()
    gc.collect()
    unfrozen = time.perf_counter() - before
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000  # pytest, the bridge and its libraries
        before = time.perf_counter()
        gc.collect()
        assert time.perf_counter() - before < unfrozen
    finally:
        gc.unfreeze()
