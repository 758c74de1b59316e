"""The bulk paths' pause of the cyclic garbage collector: held off during a batch, restored after it, and
the batch's own cycles freed as it ends (memory stays flat from one batch to the next)."""

from __future__ import annotations

import gc
import weakref

import pytest

from apps.core.collector import collector_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: reference counting alone never frees it


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_restored_after(collector_on) -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_after_an_error(collector_on) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_outer_one_paused(collector_on) -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_batchs_cycles_are_freed_as_it_ends(collector_on) -> None:
    with collector_paused():
        node = _Node()
        gone = weakref.ref(node)
        del node
        assert gone() is not None  # nothing collects during the batch
    assert gone() is None
