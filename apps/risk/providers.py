"""Where the components of a risk score come from: a list of providers, named by dotted path.

The contract, for anyone adding a provider (watchlist screening, the model)::

    def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
        '''For each subject id, the components found (leave a subject out when there are none).'''

A provider must be pure with respect to the database (it may read, never write): the assessment
service stores what it returns, in one transaction, with the assessment. It sees the subjects of one
batch (often thousands) and should work on them in bulk. It must not raise for one odd subject; an
exception fails the whole batch (and Celery retries it).

``Component.score`` is the component's contribution on a 0-100 scale: a rule gives its weight; a
watchlist match might give its match strength times the entry's severity; a model gives
100 * probability times its configured weight. Components are combined by
:func:`apps.risk.scoring.combine` (a probabilistic "or"): ``100 * (1 - Π(1 - score/100))``.
``shadow=True`` components are recorded and explained but never count toward the score.

To add a provider, append its dotted path to :data:`PROVIDERS`. A path whose module is not installed
yet is skipped with a warning (logged once per process), so the list can name providers before they
land.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps.intake.models import Subject

__all__ = ["PROVIDERS", "Component", "Provider", "load_providers"]

logger = logging.getLogger(__name__)

#: Dotted paths of the providers the engine asks, in order.
PROVIDERS: list[str] = [
    # First: it adds the feed-quality facts (``feed_*``, ``carrier_*``) that rules may read; it scores nothing.
    "apps.quality.indicators.provider",
    # Before the rules: it joins the trader register (AEO status, compliance history); it scores nothing.
    "apps.intake.register.provider",
    "apps.risk.rules.provider",
    "apps.watchlists.screening.provider",
    "apps.learning.scoring.provider",
]


@dataclass(slots=True)
class Component:
    """One reason a subject scores: a rule hit, a watchlist match, a model score, a random draw.

    ``kind``: "rule", "watchlist", "model" or "random". ``ref``: a stable reference to what fired
    (``rule:12@v3``, ``watchlist-entry:881``, ``model:4``). ``label``: a short title for a person.
    ``explanation``: one sentence saying why. ``details``: what the page shows under it (matched facts,
    the watchlist fields that matched, the model's top features with their contributions).
    ``rule_version_id`` is set by the rules provider so the engine can store a ``Hit``; ``scope`` too. ``plain``: the
    line for those who may not read what fired (a frontline officer, a partner agency): plain words,
    never a condition, a model feature or an identifier being watched; empty lets the targeting app
    say it in general words (``apps.targeting.disclosure.plain_reason``).
    """

    kind: str
    ref: str
    score: float
    risk_area: str
    explanation: str
    label: str = ""
    shadow: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    rule_version_id: int | None = None
    plain: str = ""
    #: ``national`` or ``port``: a port rule's hit alone routes the target to the port's own queue under
    #: the hybrid model (``apps.targeting.routing.engine_scope``).
    scope: str = "national"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(float(self.score), 2)
        return data


Provider = Callable[[list["Subject"]], dict[int, list[Component]]]

_warned: set[str] = set()


def load_providers(paths: list[str] | None = None) -> list[tuple[str, Provider]]:
    """Import each provider; skip (with one logged warning) a path whose module is not there yet."""
    loaded = []
    for path in PROVIDERS if paths is None else paths:
        module_name, _, attribute = path.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only "this provider is not installed" is skipped; a broken import inside it is an error.
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                if path not in _warned:
                    _warned.add(path)
                    logger.warning("Risk provider %s is not installed; skipping it.", path)
                continue
            raise
        provider = getattr(module, attribute, None)
        if provider is None:
            if path not in _warned:
                _warned.add(path)
                logger.warning("Risk provider module %s has no %r; skipping it.", module_name, attribute)
            continue
        loaded.append((path, provider))
    return loaded
