"""What intake announces to the apps above it, which it does not import.

Intake sits below the risk engine and the reports: it stores what arrives and says so here, after the
transaction commits (or, for the entity links, queued inside it), and whoever listens acts (``RiskConfig.ready`` asks the engine to assess the stored
subjects, ``ReportsConfig.ready`` drops the cached reports when a source's sharing changes). A deployment
without the risk engine simply has no listener.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["batch_stored", "sharing_changed", "subjects_stored"]

#: Sent inside the store transaction with ``subject_ids`` (the batch's) and ``live`` (``(id, kind)`` of
#: those not superseded within it): the entities app queues the batch's linking in the transaction, and
#: links it after the commit, reading the records back (a listener that fails fails the batch, as a
#: direct call would).
batch_stored = Signal()

#: Sent after commit with ``subject_ids`` (a list): new current subjects that the risk engine assesses.
subjects_stored = Signal()

#: Sent after commit when an agency gained or lost sight of a data source (``source_id``).
sharing_changed = Signal()
