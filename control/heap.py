"""The long-running processes' heap, settled once they are up so the collector stops walking it.

Once `inertial up` is built, its process tracks about 220,000 objects (modules, the Temporal
worker, web3's ABIs, the pydantic models) that live as long as it does. Every full
collection walked them all: 83 ms on the bench machine, during which no stream frame is
read and no saga starts. Collected once and then frozen (moved to the permanent
generation), the same full collection took 4-7 ms (bench/bench_tick_to_order.py prints
the collections of its measured rounds). The young generations keep CPython's
thresholds: a gen-0 threshold of 20,000 made each young collection 8-12 ms without
moving p50.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect what start-up left behind, then exempt every survivor from later collections.

    Returns how many objects are now frozen. Call it once the process has built everything
    that lives as long as it does; what it allocates later is collected as usual.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
