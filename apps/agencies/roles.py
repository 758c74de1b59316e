"""The roles people hold on the floor (BRIEF: who uses it)."""

from django.db import models


class Role(models.TextChoices):
    ANALYST = "analyst", "Targeting analyst"
    SUPERVISOR = "supervisor", "Supervisor / duty manager"
    LIAISON = "liaison", "Liaison officer"
    FRONTLINE = "frontline", "Frontline officer"
    RISK_MANAGER = "risk_manager", "Risk manager"
    MANAGER = "manager", "Manager"
    AUDITOR = "auditor", "Auditor / data protection officer"
    ADMINISTRATOR = "administrator", "Administrator"
    SYSTEM = "system", "System integrator"


#: Roles bound to their ports (``Membership.ports``): they see a target only once it is sent to one of
#: their ports, and read it as the port's briefing. A port system is scoped as the port's officer is.
PORT_BOUND_ROLES = frozenset({Role.FRONTLINE, Role.SYSTEM})
