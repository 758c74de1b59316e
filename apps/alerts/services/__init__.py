"""Alert exchange services: export to a partner, import from one, the analyst's actions on an incoming
alert, and the sighting that goes back when an examination follows a partner's alert.

What may leave is decided by the product's own rules, never here a second time:

- the target must be shared with the partner's agency (``TargetShare``): its handling code becomes the
  markings (``stix.handling_markings``);
- the content is what ``apps.targeting.disclosure.disclose`` gives the partner's system account as a
  briefing: facts that help find the goods, reasons in plain words; the subject's fields only where
  ``may_see_personal`` says the source's legal basis reaches the partner's agency and the record is not
  depersonalised (masked data never leaves);
- every disclosure is written to the hash-chained access log (what, to whom, by whom, why).


One module per concern: ``access`` (who may, and the disclosure log), ``export`` (a target to a partner),
``lookouts`` (a watchlist entry to a partner), ``importing`` (a partner's bundle), ``actions`` (the
analyst's actions on an incoming alert) and ``sightings`` (the sighting that goes back).
"""

from __future__ import annotations

from apps.alerts.services.access import (
    ALERT_OPERATIONS,
    alert_can,
    check_alert,
    get_incoming_for,
    get_partner_for,
    log,
    log_disclosure,
)
from apps.alerts.services.actions import (
    add_to_watchlist,
    attach_to_subject,
    candidate_subjects,
    dismiss,
    record_consent,
    turn_into_target,
)
from apps.alerts.services.export import FACT_PROPERTIES, alert_properties, export_target
from apps.alerts.services.importing import ImportResult, import_bundle
from apps.alerts.services.lookouts import (
    ENTRY_HANDLING,
    ENTRY_SUBJECT_KIND,
    PERSONAL_ENTRY_KINDS,
    export_entry,
    lookout_properties,
)
from apps.alerts.services.sightings import on_instruction_event, send_sighting

__all__ = [
    "ALERT_OPERATIONS",
    "ENTRY_HANDLING",
    "ENTRY_SUBJECT_KIND",
    "FACT_PROPERTIES",
    "PERSONAL_ENTRY_KINDS",
    "ImportResult",
    "add_to_watchlist",
    "alert_can",
    "alert_properties",
    "attach_to_subject",
    "candidate_subjects",
    "check_alert",
    "dismiss",
    "export_entry",
    "export_target",
    "get_incoming_for",
    "get_partner_for",
    "import_bundle",
    "log",
    "log_disclosure",
    "lookout_properties",
    "on_instruction_event",
    "record_consent",
    "send_sighting",
    "turn_into_target",
]
