"""Rectification pages go through forms: a refused step keeps what was typed, bad ids answer 400, the list pages."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models.rectification import EscalationStep, RectificationCase
from cases.services import escalation
from cases.services import rectification as svc
from notices.models import Notice
from tests.rectification_support import clock_of, new_case, substantiated_case
from tests.test_repair_flow import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(rect_travel):
    return rect_travel


def test_it_keeps_the_typed_lead_when_intake_is_refused(rule_sets, travel, client, intake, body, office):
    client.force_login(intake)
    response = client.post(
        "/rectification/new/",
        {"source": "arrears", "body": body.pk, "complainant_name": "某建筑公司", "summary": "", "facts": "拖欠工程款"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "拖欠工程款" in page and "某建筑公司" in page
    # Django says 这个字段是必填项, DRF (installed for the API, its catalog first) 该字段是必填项.
    assert "字段是必填项" in page or "This field is required" in page
    assert not RectificationCase.objects.exists()


@pytest.mark.parametrize("body", ["abc", "999999", "1 OR 1=1", ""])
def test_it_answers_400_not_500_to_a_body_that_is_not_a_government_body(
    rule_sets, travel, client, intake, office, body
):
    client.force_login(intake)
    response = client.post(
        "/rectification/new/",
        {"source": "arrears", "body": body, "complainant_name": "某公司", "summary": "事项", "facts": "事实"},
    )
    assert response.status_code == 400
    assert not RectificationCase.objects.exists()


def test_it_takes_a_lead_through_the_form(rule_sets, travel, client, intake, body, office):
    client.force_login(intake)
    response = client.post(
        "/rectification/new/",
        {"source": "arrears", "body": body.pk, "complainant_name": "某公司", "summary": "拖欠货款", "facts": "事实"},
    )
    case = RectificationCase.objects.get()
    assert response.status_code == 302 and response.url == f"/rectification/{case.pk}/"
    assert (case.summary, case.complainant_name, case.handling_organisation) == ("拖欠货款", "某公司", body)


def test_a_refused_step_keeps_the_text_and_says_why(
    rule_sets, travel, client, intake, reviewer, body, office, city_gov, supervisor
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    client.force_login(intake)
    # 拒不整改 needs both the facts and the consequences: the facts typed are kept on the page.
    response = client.post(f"/rectification/{case.pk}/refuse/", {"reason": "三次催告未回复", "consequences": ""})
    assert response.status_code == 400
    assert "三次催告未回复" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "awaiting_plan"


def test_a_text_over_the_limit_is_refused_with_the_limit(
    rule_sets, travel, client, intake, reviewer, body, office, city_gov, body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    client.force_login(body_user)
    response = client.post(f"/rectification/{case.pk}/plan/", {"text": "方" * 5001})
    assert response.status_code == 400
    assert "5000" in response.content.decode()
    assert not case.reports.exists()


@pytest.mark.parametrize("clock", ["x", "0", "-1"])
def test_a_bad_clock_id_on_escalation_answers_400(rule_sets, travel, client, intake, body, office, supervisor, clock):
    case = new_case(actor=intake, body=body, office=office)
    client.force_login(supervisor)
    response = client.post(f"/rectification/{case.pk}/escalate/", {"clock": clock, "step": "supervision"})
    assert response.status_code == 400
    assert not EscalationStep.objects.exists()


def test_an_unknown_step_is_404(rule_sets, travel, client, intake, body, office):
    case = new_case(actor=intake, body=body, office=office)
    client.force_login(intake)
    assert client.post(f"/rectification/{case.pk}/teleport/", {}).status_code == 404


def test_the_list_pages_and_filters(rule_sets, travel, client, intake, body, other_body, office):
    cases = [new_case(actor=intake, body=body, office=office) for _ in range(27)]
    other = new_case(actor=intake, body=other_body, office=office)
    client.force_login(intake)
    first = client.get("/rectification/").content.decode()
    assert "第 1 / 2 页" in first
    assert other.tracking_number in first  # newest first
    second = client.get("/rectification/?page=2").content.decode()
    assert cases[0].tracking_number in second
    filtered = client.get(f"/rectification/?organisation={other_body.pk}").content.decode()
    assert other.tracking_number in filtered and cases[0].tracking_number not in filtered
    by_number = client.get(f"/rectification/?q={cases[3].tracking_number}").content.decode()
    assert cases[3].tracking_number in by_number and cases[4].tracking_number not in by_number
    assert client.get("/rectification/?state=nonsense&organisation=abc&page=zz").status_code == 200


# --- issue 13 item 4: evidence, a refusal with its notice, the complainant told, the progress clock --------------
@pytest.fixture
def files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def _pdf(name="plan.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_the_body_files_evidence_with_its_plan_and_only_people_in_scope_download_it(
    rule_sets, travel, files, client, intake, reviewer, body, office, city_gov, body_user, other_body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    client.force_login(body_user)
    response = client.post(f"/rectification/{case.pk}/plan/", {"text": "分期支付工程款", "evidence": _pdf()})
    assert response.status_code == 302
    report = case.reports.get()
    attachment = report.attachments.get()
    assert (attachment.original_name, attachment.purpose, attachment.mime_type) == (
        "plan.pdf",
        "evidence",
        "application/pdf",
    )
    page = client.get(f"/rectification/{case.pk}/").content.decode()
    link = f"/rectification/{case.pk}/attachments/{attachment.pk}/"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    client.force_login(other_body_user)
    assert client.get(link).status_code == 404


def test_evidence_is_checked_by_content_and_the_typed_text_stays(
    rule_sets, travel, files, client, intake, reviewer, body, office, city_gov, body_user
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    client.force_login(body_user)
    fake = SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(f"/rectification/{case.pk}/plan/", {"text": "分期支付工程款", "evidence": fake})
    assert response.status_code == 400
    assert "分期支付工程款" in response.content.decode()
    assert not case.reports.exists()


def test_a_refusal_picks_measures_from_the_list_and_tells_the_body_and_the_complainant(
    rule_sets, travel, client, complainant, enterprise, intake, reviewer, body, office, city_gov
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    svc.rectification_verify(actor=reviewer, case=case, substantiated=True, reason="经核实属实。")
    client.force_login(reviewer)
    page = client.get(f"/rectification/{case.pk}/").content.decode()
    assert "《优化营商环境条例》第六十九条第（七）项" in page  # each measure shows its source
    response = client.post(
        f"/rectification/{case.pk}/refuse/", {"reason": "三次催告拒不报送方案", "consequences": ["accountability"]}
    )
    assert response.status_code == 302
    refusal = Notice.objects.get(kind="rectification_refusal", object_id=case.pk)
    assert refusal.addressee_subject == case.subject
    assert refusal.context["consequences"] == [
        "依法依规追究有关单位和人员责任（《优化营商环境条例》第六十九条第（七）项）"
    ]
    result = Notice.objects.get(kind="rectification_result", object_id=case.pk)
    assert result.addressee_subject == enterprise and result.context["outcome"] == "refused"


def test_a_refusal_outside_the_list_is_refused(rule_sets, travel, client, intake, reviewer, body, office, city_gov):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    client.force_login(reviewer)
    response = client.post(f"/rectification/{case.pk}/refuse/", {"reason": "拒不整改", "consequences": ["jail"]})
    assert response.status_code == 400 and "拒不整改" in response.content.decode()
    with pytest.raises(ValidationError):
        svc.rectification_confirm_refusal(actor=reviewer, case=case, reason="拒不整改", consequences=["jail"])
    assert RectificationCase.objects.get(pk=case.pk).state == "awaiting_plan"


def test_the_complainant_is_told_when_the_case_closes(
    rule_sets, travel, complainant, enterprise, intake, reviewer, body, office, city_gov, body_user
):
    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    svc.rectification_forward(actor=intake, case=case, verifier=city_gov)
    svc.rectification_verify(actor=reviewer, case=case, substantiated=True, reason="经核实属实。")
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    svc.rectification_submit_completion(actor=body_user, case=case, text="已支付全部款项")
    svc.rectification_check_completion(actor=reviewer, case=case, accepted=True)
    result = Notice.objects.get(kind="rectification_result", object_id=case.pk)
    assert result.addressee_subject == enterprise and result.context["outcome"] == "closed"
    assert result.context["body_name"] == body.name


def test_a_late_progress_report_is_escalated_like_the_other_limits(
    rule_sets, travel, intake, reviewer, body, office, city_gov, body_user, supervisor_office
):
    case = substantiated_case(intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov)
    svc.rectification_submit_plan(actor=body_user, case=case, text="方案")
    progress = clock_of(case, svc.PROGRESS)
    day_after = progress.due_date + dt.timedelta(days=1)  # the limit ends at 24:00 on its due date
    travel.to(day_after.year, day_after.month, day_after.day, hh=9)
    escalation.escalation_sweep(now=travel.now)
    assert EscalationStep.objects.filter(clock=progress, step="supervision").exists()
