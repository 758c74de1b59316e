"""Message generators: realistic PAXLST, PNRGOV, JSON and CSV declarations for one simulated arrival.

Pure functions of a seed and a time: the same ``(seed, port, n, arrival_at)`` always gives the same bytes,
so the simulator is reproducible and its tick can be replayed safely (intake stores a message once).
Every generated subject that may be examined carries a hidden :class:`Truth` (what an examination would
find); the simulator keeps truths in its own table and nobody on the floor ever sees them.

Planted patterns (what the demo rules, the watchlist and the model are meant to find):

* **courier** — cash-paid, one-way, short-notice bookings on flights from a source airport
  (``world.SOURCE_AIRPORTS``); about 45 % of travellers who fit the profile carry cocaine;
* **fruit** — bananas or coffee from Colombia, Ecuador or Peru declared far below market value per kg;
  about half hide cocaine in the load;
* **trader** — two importers under investigation (``world.WATCHED_IMPORTERS``) who undervalue footwear
  and clothing; most of their declarations understate the value;
* **concealment** — light fresh-produce part-loads from Spain or Morocco through Dover, used as a
  cover load for cannabis;
* **listed** — a person on the UN consolidated list, travelling under a variant spelling of the name;
* **background** — everyone else, with a small base rate of ordinary irregularities that only random
  control finds.

The package: ``plans`` (what is made), ``messages`` (the formats sent), ``people`` (travellers and
truths), ``arrivals`` (one arrival at a port); this module names what the simulator and the training
floor use.
"""

from apps.simulator import world
from apps.simulator.generators.arrivals import declaration, plan_arrival
from apps.simulator.generators.messages import (
    CSV_HEADER,
    declarations_csv,
    declarations_json,
    paxlst,
    pnrgov,
    replay_rows,
)
from apps.simulator.generators.people import (
    background_truth,
    listed_person,
    name_variant,
    person,
    truth_key_for,
)
from apps.simulator.generators.plans import (
    ArrivalPlan,
    Booking,
    FlightPlan,
    Payload,
    Person,
    Truth,
    rng_for,
)

__all__ = [
    "CSV_HEADER",
    "ArrivalPlan",
    "Booking",
    "FlightPlan",
    "Payload",
    "Person",
    "Truth",
    "background_truth",
    "declaration",
    "declarations_csv",
    "declarations_json",
    "listed_person",
    "name_variant",
    "paxlst",
    "person",
    "plan_arrival",
    "pnrgov",
    "replay_rows",
    "rng_for",
    "truth_key_for",
    "world",
]
