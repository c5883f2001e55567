"""The credit-repair portal and desk over HTTP (PROCEDURES.md §1): what the applicant and the department
see and may do, and what everyone else may not."""

import datetime as dt
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import CaseActivity, RepairApplication, RepairState
from cases.models.attachments import Attachment
from cases.services import repair as svc
from notices.models import Notice
from tests.factories import CreditRecordFactory
from workflows import engine

pytestmark = pytest.mark.django_db


# --- small real files ------------------------------------------------------------------------------------
def tiny_pdf() -> bytes:
    """A valid one-page PDF (catalog, pages, page; xref offsets computed)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png() -> bytes:
    """A valid 1×1 white PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


def pdf_upload(name="缴款凭证.pdf"):
    return SimpleUploadedFile(name, tiny_pdf(), content_type="application/pdf")


def png_upload(name="营业执照.png"):
    return SimpleUploadedFile(name, tiny_png(), content_type="image/png")


FIELDS = {
    "contact_name": "赵六",
    "contact_phone": "0371-66668888",
    "statement": "已于2026年3月20日缴清罚款并完成整改。",
    "signer_name": "张三",
    "signer_capacity": "legal_rep",
}


# --- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def eligible_record(enterprise, market_bureau, rule_sets):
    return CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        title="未按规定公示年度报告",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )


def submit_case(applicant, record):
    app = svc.repair_draft_save(
        actor=applicant,
        record=record,
        contact_name="赵六",
        contact_phone="13800000000",
        statement="已缴清罚款并完成整改。",
    )
    svc.repair_attach(actor=applicant, application=app, purpose=Attachment.Purpose.PROOF, uploaded=pdf_upload())
    svc.repair_sign_commitment(actor=applicant, application=app, signer_name="张三", capacity="legal_rep")
    return svc.repair_submit(actor=applicant, application=app)


@pytest.fixture
def submitted(applicant, eligible_record):
    return submit_case(applicant, eligible_record)


def html(response, status=200) -> str:
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


# --- the applicant applies ----------------------------------------------------------------------------------
def test_it_takes_the_applicant_from_the_record_to_a_submitted_case(client, applicant, eligible_record):
    client.force_login(applicant)
    record_page = html(client.get(reverse("record_detail", args=[eligible_record.pk])))
    apply_url = reverse("repair_apply", args=[eligible_record.pk])
    assert "申请信用修复" in record_page and apply_url in record_page

    page = html(client.get(apply_url))
    assert "符合申请信用修复的基本条件" in page
    assert "郑重承诺" in page and eligible_record.title in page  # the commitment text, in full

    # Save the draft with a real PDF proof and a PNG licence.
    response = client.post(apply_url, {**FIELDS, "action": "save", "proof": pdf_upload(), "licence": png_upload()})
    app = RepairApplication.objects.get(record=eligible_record)
    assert response.status_code == 302 and response["Location"] == reverse("repair_edit", args=[app.pk])
    assert {a.purpose: a.mime_type for a in app.attachments.all()} == {
        "proof": "application/pdf",
        "licence": "image/png",
    }

    # A program renamed to .pdf is refused by its content; what was typed and uploaded is kept.
    edit_url = reverse("repair_edit", args=[app.pk])
    typed = {**FIELDS, "statement": "补充说明：已完成整改复查。"}
    page = html(
        client.post(edit_url, {**typed, "action": "save", "attorney": SimpleUploadedFile("委托书.pdf", EXE)}),
        status=400,
    )
    assert "文件“委托书.pdf”的内容不是PDF、JPEG或PNG格式" in page
    assert "补充说明：已完成整改复查。" in page and "0371-66668888" in page
    assert "缴款凭证.pdf" in page and "营业执照.png" in page
    assert app.attachments.count() == 2

    # Sign the commitment, then submit.
    assert client.post(edit_url, {**FIELDS, "action": "sign"}).status_code == 302
    app.refresh_from_db()
    assert app.commitment.signer_name == "张三" and "郑重承诺" in app.commitment.text
    response = client.post(edit_url, {**FIELDS, "action": "submit"})
    app.refresh_from_db()
    assert app.state == RepairState.SUBMITTED
    assert response["Location"] == reverse("repair_status", args=[app.pk])

    status = html(client.get(response["Location"]))
    assert app.tracking_number in status and "办件编号" in status
    assert "受理审查" in status  # the current step, by name
    explanation = svc._clock(app, svc.ACCEPTANCE)
    from workflows.selectors import clock_status

    assert clock_status(explanation).explanation in status
    assert "剩余" in status and "个工作日" in status

    mine = html(client.get(reverse("repair_my_list")))
    assert app.tracking_number in mine and "受理审查" in mine


