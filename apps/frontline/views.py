"""Tablet pages: the officer's instructions, one instruction with its result form, photos, the service worker.

Thin views: parsing in ``forms``, everything else in ``services``. The result form posts to the
instruction's own URL; the tablet's script posts the same fields with ``Accept: application/json``
(also when it replays its offline outbox) and gets JSON back, with 200 for a key already recorded.
"""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apps.agencies.operations import can, check, membership_of
from apps.agencies.roles import Role
from apps.compliance.services import purpose_of
from apps.core.requests import AuthedRequest
from apps.frontline import services
from apps.frontline.forms import GOODS_ROWS, ResultForm, form_choices, new_key
from apps.targeting.models import TargetState
from apps.targeting.services import StaleChange, TransitionRefused


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _messages_of(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {field: " ".join(str(m) for m in msgs) for field, msgs in error.message_dict.items()}
    return {"__all__": " ".join(error.messages)}


@login_required
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    """The officer's open instructions for this shift (or all shifts), by arrival, and today's results.

    The purpose is asked here, at the start of the shift, so that the instructions the tablet keeps for
    working offline are the instructions themselves, never the purpose form they would redirect to.
    """
    check(request.user, "exam.view")
    if purpose_of(request) is None:
        return redirect(f"{reverse('compliance:purpose')}?{urlencode({'next': request.get_full_path()})}")
    ports = services.officer_ports(request.user)
    shift = services.current_shift(ports[0] if ports else None)
    show_all = request.GET.get("shift") == "all"
    instructions = services.open_instructions(request.user, shift=None if show_all else shift)
    context = {
        "ports": ports,
        "shift": shift,
        "shift_label": dict(services.Shift.choices)[shift],
        "show_all": show_all,
        "instructions": instructions,
        "other_shifts": 0 if show_all else services.other_shifts_count(request.user, shift),
        "recent": services.recent_results(request.user),
        "is_officer": membership_of(request.user).role == Role.FRONTLINE,
        "now": timezone.now(),
    }
    # The tablet's script re-fetches only the list (a new instruction, a result sent): a URL of its own,
    # so the copy of the page the service worker keeps for offline work is never replaced by a fragment.
    if request.GET.get("part") == "list":
        response = render(request, "frontline/home.html#list", context)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "frontline/home.html", context)


def _instruction_context(
    request: HttpRequest, instruction: Any, form_errors: dict[str, str] | None = None
) -> dict:
    target = instruction.target
    port_tz = instruction.port.timezone or "UTC"
    started = target.transitions.filter(to_state=TargetState.IN_EXAMINATION).order_by("-at").first()
    history = services.history_of(target)
    record_states = {TargetState.DISPATCHED, TargetState.IN_EXAMINATION}
    return {
        "brief": services.briefing(request.user, instruction),
        "instruction": instruction,
        "target": target,
        "history": history,
        "shown": history[-1] if history else None,
        "original": history[0] if history else None,
        "can_record": can(request.user, "exam.record") and target.state in record_states and not history,
        "can_correct": bool(history) and services.may_correct(request.user, target),
        "started_at": started.at if started else None,
        "port_tz": port_tz,
        "key": new_key(),
        "errors": form_errors or {},
        "post": request.POST if request.method == "POST" else {},
        "initial": _initial(request, instruction, history[-1] if history else None, started, port_tz),
        "currency": getattr(settings, "RATC_CURRENCY", "GBP"),
        **form_choices(),
    }


