"""Clocks: receipt rules, pauses, one capped extension, overdue, explanations, provisional years."""

import datetime as dt
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation

from cases.models import AuditEvent
from workflows.calendar import calendar_alarm_message, end_of_day
from workflows.models import CalendarVersion, Clock, ClockPause
from workflows.selectors import State, clock_status, overdue_clocks
from workflows.services.calendar import calendar_import, calendar_override_save
from workflows.services.clocks import (
    clock_extend,
    clock_pause,
    clock_recompute,
    clock_resume,
    clock_start,
    clock_stop,
    clocks_recompute_open,
)

D = dt.date
BEIJING = dt.timezone(dt.timedelta(hours=8))


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=BEIJING)


@pytest.fixture
def start(record, market_bureau, handler):
    """Start a clock on the ``record`` fixture (any saved model can carry clocks)."""

    def _start(received_at, budget=3, **kwargs):
        options = {
            "case": record,
            "purpose": "accept",
            "label": "受理决定",
            "budget": budget,
            "received_at": received_at,
            "organisation": market_bureau,
            "citation": "国办发〔2025〕22号",
            "extension_cap": 10,
            "actor": handler,
        }
        options.update(kwargs)
        return clock_start(**options)

    return _start


EXAMPLE_ZH = "自2026年9月30日收件起3个工作日，跳过国庆假期10月1日至7日，10月10日（星期六）调休上班，截止2026年10月10日"
EXAMPLE_EN = (
    "3 working days from receipt on 30 Sep 2026, skipping the National Day holiday 1–7 Oct, "
    "Sat 10 Oct is a make-up working day, due 10 Oct 2026"
)


def test_received_30_september_three_working_days_is_due_at_the_end_of_saturday_10_october(start, record):
    clock = start(at(2026, 9, 30))
    assert clock.start_date == D(2026, 9, 30)
    assert clock.due_date == D(2026, 10, 10)
    assert clock.due_at == end_of_day(D(2026, 10, 10))
    assert not clock.provisional and not clock.is_paused
    assert clock.case == record
    assert AuditEvent.objects.filter(action="clock.start", object_id=str(clock.pk)).exists()


def test_the_explanation_says_which_holidays_were_skipped_and_which_makeup_day_counted(start):
    clock = start(at(2026, 9, 30))
    with translation.override("zh-hans"):
        assert clock_status(clock).explanation == EXAMPLE_ZH
    with translation.override("en"):
        assert clock_status(clock).explanation == EXAMPLE_EN


def test_received_on_saturday_counts_from_monday(start):
    clock = start(at(2026, 11, 7))
    assert clock.start_date == D(2026, 11, 9)
    assert clock.due_date == D(2026, 11, 12)
    with translation.override("zh-hans"):
        assert "非工作日收件，视为11月9日收到" in clock_status(clock).explanation


def test_received_during_national_day_counts_from_the_first_working_day_after_it(start):
    clock = start(at(2026, 10, 3))
    # Day 0 Thu 8 Oct; 9 Oct, Sat 10 Oct (make-up), Mon 12 Oct.
    assert clock.start_date == D(2026, 10, 8)
    assert clock.due_date == D(2026, 10, 12)


def test_after_hours_receipt_counts_on_the_same_day_unless_enabled(start):
    assert start(at(2026, 9, 30, 18, 0)).due_date == D(2026, 10, 10)


@override_settings(RECEIPT_AFTER_HOURS_NEXT_DAY=True, RECEIPT_OFFICE_CLOSES="17:30")
def test_after_hours_receipt_counts_from_the_next_working_day_when_enabled(start):
    clock = start(at(2026, 9, 30, 18, 0))
    assert clock.start_date == D(2026, 10, 8)
    assert clock.due_date == D(2026, 10, 12)
    assert start(at(2026, 9, 30, 17, 0)).due_date == D(2026, 10, 10)
    with translation.override("zh-hans"):
        assert "下班后收件，视为10月8日收到" in clock_status(clock).explanation


def test_an_immediate_clock_counts_from_its_own_date(start):
    clock = start(D(2026, 11, 7), budget=1, start_rule=Clock.StartRule.IMMEDIATE)
    assert clock.start_date == D(2026, 11, 7)
    assert clock.due_date == D(2026, 11, 9)


