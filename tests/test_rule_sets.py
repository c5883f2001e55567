"""Rule sets: the law in force on a date, every value with its source, and pinned cases keep theirs."""

import copy
import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from cases.models import AuditEvent
from workflows import rules
from workflows.models import RuleParameter, RuleSet
from workflows.rules import (
    NoRuleSetInForce,
    RuleParameterMissing,
    notice_prefix,
    read_rule_set_fixture,
    rule_param,
    rule_param_detail,
    ruleset_in_force,
)
from workflows.services.rule_sets import rule_sets_load

pytestmark = pytest.mark.django_db

OLD, NEW = "ndrc-58-2023", "ndrc-36-2026"
# The sets before the 22号 overlay (2025-06-22) and before 58号令 (2023-05-01): older records can be entered.
PRE22, SET_527 = "ndrc-58-2023-pre22", "ndrc-527-2019"


def test_the_58_set_is_in_force_until_2026_03_31_and_the_36_set_from_2026_04_01(rule_sets):
    assert ruleset_in_force(dt.date(2019, 7, 1)).code == SET_527
    assert ruleset_in_force(dt.date(2023, 4, 30)).code == SET_527
    assert ruleset_in_force(dt.date(2023, 5, 1)).code == PRE22
    assert ruleset_in_force(dt.date(2025, 6, 21)).code == PRE22
    assert ruleset_in_force(dt.date(2025, 6, 22)).code == OLD
    assert ruleset_in_force(dt.date(2026, 3, 31)).code == OLD
    assert ruleset_in_force(dt.date(2026, 4, 1)).code == NEW
    assert ruleset_in_force(dt.date(2031, 1, 1)).code == NEW


def test_a_moment_counts_by_its_beijing_date(rule_sets):
    # 2026-03-31 17:30 UTC is already 2026-04-01 01:30 in Zhengzhou.
    assert ruleset_in_force(dt.datetime(2026, 3, 31, 17, 30, tzinfo=dt.UTC)).code == NEW
    assert ruleset_in_force(dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC)).code == OLD


def test_a_date_before_every_set_is_a_clear_error(rule_sets):
    with pytest.raises(NoRuleSetInForce) as caught:
        ruleset_in_force(dt.date(2019, 6, 30))
    error = caught.value
    with translation.override("zh-hans"):
        assert "2019-06-30没有施行中的规则版本" in next(iter(error))
    with translation.override("en"):
        assert error.code == "no_rule_set"
        assert error.params == {"date": "2019-06-30"}
        assert next(iter(error)).strip()


def test_every_set_has_every_parameter_with_a_description_and_a_tagged_citation(rule_sets):
    assert set(RuleSet.objects.values_list("code", flat=True)) == {OLD, NEW, PRE22, SET_527}
    for rule_set in RuleSet.objects.all():
        assert rule_set.citation
        params = {p.key: p for p in rule_set.parameters.all()}
        assert set(params) >= rules.REQUIRED_KEYS, rules.REQUIRED_KEYS - set(params)
        for param in params.values():
            assert param.description.strip(), param.key
            assert re.search(r"\[(law|sec|cfg)\]", param.citation), (rule_set.code, param.key, param.citation)


