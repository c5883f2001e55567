"""The main pages render, in Chinese, with what each kind of visitor came for."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import CreditRecord, RecordChange
from tests.factories import AuthorisationFactory, CreditRecordFactory, EnterpriseFactory


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- landing --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_visitors_land_on_the_public_search(client):
    response = client.get("/", follow=True)
    html = _html(response)
    assert response.redirect_chain[-1][0] == reverse("public_search")
    assert "信用公示查询" in html and "统一社会信用代码" in html
    assert 'lang="zh-hans"' in html


@pytest.mark.django_db
def test_applicants_land_on_their_personal_centre(client, applicant, enterprise):
    client.force_login(applicant)
    response = client.get("/", follow=True)
    html = _html(response)
    assert response.redirect_chain[-1][0] == reverse("me")
    assert "个人中心" in html and enterprise.name in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "administrator"])
def test_staff_who_take_no_tasks_land_on_the_desk(client, request, record, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get("/", follow=True)
    html = _html(response)
    assert response.redirect_chain[-1][0] == reverse("desk")
    assert "工作台" in html and "公示中" in html


@pytest.mark.django_db
def test_the_desk_counts_the_organisations_records_by_display_state(
    client, handler, record, other_record, market_bureau, enterprise
):
    disputed = CreditRecordFactory(subject=enterprise, provider=market_bureau)
    CreditRecord.objects.filter(pk=disputed.pk).update(display_state="objection")
    client.force_login(handler)
    states = {value: n for value, _label, n in client.get(reverse("desk")).context["states"]}
    assert states["displayed"] == 1 and states["objection"] == 1  # the tax bureau's record is not counted


@pytest.mark.django_db
def test_the_desk_is_for_staff(client, applicant):
    client.force_login(applicant)
    assert client.get(reverse("desk")).status_code == 403


@pytest.mark.django_db
def test_login_page_is_in_chinese(client):
    html = _html(client.get(reverse("login")))
    assert "登录" in html


# --- the public credit website --------------------------------------------------------------------------


@pytest.mark.django_db
def test_public_search_finds_an_enterprise_by_name_and_by_code(client, record):
    enterprise = record.subject
    for query in ("甲科技", enterprise.uscc.lower()):
        html = _html(client.get(reverse("public_search"), {"q": query}))
        assert enterprise.name in html
        assert reverse("public_subject", args=[enterprise.pk]) in html
        assert "1 条" in html


@pytest.mark.django_db
def test_public_search_needs_more_than_one_character_to_search_names(client, enterprise):
    html = _html(client.get(reverse("public_search"), {"q": "甲"}))
    assert enterprise.name not in html
    assert "未找到" in html


@pytest.mark.django_db
def test_public_subject_page_shows_the_record_as_the_credit_website_does(client, record):
    html = _html(client.get(reverse("public_subject", args=[record.subject_id])))
    assert "公示中的信用信息" in html
    for text in (record.title, record.decision_number, record.provider.name, record.subject.uscc, "行政处罚信息"):
        assert text in html


@pytest.mark.django_db
def test_public_subject_page_says_so_when_nothing_is_displayed(client, enterprise):
    html = _html(client.get(reverse("public_subject", args=[enterprise.pk])))
    assert "该主体暂无公示中的失信信息" in html


# --- portal and desk pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_subject_page_lists_the_records_with_their_display_state(client, applicant, record):
    client.force_login(applicant)
    html = _html(client.get(reverse("subject_detail", args=[record.subject_id])))
    for text in ("信用记录", record.title, "公示中", "法定代表人", record.subject.uscc):
        assert text in html


@pytest.mark.django_db
def test_record_page_shows_its_change_history_in_words(client, applicant, record, intake):
    RecordChange.objects.create(
        record=record,
        field="display_state",
        old_value="displayed",
        new_value="objection",
        reason="收到异议申请",
        case_reference="郑信异〔2026〕第0001号",
        actor=intake,
    )
    CreditRecord.objects.filter(pk=record.pk).update(display_state="objection")
    client.force_login(applicant)
    html = _html(client.get(reverse("record_detail", args=[record.pk])))
    for text in ("变更记录", "公示状态", "公示中", "异议标注", "收到异议申请", "郑信异〔2026〕第0001号", "异议处理中"):
        assert text in html


@pytest.mark.django_db
def test_record_page_without_changes_says_so(client, handler, record):
    client.force_login(handler)
    html = _html(client.get(reverse("record_detail", args=[record.pk])))
    assert "该记录自公示以来未发生变更" in html
    assert "最长公示期届满日" in html


@pytest.mark.django_db
def test_a_record_no_longer_displayed_is_explained_to_its_subject(client, applicant, record):
    CreditRecord.objects.filter(pk=record.pk).update(display_state="repaired")
    client.force_login(applicant)
    html = _html(client.get(reverse("record_detail", args=[record.pk])))
    assert "已修复" in html and "不在信用网站公示" in html


@pytest.mark.django_db
def test_record_list_filters_by_display_state(client, intake, record, other_record):
    CreditRecord.objects.filter(pk=other_record.pk).update(display_state="objection")
    client.force_login(intake)
    response = client.get(reverse("record_list"), {"state": "objection"})
    html = _html(response)
    assert list(response.context["page"].object_list) == [other_record]
    assert "信用记录" in html and "异议标注" in html


@pytest.mark.django_db
def test_staff_find_a_subject_by_its_code(client, reviewer, record, other_record):
    client.force_login(reviewer)
    response = client.get(reverse("subject_list"), {"q": record.subject.uscc})
    assert list(response.context["page"].object_list) == [record.subject]
    assert "信用主体" in _html(response)


@pytest.mark.django_db
def test_an_applicant_without_authorisations_is_told_how_to_get_one(client, outsider):
    client.force_login(outsider)
    html = _html(client.get(reverse("subject_list")))
    assert "您尚未获得任何信用主体的授权" in html


@pytest.mark.django_db
def test_an_unknown_page_answers_in_chinese(client):
    response = client.get(reverse("public_subject", args=[987654]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


# --- no N+1 ---------------------------------------------------------------------------------------------


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["subject_list", "record_list"])
def test_list_pages_cost_the_same_number_of_queries_for_many_rows(client, applicant, market_bureau, url_name):
    def add_subjects(n):
        for _ in range(n):
            subject = EnterpriseFactory()
            AuthorisationFactory(user=applicant, subject=subject)
            CreditRecordFactory(subject=subject, provider=market_bureau)

    client.force_login(applicant)
    add_subjects(2)
    client.get(reverse(url_name))  # the first page after login does its one-off work (session, caches)
    few = _query_count(client, reverse(url_name))
    add_subjects(10)
    many = _query_count(client, reverse(url_name))
    assert few == many


# --- in a real browser ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_it_shows_a_citizen_the_masked_number_then_the_full_one_on_request(page, citizen_subject, market_bureau):
    from cases.models import AuditEvent, Role
    from tests.browser import login, screenshot
    from tests.factories import UserFactory

    citizen = UserFactory(username="wangwu", role=Role.APPLICANT, display_name="王五")
    AuthorisationFactory(user=citizen, subject=citizen_subject, basis="self")
    record = CreditRecordFactory(subject=citizen_subject, provider=market_bureau, title="无证经营")
    CreditRecord.objects.filter(pk=record.pk).update(display_state="objection")

    login(page, citizen)
    page.goto(reverse("subject_list"))
    assert "我的信用主体" in page.inner_text("h1")
    with page.expect_navigation():
        page.click(f"main table a:has-text('{citizen_subject.name}')")
    body = page.inner_text("main")
    assert citizen_subject.masked_id_number in body and citizen_subject.id_number not in body
    screenshot(page, "subject-masked")

    with page.expect_navigation():
        page.click("text=显示完整证件号")
    assert citizen_subject.id_number in page.inner_text("main")
    assert AuditEvent.objects.filter(action="personal_data.view", actor=citizen).count() == 1
    screenshot(page, "subject-revealed")

    with page.expect_navigation():
        page.click("text=查看公示页面（公众所见）")
    public = page.inner_text("main")
    assert "无证经营" in public and "异议处理中" in public
    assert citizen_subject.id_number not in public
    screenshot(page, "public-subject")


def test_chinese_is_the_default_whatever_the_browser_says(client, db):
    """A browser set to English still gets the Chinese service until the person chooses English."""
    page = client.get("/public/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/public/"})
    page = client.get("/public/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en">' in page.content.decode()


def test_the_public_page_pages_through_many_records_and_counts_the_objections(client, enterprise, market_bureau):
    from cases.models import CreditRecord

    records = [CreditRecordFactory(subject=enterprise, provider=market_bureau) for _ in range(45)]
    CreditRecord.objects.filter(pk__in=[r.pk for r in records[:3]]).update(display_state="objection")
    first = client.get(f"/public/subjects/{enterprise.pk}/").content.decode()
    assert "共45条公示中的信用信息，其中3条异议处理中。" in first
    assert first.count('<article class="record') == 20
    last = client.get(f"/public/subjects/{enterprise.pk}/?page=3").content.decode()
    assert last.count('<article class="record') == 5
