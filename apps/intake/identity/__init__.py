"""One person, one page: every record of the same traveller (or trader) that the viewer may see, merged.

The same traveller reaches the centre as several records: an API list per flight, a PNR per booking, the
same again for the next journey. Intake gives each record keyed hashes of its identifiers
(``SubjectKey``: travel document, name + date of birth, trader identifier), which keep working after
masking. ``person_view(viewer, subject)`` gathers the records sharing such a key with the opened record,
and with each other a few rounds deep, and draws them as one person: each fact with the records it came
from, two different values of one fact both shown.

Scoping comes first, at every round: only records the viewer may see (``Subject.objects.visible_to``)
are ever read, and the next round starts from their keys alone. A record of a source the viewer's agency
may not see is therefore never merged, never counted and cannot bridge two records the viewer may see
(which would hint that it exists). A depersonalised record stays masked (``apps.compliance.masking``).

Every record URL of the person renders this same page, marking the record that was opened: a record's
URL stays a permalink (targets, hits, search results and the access log name records), while the
"canonical" record would differ per agency (one may see the API source, not the PNR) and change with
every new journey.


One module per concern: ``shapes`` (what the person view holds), ``view`` (the view and its access log),
``records`` (which records are one person), ``says`` (what the records say: journeys, parties, links) and
``work`` (what the floor did).
"""

from __future__ import annotations

from apps.intake.identity.records import NOT_IN_API, link_batch
from apps.intake.identity.shapes import (
    HIDDEN_FACTS,
    IDENTITY_GROUPS,
    JOURNEY_GROUPS,
    MAX_FETCH,
    MAX_RECORDS,
    MAX_ROUNDS,
    MERGE_KEYS,
    MESSAGE_KINDS,
    Journey,
    LinkRow,
    PartyRow,
    PersonView,
    PersonWork,
    Record,
)
from apps.intake.identity.view import log_merged_reads, person_view

__all__ = [
    "HIDDEN_FACTS",
    "IDENTITY_GROUPS",
    "JOURNEY_GROUPS",
    "MAX_FETCH",
    "MAX_RECORDS",
    "MAX_ROUNDS",
    "MERGE_KEYS",
    "MESSAGE_KINDS",
    "NOT_IN_API",
    "Journey",
    "LinkRow",
    "PartyRow",
    "PersonView",
    "PersonWork",
    "Record",
    "link_batch",
    "log_merged_reads",
    "person_view",
]
