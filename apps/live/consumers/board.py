"""The live boards' socket: floor, queue, a port's board, an operation's board."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async

from apps.core.events import BOARD, forwarded_by
from apps.live.boards import Board, BoardRefused, board_targets, groups_for, known_target_ids, resolve_board
from apps.live.consumers.base import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, LiveConsumer, Refused
from apps.live.watch import SHARED_CHECK_SECONDS, shared_check

#: Event type → the kind each consumer's browser is told (from the registry, ``apps.core.events.EVENTS``).
BOARD_KINDS = forwarded_by(BOARD)


class BoardConsumer(LiveConsumer):
    """A live board (``ws/boards/<board>/``): floor, queue (query filters), ``port-<LOCODE>``, ``operation-<pk>``.

    Listens to its agency's group (or, for a frontline officer, his ports' groups). For each target
    event it asks ``visible_to(user)`` with the board's filter; a target it showed and may no longer show
    becomes ``target.removed``; a target it never showed and may not see is dropped without a word.
    """

    board: Board

    def subscribe(self) -> None:
        key = self.scope["url_route"]["kwargs"]["board"]
        params = dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))
        try:
            self.board = resolve_board(self.user, key, params)
        except BoardRefused as refused:
            raise Refused(CLOSE_NOT_FOUND if refused.status == 404 else CLOSE_FORBIDDEN) from None
        self.stream_groups = groups_for(self.membership, self.board)
        self.known: set[int] = known_target_ids(self.user, self.board)

    def stream_name(self) -> str:
        return self.board.key

    async def refresh_known(self) -> None:
        # Many sockets resync together (a Redis restart): sockets with the same visibility and board
        # share one query, within ``SHARED_CHECK_SECONDS`` of it.
        bucket = int(time.monotonic() // SHARED_CHECK_SECONDS)
        key = ("known", self.visibility, self.board.filter_key, bucket)
        self.known = set(await shared_check(key, lambda: known_target_ids(self.user, self.board)))

    def event_class(self, message: dict[str, Any]) -> tuple:
        return (type(self).__name__, self.visibility, self.board.filter_key)

    async def check_event(self, message: dict[str, Any]) -> bool | None:
        """May this class of boards show the event's target? ``None`` for events boards ignore."""
        target_id = message.get("target")
        if not isinstance(target_id, int) or message.get("event") not in BOARD_KINDS:
            return None
        user, board = self.user, self.board
        return await database_sync_to_async(
            lambda: board_targets(user, board).filter(pk=target_id).exists()
        )()

    async def apply_event(self, message: dict[str, Any], visible: bool | None) -> None:
        if visible is None:
            return
        event = message["event"]
        target_id = message["target"]
        if not visible:
            if target_id in self.known:
                self.known.discard(target_id)
                await self.emit("target.removed", target=target_id)
            return
        self.known.add(target_id)
        await self.emit(BOARD_KINDS[event], target=target_id)
