"""The platform-sync outbox as platform staff and supervisors see it: what was sent, what is stuck, and
how each report stands against its legal limit. Platform staff may retry a dead event."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import policy
from cases.models import OutboxEvent
from cases.services.outbox import outbox_retry
from workflows.calendar import get_calendar
from workflows.models import ClockPause
from workflows.selectors import ClockStatus, clock_status

PAGE_SIZE = 50


# --- permissions and reads -------------------------------------------------------------------------------


def can_view_outbox(user) -> bool:
    # The credit centre runs the sync; the supervisors watch every deadline, this one included.
    return policy.is_platform(user) or policy.is_supervisor(user)


def can_retry_outbox(user) -> bool:
    return policy.is_platform(user)


def outbox_events_for_staff(*, user, status: str = "") -> QuerySet[OutboxEvent]:
    """Selector: outbox events ``user`` may see, newest first, optionally of one status."""
    if not can_view_outbox(user):
        return OutboxEvent.objects.none()
    qs = OutboxEvent.objects.select_related("clock").prefetch_related(
        Prefetch("clock__pauses", queryset=ClockPause.objects.order_by("paused_on", "id"))
    )
    # Only the platform sync: a person's e-mail and SMS copies are personal data, not the centre's business.
    qs = qs.filter(channel=OutboxEvent.Channel.PLATFORM)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


@dataclass
class OutboxRow:
    event: OutboxEvent
    object_label: str
    # The reporting limit as of now (remaining / overdue working days, how the due date was reached);
    # None for an event the law sets no limit for.
    clock: ClockStatus | None


def _object_label(event: OutboxEvent) -> str:
    try:
        model = apps.get_model(event.aggregate_type)
    except (LookupError, ValueError):
        return f"{event.aggregate_type} #{event.aggregate_id}"
    return f"{model._meta.verbose_name} #{event.aggregate_id}"


def _rows(events, now) -> list[OutboxRow]:
    calendar = get_calendar()
    return [
        OutboxRow(
            event=event,
            object_label=_object_label(event),
            clock=clock_status(event.clock, now=now, calendar=calendar) if event.clock else None,
        )
        for event in events
    ]


# --- views -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def outbox_list(request):
    if not can_view_outbox(request.user):
        raise Http404
    status = request.GET.get("status", "")
    if status not in OutboxEvent.Status.values:
        status = ""
    page = Paginator(outbox_events_for_staff(user=request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "outbox/list.html",
        {
            "page": page,
            "rows": _rows(page.object_list, timezone.now()),
            "status": status,
            "statuses": OutboxEvent.Status.choices,
            "can_retry": can_retry_outbox(request.user),
        },
    )


@login_required
@require_POST
def outbox_retry_view(request, pk: int):
    if not can_view_outbox(request.user):
        raise Http404
    if not can_retry_outbox(request.user):
        # Supervisors see the outbox but the sync is the credit centre's job.
        raise PermissionDenied
    event = get_object_or_404(outbox_events_for_staff(user=request.user), pk=pk)
    try:
        outbox_retry(event=event, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("推送事件 #%(id)s 已重新排队，将在下一次推送任务中发送。") % {"id": event.pk})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "outbox:list"
    return redirect(next_url)
