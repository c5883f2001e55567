"""Inbox, notice page, PDF download (permission-checked, records 送达) and the public verification page."""

import hashlib
import logging
from io import BytesIO

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from config.ratelimit import over_limit
from notices import kinds, selectors
from notices.selectors import notice_for_verification, notice_get_for_user, notice_list_for_user
from notices.services import notice_mark_read
from notices.verification import verify_upload

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


@require_http_methods(["GET", "POST"])
def verify(request):
    """Public: no login. Number + code → hash, status, issuer, date; with the PDF uploaded, whether that file
    is the original (its SHA-256 against the issued record, and its electronic signature). One and the same
    "not found" answer for every miss, so the page cannot be used to find out which numbers exist; nothing
    personal is shown (no addressee, no content)."""
    # Public traffic: a budget per address per minute.
    if over_limit(scope="notice-verify", request=request, limit=settings.NOTICE_VERIFY_PER_MINUTE, window_seconds=60):
        return render(request, "notices/verify.html", {"throttled": True}, status=429)
    data = request.POST if request.method == "POST" else request.GET
    number = data.get("number", "")[:60]
    code = data.get("code", "")[:32]
    asked = bool(number or code)
    notice = notice_for_verification(number=number, code=code) if asked else None
    check, file_error = None, ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            file_error = _("请选择要核对的PDF文件。")
        elif upload.size > settings.MAX_UPLOAD_BYTES:
            file_error = _("文件过大。")
        elif notice is not None:
            check = verify_upload(notice=notice, data=upload.read())
    context = {
        "asked": asked,
        "number": number,
        "code": code,
        "notice": notice,
        "kind": kinds.get_kind(notice.kind) if notice else None,
        "check": check,
        "file_error": file_error,
    }
    status = 404 if asked and notice is None else (400 if file_error else 200)
    return render(request, "notices/verify.html", context, status=status)
