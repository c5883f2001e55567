"""Rectification pages go through forms: a refused step keeps what was typed, bad ids answer 400, the list pages."""

import pytest

from cases.models.rectification import EscalationStep, RectificationCase
from tests.rectification_support import new_case, substantiated_case

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
    assert "这个字段是必填项" in page or "This field is required" in page
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