def test_a_bad_phone_number_is_explained_and_the_statement_kept(client, applicant, eligible_record):
    client.force_login(applicant)
    page = html(
        client.post(
            reverse("repair_apply", args=[eligible_record.pk]), {**FIELDS, "contact_phone": "call me", "action": "save"}
        ),
        status=400,
    )
    assert "请填写有效的联系电话" in page and FIELDS["statement"] in page
    assert not RepairApplication.objects.exists()


def test_it_explains_why_a_record_cannot_yet_be_repaired(client, applicant, enterprise, market_bureau, rule_sets):
    record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=dt.date(2026, 9, 1),
        publication_date=dt.date(2026, 9, 2),
        display_min_until=dt.date(2099, 6, 5),
        display_max_until=dt.date(2099, 12, 5),
    )
    client.force_login(applicant)
    page = html(client.get(reverse("repair_apply", args=[record.pk])))
    assert "2099年6月5日后方可申请" in page
    # Submitting anyway is refused with the same explanation, and the draft keeps what was typed.
    client.post(reverse("repair_apply", args=[record.pk]), {**FIELDS, "action": "save", "proof": pdf_upload()})
    app = RepairApplication.objects.get(record=record)
    page = html(client.post(reverse("repair_edit", args=[app.pk]), {**FIELDS, "action": "submit"}), status=400)
    assert "2099年6月5日后方可申请" in page and FIELDS["statement"] in page
    app.refresh_from_db()
    assert app.state == RepairState.DRAFT


