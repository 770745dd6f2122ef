"""The start-up heap is collected once, then left out of every later collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from control.heap import settle_heap


class Node:
    """A container the collector tracks; `link` makes a reference cycle."""

    link: object = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def _in_collected_generations(obj: object) -> bool:
    return any(other is obj for generation in range(3) for other in gc.get_objects(generation=generation))


@pytest.mark.usefixtures("unfrozen")
def test_start_up_garbage_is_collected_and_what_lives_on_is_frozen() -> None:
    kept = Node()
    kept.link = kept
    garbage = Node()
    garbage.link = garbage
    garbage_ref = weakref.ref(garbage)
    del garbage

    frozen = settle_heap()

    assert garbage_ref() is None
    assert frozen == gc.get_freeze_count() > 0
    assert not _in_collected_generations(kept)


@pytest.mark.usefixtures("unfrozen")
def test_what_is_allocated_afterwards_is_still_collected() -> None:
    settle_heap()
    later = Node()
    later.link = later
    assert _in_collected_generations(later)
    later_ref = weakref.ref(later)
    del later
    gc.collect()
    assert later_ref() is None
