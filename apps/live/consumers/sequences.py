"""Sequence numbers and resync: a socket that sees a gap in a group's stream, a counter reset or a lost
message tells its browser to re-fetch everything."""

from __future__ import annotations

import time
from typing import Any

#: Seconds a group's counter may stay ahead of what arrived before the socket resyncs.
LOST_AFTER_SECONDS = 5.0


class SequencedSocket:
    """The sequence-number half of ``LiveConsumer``: what arrived of each group (``last_seen``), what the
    watchdog saw ahead of it (``pending``), and the resync."""

    last_seen: dict[str, int]
    pending: dict[str, tuple[int, float]]
    resyncing = False

    async def emit(self, kind: str, **payload: Any) -> None:
        """Send one numbered message to the browser (``LiveConsumer.emit``)."""
        raise NotImplementedError

    async def resync(self, reason: str) -> None:
        """Tell the browser to re-fetch everything; a resync asked for while one is being prepared is
        folded into it (the browser's fetch starts after the message, so it covers both causes)."""
        if self.resyncing:
            return
        self.resyncing = True
        try:
            await self.refresh_known()
        finally:
            self.resyncing = False
        await self.emit("resync", reason=reason)

    async def refresh_known(self) -> None:
        """Reload what the board shows (after a resync the browser draws it again)."""

    # ------------------------------------------------------------------ sequence numbers

    def note_sequence(self, group: str | None, seq: int | None) -> bool:
        """Record an event's place in its group's stream; True when events before it were lost."""
        if group not in self.last_seen or not seq:
            return False
        last = self.last_seen[group]
        if seq <= last:  # late (two publishers crossed) or a duplicate: harmless, re-fetch anyway
            return False
        self.last_seen[group] = seq
        self.pending.pop(group, None)
        return seq > last + 1

    async def audit_sequences(self, current: dict[str, int]) -> None:
        """Called by the watchdog with where each group stands: resync on loss or on a counter reset.

        A group whose counter stays ahead of what arrived for ``LOST_AFTER_SECONDS`` lost a message; a
        counter below what arrived was reset (Redis restarted). A busy process delivering late is not
        a loss: the window is wide enough that only real losses resync.
        """
        reason = ""
        now_at = time.monotonic()
        for group, last in list(self.last_seen.items()):
            now = current.get(group, 0)
            if now < last:
                reason = "reset"
                self.last_seen[group] = now
                self.pending.pop(group, None)
            elif now > last:
                seen, since = self.pending.get(group, (0, now_at))
                if seen > last and now_at - since >= LOST_AFTER_SECONDS:
                    reason = reason or "lost"
                    self.last_seen[group] = now
                    self.pending.pop(group, None)
                elif seen <= last:
                    self.pending[group] = (now, now_at)
            else:
                self.pending.pop(group, None)
        if reason:
            await self.resync(reason)
