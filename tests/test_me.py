# ruff: noqa: F811  (pytest fixtures imported from tests.test_repair_flow)
"""The personal centre (issue 12, item 2): every case of every subject the person acts for, its step and
progress, the applicant's own next deadline in red when close, unread messages and latest notices — over
HTTP, within the authorisation's scope."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from cases.models import SubjectAuthorisation
from cases.services import repair as svc
from tests.factories import AuthorisationFactory, CreditRecordFactory, EnterpriseFactory, UserFactory
from tests.test_i18n import english_catalog  # noqa: F401
from tests.test_objection_paths import file as file_objection
from tests.test_repair_flow import eligible_record, make_submitted, storage, submitted, travel  # noqa: F401


def _row(html: str, number: str) -> str:
    match = re.search(
        r"<tr>\s*<td class=\"code\">(?:(?!</tr>).)*" + re.escape(number) + r"(?:(?!</tr>).)*</tr>", html, re.S
    )
    assert match, f"{number} is not listed"
    return match.group(0)


@pytest.mark.django_db
def test_it_lists_every_case_of_every_subject_with_step_progress_and_the_applicants_deadline(
    client, travel, storage, applicant, enterprise, market_bureau, handler, credit_centre, rule_sets
):
    second = EnterpriseFactory(name="郑州庚物流有限公司")
    AuthorisationFactory(user=applicant, subject=second)
    stranger = EnterpriseFactory(name="郑州辛餐饮有限公司")
    repair = make_submitted(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    objection = file_objection(applicant, CreditRecordFactory(subject=second, provider=market_bureau))
    other_user = UserFactory()
    AuthorisationFactory(user=other_user, subject=stranger)
    hidden = make_submitted(other_user, CreditRecordFactory(subject=stranger, provider=market_bureau))

    client.force_login(applicant)
    html = client.get(reverse("me")).content.decode()
    assert "我的办件" in html and hidden.tracking_number not in html and stranger.name not in html
    row = _row(html, repair.tracking_number)
    assert "信用修复" in row and enterprise.name in row and "受理" in row
    assert '<progress value="2" max="4"' in row and 'aria-current="step"' in row
    row = _row(html, objection.tracking_number)
    assert "异议处理" in row and second.name in row and '<progress value="2" max="4"' in row

    # 补正: the window is the applicant's; it shows with its date, in red from 2 working days before.
    svc.repair_request_supplement(actor=handler, application=repair, missing="缺少营业执照复印件")
    row = _row(client.get(reverse("me")).content.decode(), repair.tracking_number)
    assert "补正期限" in row and "2026-07-13" in row and "deadline-close" not in row
    travel.to(2026, 7, 9)
    client.force_login(applicant)  # the idle session has long expired
    row = _row(client.get(reverse("me")).content.decode(), repair.tracking_number)
    assert "deadline-close" in row and "还剩2个工作日" in row

    # Unread messages and the notices section sit on the same page; the navigation reaches the inbox and
    # the verification page.
    html = client.get(reverse("me")).content.decode()
    assert "请补正申请材料" in html
    assert f'href="{reverse("notices:inbox")}"' in html and f'href="{reverse("notices:verify")}"' in html
    assert f'href="{reverse("track")}"' in html


@pytest.mark.django_db
def test_an_agent_sees_only_the_procedures_of_the_scope_and_nothing_after_the_end_date(
    client, travel, storage, applicant, enterprise, market_bureau, credit_centre, rule_sets
):
    repair = make_submitted(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    objection = file_objection(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    agent = UserFactory(display_name="经办人小李")
    auth = AuthorisationFactory(
        user=agent, subject=enterprise, basis="employee", scope="repair", valid_until=dt.date(2026, 7, 10)
    )
    client.force_login(agent)
    html = client.get(reverse("me")).content.decode()
    assert repair.tracking_number in html and objection.tracking_number not in html
    assert client.get(reverse("objection_status", args=[objection.pk])).status_code == 404
    assert client.get(reverse("repair_status", args=[repair.pk])).status_code == 200

    travel.to(2026, 7, 13)
    client.force_login(agent)  # the idle session has long expired
    html = client.get(reverse("me")).content.decode()
    assert repair.tracking_number not in html
    assert client.get(reverse("repair_status", args=[repair.pk])).status_code == 404
    assert SubjectAuthorisation.objects.get(pk=auth.pk).valid_until == dt.date(2026, 7, 10)


@pytest.mark.django_db
def test_staff_have_no_personal_centre_and_visitors_are_sent_to_login(client, handler):
    response = client.get(reverse("me"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(handler)
    assert client.get(reverse("me")).status_code == 403


@pytest.mark.django_db
def test_the_personal_centre_is_in_english_too(client, applicant, enterprise, english_catalog):
    client.force_login(applicant)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("me")})
    html = client.get(reverse("me")).content.decode()
    assert "Personal centre" in html and "My cases" in html and "Credit subjects I can act for" in html
    assert "个人中心" not in html


@pytest.mark.django_db
def test_the_personal_centre_costs_the_same_queries_for_many_cases(
    client, travel, storage, applicant, enterprise, market_bureau, rule_sets
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        client.get(reverse("me"))  # the first page after login does its one-off work
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("me")).status_code == 200
        return len(ctx.captured_queries)

    make_submitted(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    client.force_login(applicant)
    one = queries()
    for _ in range(5):
        make_submitted(applicant, CreditRecordFactory(subject=enterprise, provider=market_bureau))
    assert queries() == one
