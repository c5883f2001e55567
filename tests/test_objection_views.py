# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
"""Objection pages over HTTP: filing from the record page, status with the limit and its explanation, the
desk for the platform and the provider (deadline-ordered), the supervisor's overdue list and 督办, and who
may see what (another enterprise, another department: 404)."""

from django.test import Client

from cases.models import CreditRecord, DisplayState
from cases.models.objection import ObjectionCase, ObjectionState
from cases.services import objection as svc
from notices.services import notice_render
from tests.test_objection_paths import checking, file, filed, notices_of  # noqa: F401
from tests.test_repair_flow import PDF, eligible_record, storage, travel, upload  # noqa: F401


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_applicant_files_from_the_record_page(travel, storage, applicant, eligible_record, credit_centre):
    c = login(applicant)
    page = c.get(f"/records/{eligible_record.pk}/").content.decode()
    assert f"/objection/records/{eligible_record.pk}/new/" in page
    form = c.get(f"/objection/records/{eligible_record.pk}/new/")
    assert form.status_code == 200 and eligible_record.decision_number in form.content.decode()
    bad = c.post(
        f"/objection/records/{eligible_record.pk}/new/",
        {
            "matter": "content",
            "reason": "文书号有误",
            "contact_name": "赵六",
            "contact_phone": "13800000000",
            "evidence": upload(),
        },
    )
    assert bad.status_code == 400 and "至少选择一项" in bad.content.decode()
    response = c.post(
        f"/objection/records/{eligible_record.pk}/new/",
        {
            "matter": "content",
            "f_decision_number": "郑市监罚〔2026〕12号",
            "reason": "文书号有误",
            "contact_name": "赵六",
            "contact_phone": "13800000000",
            "evidence": upload(),
        },
    )
    case = ObjectionCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/objection/{case.pk}/"
    status = c.get(f"/objection/{case.pk}/").content.decode()
    assert case.tracking_number in status and "平台处理期限" in status and "2026年7月9日" in status
    assert "异议处理中" in status
    assert CreditRecord.objects.get(pk=eligible_record.pk).display_state == DisplayState.UNDER_OBJECTION


def test_other_enterprise_and_other_department_get_404(
    checking, other_applicant, other_handler, handler, applicant, supervisor
):
    for user in (other_applicant, other_handler):
        assert login(user).get(f"/objection/{checking.pk}/").status_code == 404
        assert login(user).get(f"/objection/desk/{checking.pk}/").status_code == 404
    assert login(other_applicant).get(f"/objection/records/{checking.record_id}/new/").status_code == 404
    assert login(handler).get(f"/objection/desk/{checking.pk}/").status_code == 200
    assert login(supervisor).get(f"/objection/desk/{checking.pk}/").status_code == 200
    attachment = checking.attachments.get()
    assert login(applicant).get(f"/objection/{checking.pk}/attachments/{attachment.pk}/").status_code == 200
    assert login(handler).get(f"/objection/{checking.pk}/attachments/{attachment.pk}/").status_code == 200
    assert login(supervisor).get(f"/objection/{checking.pk}/attachments/{attachment.pk}/").status_code == 404
    # Another department cannot act either.
    response = login(other_handler).post(
        f"/objection/desk/{checking.pk}/decide/", {"decide-outcome": "maintained", "decide-reason": "x"}
    )
    assert response.status_code == 404


