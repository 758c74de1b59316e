"""Websocket consumers: boards, presence on a target, personal notifications (frontline tablets), rules.

Every socket needs a live session of a member (``AuthMiddlewareStack``) and an allowed Origin
(``AllowedHostsOriginValidator``, both in ``ratc_ops/asgi.py``). Access is checked when a socket
subscribes and again for every event, before anything is forwarded. What reaches the browser is only a
kind, ids and this socket's sequence number; the browser re-fetches fragments over HTTP, where scoping
applies again.

Messages to the browser (``seq`` counts 1, 2, 3… per socket; ``hello`` is 0):

==================  ==========================================  =============================================
kind                keys                                        meaning
==================  ==========================================  =============================================
hello               seq, stream                                 subscribed: fetch the whole board now
target.created      seq, target                                 a target appeared: re-fetch
target.changed      seq, target                                 a target changed: re-fetch
target.removed      seq, target                                 you may no longer see it: drop it at once
presence.changed    seq, target                                 someone opened or left it: re-fetch presence
instruction.        seq, target, instruction                    a new examination instruction for your port
dispatched
examination.        seq, target                                 a result you follow was corrected (own group)
corrected
rule.changed        seq, rule                                   a rule you may see changed: re-fetch the rules
resync              seq, reason                                 something may be missing: re-fetch everything
==================  ==========================================  =============================================

Which event types each consumer forwards, and as which kind, is ``apps.core.events.EVENTS`` (the
registry); boards are told ``target.changed`` for an instruction dispatched or a result recorded or
corrected, since each of them redraws the target's card.

Close codes: 4401 not signed in (or signed out), 4403 not allowed, 4404 no such thing (or not visible).
The browser reconnects after any other close, and re-fetches everything on ``hello``.

One module per socket (``board``, ``target_presence``, ``notifications``, ``rules``); what they share is
in ``base`` (the session check, groups, sending) and ``sequences`` (sequence numbers and resync).
"""

from apps.live.consumers.board import BoardConsumer
from apps.live.consumers.notifications import NotificationsConsumer
from apps.live.consumers.rules import RulesConsumer
from apps.live.consumers.target_presence import TargetPresenceConsumer

__all__ = ["BoardConsumer", "NotificationsConsumer", "RulesConsumer", "TargetPresenceConsumer"]
