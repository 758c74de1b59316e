"""The simulated floor staff: analysts review, supervisors decide and dispatch, officers examine.

Every step goes through the targeting and frontline services as one of the simulated colleagues
(:mod:`apps.simulator.colleagues`: named accounts of their own, never the demo accounts a visitor signs
in with), at a realistic pace in simulated minutes (scaled to real time by the floor's speed), and is
recorded as a ``SimAction`` in the same transaction, so a step is taken once. What a person on the
floor touched is left to them: the simulator compares each target's transitions made by people with
the steps it took itself. The analysts share what partner agencies work on (police, immigration,
biosecurity, coast guard) through the real sharing service, so each partner's board has work.

So that a visitor always has work, the simulator keeps its hands off targets nominated in the last
``hands_off_minutes`` (simulated), and off a share of targets for good (``reserve_share``); those lapse
(the supervisor rejects them) once their conveyance has been released.
"""

from __future__ import annotations

from datetime import datetime

from apps.simulator.staff.desk import DeskSteps
from apps.simulator.staff.pace import STEPS
from apps.simulator.staff.port import PortSteps

__all__ = ["Staff"]


class Staff(DeskSteps, PortSteps):
    """One pass of the simulated staff over the targets, at ``now``."""

    def act(self, now: datetime) -> dict[str, int]:
        """Take every step that is due at ``now``; returns how many of each were taken."""
        done = dict.fromkeys(STEPS, 0)
        if not self.analysts or self.supervisor is None:
            return done
        done["missed"] = self.mark_missed(now)
        done["historic"] = self.withdraw_historic(now)
        done["review"], done["lapse"] = self.review(now)
        done["share"] = self.share(now)
        done["submit"] = self.submit(now)
        done["decide"] = self.decide(now)
        done["dispatch"] = self.dispatch(now)
        done["begin"] = self.begin(now)
        done["record"] = self.record(now)
        done["close"] = self.close(now)
        return done