def test_calendar_day_limits_move_off_a_holiday(start):
    clock = start(at(2026, 9, 1), budget=30, unit=Clock.Unit.CALENDAR_DAYS)
    # 1 Sep + 30 days = Thu 1 Oct, National Day → first working day Thu 8 Oct.
    assert clock.due_date == D(2026, 10, 8)
    with translation.override("zh-hans"):
        text = clock_status(clock).explanation
    assert "30日" in text and "届满日10月1日（星期四）为非工作日，顺延至下一工作日" in text
    assert text.endswith("截止2026年10月8日")


def test_calendar_day_limits_leave_paused_days_out(start, handler):
    clock = start(at(2026, 9, 1), budget=30, unit=Clock.Unit.CALENDAR_DAYS)
    clock_pause(clock=clock, actor=handler, reason_code=ClockPause.Reason.EXPERT_REVIEW, on=D(2026, 9, 10))
    clock_resume(clock=clock, actor=handler, on=D(2026, 9, 20))
    # 10 days not counted: 1 Sep + 40 = Sun 11 Oct → Mon 12 Oct.
    assert clock.due_date == D(2026, 10, 12)


# --- pauses (Henan 社会信用条例 Art 41; 补正 [cfg]) -----------------------------------------------------------------
def test_a_pause_leaves_its_working_days_out(start, handler):
    clock = start(at(2026, 11, 2), budget=10)
    assert clock.due_date == D(2026, 11, 16)

    pause = clock_pause(
        clock=clock, actor=handler, reason_code=ClockPause.Reason.TESTING, reason="送检", on=D(2026, 11, 4)
    )
    assert clock.is_paused and clock.due_date is None and clock.due_at is None
    assert pause.paused_by == handler
    status = clock_status(clock, now=at(2026, 11, 5))
    assert status.state == State.PAUSED
    assert status.remaining == 8  # 3 and 4 November were used

    clock_resume(clock=clock, actor=handler, on=D(2026, 11, 6))
    # 5 and 6 November are not counted: due two working days later.
    assert not clock.is_paused
    assert clock.due_date == D(2026, 11, 18)
    with translation.override("zh-hans"):
        assert "11月4日至6日暂停计时（检验），不计2个工作日" in clock_status(clock).explanation
    actions = list(AuditEvent.objects.filter(object_id=str(clock.pk)).values_list("action", flat=True))
    assert actions == ["clock.start", "clock.pause", "clock.resume"]


def test_a_paused_clock_is_never_overdue(start, handler):
    clock = start(at(2026, 11, 2), budget=3)
    clock_pause(clock=clock, actor=handler, reason_code=ClockPause.Reason.SUPPLEMENT, on=D(2026, 11, 3))
    assert clock not in overdue_clocks(now=at(2027, 6, 1))


def test_pausing_and_resuming_out_of_order_is_refused(start, handler):
    clock = start(at(2026, 11, 2), budget=10)
    with pytest.raises(ValidationError, match="未在暂停中"):
        clock_resume(clock=clock, actor=handler, on=D(2026, 11, 5))
    with pytest.raises(ValidationError, match="不能早于起算日"):
        clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 1))
    with pytest.raises(ValidationError, match="已于 2026-11-16 届满"):
        clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 17))
    clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 4))
    with pytest.raises(ValidationError, match="已在暂停中"):
        clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 5))
    with pytest.raises(ValidationError, match="不能早于暂停日"):
        clock_resume(clock=clock, actor=handler, on=D(2026, 11, 3))
    with pytest.raises(ValidationError, match="暂停事由无效"):
        clock_pause(clock=clock, actor=handler, reason_code="holiday", on=D(2026, 11, 5))


def test_two_pauses_both_count(start, handler):
    clock = start(at(2026, 11, 2), budget=10)
    clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 3))
    clock_resume(clock=clock, actor=handler, on=D(2026, 11, 4))  # 4 Nov not counted
    clock_pause(clock=clock, actor=handler, reason_code="appraisal", on=D(2026, 11, 10))
    clock_resume(clock=clock, actor=handler, on=D(2026, 11, 12))  # 11, 12 Nov not counted
    assert clock.due_date == D(2026, 11, 19)