# --- who sees what ------------------------------------------------------------------------------------------
def test_another_enterprise_gets_404_on_the_case_its_materials_and_notices(
    client, submitted, handler, other_applicant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        svc.repair_accept(actor=handler, application=submitted)
    notice = Notice.objects.get(object_id=submitted.pk, kind="repair_accepted")
    assert notice.status == Notice.Status.ISSUED
    attachment = submitted.attachments.first()
    client.force_login(other_applicant)
    for url in (
        reverse("repair_status", args=[submitted.pk]),
        reverse("repair_edit", args=[submitted.pk]),
        reverse("repair_withdraw", args=[submitted.pk]),
        reverse("repair_attachment", args=[submitted.pk, attachment.pk]),
        reverse("notices:detail", args=[notice.pk]),
        reverse("notices:download", args=[notice.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("repair_chase", args=[submitted.pk])).status_code == 404
    assert submitted.tracking_number not in html(client.get(reverse("repair_my_list")))


def test_the_applicant_downloads_its_materials_and_notices(
    client, submitted, applicant, handler, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        svc.repair_accept(actor=handler, application=submitted)
    client.force_login(applicant)
    page = html(client.get(reverse("repair_status", args=[submitted.pk])))
    notice = Notice.objects.get(object_id=submitted.pk, kind="repair_accepted")
    assert reverse("notices:download", args=[notice.pk]) in page and notice.number in page
    attachment = submitted.attachments.get()
    response = client.get(reverse("repair_attachment", args=[submitted.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == tiny_pdf()


def test_the_wrong_department_gets_404(client, submitted, other_handler):
    attachment = submitted.attachments.first()
    client.force_login(other_handler)
    assert client.get(reverse("repair_desk_case", args=[submitted.pk])).status_code == 404
    assert client.get(reverse("repair_attachment", args=[submitted.pk, attachment.pk])).status_code == 404
    assert client.post(reverse("repair_desk_act", args=[submitted.pk, "accept"])).status_code == 404
    assert submitted.tracking_number not in html(client.get(reverse("repair_desk")))
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUBMITTED


def test_a_supervisor_reads_the_case_but_not_the_materials(client, submitted, supervisor):
    client.force_login(supervisor)
    page = html(client.get(reverse("repair_desk_case", args=[submitted.pk])))
    assert submitted.tracking_number in page and "受理" in page
    attachment = submitted.attachments.first()
    assert client.get(reverse("repair_attachment", args=[submitted.pk, attachment.pk])).status_code == 404
    assert client.post(reverse("repair_desk_act", args=[submitted.pk, "accept"])).status_code == 403


def test_staff_never_see_drafts(client, applicant, eligible_record, handler):
    app = svc.repair_draft_save(
        actor=applicant, record=eligible_record, contact_name="a", contact_phone="1", statement="s"
    )
    client.force_login(handler)
    assert client.get(reverse("repair_desk_case", args=[app.pk])).status_code == 404


# --- the department's steps -----------------------------------------------------------------------------------
def test_the_handler_accepts_and_proposes_and_only_the_leader_signs_off(client, submitted, handler, leader):
    desk_url = reverse("repair_desk_case", args=[submitted.pk])
    client.force_login(handler)
    page = html(client.get(desk_url))
    refuse_url = reverse("repair_desk_act", args=[submitted.pk, "refuse"])
    assert "要求补正" in page and refuse_url not in page  # 不予受理 is the leader's
    assert client.post(reverse("repair_desk_act", args=[submitted.pk, "accept"])).status_code == 302
    page = html(client.get(desk_url))
    assert "审查意见" in page
    response = client.post(
        reverse("repair_desk_act", args=[submitted.pk, "propose"]), {"propose-proposal": "reject", "propose-reason": ""}
    )
    assert "不予修复和延期必须写明理由" in html(response, status=400)
    client.post(
        reverse("repair_desk_act", args=[submitted.pk, "propose"]),
        {"propose-proposal": "approve", "propose-reason": "罚款已缴清，整改到位"},
    )
    submitted.refresh_from_db()
    assert submitted.state == RepairState.PENDING_SIGNOFF

    # The handler sees the proposal waiting, but no sign-off form, and a forged POST is refused.
    page = html(client.get(desk_url))
    signoff_url = reverse("repair_desk_act", args=[submitted.pk, "signoff"])
    assert "等待部门负责人签批" in page and signoff_url not in page
    assert client.post(signoff_url, {"signoff-agree": "yes"}).status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == RepairState.PENDING_SIGNOFF

    client.force_login(leader)
    assert signoff_url in html(client.get(desk_url))
    assert client.post(signoff_url, {"signoff-agree": "yes", "signoff-comment": ""}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == RepairState.APPROVED
    assert reverse("repair_desk_act", args=[submitted.pk, "revoke"]) in html(client.get(desk_url))


def test_the_slower_officer_is_told_the_step_was_already_taken(client, submitted, handler, leader):
    client.force_login(leader)
    page = html(client.get(reverse("repair_desk_case", args=[submitted.pk])))
    assert "不予受理" in page
    svc.repair_accept(actor=handler, application=submitted)  # the colleague was quicker
    response = client.post(reverse("repair_desk_act", args=[submitted.pk, "refuse"]), {"refuse-reason": "材料不全"})
    assert "该事项已由他人处理或状态已变化" in html(response, status=409)
    submitted.refresh_from_db()
    assert submitted.state == RepairState.ACCEPTED


def test_a_supplement_request_reaches_the_applicant_who_answers_it(client, submitted, handler, applicant):
    client.force_login(handler)
    url = reverse("repair_desk_act", args=[submitted.pk, "supplement"])
    # 一次性告知: the items are picked from the materials list; a note alone is not a request.
    refused = html(client.post(url, {"supplement-missing": "罚款缴纳银行回单原件扫描件"}), status=400)
    assert "请从材料清单中勾选需要补正的材料" in refused and "罚款缴纳银行回单原件扫描件" in refused
    client.post(url, {"supplement-items": ["proof"], "supplement-missing": "罚款缴纳银行回单原件扫描件"})
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUPPLEMENTING

    client.force_login(applicant)
    status_url = reverse("repair_status", args=[submitted.pk])
    page = html(client.get(status_url))
    due = submitted.supplement_due
    assert "罚款缴纳银行回单原件扫描件" in page and f"{due.year}年{due.month}月{due.day}日前" in page
    supplement_url = reverse("repair_supplement", args=[submitted.pk])
    assert "请先上传补正材料" in html(client.post(supplement_url, {"action": "submit"}), status=400)
    client.post(supplement_url, {"action": "submit", "file": pdf_upload("银行回单.pdf"), "note": "已补充"})
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUBMITTED
    assert engine.open_node_name(submitted) == "acceptance"


# --- the queue ------------------------------------------------------------------------------------------------
def test_the_queue_lists_the_nearest_deadline_first(
    client, applicant, enterprise, market_bureau, rule_sets, handler, other_handler, eligible_record
):
    older = submit_case(applicant, eligible_record)
    second_record = CreditRecordFactory(
        subject=enterprise,
        provider=market_bureau,
        decision_date=dt.date(2026, 3, 5),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    newer = submit_case(applicant, second_record)
    # Accepted, the older case now runs against the (longer) decision limit; the newer one still against the
    # (shorter) acceptance limit, so it comes first although it arrived later.
    svc.repair_accept(actor=handler, application=older)
    client.force_login(handler)
    response = client.get(reverse("repair_desk"))
    rows = [a.tracking_number for a in response.context["page"].object_list]
    assert rows == [newer.tracking_number, older.tracking_number]
    page = html(response)
    assert page.index(newer.tracking_number) < page.index(older.tracking_number)
    assert "受理审查" in page and "审查并提出意见" in page and "剩余" in page

    client.force_login(other_handler)
    assert list(client.get(reverse("repair_desk")).context["page"].object_list) == []


def test_a_chase_up_shows_on_the_desk(client, submitted, applicant, handler):
    client.force_login(applicant)
    response = client.post(reverse("repair_chase", args=[submitted.pk]), {"message": "急需参加招投标"})
    assert response.status_code == 302
    again = client.post(reverse("repair_chase", args=[submitted.pk]), {"message": ""})
    assert "今天已经催办过" in html(again, status=400)
    assert CaseActivity.objects.filter(object_id=submitted.pk, kind=CaseActivity.Kind.CHASED).count() == 1

    client.force_login(handler)
    queue = html(client.get(reverse("repair_desk")))
    assert "已催办1次" in queue
    case_page = html(client.get(reverse("repair_desk_case", args=[submitted.pk])))
    assert "申请人已在本环节催办1次" in case_page and "急需参加招投标" in case_page


def test_the_applicant_withdraws_after_confirming(client, submitted, applicant, handler):
    client.force_login(applicant)
    withdraw_url = reverse("repair_withdraw", args=[submitted.pk])
    assert "确认撤回" in html(client.get(withdraw_url))
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUBMITTED  # looking at the confirmation changes nothing
    assert client.post(withdraw_url, {"reason": "已通过其他途径解决"}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == RepairState.WITHDRAWN
    page = html(client.get(reverse("repair_status", args=[submitted.pk])))
    assert "已撤回" in page and withdraw_url not in page

    client.force_login(handler)
    assert submitted.tracking_number not in html(client.get(reverse("repair_desk")))


def test_the_desk_home_and_the_portal_nav_link_the_repair_pages(client, applicant, handler):
    client.force_login(handler)
    # The repair desk is the inbox filtered to repairs (issue 13 item 1).
    assert f"{reverse('inbox')}?procedure=repair" in html(client.get(reverse("desk")))
    client.force_login(applicant)
    assert reverse("repair_my_list") in html(client.get(reverse("subject_list")))


def test_the_queue_reads_a_page_in_a_fixed_number_of_queries(
    client, applicant, enterprise, market_bureau, handler, eligible_record
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit_case(applicant, eligible_record)
    client.force_login(handler)
    client.get(reverse("repair_desk"))  # the first page after login does its one-off work (session, caches)
    with CaptureQueriesContext(connection) as one:
        html(client.get(reverse("repair_desk")))
    for _ in range(3):
        more = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=dt.date(2026, 3, 5),
            display_min_until=dt.date(2026, 6, 5),
            display_max_until=dt.date(2027, 3, 5),
        )
        submit_case(applicant, more)
    with CaptureQueriesContext(connection) as four:
        page = html(client.get(reverse("repair_desk")))
    assert page.count("XF") >= 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_a_decided_case_shows_no_running_deadline_to_the_applicant(client, submitted, applicant, handler, leader):
    svc.repair_accept(actor=handler, application=submitted)
    svc.repair_propose(actor=handler, application=submitted, proposal="approve", reason="材料齐全")
    svc.repair_signoff(actor=leader, application=submitted, agree=True)
    client.force_login(applicant)
    row = client.get(reverse("repair_my_list")).context["page"].object_list[0]
    assert row.state == RepairState.APPROVED and row.clock is None
    page = html(client.get(reverse("repair_status", args=[submitted.pk])))
    assert "准予修复" in page and "向信用平台报送" not in page and "当前环节" not in page


def test_the_desk_and_my_list_read_a_page_in_a_bounded_number_of_queries(
    client, applicant, handler, enterprise, market_bureau, eligible_record, django_assert_max_num_queries
):
    """Issue 15 item 5: a list's first page costs the same few queries at 3 cases or 100,000 — its ids come
    from an index (the inbox rows by deadline; the cases by date), then the page's cases are read whole."""
    records = [eligible_record] + [
        CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=dt.date(2026, 3, 5),
            display_min_until=dt.date(2026, 6, 5),
            display_max_until=dt.date(2027, 3, 5),
        )
        for _ in range(3)
    ]
    cases = [submit_case(applicant, record) for record in records]
    client.force_login(handler)
    client.get(reverse("repair_desk"))  # the session and caches, as for any later request
    with django_assert_max_num_queries(10):
        response = client.get(reverse("repair_desk"))
    assert {a.pk for a in response.context["page"].object_list} == {c.pk for c in cases}
    client.force_login(applicant)
    client.get(reverse("repair_my_list"))
    with django_assert_max_num_queries(10):
        page = html(client.get(reverse("repair_my_list")))
    assert all(c.tracking_number in page for c in cases)
