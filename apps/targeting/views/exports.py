"""The CSV exports of the targets and of one target's history, and attachment downloads."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.core import csvsafe
from apps.core.requests import AuthedRequest
from apps.targeting.disclosure import disclose
from apps.targeting.models import Attachment, Target
from apps.targeting.queries import filter_targets
from apps.targeting.views.common import list_queryset


class _Echo:
    """A file that hands back what is written: the CSV writer's rows, streamed."""

    def write(self, value: str) -> str:
        return value


@login_required
def export(request: AuthedRequest) -> StreamingHttpResponse:
    """CSV of the targets the viewer may see (with the same filters as the list); no personal fields."""
    check(request.user, "target.view")
    targets = filter_targets(list_queryset(request.user), request.GET, request.user).order_by("id")
    writer = csvsafe.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(["reference", "state", "version", "risk_area", "priority", "owner_agency", "port",
                               "arrival_at", "created_at"])  # fmt: skip
        for t in targets.iterator(chunk_size=1000):
            yield writer.writerow([t.reference, t.state, t.version, t.risk_area, t.display_priority, t.owner_agency.code,
                                   t.port.locode if t.port else "", t.arrival_at, t.created_at])  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="targets.csv"'
    return response


@login_required
def export_target(request: AuthedRequest, pk: int) -> HttpResponse:
    """CSV of one target's history as the viewer may read it (404 to anyone it is not shared with)."""
    check(request.user, "target.view")
    target = get_object_for(request.user, Target, pk=pk)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{target.reference}.csv"'
    writer = csvsafe.writer(response)
    writer.writerow(["reference", "at", "from", "to", "version", "agency", "reason", "reason_withheld"])
    for line in disclose(request.user, target).history():
        writer.writerow([target.reference, line.at.isoformat(), line.from_state, line.to_state, line.version,
                         line.agency or "system", line.reason, "yes" if line.withheld else ""])  # fmt: skip
    return response


@login_required
def attachment(request: AuthedRequest, pk: int) -> FileResponse:
    """Download an attachment of a comment the viewer may see."""
    check(request.user, "target.view")
    found = get_object_for(request.user, Attachment, pk=pk)
    return FileResponse(
        found.file.open("rb"), as_attachment=True, filename=found.name, content_type=found.content_type
    )