def test_desk_queues_are_deadline_ordered_per_organisation(
    travel, storage, applicant, enterprise, market_bureau, intake, handler, credit_centre, rule_sets
):
    from tests.factories import CreditRecordFactory

    late = file(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    travel.to(2026, 7, 7)
    soon = file(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    page = login(intake).get("/objection/desk/").content.decode()
    assert page.index(late.tracking_number) < page.index(soon.tracking_number)
    assert "平台分办" in page
    assert late.tracking_number not in login(handler).get("/objection/desk/").content.decode()
    svc.objection_send_check(actor=intake, case=soon)
    handler_page = login(handler).get("/objection/desk/").content.decode()
    assert soon.tracking_number in handler_page and "信息提供单位核查" in handler_page


def test_desk_routes_and_provider_corrects_over_http(filed, intake, handler, applicant, eligible_record, storage):
    r = login(intake).post(f"/objection/desk/{filed.pk}/check/", {"check-note": "请核对原件"})
    assert r.status_code == 302
    filed.refresh_from_db()
    assert filed.state == ObjectionState.CHECKING
    page = login(handler).get(f"/objection/desk/{filed.pk}/").content.decode()
    assert "更正后的决定文书号" in page and "郑市监罚〔2026〕12号" in page
    r = login(handler).post(
        f"/objection/desk/{filed.pk}/decide/",
        {
            "decide-outcome": "corrected",
            "decide-reason": "经核对原件予以更正",
            "decide-new_decision_number": "郑市监罚〔2026〕12号",
        },
    )
    assert r.status_code == 302
    assert CreditRecord.objects.get(pk=eligible_record.pk).decision_number == "郑市监罚〔2026〕12号"
    notice = notice_render(notice_id=notices_of(filed, "objection_result").get().pk)
    response = login(applicant).get(f"/objection/{filed.pk}/notices/{notice.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    check = notice_render(notice_id=notices_of(filed, "objection_check").get().pk)
    assert login(handler).get(f"/objection/{filed.pk}/notices/{check.pk}/").status_code == 200


def test_supervisor_sees_the_overdue_list_and_sends_supervision(checking, supervisor, travel, storage):
    travel.to(2026, 7, 14, 9, 0)
    page = login(supervisor).get("/objection/desk/").content.decode()
    assert "逾期未办结的异议" in page and checking.tracking_number in page
    r = login(supervisor).post(f"/objection/desk/{checking.pk}/supervise/", {"supervise-note": "请尽快办结"})
    assert r.status_code == 302
    assert notices_of(checking, "objection_supervision").count() == 1


def test_pause_is_visible_to_the_applicant(checking, handler, applicant, travel):
    travel.to(2026, 7, 8)
    r = login(handler).post(
        f"/objection/desk/{checking.pk}/pause/", {"pause-reason_code": "appraisal", "pause-reason": "委托司法鉴定"}
    )
    assert r.status_code == 302
    status = login(applicant).get(f"/objection/{checking.pk}/").content.decode()
    assert "委托司法鉴定" in status and "鉴定" in status


def test_review_requested_from_the_status_page(checking, handler, applicant, storage):
    svc.objection_decide(actor=handler, case=checking, outcome="maintained", reason="核查无误")
    page = login(applicant).get(f"/objection/{checking.pk}/").content.decode()
    assert "申请复核" in page
    r = login(applicant).post(f"/objection/{checking.pk}/review/", {"reason": "仍认为有误"})
    review = ObjectionCase.objects.get(review_of=checking)
    assert r.status_code == 302 and r["Location"] == f"/objection/{review.pk}/"


def test_the_demo_has_objections_in_different_states(db, storage):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    states = sorted(ObjectionCase.objects.values_list("state", "outcome"))
    # qiye's two (one with the provider, one waiting for triage) and shimin's two.
    assert states == [("checking", ""), ("closed", "maintained"), ("submitted", ""), ("submitted", "")]
    call_command("load_demo", verbosity=0)
    assert ObjectionCase.objects.count() == 4


def test_the_desk_and_my_list_read_a_page_in_a_bounded_number_of_queries(
    travel,
    storage,
    applicant,
    enterprise,
    market_bureau,
    intake,
    credit_centre,
    rule_sets,
    django_assert_max_num_queries,
):
    """Issue 15 item 5: the desk's page ids come from the inbox rows by deadline, the applicant's from the
    cases by date; then only the page's cases are read — the same few queries at 3 cases or 100,000."""
    from tests.factories import CreditRecordFactory

    cases = [file(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau)) for _ in range(3)]
    desk = login(intake)
    desk.get("/objection/desk/")
    with django_assert_max_num_queries(10):
        page = desk.get("/objection/desk/").content.decode()
    assert all(c.tracking_number in page for c in cases)
    mine = login(applicant)
    mine.get("/objection/")
    with django_assert_max_num_queries(10):
        page = mine.get("/objection/").content.decode()
    assert all(c.tracking_number in page for c in cases)
