"""好差评 (issue 12 item 6): the applicant rates a closed case once; a 差评 opens a follow-up for the handling
department's leader with a working-day clock; the supervisor sees satisfaction by organisation and procedure."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cases.models import AuditEvent, CaseRating, RatingFollowUp, RepairState
from cases.services import ratings as svc
from tests.test_repair_flow import drive, eligible_record, storage, submitted, travel  # noqa: F401
from workflows.models import Clock

pytestmark = pytest.mark.django_db


def html(response, status=200) -> str:
    assert response.status_code == status, response.content.decode()[:3000]
    return response.content.decode()


@pytest.fixture
def decided(submitted, handler, leader):  # noqa: F811
    return drive(submitted, RepairState.APPROVED, handler=handler, leader=leader)


def test_an_open_case_cannot_be_rated(client, submitted, applicant):  # noqa: F811
    client.force_login(applicant)
    status = html(client.get(reverse("repair_status", args=[submitted.pk])))
    assert "评价本办件" not in status
    url = reverse("rating_rate", args=["repair", submitted.pk])
    assert "办件办结后才能评价" in html(client.get(url))
    with pytest.raises(svc.RatingError) as refused:
        svc.case_rate(actor=applicant, procedure="repair", case=submitted, grade="satisfied")
    assert refused.value.code == "not_closed"


def test_the_applicant_rates_a_closed_case_once_and_a_repeat_changes_nothing(client, decided, applicant):
    client.force_login(applicant)
    status = html(client.get(reverse("repair_status", args=[decided.pk])))
    url = reverse("rating_rate", args=["repair", decided.pk])
    assert url in status and "评价本办件" in status
    page = html(client.get(url))
    for grade in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert grade in page
    # No grade chosen: a specific error, and the comment typed is kept.
    missing = html(client.post(url, {"comment": "办理很快"}), status=400)
    assert "请选择评价等级" in missing and "办理很快" in missing
    response = client.post(url, {"grade": "very_satisfied", "comment": "办理很快"})
    assert response.status_code == 302 and response["Location"] == reverse("repair_status", args=[decided.pk])
    # A double click: the same rating, no second row.
    client.post(url, {"grade": "very_satisfied", "comment": "办理很快"})
    rating = CaseRating.objects.get()
    assert (rating.grade, rating.comment, rating.organisation, rating.procedure) == (
        "very_satisfied",
        "办理很快",
        decided.handling_organisation,
        "repair",
    )
    assert "您已于" in html(client.get(reverse("repair_status", args=[decided.pk])))
    # Changing one's mind later is refused: the first rating stands.
    with pytest.raises(svc.RatingError) as refused:
        svc.case_rate(actor=applicant, procedure="repair", case=decided, grade="dissatisfied", comment="太慢")
    assert refused.value.code == "already_rated"
    assert not RatingFollowUp.objects.exists()
    assert AuditEvent.objects.filter(action="rating.created").count() == 1


def test_only_the_applicant_may_rate(client, decided, other_applicant, handler, outsider):
    url = reverse("rating_rate", args=["repair", decided.pk])
    for user in (other_applicant, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"grade": "very_dissatisfied", "comment": "x"}).status_code == 404
    client.force_login(handler)
    assert client.post(url, {"grade": "very_satisfied"}).status_code == 403
    assert client.get(reverse("rating_rate", args=["commitment", decided.pk])).status_code == 404
    assert not CaseRating.objects.exists()


def test_a_bad_rating_opens_a_follow_up_for_the_leader_with_a_working_day_clock(
    client,
    decided,
    applicant,
    handler,
    leader,
    supervisor,
    travel,  # noqa: F811
):
    client.force_login(applicant)
    url = reverse("rating_rate", args=["repair", decided.pk])
    no_reason = html(client.post(url, {"grade": "dissatisfied"}), status=400)
    assert "请写明原因" in no_reason
    client.post(url, {"grade": "dissatisfied", "comment": "补正要求反复，电话无人接听"})
    follow_up = RatingFollowUp.objects.get()
    assert follow_up.organisation == decided.handling_organisation and follow_up.state == "open"
    clock = Clock.objects.get(content_type=ContentType.objects.get_for_model(RatingFollowUp), object_id=follow_up.pk)
    # Rated Mon 2026-07-06 (travel): 15 working days → Mon 2026-07-27.
    assert (clock.budget, clock.unit, clock.kind) == (15, "wd", "internal")
    assert clock.organisation == decided.handling_organisation and clock.due_date == dt.date(2026, 7, 27)

    client.force_login(handler)
    page = html(client.get(reverse("rating_follow_ups")))
    assert "补正要求反复，电话无人接听" in page and "由本机构负责人办结" in page
    close = reverse("rating_follow_up_close", args=[follow_up.pk])
    assert client.post(close, {f"f{follow_up.pk}-response": "已回访"}).status_code == 403

    travel.to(2026, 7, 8)
    client.force_login(leader)
    empty = html(client.post(close, {f"f{follow_up.pk}-response": ""}), status=400)
    assert "请写明核实整改及回访情况" in empty
    done = client.post(close, {f"f{follow_up.pk}-response": "已约谈经办人，电话已改为专人值守，并回访申请人"})
    assert done.status_code == 302 and done["Location"] == reverse("rating_follow_ups"), done["Location"]
    follow_up.refresh_from_db()
    clock.refresh_from_db()
    assert follow_up.state == "closed" and follow_up.closed_by == leader
    assert clock.stopped_at is not None
    assert AuditEvent.objects.filter(action="rating.follow_up_closed").count() == 1

    client.force_login(supervisor)
    dashboard = html(client.get(reverse("supervision_dashboard")))
    assert "好差评：按机构和事项" in dashboard and decided.handling_organisation.name in dashboard
    assert "0.0%" in dashboard  # the only rating is a 差评


def test_satisfaction_is_counted_by_organisation_and_procedure(decided, applicant):
    from cases.selectors.ratings import satisfaction_table

    svc.case_rate(actor=applicant, procedure="repair", case=decided, grade="basic")
    [row] = satisfaction_table()
    assert (row.procedure, row.total, row.satisfaction_rate, row.negative) == ("repair", 1, "100.0%", 0)
    assert row.grade_counts == [0, 0, 1, 0, 0]


def test_a_follow_up_past_its_clock_counts_as_late(decided, applicant, travel):  # noqa: F811
    from cases.selectors.ratings import satisfaction_table

    svc.case_rate(actor=applicant, procedure="repair", case=decided, grade="very_dissatisfied", comment="无人答复")
    [row] = satisfaction_table()
    assert (row.open_follow_ups, row.late_follow_ups) == (1, 0)
    # Due Mon 2026-07-27 (15 working days from Mon 07-06); the next day it is late.
    travel.to(2026, 7, 28)
    [row] = satisfaction_table()
    assert (row.open_follow_ups, row.late_follow_ups, row.satisfaction_rate) == (1, 1, "0.0%")
