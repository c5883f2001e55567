"""Issue 10's legal findings (items 9–13) and user-visible defects (14–17, 19), each against the text of law
or PROCEDURES.md it comes from."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import translation

from cases.models import DisplayState
from cases.services.records import RecordStateError, record_expire, record_repair
from cases.services.repair import records_expire_due
from tests.factories import CreditRecordFactory
from workflows.models import Clock
from workflows.selectors import clock_status
from workflows.services.clocks import clock_start


# --- item 9: 严重失信主体名单, Henan 条例 Art 19 ¶3 ------------------------------------------------------
@pytest.mark.django_db
class TestSeriousDishonestyList:
    def _listed(self, enterprise, market_bureau, **kwargs):
        kwargs.setdefault("obligations_performed", True)
        return CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            kind="serious_list",
            severity="serious",
            decision_date=dt.date(2019, 8, 1),
            publication_date=dt.date(2019, 8, 5),
            display_min_until=dt.date(2020, 8, 1),
            display_max_until=dt.date(2022, 8, 1),
            **kwargs,
        )

    def test_it_stays_displayed_past_the_5_year_cap_while_the_subject_is_on_the_list(
        self, rule_sets, enterprise, market_bureau
    ):
        record = self._listed(enterprise, market_bureau)
        # More than 5 years after the decision, maximum period long over, obligations performed.
        with pytest.raises(RecordStateError) as caught:
            record_expire(actor="scheduler", record=record, reason="满五年", today=dt.date(2026, 11, 25))
        assert caught.value.code == "on_serious_list"
        assert "第十九条第三款" in str(caught.value.message)
        assert records_expire_due(today=dt.date(2026, 11, 25)) == 0
        record.refresh_from_db()
        assert record.display_state == DisplayState.DISPLAYED

    def test_removal_from_the_list_ends_its_display(self, rule_sets, enterprise, market_bureau, handler):
        record = self._listed(enterprise, market_bureau)
        record = record_repair(actor=handler, record=record, reason="移出严重失信主体名单")
        assert record.display_state == DisplayState.REPAIRED

    def test_other_records_still_stop_at_the_cap(self, rule_sets, enterprise, market_bureau):
        other = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            kind="admin_penalty",
            severity="serious",
            decision_date=dt.date(2019, 8, 1),
            publication_date=dt.date(2019, 8, 5),
            display_min_until=dt.date(2020, 8, 1),
            display_max_until=dt.date(2022, 8, 1),
            obligations_performed=True,
        )
        assert records_expire_due(today=dt.date(2026, 11, 25)) == 1
        other.refresh_from_db()
        assert other.display_state == DisplayState.EXPIRED


# --- item 10: calendar-day clocks start on the calendar day of receipt --------------------------------
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.django_db
class TestCalendarDayClocks:
    def _start(self, record, market_bureau, handler, received_at, budget=30):
        return clock_start(
            case=record,
            purpose="verification",
            label="核实认定期限",
            budget=budget,
            unit=Clock.Unit.CALENDAR_DAYS,
            received_at=received_at,
            organisation=market_bureau,
            citation="保障中小企业款项支付条例第二十五条",
            actor=handler,
        )

    def test_receipt_on_a_holiday_is_day_0_and_every_day_counts(self, record, market_bureau, handler):
        # Received Sat 3 Oct 2026 (National Day holiday): day 0 is 3 Oct, + 30 days = Mon 2 Nov, a working day.
        clock = self._start(record, market_bureau, handler, dt.datetime(2026, 10, 3, 10, tzinfo=BEIJING))
        assert clock.start_date == dt.date(2026, 10, 3)
        assert clock.due_date == dt.date(2026, 11, 2)

    def test_a_deadline_on_a_non_working_day_moves_to_the_next_working_day(self, record, market_bureau, handler):
        # Received Fri 2 Jan 2026 (元旦 holiday): + 30 days = Sun 1 Feb → Mon 2 Feb.
        clock = self._start(record, market_bureau, handler, dt.datetime(2026, 1, 2, 9, tzinfo=BEIJING))
        assert (clock.start_date, clock.due_date) == (dt.date(2026, 1, 2), dt.date(2026, 2, 2))
        with translation.override("zh-hans"):
            text = clock_status(clock).explanation
        assert "视为" not in text and "顺延至下一工作日" in text

    @override_settings(RECEIPT_AFTER_HOURS_NEXT_DAY=True, RECEIPT_OFFICE_CLOSES="17:30")
    def test_after_hours_receipt_does_not_move_a_calendar_day_count(self, record, market_bureau, handler):
        clock = self._start(record, market_bureau, handler, dt.datetime(2026, 9, 29, 20, tzinfo=BEIJING), budget=90)
        # 29 Sep + 90 days = Mon 28 Dec.
        assert (clock.start_date, clock.due_date) == (dt.date(2026, 9, 29), dt.date(2026, 12, 28))
