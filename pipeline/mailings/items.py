"""The order of a mailing's items: the one place that drops, adds and moves them.

Pure: a list of item ids in, the new list out. The CLI (``--drop``, ``--move --to``),
the web form (position numbers, drop boxes, up/down buttons) and the workflow's
``move_item`` all come here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pipeline.errors import ComposeError


def reorder(
    current: Sequence[int],
    *,
    drop: Collection[int] = (),
    positions: Mapping[int, float] | None = None,
    step: tuple[int, int] | None = None,
) -> list[int]:
    """The items of ``current`` without ``drop``, sorted by ``positions`` (1 is first;
    an item without one keeps its place), then ``step`` (item, -1 up or +1 down).

    On equal positions an item moved up goes before the one that was there and an item
    moved down after it, so "move X to N" makes X the N-th, as an editor means it.
    """
    positions = positions or {}
    unknown = [i for i in (*drop, *positions) if i not in current]
    if unknown:
        raise ComposeError(f"item {unknown[0]} is not in this mailing")
    keyed: list[tuple[float, int, int, int]] = []
    for index, item_id in enumerate(current):
        if item_id in drop:
            continue
        position = float(positions.get(item_id, index + 1))
        tie = -1 if position < index + 1 else (1 if position > index + 1 else 0)
        keyed.append((position, tie, index, item_id))
    order = [item_id for *_, item_id in sorted(keyed)]
    if step is not None:
        item_id, direction = step
        if item_id not in order or direction not in (-1, 1):
            raise ComposeError(f"item {item_id} cannot be moved {direction:+d}")
        at = order.index(item_id)
        to = at + direction
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    return order


def moved(current: Sequence[int], item_id: int, position: int) -> list[int]:
    """``current`` with ``item_id`` moved to ``position`` (1 is first)."""
    if item_id not in current:
        raise ComposeError(f"item {item_id} is not in this mailing")
    if not 1 <= position <= len(current):
        raise ComposeError(f"position {position} is outside 1..{len(current)}")
    return reorder(current, positions={item_id: position})


def added(current: Sequence[int], item_id: int, position: int | None = None) -> list[int]:
    """``current`` with ``item_id`` added at ``position`` (default: the end)."""
    if item_id in current:
        raise ComposeError(f"item {item_id} is already in this mailing")
    order = [*current, item_id]
    if position is None:
        return order
    if not 1 <= position <= len(order):
        raise ComposeError(f"position {position} is outside 1..{len(order)}")
    return reorder(order, positions={item_id: position})
