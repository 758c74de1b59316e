"""Targeting pages, mounted at /targets/. Every action is a POST to its own URL (``<pk>/<action>/``)."""

from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, path

from apps.compliance.gate import personal_data
from apps.targeting import transitions
from apps.targeting.views import actions, exports, lists, planning, target

app_name = "targeting"


def _on_target(route: str, view: Callable[..., HttpResponseBase], name: str) -> URLPattern:
    # An action on a target is gated as its page is: no change to a person's target without a purpose.
    return personal_data(
        path(f"<int:pk>/{route}/", view, name=f"target_{name}"),
        object_type="target",
        model="targeting.Target",
    )


urlpatterns = [
    path("", lists.target_list, name="list"),
    personal_data(path("export.csv", exports.export, name="export"), object_type="target", export=True),
    path("queues/", lists.queues, name="queues"),
    path("queues/work/", lists.queue, name="queue"),
    path("dispatch/", planning.dispatch, name="dispatch"),
    path("dispatch/propose/", planning.propose, name="dispatch_propose"),
    path("dispatch/accept/", planning.accept, name="dispatch_accept"),
    path("instructions/", lists.instructions, name="instructions"),
    path("operations/", planning.operations, name="operations"),
    path("operations/<int:pk>/", planning.operation, name="operation"),
    personal_data(
        path("nominate/<int:subject_pk>/", planning.nominate, name="nominate"),
        object_type="subject",
        model="intake.Subject",
        subject="",
        lookup="subject_pk",
    ),
    path("attachments/<int:pk>/", exports.attachment, name="attachment"),
    # The page and its htmx panel show the subject, a traveller's name and documents included.
    personal_data(
        path("<int:pk>/", target.detail, name="detail"), object_type="target", model="targeting.Target"
    ),
    personal_data(
        path("<int:pk>/history.csv", exports.export_target, name="export_target"),
        object_type="target",
        model="targeting.Target",
        export=True,
    ),
    _on_target("claim", actions.claim, "claim"),
    _on_target("release", actions.release, "release"),
    _on_target("hold", actions.hold, "hold"),
    _on_target("release-hold", actions.release_hold, "release_hold"),
    _on_target("comment", actions.comment, "comment"),
    _on_target("share", actions.share, "share"),
    _on_target("consent", actions.consent, "consent"),
    # One URL per transition button (approve, reject, withdraw, dispatch...), in the table's order.
    *[_on_target(action.replace("_", "-"), actions.move(action), action) for action in transitions.buttons()],
]