# --- one extension, within the cap ------------------------------------------------------------------------------
def test_one_extension_within_the_cap_moves_the_due_date(start, leader):
    clock = start(at(2026, 11, 2), budget=10, extension_cap=10)
    clock_extend(clock=clock, actor=leader, days=5, reason="案情复杂，需补充调查")
    assert clock.extension_days == 5
    assert clock.due_date == D(2026, 11, 23)
    with translation.override("zh-hans"):
        assert "10个工作日，延期5个工作日" in clock_status(clock).explanation
    assert AuditEvent.objects.filter(action="clock.extend", object_id=str(clock.pk)).exists()


def test_a_second_extension_is_refused(start, leader):
    clock = start(at(2026, 11, 2), budget=10, extension_cap=10)
    clock_extend(clock=clock, actor=leader, days=2, reason="需要鉴定")
    with pytest.raises(ValidationError) as info:
        clock_extend(clock=clock, actor=leader, days=2, reason="再次延期")
    assert "只能延期一次" in info.value.messages[0]
    clock.refresh_from_db()
    assert clock.extension_days == 2


def test_an_extension_beyond_the_cap_is_refused_with_the_cap_in_the_message(start, leader):
    clock = start(at(2026, 11, 2), budget=10, extension_cap=10)
    with pytest.raises(ValidationError) as info:
        clock_extend(clock=clock, actor=leader, days=11, reason="太复杂")
    assert info.value.messages == ["延期须在 1 至 10 个工作日之间，本次申请延期 11 个工作日。"]
    with pytest.raises(ValidationError, match="须说明理由"):
        clock_extend(clock=clock, actor=leader, days=3, reason=" ")
    clock.refresh_from_db()
    assert clock.extension_days == 0 and clock.due_date == D(2026, 11, 16)


def test_a_clock_without_a_cap_cannot_be_extended(start, leader):
    clock = start(at(2026, 11, 2), budget=3, extension_cap=0)
    with pytest.raises(ValidationError, match="不得延期"):
        clock_extend(clock=clock, actor=leader, days=1, reason="x")


def test_the_database_also_refuses_an_extension_over_the_cap(start):
    clock = start(at(2026, 11, 2), budget=3, extension_cap=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Clock.objects.filter(pk=clock.pk).update(extension_days=3)


# --- status, overdue, stop ------------------------------------------------------------------------------------------
def test_remaining_and_overdue_working_days(start):
    clock = start(at(2026, 9, 30))
    assert clock_status(clock, now=at(2026, 9, 30, 12)).remaining == 3
    due_today = clock_status(clock, now=at(2026, 10, 10, 12))
    assert due_today.state == State.DUE_TODAY and due_today.remaining == 0
    # Sunday 11 October: overdue, but no working day has passed since.
    sunday = clock_status(clock, now=at(2026, 10, 11, 9))
    assert sunday.state == State.OVERDUE and sunday.overdue_working_days == 0
    # Wednesday 14 October: 12, 13, 14 October.
    assert clock_status(clock, now=at(2026, 10, 14, 9)).overdue_working_days == 3


def test_overdue_clocks_are_running_clocks_past_their_due_moment(start, handler, other_handler, supervisor):
    late = start(at(2026, 9, 30))
    not_yet = start(at(2026, 10, 12))
    stopped = start(at(2026, 9, 30))
    clock_stop(clock=stopped, actor=handler, reason="已作出受理决定", at=at(2026, 10, 9))
    now = at(2026, 10, 14)
    assert list(overdue_clocks(now=now)) == [late]
    assert list(overdue_clocks(now=at(2026, 10, 10, 23, 59))) == []
    assert list(overdue_clocks(now=now, user=handler)) == [late]
    assert list(overdue_clocks(now=now, user=supervisor)) == [late]
    assert list(overdue_clocks(now=now, user=other_handler)) == []
    assert not_yet.due_date > D(2026, 10, 14)


def test_stopping_a_paused_clock_closes_the_pause(start, handler):
    clock = start(at(2026, 11, 2), budget=10)
    clock_pause(clock=clock, actor=handler, reason_code="supplement", on=D(2026, 11, 4))
    clock_stop(clock=clock, actor=handler, reason="视为撤回", at=at(2026, 11, 12))
    pause = clock.pauses.get()
    assert pause.resumed_on == D(2026, 11, 12)
    assert clock.stopped_at == at(2026, 11, 12) and not clock.is_paused
    status = clock_status(clock)
    assert status.state == State.STOPPED and status.stopped_on_time
    with pytest.raises(ValidationError, match="已结束"):
        clock_pause(clock=clock, actor=handler, reason_code="testing", on=D(2026, 11, 13))


# --- provisional years ----------------------------------------------------------------------------------------------
EXAMPLE_2027 = "fixtures/holidays/2027.example.csv"


def test_a_deadline_in_a_year_without_data_is_provisional_logged_and_alarmed(start, caplog, monkeypatch):
    with caplog.at_level(logging.WARNING, logger="casework"):
        clock = start(at(2026, 12, 28), budget=10)
    # No arrangement yet, but Fri 1 Jan 2027 is 元旦 by statute: Dec 29–31, Jan 4–8, 11, 12.
    assert clock.due_date == D(2027, 1, 12)
    assert clock.provisional
    assert any("provisional" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    with translation.override("zh-hans"):
        assert clock_status(clock).explanation.endswith(
            "（暂定：2027年放假安排尚未公布，暂按法定节日和周末推算，未含调休）"
        )
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 12, 28))
    assert calendar_alarm_message() == "有 1 个未结时限的截止日为暂定（2027 年放假安排尚未录入），请尽快导入。"


