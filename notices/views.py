"""Inbox, notice page, PDF download (permission-checked, records 送达) and the public verification page."""

import hashlib
import logging
from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from notices import kinds, selectors
from notices.selectors import notice_for_verification, notice_get_for_user, notice_list_for_user
from notices.services import notice_mark_read

logger = logging.getLogger("casework.notices")


BOXES = (selectors.BOX_RECEIVED, selectors.BOX_ISSUED, selectors.BOX_ALL)
PAGE_SIZE = 50


@login_required
@require_GET
def inbox(request):
    """Staff open on what was delivered to their organisation (收文); they can switch to what it issued and
    to everything they may read. Applicants have one box: their own notices."""
    staff = request.user.role != "applicant"
    box = request.GET.get("box") if request.GET.get("box") in BOXES else selectors.BOX_RECEIVED
    if not staff:
        box = selectors.BOX_ALL
    notices = notice_list_for_user(user=request.user, box=box, unread_only=request.GET.get("unread") == "1")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/inbox.html",
        {
            "notices": page.object_list,
            "page": page,
            "box": box,
            "staff": staff,
            "unread": request.GET.get("unread"),
            "organisation_unread": selectors.unread_count_for_organisation(user=request.user) if staff else 0,
        },
    )


def _get_or_404(request, notice_id):
    notice = notice_get_for_user(user=request.user, notice_id=notice_id)
    if notice is None:
        raise Http404
    return notice


@login_required
@require_GET
def detail(request, notice_id: int):
    notice = _get_or_404(request, notice_id)
    notice_mark_read(notice=notice, user=request.user)
    return render(request, "notices/detail.html", {"notice": notice, "kind": kinds.get_kind(notice.kind)})


def notice_pdf_response(request, notice, *, as_attachment: bool) -> FileResponse:
    """The one way a notice's PDF leaves the system, for a ``notice`` a notices.selectors read already allowed:
    "下载PDF" saves it (attachment), "查看" opens it in the browser (inline)."""
    if notice is None or not notice.is_issued or not notice.pdf:
        raise Http404
    with notice.pdf.open("rb") as fh:
        data = fh.read()
    # Serve only the exact document that was issued: a file changed on disk is an incident, not a notice.
    if hashlib.sha256(data).hexdigest() != notice.sha256:
        logger.error("stored PDF of notice %s does not match its SHA-256", notice.pk)
        raise RuntimeError(f"stored PDF of notice {notice.pk} does not match its recorded hash")
    notice_mark_read(notice=notice, user=request.user)
    response = FileResponse(
        BytesIO(data), content_type="application/pdf", as_attachment=as_attachment, filename=f"{notice.number}.pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def download(request, notice_id: int):
    return notice_pdf_response(request, _get_or_404(request, notice_id), as_attachment=True)


@login_required
@require_GET
def view_pdf(request, notice_id: int):
    return notice_pdf_response(request, _get_or_404(request, notice_id), as_attachment=False)


@require_GET
def verify(request):
    """Public: no login. Number + code → hash, status, issuer, date. One and the same "not found" answer for
    every miss, so the page cannot be used to find out which numbers exist."""
    number = request.GET.get("number", "")
    code = request.GET.get("code", "")
    asked = bool(number or code)
    notice = notice_for_verification(number=number, code=code) if asked else None
    context = {
        "asked": asked,
        "number": number,
        "code": code,
        "notice": notice,
        "kind": kinds.get_kind(notice.kind) if notice else None,
    }
    status = 404 if asked and notice is None else 200
    return render(request, "notices/verify.html", context, status=status)
