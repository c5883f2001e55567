# ruff: noqa: F811 — pytest fixtures imported from tests.test_repair_flow are requested by name
"""Public lateness statistics (issue 13 item 7): per organisation and procedure, limits finished, the share
finished within the legal limit and the median working days, with no personal data, no login."""

import datetime as dt

import pytest

from cases.services import repair as svc
from tests.factories import CreditRecordFactory
from tests.test_repair_flow import make_submitted, storage, travel  # noqa: F401

pytestmark = pytest.mark.django_db


def penalty(enterprise, bureau):
    return CreditRecordFactory(
        subject=enterprise,
        provider=bureau,
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )


@pytest.fixture
def two_acceptances(travel, storage, rule_sets, applicant, enterprise, market_bureau, handler):
    """Two applications received Mon 2026-07-06 (acceptance due Thu 07-09): one accepted the next day
    (1 WD), one accepted on Mon 07-13 (5 WD, late)."""
    on_time = make_submitted(applicant, penalty(enterprise, market_bureau))
    late = make_submitted(applicant, penalty(enterprise, market_bureau))
    travel.to(2026, 7, 7)
    svc.repair_accept(actor=handler, application=on_time)
    travel.to(2026, 7, 13)
    svc.repair_accept(actor=handler, application=late)
    return on_time, late


def test_anyone_sees_each_organisations_share_within_the_limit_and_median(client, two_acceptances, market_bureau):
    response = client.get("/public/statistics/")
    assert response.status_code == 200
    page = response.content.decode()
    table = page[page.index('id="statistics"') :]
    row = f"<tr><td>{market_bureau.name}</td><td>信用修复</td><td>2</td><td>50.0</td><td>3.0</td></tr>"
    assert row in table
    # Counts and organisations only: no subject, tracking number or person.
    on_time, late = two_acceptances
    for private in (on_time.tracking_number, late.tracking_number, on_time.record.subject.name, "张三"):
        assert private not in page


def test_the_statistics_download_as_csv(client, two_acceptances, market_bureau):
    response = client.get("/public/statistics/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert f"{market_bureau.name},信用修复,2,50.0,3.0" in text


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two():
    from cases.selectors.statistics import _median

    assert _median({1: 1, 5: 1}) == 3.0
    assert _median({2: 3, 9: 1}) == 2.0
    assert _median({}) is None


def test_the_dashboard_shows_the_same_figures(client, two_acceptances, market_bureau, supervisor):
    client.force_login(supervisor)
    page = client.get("/supervision/").content.decode()
    section = page[page.index('id="timeliness"') :]
    assert f"<tr><td>{market_bureau.name}</td><td>信用修复</td><td>2</td><td>50.0</td><td>3.0</td></tr>" in section
