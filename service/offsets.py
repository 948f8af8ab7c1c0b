"""The offset of a partition that is safe to commit."""

from __future__ import annotations

from collections import deque


class OffsetTracker:
    """Track the offsets of one partition from consumption to acknowledgement.

    Records are added in offset order and may finish in any order (ordering by
    key runs several lanes at once). The committable offset is the lowest
    offset not yet finished, so everything below it was acknowledged by
    AppSync or dead-lettered.
    """

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._finished: set[int] = set()
        self._next_offset: int | None = None
        self.progressed = False

    def add(self, offset: int) -> None:
        self._pending.append(offset)
        self._next_offset = offset + 1

    def finish(self, offset: int) -> None:
        self.progressed = True
        self._finished.add(offset)
        while self._pending and self._pending[0] in self._finished:
            self._finished.discard(self._pending.popleft())

    @property
    def pending(self) -> int:
        """Records added and not finished, counting those finished above a gap."""
        return len(self._pending)

    def committable(self) -> int | None:
        """Return the offset to commit (the next record to read), or None before any record finished."""
        if not self.progressed:
            return None
        if self._pending:
            return self._pending[0]
        return self._next_offset