# key → (value in both sets, a fragment its citation must contain). PROCEDURES.md is the source.
LIMITS = {
    rules.REPAIR_ROUTING_WD: (0, "[cfg]"),
    rules.REPAIR_ACCEPTANCE_WD: (3, "22号"),
    rules.REPAIR_SUPPLEMENT_WD: (5, "[cfg]"),
    rules.REPAIR_DECISION_WD: (10, "22号"),
    rules.REPAIR_EXTENSION_CAP_WD: (10, "[cfg]"),
    rules.REPAIR_EFFECT_WD: (1, "河南省社会信用条例第四十三条"),
    rules.REPAIR_SYNC_WD: (3, "527号"),
    rules.REPAIR_FALSE_MATERIALS_BAR_YEARS: (3, "[cfg]"),
    rules.DISPLAY_CAP_MONTHS: (60, "河南省社会信用条例第十九条"),
    rules.OBJECTION_PLATFORM_WD: (3, "第四十一条"),
    rules.OBJECTION_PROVIDER_CHECK_WD: (3, "第四十一条"),
    rules.OBJECTION_CASE_WD: (7, "第四十一条"),
    rules.OBJECTION_REVOCATION_WD: (1, "第四十二条"),
    rules.OBJECTION_REVIEW_WD: (15, "[cfg]"),
    rules.COMMITMENT_REPORT_WD: (7, "第6项"),
    rules.RECTIFICATION_FORWARD_WD: (1, "[cfg]"),
    rules.RECTIFICATION_PLAN_WD: (5, "[cfg]"),
    rules.RECTIFICATION_PROGRESS_INTERVAL_WD: (10, "[cfg]"),
    rules.RECTIFICATION_DEADLINE_DAYS: (30, "[cfg]"),
    rules.RECTIFICATION_REMINDER_BEFORE_WD: (3, "[cfg]"),
    rules.RECTIFICATION_INTERVIEW_OVERDUE_WD: (10, "[cfg]"),
    rules.RECTIFICATION_PUBLIC_NOTICE_OVERDUE_WD: (20, "[cfg]"),
    rules.SME_FORWARD_WD: (10, "第二十五条"),
    rules.SME_RESULT_DAYS: (30, "第二十五条"),
    rules.SME_MAX_DAYS: (90, "第二十五条"),
    rules.DISCLOSURE_PUBLISH_WD: (7, "第4项"),
    rules.DISCLOSURE_PUBLISH_DAYS: (11, "第4项"),
    rules.DISCLOSURE_SAMR_PUBLISH_WD: (20, "第九条"),
    rules.DISCLOSURE_WITHDRAWAL_WD: (3, "第十一条"),
}


@pytest.mark.parametrize("code", [OLD, NEW])
def test_the_time_limits_are_those_of_procedures_md(code, rule_sets):
    rule_set = RuleSet.objects.get(code=code)
    for key, (value, source) in LIMITS.items():
        detail = rule_param_detail(rule_set, key)
        assert detail.value == value, key
        assert source in detail.citation, (key, detail.citation)
    assert rule_param_detail(rule_set, rules.REPAIR_ACCEPTANCE_WD).unit == "wd"
    assert rule_param_detail(rule_set, rules.SME_RESULT_DAYS).unit == "cd"


def test_the_58_set_notes_the_22_overlay_and_the_36_set_cites_36(rule_sets):
    old = RuleSet.objects.get(code=OLD)
    new = RuleSet.objects.get(code=NEW)
    assert "22号" in old.citation and "58号" in old.citation
    assert "36号" in new.citation
    assert "2025-06-22" in rule_param_detail(old, rules.REPAIR_DECISION_WD).citation


def test_display_periods_differ_between_the_sets(rule_sets):
    old = RuleSet.objects.get(code=OLD)
    new = RuleSet.objects.get(code=NEW)
    # 36号令: by severity (PROCEDURES.md §1 table).
    assert [rule_param(new, rules.DISPLAY_MIN_MONTHS[s]) for s in ("minor", "ordinary", "serious")] == [0, 3, 12]
    assert [rule_param(new, rules.DISPLAY_MAX_MONTHS[s]) for s in ("minor", "ordinary", "serious")] == [3, 12, 36]
    # 58号令: 3 months (1 year in the key sectors), 3 years.
    assert {rule_param(old, rules.DISPLAY_MIN_MONTHS[s]) for s in ("minor", "ordinary", "serious")} == {3}
    assert {rule_param(old, rules.DISPLAY_MAX_MONTHS[s]) for s in ("minor", "ordinary", "serious")} == {36}
    assert rule_param(old, rules.DISPLAY_KEY_SECTOR_MIN_MONTHS) == 12
    assert set(rule_param(old, rules.DISPLAY_KEY_SECTORS)) == {
        "food",
        "drugs",
        "special_equipment",
        "work_safety",
        "fire_safety",
    }


