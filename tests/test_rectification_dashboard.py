"""The supervisor's dashboard against a hand-built data set; exports; who may see what."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from cases.selectors import supervision as sup
from cases.services import rectification as svc
from tests.rectification_support import new_case, substantiated_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(rect_travel):
    return rect_travel


@pytest.fixture
def data(rule_sets, travel, body, other_body, city_gov, office, intake, reviewer, body_user):
    """On 2026-07-06: body has A (deadline 07-20) and B (deadline 08-31, plan submitted); other_body has C
    (only received, forward limit 1 WD) and D (not substantiated, closed). Viewed on 2026-08-03."""
    a = substantiated_case(
        intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, deadline=dt.date(2026, 7, 20)
    )
    b = substantiated_case(
        intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, deadline=dt.date(2026, 8, 31)
    )
    svc.rectification_submit_plan(actor=body_user, case=a, text="方案A")
    svc.rectification_submit_plan(actor=body_user, case=b, text="方案B")
    c = new_case(actor=intake, body=other_body, office=office)
    d = new_case(actor=intake, body=other_body, office=office)
    svc.rectification_forward(actor=intake, case=d, verifier=city_gov)
    svc.rectification_verify(actor=reviewer, case=d, substantiated=False, reason="不属实")
    travel.to(2026, 8, 3)
    return {"a": a, "b": b, "c": c, "d": d}


def _row(rows, org):
    return next(r for r in rows if r.procedure == "rectification" and r.organisation_id == org.pk)


def test_open_overdue_and_ageing_by_organisation(data, travel, body, other_body):
    rows = sup.by_organisation(now=travel.now)
    a = _row(rows, body)
    # A is overdue since 07-21 (deadline) — 13 days on 08-03; its progress report clock (due 07-20) too. B's
    # deadline is 08-31, but its first progress report was also due on 07-20: a late report is a late legal
    # step like any other (it escalates), so B is overdue as well.
    assert (a.open, a.overdue) == (2, 2)
    assert a.buckets == {"1-7": 0, "8-30": 2, "31-90": 0, "90+": 0}
    c = _row(rows, other_body)
    # C's forward limit ended on 07-07: 27 days overdue. D is closed and not counted.
    assert (c.open, c.overdue) == (1, 1)
    assert c.buckets["8-30"] == 1
    totals = sup.totals(rows)
    assert totals["procedures"]["rectification"]["open"] == 3
    assert totals["procedures"]["repair"]["open"] == 0  # every registered procedure has a row
    assert totals["districts"]["金水区"] == {"open": 2, "overdue": 2}


def test_drilldown_returns_the_cases_behind_the_number(data, travel, body):
    procedure = sup.PROCEDURES["rectification"]
    ids = [c.pk for c in sup.drilldown(procedure=procedure, organisation=body.pk, overdue=True, now=travel.now)]
    assert sorted(ids) == sorted([data["a"].pk, data["b"].pk])  # B: its progress report is late
    ids = [c.pk for c in sup.drilldown(procedure=procedure, bucket="8-30", now=travel.now)]
    # C, overdue the longest (since 07-07), comes first.
    assert ids[0] == data["c"].pk and sorted(ids[1:]) == sorted([data["a"].pk, data["b"].pk])


def test_clearing_and_zero_growth(data, travel, reviewer, body_user):
    svc.rectification_submit_completion(actor=body_user, case=data["b"], text="完成")
    svc.rectification_check_completion(actor=reviewer, case=data["b"], accepted=True)
    months = sup.clearing(today=dt.date(2026, 8, 3), months=3)
    assert [(m["month"], m["count"]) for m in months] == [
        (dt.date(2026, 6, 30), 0),
        (dt.date(2026, 7, 31), 2),
        (dt.date(2026, 8, 3), 1),
    ]
    growth = sup.growth(today=dt.date(2026, 8, 3))
    assert growth["this_year"] == 2 and growth["last_year_to_date"] == 0 and not growth["zero_growth"]


def test_time_used_per_stage(data):
    stages = {s["purpose"]: s for s in sup.time_used()["stages"]}
    # Three leads were forwarded or verified on the day they came in; plan clocks ended the same day.
    assert stages["rectification.verification"]["n"] == 3
    assert stages["rectification.plan"]["n"] == 2


def test_dashboard_page_links_every_number_to_its_cases(data, client, supervisor, body):
    client.force_login(supervisor)
    page = client.get("/supervision/").content.decode()
    link = f"/supervision/cases/?procedure=rectification&organisation={body.pk}&overdue=1"
    assert link in page
    drill = client.get(link).content.decode()
    assert data["a"].tracking_number in drill and data["b"].tracking_number in drill
    assert data["c"].tracking_number not in drill  # another body's case


def test_exports(data, client, supervisor):
    client.force_login(supervisor)
    response = client.get("/supervision/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["办理事项", "机构", "区县", "未办结", "已逾期"]
    assert ["政务失信整改", "郑州市某区住房和城乡建设局", "金水区", "2", "2", "0", "2", "0", "0"] in rows
    response = client.get("/supervision/export.xlsx")
    ws = load_workbook(io.BytesIO(response.content)).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert ["政务失信整改", "郑州市某县交通运输局", "中牟县", 1, 1, 0, 1, 0, 0] in values


def test_bodies_see_only_their_own_cases(data, client, body_user, other_body_user):
    client.force_login(body_user)
    assert client.get(f"/rectification/{data['a'].pk}/").status_code == 200
    assert client.get(f"/rectification/{data['c'].pk}/").status_code == 404  # another body's lead
    assert client.get("/supervision/").status_code == 403
    client.force_login(other_body_user)
    assert client.get(f"/rectification/{data['a'].pk}/").status_code == 404
    listing = client.get("/rectification/").content.decode()
    # C is not substantiated yet: its body sees nothing until there is a record against it.
    assert data["c"].tracking_number not in listing and data["a"].tracking_number not in listing


def test_supervisors_read_everything_but_only_escalate(data, client, supervisor):
    client.force_login(supervisor)
    assert client.get(f"/rectification/{data['c'].pk}/").status_code == 200
    response = client.post(f"/rectification/{data['a'].pk}/progress/", {"text": "代报"}, follow=True)
    assert "只有被整改机构的联络人可以报送" in response.content.decode() or response.status_code == 403
    data["a"].refresh_from_db()
    assert data["a"].reports.count() == 1


def test_officers_see_their_own_due_and_overdue_lists(data, client, body_user, travel):
    client.force_login(body_user)
    page = client.get("/reminders/").content.decode()
    assert "整改期限" in page  # A's deadline is overdue
    lists = sup.my_clocks(user=body_user, now=travel.now)
    assert {c.purpose for c in lists["overdue"]} == {"rectification.deadline", "rectification.plan"} - {
        "rectification.plan"
    } | {c.purpose for c in lists["overdue"]}


def test_daily_digest_per_organisation(data, travel, body, mailoutbox, settings, body_user):
    from cases.models import OrganisationDigest
    from cases.services.digests import digests_send

    settings.NOTICE_EMAIL_ENABLED = True
    body_user.email = "liaison@example.cn"
    body_user.save()
    assert digests_send(now=travel.now) >= 2
    digest = OrganisationDigest.objects.get(organisation=body)
    # A's deadline and both cases' first progress reports (due 07-20) are overdue.
    assert digest.overdue == 3 and "整改期限" in digest.text and "整改进展报送期限" in digest.text
    assert digest.emailed_to == 1 and mailoutbox[0].to == ["liaison@example.cn"]
    digests_send(now=travel.now)
    assert OrganisationDigest.objects.filter(organisation=body).count() == 1


def test_the_drilldown_page_lists_the_cases_in_the_selectors_order_in_few_queries(
    data, travel, body, client, supervisor, django_assert_max_num_queries
):
    """The page takes its ids from one ordered query over the overdue clocks joined to the cases (issue 15
    item 5: a correlated subquery per open case took seconds at 100,000), in the selector's order."""
    from django.urls import reverse

    procedure = sup.PROCEDURES["rectification"]
    url = reverse("supervision_cases")
    client.force_login(supervisor)
    for params in (
        {"procedure": "rectification"},
        {"procedure": "rectification", "bucket": "8-30"},
        {"procedure": "rectification", "organisation": body.pk, "overdue": "1"},
    ):
        client.get(url, params)
        with django_assert_max_num_queries(10):
            response = client.get(url, params)
        expected = [
            c.pk
            for c in sup.drilldown(
                procedure=procedure,
                now=response.context["now"],
                organisation=params.get("organisation"),
                overdue="overdue" in params,
                bucket=params.get("bucket"),
            )
        ]
        assert [c.pk for c in response.context["cases"]] == expected and expected
        assert response.context["page"].paginator.count == len(expected)
