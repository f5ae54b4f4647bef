"""Process tuning for the long-running bot and web processes."""

from __future__ import annotations

import gc

# A webhook update allocates thousands of short-lived objects (aiogram and pydantic models,
# SQLAlchemy rows). With CPython's default young-generation threshold of 700 the collector
# ran every few updates and took 0.12 ms of the 1.3 ms each update cost (measured with
# ``bench/telegram_bench.py``, which reports "GC ms/update"); at 20,000 it takes 0.01 ms.
# Cyclic garbage lives a little longer; memory stays flat because almost all of it is freed
# by reference counting anyway.
YOUNG_THRESHOLD = 20_000


def tune_gc(young: int = YOUNG_THRESHOLD) -> None:
    """Call once start-up is done: freeze what start-up allocated, collect less often.

    ``gc.freeze`` moves every object alive now (modules, models, compiled SQL, templates)
    into a permanent generation the collector no longer walks.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young, older, oldest)