def test_a_case_pinned_to_the_old_set_keeps_the_old_value_after_a_new_set_is_added(rule_sets):
    pinned = ruleset_in_force(dt.date(2026, 3, 20))  # what a case received that day stores
    assert rule_param(pinned, rules.REPAIR_DECISION_WD) == 10

    # The law changes again in 2030: an administrator adds a set, nobody edits the old ones.
    data = read_rule_set_fixture()
    data[1]["effective_until"] = "2029-12-31"
    future = copy.deepcopy(data[1])
    future.update(code="future-2030", name="2030年规则", effective_from="2030-01-01", effective_until=None)
    for param in future["parameters"]:
        if param["key"] == rules.REPAIR_DECISION_WD:
            param["value"] = 5
    rule_sets_load(data=[*data, future])

    assert ruleset_in_force(dt.date(2030, 1, 2)).code == "future-2030"
    assert rule_param(ruleset_in_force(dt.date(2030, 1, 2)), rules.REPAIR_DECISION_WD) == 5
    assert rule_param(pinned, rules.REPAIR_DECISION_WD) == 10
    assert rule_param(pinned.pk, rules.REPAIR_DECISION_WD) == 10
    assert rule_param(RuleSet.objects.get(code=NEW), rules.REPAIR_DECISION_WD) == 10


def test_an_edited_parameter_is_seen_at_once_despite_the_cache(rule_sets):
    rule_set = RuleSet.objects.get(code=NEW)
    assert rule_param(rule_set, rules.OBJECTION_REVIEW_WD) == 15
    param = RuleParameter.objects.get(rule_set=rule_set, key=rules.OBJECTION_REVIEW_WD)
    param.value = 20
    param.save()
    assert rule_param(rule_set, rules.OBJECTION_REVIEW_WD) == 20


def test_a_missing_parameter_is_a_clear_error(rule_sets):
    rule_set = RuleSet.objects.get(code=NEW)
    with pytest.raises(RuleParameterMissing) as caught:
        rule_param(rule_set, "repair.no_such_limit")
    assert caught.value.code == "rule_parameter_missing"
    assert caught.value.params == {"rule_set": NEW, "key": "repair.no_such_limit"}


def test_notice_numbers_start_with_the_issuer_and_the_kind(rule_sets):
    rule_set = ruleset_in_force(dt.date(2026, 5, 6))
    assert notice_prefix(rule_set, kind="repair_accepted", issuer_prefix="郑信") == "郑信修受"
    assert notice_prefix(rule_set, kind="repair_granted", issuer_prefix="郑市监") == "郑市监修决"


def test_loading_twice_changes_nothing(rule_sets):
    counts = (RuleSet.objects.count(), RuleParameter.objects.count(), AuditEvent.objects.count())
    call_command("load_rule_sets", verbosity=0)
    summary = rule_sets_load(data=read_rule_set_fixture())
    assert not summary.changed
    assert (RuleSet.objects.count(), RuleParameter.objects.count(), AuditEvent.objects.count()) == counts
    assert AuditEvent.objects.filter(action="rule_sets.load").count() == 1


def test_loading_updates_a_changed_value_and_audits_it(rule_sets):
    data = read_rule_set_fixture()
    for param in data[1]["parameters"]:
        if param["key"] == rules.REPAIR_SUPPLEMENT_WD:
            param["value"] = 7
    summary = rule_sets_load(actor="admin", data=data)
    assert (summary.params_updated, summary.params_created) == (1, 0)
    assert rule_param(RuleSet.objects.get(code=NEW), rules.REPAIR_SUPPLEMENT_WD) == 7
    assert rule_param(RuleSet.objects.get(code=OLD), rules.REPAIR_SUPPLEMENT_WD) == 5
    assert AuditEvent.objects.filter(action="rule_sets.load").count() == 2


def test_overlapping_sets_are_refused(db):
    data = read_rule_set_fixture()
    data[0]["effective_until"] = "2026-04-30"
    with pytest.raises(ValidationError) as caught:
        rule_sets_load(data=data)
    assert caught.value.code == "rule_sets_overlap"
    assert not RuleSet.objects.exists()
