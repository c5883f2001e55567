"""Credit records: display window from the law in force, field-level history, display-state transitions."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from cases.models import AuditEvent, CreditRecord, DisplayState, RecordChange
from cases.models.records import Sector
from cases.services.records import (
    RecordStateError,
    add_months,
    record_clear_objection,
    record_create,
    record_expire,
    record_mark_objection,
    record_repair,
    record_restore_display,
    record_revoke,
    record_update_fields,
)
from tests.factories import CreditRecordFactory
from workflows import rules
from workflows.rules import read_rule_set_fixture
from workflows.services.rule_sets import rule_sets_load


def _create(*, subject, provider, actor, decision_date, severity="ordinary", sector="", **kwargs):
    kwargs.setdefault("publication_date", decision_date)
    return record_create(
        actor=actor,
        subject=subject,
        kind="admin_penalty",
        severity=severity,
        sector=sector,
        title="未按规定公示年度报告",
        provider=provider,
        decision_date=decision_date,
        **kwargs,
    )


# --- display window -----------------------------------------------------------------------------------
@pytest.mark.django_db
class TestDisplayWindow:
    @pytest.mark.parametrize(
        ("severity", "min_until", "max_until"),
        [
            # at most 3 months, repair at once — once published (20 April): not before it was displayed
            ("minor", dt.date(2026, 4, 20), dt.date(2026, 7, 10)),
            ("ordinary", dt.date(2026, 7, 10), dt.date(2027, 4, 10)),  # 3 months / 1 year
            ("serious", dt.date(2027, 4, 10), dt.date(2029, 4, 10)),  # 1 year / 3 years
        ],
    )
    def test_the_36_set_counts_by_severity_from_the_decision_date(
        self, severity, min_until, max_until, rule_sets, enterprise, market_bureau, handler
    ):
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=handler,
            severity=severity,
            decision_date=dt.date(2026, 4, 10),
            publication_date=dt.date(2026, 4, 20),
        )
        assert (record.display_min_until, record.display_max_until) == (min_until, max_until)

    @pytest.mark.parametrize("severity", ["minor", "ordinary", "serious"])
    def test_the_58_set_gives_3_months_to_3_years(self, severity, rule_sets, enterprise, market_bureau, handler):
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=handler,
            severity=severity,
            decision_date=dt.date(2026, 3, 31),
        )
        assert (record.display_min_until, record.display_max_until) == (dt.date(2026, 6, 30), dt.date(2029, 3, 31))

    @pytest.mark.parametrize("sector", [s.value for s in Sector])
    def test_the_58_set_gives_key_sectors_a_1_year_minimum(self, sector, rule_sets, enterprise, market_bureau, handler):
        record = _create(
            subject=enterprise, provider=market_bureau, actor=handler, sector=sector, decision_date=dt.date(2025, 9, 1)
        )
        assert (record.display_min_until, record.display_max_until) == (dt.date(2026, 9, 1), dt.date(2028, 9, 1))

    def test_the_36_set_has_no_sector_rule(self, rule_sets, enterprise, market_bureau, handler):
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=handler,
            sector=Sector.FOOD,
            decision_date=dt.date(2026, 4, 1),
        )
        assert record.display_min_until == dt.date(2026, 7, 1)

    def test_a_month_end_decision_ends_on_the_last_day_of_the_short_month(self):
        assert add_months(dt.date(2026, 8, 31), 3) == dt.date(2026, 11, 30)
        assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
        assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)

    def test_henan_article_19_caps_display_at_5_years(self, rule_sets, enterprise, market_bureau, handler):
        data = read_rule_set_fixture()
        data[1]["effective_until"] = "2029-12-31"
        longer = {
            **data[1],
            "code": "long-2030",
            "name": "假想的更长公示期",
            "effective_from": "2030-01-01",
            "effective_until": None,
            "parameters": [
                dict(p, value=84) if p["key"] == rules.DISPLAY_MAX_MONTHS["serious"] else p
                for p in data[1]["parameters"]
            ],
        }
        rule_sets_load(data=[*data, longer])
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=handler,
            severity="serious",
            decision_date=dt.date(2030, 2, 1),
        )
        assert record.display_max_until == dt.date(2035, 2, 1)

    def test_a_decision_before_every_rule_set_is_refused_on_its_date(
        self, rule_sets, enterprise, market_bureau, handler
    ):
        with pytest.raises(ValidationError) as caught:
            _create(subject=enterprise, provider=market_bureau, actor=handler, decision_date=dt.date(2019, 6, 5))
        assert caught.value.error_dict["decision_date"][0].code == "no_rule_set"
        assert not CreditRecord.objects.exists()

    def test_publication_cannot_precede_the_decision(self, rule_sets, enterprise, market_bureau, handler):
        with pytest.raises(ValidationError) as caught, translation.override("zh-hans"):
            _create(
                subject=enterprise,
                provider=market_bureau,
                actor=handler,
                decision_date=dt.date(2026, 5, 6),
                publication_date=dt.date(2026, 5, 5),
            )
        with translation.override("zh-hans"):
            assert "公示日期不能早于决定日期" in str(caught.value.messages)

    def test_creating_a_record_is_audited_with_the_rule_set_used(self, rule_sets, enterprise, market_bureau, handler):
        record = _create(subject=enterprise, provider=market_bureau, actor=handler, decision_date=dt.date(2026, 3, 2))
        event = AuditEvent.objects.get(action="record.create")
        assert event.object_id == str(record.pk)
        assert event.actor == handler
        assert event.data["rule_set"] == "ndrc-58-2023"
        assert event.data["display_max_until"] == "2029-03-02"
        assert record.display_state == DisplayState.DISPLAYED


# --- field-level corrections --------------------------------------------------------------------------
@pytest.mark.django_db
class TestFieldUpdates:
    def test_each_changed_field_gets_one_change_row_with_old_and_new_values(
        self, rule_sets, enterprise, market_bureau, handler
    ):
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=handler,
            severity="serious",
            decision_date=dt.date(2026, 4, 10),
        )
        updated = record_update_fields(
            actor=handler,
            record=record,
            reason="异议核实后更正",
            case_reference="YY2026-0001",
            changes={"title": "未按期年报", "severity": "ordinary", "decision_number": record.decision_number},
        )
        changes = {c.field: c for c in RecordChange.objects.filter(record=record)}
        # decision_number was given unchanged: no row. The window moved with the severity.
        assert set(changes) == {"title", "severity", "display_min_until", "display_max_until"}
        assert (changes["title"].old_value, changes["title"].new_value) == ("未按规定公示年度报告", "未按期年报")
        assert (changes["severity"].old_value, changes["severity"].new_value) == ("serious", "ordinary")
        assert (changes["display_max_until"].old_value, changes["display_max_until"].new_value) == (
            "2029-04-10",
            "2027-04-10",
        )
        assert all(
            c.reason == "异议核实后更正" and c.case_reference == "YY2026-0001" and c.actor == handler
            for c in changes.values()
        )
        updated.refresh_from_db()
        assert (updated.title, updated.severity, updated.display_min_until) == (
            "未按期年报",
            "ordinary",
            dt.date(2026, 7, 10),
        )
        event = AuditEvent.objects.get(action="record.update")
        assert event.data["changes"]["severity"] == ["serious", "ordinary"]
        assert event.data["reason"] == "异议核实后更正"

    def test_dates_and_providers_are_accepted_as_typed_and_recorded_by_value(
        self, rule_sets, enterprise, market_bureau, tax_bureau, handler
    ):
        record = _create(subject=enterprise, provider=market_bureau, actor=handler, decision_date=dt.date(2026, 4, 10))
        record_update_fields(
            actor=handler,
            record=record,
            reason="更正",
            changes={"publication_date": "2026-04-15", "provider": tax_bureau.pk},
        )
        changes = {c.field: (c.old_value, c.new_value) for c in RecordChange.objects.filter(record=record)}
        assert changes == {
            "publication_date": ("2026-04-10", "2026-04-15"),
            "provider": (str(market_bureau.pk), str(tax_bureau.pk)),
        }

    def test_an_explicit_window_wins_over_the_computed_one(self, rule_sets, enterprise, market_bureau, handler):
        record = _create(subject=enterprise, provider=market_bureau, actor=handler, decision_date=dt.date(2026, 4, 10))
        record_update_fields(
            actor=handler,
            record=record,
            reason="认定部门更正公示期",
            changes={"severity": "serious", "display_max_until": dt.date(2028, 1, 1)},
        )
        record.refresh_from_db()
        assert record.display_max_until == dt.date(2028, 1, 1)
        assert record.display_min_until == dt.date(2026, 7, 10)

    def test_nothing_changed_writes_nothing(self, record, handler):
        record_update_fields(actor=handler, record=record, reason="核对", changes={"title": record.title})
        assert not RecordChange.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_the_display_state_and_subject_cannot_be_edited(self, record, handler, other_enterprise):
        for changes in ({"display_state": DisplayState.REPAIRED}, {"subject": other_enterprise}):
            with pytest.raises(ValidationError) as caught:
                record_update_fields(actor=handler, record=record, reason="想直接改", changes=changes)
            assert caught.value.code == "field_not_editable"
        assert not RecordChange.objects.exists()

    def test_a_reason_is_required(self, record, handler):
        with pytest.raises(ValidationError) as caught:
            record_update_fields(actor=handler, record=record, reason="  ", changes={"title": "新"})
        assert caught.value.error_dict["reason"][0].code == "reason_required"

    def test_invalid_values_are_refused_and_nothing_is_written(self, record, handler):
        with pytest.raises(ValidationError) as caught:
            record_update_fields(actor=handler, record=record, reason="更正", changes={"severity": "extreme"})
        assert "severity" in caught.value.error_dict
        assert not RecordChange.objects.exists()
        record.refresh_from_db()
        assert record.severity == "ordinary"


# --- display-state transitions -------------------------------------------------------------------------
TRANSITIONS = [
    # (service, setup path, from, to)
    (record_mark_objection, [], DisplayState.DISPLAYED, DisplayState.UNDER_OBJECTION),
    (record_clear_objection, [record_mark_objection], DisplayState.UNDER_OBJECTION, DisplayState.DISPLAYED),
    (record_repair, [], DisplayState.DISPLAYED, DisplayState.REPAIRED),
    (record_restore_display, [record_repair], DisplayState.REPAIRED, DisplayState.DISPLAYED),
    (record_revoke, [], DisplayState.DISPLAYED, DisplayState.REVOKED),
    (record_revoke, [record_mark_objection], DisplayState.UNDER_OBJECTION, DisplayState.REVOKED),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("service", "path", "source", "target"), TRANSITIONS, ids=[f"{t[0].__name__}-from-{t[2]}" for t in TRANSITIONS]
)
def test_each_transition_writes_history_and_audit(service, path, source, target, record, handler):
    for step in path:
        record = step(actor=handler, record=record, reason="前置步骤")
    assert record.display_state == source
    before_changes = RecordChange.objects.count()

    record = service(actor=handler, record=record, reason="依法办理", case_reference="XF2026-0007")

    assert record.display_state == target
    assert CreditRecord.objects.get(pk=record.pk).display_state == target
    change = RecordChange.objects.filter(record=record).latest("id")
    assert RecordChange.objects.count() == before_changes + 1
    assert (change.field, change.old_value, change.new_value) == ("display_state", source, target)
    assert (change.reason, change.case_reference, change.actor) == ("依法办理", "XF2026-0007", handler)
    event = AuditEvent.objects.latest("seq")
    assert event.action == f"record.{service.__name__.removeprefix('record_')}"
    assert event.object_id == str(record.pk)
    assert event.data == {"from": source, "to": target, "reason": "依法办理", "case_reference": "XF2026-0007"}


@pytest.mark.django_db
def test_an_illegal_transition_is_refused_with_a_clear_message(record, handler):
    record = record_mark_objection(actor=handler, record=record, reason="收到异议")
    changes, events = RecordChange.objects.count(), AuditEvent.objects.count()
    with pytest.raises(RecordStateError) as caught:
        record_repair(actor=handler, record=record, reason="修复")
    error = caught.value
    with translation.override("zh-hans"):
        message = next(iter(error))
        assert "异议标注" in message and "信用修复" in message and "不能" in message
    with translation.override("en"):
        assert error.code == "illegal_transition"
        assert (error.params["from"], error.params["transition"]) == ("objection", "repair")
        assert next(iter(error)).strip()
    assert CreditRecord.objects.get(pk=record.pk).display_state == DisplayState.UNDER_OBJECTION
    assert (RecordChange.objects.count(), AuditEvent.objects.count()) == (changes, events)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "service", [record_mark_objection, record_repair, record_revoke, record_clear_objection, record_restore_display]
)
def test_a_revoked_record_stays_revoked(service, record, handler):
    record = record_revoke(actor=handler, record=record, reason="处罚决定被撤销")
    with pytest.raises(RecordStateError) as caught:
        service(actor=handler, record=record, reason="再办理")
    assert caught.value.code == "illegal_transition"


@pytest.mark.django_db
def test_a_record_excluded_by_law_cannot_be_repaired(enterprise, market_bureau, handler):
    record = CreditRecordFactory(subject=enterprise, provider=market_bureau, repairable=False)
    with pytest.raises(RecordStateError) as caught:
        record_repair(actor=handler, record=record, reason="修复")
    assert caught.value.code == "not_repairable"
    assert CreditRecord.objects.get(pk=record.pk).display_state == DisplayState.DISPLAYED


@pytest.mark.django_db
def test_a_transition_needs_a_reason(record, handler):
    with pytest.raises(ValidationError):
        record_mark_objection(actor=handler, record=record, reason="")
    assert not RecordChange.objects.exists()


@pytest.mark.django_db
class TestExpiry:
    def test_display_stops_when_the_maximum_period_has_ended(self, rule_sets, enterprise, market_bureau):
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=None,
            severity="minor",
            decision_date=dt.date(2026, 4, 1),
            obligations_performed=True,
        )
        assert record.display_max_until == dt.date(2026, 7, 1) <= timezone.localdate()
        record = record_expire(actor="scheduler", record=record, reason="最长公示期届满")
        assert record.display_state == DisplayState.EXPIRED
        change = RecordChange.objects.get(record=record)
        assert (change.old_value, change.new_value, change.actor) == ("displayed", "expired", None)
        event = AuditEvent.objects.get(action="record.expire")
        assert (event.actor, event.actor_label) == (None, "scheduler")

    def test_display_does_not_stop_before_the_maximum_period_ends(self, rule_sets, enterprise, market_bureau):
        today = timezone.localdate()
        record = _create(
            subject=enterprise,
            provider=market_bureau,
            actor=None,
            severity="serious",
            decision_date=today,
            obligations_performed=True,
        )
        with pytest.raises(RecordStateError) as caught:
            record_expire(actor="scheduler", record=record, reason="最长公示期届满")
        assert caught.value.code == "display_not_ended"
        assert caught.value.params["until"] == add_months(today, 36).isoformat()

    def test_unperformed_obligations_keep_it_displayed_until_the_5_year_cap(self, rule_sets, enterprise, market_bureau):
        record = _create(
            subject=enterprise, provider=market_bureau, actor=None, severity="minor", decision_date=dt.date(2026, 4, 1)
        )
        with pytest.raises(RecordStateError) as caught:
            record_expire(actor="scheduler", record=record, reason="最长公示期届满")
        assert caught.value.code == "obligations_not_performed"
        old = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            decision_date=dt.date(2020, 1, 2),
            publication_date=dt.date(2020, 1, 2),
            display_min_until=dt.date(2020, 4, 2),
            display_max_until=dt.date(2023, 1, 2),
        )
        # Decided 2020-01-02: the 5 years ended on 2025-01-02, performed or not.
        assert record_expire(actor="scheduler", record=old, reason="满五年").display_state == DisplayState.EXPIRED


@pytest.mark.django_db(transaction=True)
def test_two_officers_repairing_one_record_one_wins_the_other_is_told(enterprise, market_bureau, handler, leader):
    record = CreditRecordFactory(subject=enterprise, provider=market_bureau)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(actor) -> None:
        try:
            barrier.wait()
            record_repair(actor=actor, record=CreditRecord.objects.get(pk=record.pk), reason="准予修复")
            outcomes.append("ok")
        except RecordStateError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=officer, args=(actor,)) for actor in (handler, leader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["illegal_transition", "ok"]
    assert RecordChange.objects.filter(record=record, field="display_state").count() == 1
    assert AuditEvent.objects.filter(action="record.repair").count() == 1