def test_importing_the_year_recomputes_open_provisional_clocks(start, handler, administrator, official_2027):
    crossing = start(at(2026, 12, 28), budget=10)
    inside = start(at(2027, 2, 8), budget=3)  # a holiday in the example file
    paused = start(at(2026, 12, 28), budget=10)
    clock_pause(clock=paused, actor=handler, reason_code="testing", on=D(2026, 12, 29))
    finished = start(at(2026, 12, 28), budget=10)
    clock_stop(clock=finished, actor=handler, reason="已办结", at=at(2026, 12, 30))
    assert crossing.provisional and inside.provisional and finished.provisional
    # Provisionally: Mon 8 Feb is 初三 (春节 by statute) → day 0 Tue 9 Feb; 10, 11, 12 Feb.
    assert (inside.start_date, inside.due_date) == (D(2027, 2, 9), D(2027, 2, 12))

    result = calendar_import(actor=administrator, path_or_rows=official_2027, source=None)

    for clock in (crossing, inside, paused, finished):
        clock.refresh_from_db()
    # Dec 29, 30, 31; 1–3 Jan off; 4–8 Jan; 11, 12 Jan → the 10th working day is 12 Jan.
    assert (crossing.due_date, crossing.provisional) == (D(2027, 1, 12), False)
    assert crossing.due_at == end_of_day(D(2027, 1, 12))
    # Received on 8 Feb, inside the (example) Spring Festival: day 0 is Mon 15 Feb.
    assert (inside.start_date, inside.due_date, inside.provisional) == (D(2027, 2, 15), D(2027, 2, 18), False)
    assert paused.is_paused and paused.due_date is None
    # A stopped clock is history: it keeps what it showed when it ended.
    assert finished.provisional and finished.due_date == D(2027, 1, 12)
    assert result.clocks_changed == 2
    recompute = AuditEvent.objects.filter(action="clock.recompute_open").latest("seq")
    assert sorted(recompute.data["clock_ids"]) == sorted([crossing.pk, inside.pk])

    clock_resume(clock=paused, actor=handler, on=D(2027, 1, 4))
    assert not paused.provisional


def test_an_override_recomputes_the_open_clocks_it_affects(start, administrator):
    clock = start(at(2026, 9, 30))
    elsewhere = start(at(2026, 11, 2), budget=3)
    version = CalendarVersion.objects.get(pk=1).version if CalendarVersion.objects.exists() else 0
    calendar_override_save(actor=administrator, date=D(2026, 10, 9), is_workday=False, name="国庆节", source="测试")
    clock.refresh_from_db()
    elsewhere.refresh_from_db()
    assert clock.due_date == D(2026, 10, 12)
    assert elsewhere.due_date == D(2026, 11, 5)
    assert CalendarVersion.objects.get(pk=1).version == version + 1


def test_recomputing_a_clock_that_did_not_change_writes_nothing(start):
    clock = start(at(2026, 9, 30))
    clock_recompute(clock=clock, actor=None)
    assert not AuditEvent.objects.filter(action="clock.recompute").exists()
    assert clocks_recompute_open() == 0
