"""What the case pages of the procedures (repair, objection, rectification) have in common: a service's
refusal shown on its form, a page of a case list with each case's clocks, the parts of a case page every
procedure shows, and a case's material served to whoever may see the case.

Each procedure's selectors module answers the same reads for its own cases (``step_name``,
``timeline_for_case``, ``notices_for_case``, ``attachments_for_case``, ``with_clock_status``), scoped to the
person asking; the helpers here take that module and never read a case themselves.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import FileResponse

from cases.services.privacy import attachment_download_register
from cases.views.paging import CountFreePage, count_free_page
from workflows import engine

PAGE_SIZE = 25


def messages_of(error: ValidationError) -> list[str]:
    """A service's refusal as the lines its form shows (each bilingual message as is)."""
    return [str(m) for m in error.messages]


def page_with_clocks(request, cases, selectors, *, order=None) -> CountFreePage:
    """The requested page of ``cases``, each case with the status of its clocks (read for that page only).

    In two steps, so that a list of 100,000 open cases costs one page (issue 15 item 5): the page's ids are read
    narrow — from ``order`` (case ids in list order, e.g. the inbox's rows by legal deadline, which an index
    answers) or else from ``cases`` without its joined and computed columns — and then only those cases are
    read whole, with the annotations ``cases`` carries (a case ``cases`` does not hold is left out)."""
    ids = order if order is not None else cases.values_list("pk", flat=True)
    # Without counting the list (cases.views.paging): the count of 100,000 open cases cost more than the page.
    page = count_free_page(request, ids, PAGE_SIZE)
    wanted = list(dict.fromkeys(page.object_list))  # a case with two open tasks is listed once
    found = {case.pk: case for case in cases.filter(pk__in=wanted)} if wanted else {}
    page.object_list = selectors.with_clock_status([found[pk] for pk in wanted if pk in found])
    return page


def case_page_context(request, case, selectors, *, clocks) -> dict:
    """The parts of a case page every procedure shows: the record, the open step, the clocks, the timeline,
    the notices and the materials (notices and materials as far as the person may see them)."""
    return {
        "record": case.record,
        "step": selectors.step_name(engine.open_node_name(case)) if case.is_open else "",
        "clocks": clocks,
        "timeline": selectors.timeline_for_case(case=case),
        "notices": selectors.notices_for_case(user=request.user, case=case),
        "attachments": selectors.attachments_for_case(user=request.user, case=case),
    }


def attachment_download_response(request, case, attachment) -> FileResponse:
    """A material of ``case`` as a download, registered as a look at the case's personal data; served only
    after the caller's permission check, never from a public media URL, and never sniffed or cached."""
    attachment_download_register(actor=request.user, case=case, attachment=attachment)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
