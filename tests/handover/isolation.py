import datetime as dt

from django.utils import timezone

from apps.agencies.roles import Role
from apps.handover.models import DeskKind, Handover, HandoverItem
from tests.factories import member


def _handover(world) -> Handover:
    made = Handover.objects.count()  # one world may ask for several: each its own shift
    writer = member(f"sup-{made}", world.customs, Role.SUPERVISOR)
    return Handover.objects.create(
        owner_agency=world.customs, desk_kind=DeskKind.NATIONAL, desk="national",
        shift_date=timezone.localdate() - dt.timedelta(days=made), shift="early", prepared_by=writer,
        summary={"open_total": 0, "open_by_state": []},
    )  # fmt: skip


def _item(world):
    handover = _handover(world)
    item = HandoverItem.objects.create(
        handover=handover, text="Call POL about the container", raised_by=handover.prepared_by
    )
    return {"pk": handover.pk, "item_pk": item.pk}


SCOPED_ROUTES = {
    "handover:detail": lambda w: {"pk": _handover(w).pk},
    "handover:add_item": lambda w: {"pk": _handover(w).pk},
    "handover:refresh": lambda w: {"pk": _handover(w).pk},
    "handover:submit": lambda w: {"pk": _handover(w).pk},
    "handover:acknowledge": lambda w: {"pk": _handover(w).pk},
    "handover:close_item": _item,
}