def _local_input(moment: Any, tz_name: str) -> str:
    """A moment as a ``datetime-local`` value in the port's time."""
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _initial(
    request: HttpRequest, instruction: Any, shown: Any, started: Any, tz_name: str
) -> dict[str, Any]:
    """Values the form starts with: what was posted (after an error), the result shown, or the instruction."""
    post = request.POST if request.method == "POST" else None
    if post is not None:
        goods = [
            {"kind": post.get(f"goods-{i}-kind", ""), "quantity": post.get(f"goods-{i}-quantity", ""),
             "unit": post.get(f"goods-{i}-unit", ""), "value": post.get(f"goods-{i}-value", "")}
            for i in range(GOODS_ROWS)
        ]  # fmt: skip
        return {
            "method": post.get("method", instruction.method), "outcome": post.get("outcome", ""),
            "notes": post.get("notes", ""), "revenue": post.get("revenue_at_stake", ""),
            "started": post.get("started_at", ""), "ended": post.get("ended_at", ""), "goods": goods,
        }  # fmt: skip
    if shown is not None:
        goods = [
            {
                "kind": g.kind,
                "quantity": format(g.quantity.normalize(), "f"),
                "unit": g.unit,
                "value": g.estimated_value,
            }
            for g in shown.goods.all()
        ]
        return {
            "method": shown.method, "outcome": shown.outcome, "notes": shown.notes, "revenue": shown.revenue_at_stake,
            "started": _local_input(shown.started_at, tz_name), "ended": _local_input(shown.ended_at, tz_name),
            "goods": goods + [{}] * max(0, GOODS_ROWS - len(goods)),
        }  # fmt: skip
    return {
        "method": instruction.method, "outcome": "", "notes": "", "revenue": None,
        "started": _local_input(started.at if started else None, tz_name), "ended": "",
        "goods": [{} for _ in range(GOODS_ROWS)],
    }  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def instruction(request: AuthedRequest, pk: int) -> HttpResponse:
    """One instruction: the briefing, start, the result form; a supervisor's correction form once recorded."""
    found = services.get_instruction_for(request.user, pk)
    if request.method == "GET":
        return render(request, "frontline/instruction.html", _instruction_context(request, found))
    action = request.POST.get("action", "record")
    try:
        if action == "start":
            services.begin_examination(actor=request.user, instruction=found)
            note, status, result = "Examination started.", 200, None
        else:
            if action != "correct":
                services.refuse_if_recorded(found, request.POST.get("idempotency_key"))
            form = ResultForm(request.POST, tz_name=found.port.timezone)
            data = form.to_input()
            photos = request.FILES.getlist("photos")
            if action == "correct":
                shown = services.displayed_result(found.target)
                if shown is None:
                    raise ValidationError({"outcome": "There is no result to correct yet."})
                done = services.correct_examination(
                    actor=request.user,
                    result=shown,
                    data=data,
                    reason=request.POST.get("reason", ""),
                    photos=photos,
                )
                note = "Correction recorded; the original result is kept."
            else:
                done = services.record_examination(
                    actor=request.user, instruction=found, data=data, photos=photos
                )
                note = "Result recorded." if done.created else "This result was already recorded."
            status, result = (201 if done.created else 200), done.result
    except services.Conflict as error:
        return _refused(request, found, error, 409)
    except ValidationError as error:
        return _refused(request, found, error, 400)
    except (StaleChange, TransitionRefused) as error:
        return _refused(request, found, ValidationError({"outcome": str(error)}), 409)
    if _wants_json(request):
        payload: dict[str, Any] = {"status": "recorded" if status == 201 else "ok", "message": note}
        if result is not None:
            payload.update(
                result=result.pk, reference=found.target.reference, outcome=result.get_outcome_display()
            )
        return JsonResponse(payload, status=status)
    messages.success(request, note)
    return redirect("frontline:instruction", pk=found.pk)


def _refused(request: HttpRequest, found: Any, error: ValidationError, status: int) -> HttpResponse:
    errors = _messages_of(error)
    if _wants_json(request):
        return JsonResponse({"status": "refused", "errors": errors}, status=status)
    context = _instruction_context(request, found, errors)
    return render(request, "frontline/instruction.html", context, status=status)


@login_required
@require_GET
def photo(request: AuthedRequest, pk: int) -> FileResponse:
    """A photo of an examination the viewer may see, from the uploads storage (never by a public URL)."""
    found = services.get_photo_for(request.user, pk)
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["ETag"] = f'"{found.sha256}"'
    return response


@never_cache
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a page it has not kept while there is no network."""
    return render(request, "frontline/offline.html", {})


def service_worker(request: HttpRequest) -> HttpResponse:
    """The tablet's service worker, served from /port/ so that its scope covers every tablet page."""
    body = render_to_string("frontline/sw.js", {}, request=request)
    version = hashlib.sha256(body.encode()).hexdigest()[:12]
    response = HttpResponse(body.replace("__CACHE_VERSION__", version), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = reverse("frontline:home")
    return response


def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, so the tablet can keep the page on its home screen and open it full screen."""
    body = render_to_string("frontline/manifest.webmanifest", {}, request=request)
    return HttpResponse(body, content_type="application/manifest+json")
