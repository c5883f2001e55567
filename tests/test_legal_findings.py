"""Issue 10's legal findings (items 9–13) and user-visible defects (14–17, 19), each against the text of law
or PROCEDURES.md it comes from."""

# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
import datetime as dt
import io
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.utils import timezone, translation

from cases.management.commands.load_demo import read_demo_data
from cases.models import AuditEvent, DisplayState, RecordKind, User
from cases.models.objection import ObjectionCase
from cases.services.records import RecordStateError, record_create, record_expire, record_repair
from cases.services.repair import records_expire_due, repair_eligibility
from notices import rendering
from notices.services import notice_request
from tests.factories import CreditRecordFactory
from tests.rectification_support import clock_of, new_case, substantiated_case
from tests.test_repair_flow import storage, travel, upload  # noqa: F401
from workflows import rules
from workflows.calendar import WorkCalendar, calendar_alarm_message, get_calendar, statutory_holidays
from workflows.models import CalendarOverride, CalendarYear, Clock
from workflows.selectors import clock_status
from workflows.services.calendar import calendar_import
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


# --- item 11: provisional years keep the statutory holidays; example files are not official --------------
class TestProvisionalYears:
    @pytest.mark.parametrize("year", [2025, 2026])
    def test_the_statutory_festivals_computed_from_the_lunar_calendar_are_official_days_off(self, year):
        # The published arrangements since the 2024 revision contain every day its Art 2 fixes (13 a year).
        cal = WorkCalendar.build()
        days = statutory_holidays(year)
        assert len(days) == 13
        assert [day for day in days if cal.is_workday(day)] == []

    def test_a_year_without_an_arrangement_skips_them_and_stays_provisional(self):
        cal = WorkCalendar.build()
        assert 2028 not in cal.known_years
        off = {day for day in statutory_holidays(2028)}
        # 2028: 春节 除夕 25 Jan – 初三 28 Jan; 清明 4 Apr; 端午 28 May; 中秋 3 Oct inside 国庆 1–3 Oct.
        assert {dt.date(2028, 1, 25), dt.date(2028, 1, 28), dt.date(2028, 4, 4), dt.date(2028, 5, 28)} <= off
        assert cal.holiday_name(dt.date(2028, 10, 3)) == "国庆节、中秋节"
        assert not cal.is_workday(dt.date(2028, 4, 4)) and cal.is_provisional(dt.date(2028, 4, 4))
        # No guessed 调休: a Saturday stays a day off.
        assert cal.makeup_days(dt.date(2027, 12, 31), dt.date(2028, 12, 31)) == []

    def test_an_example_file_is_refused_and_forcing_it_does_not_clear_the_alarm(
        self, db, administrator, settings, monkeypatch
    ):
        example = settings.BASE_DIR / "fixtures/holidays/2027.example.csv"
        with pytest.raises(ValidationError) as caught:
            calendar_import(actor=administrator, path_or_rows=example)
        assert caught.value.code == "example_source"
        # Even when the command line names an official-looking source, the file says it is an example.
        with pytest.raises(CommandError, match="示例数据"):
            call_command("import_holidays", str(example), "--source", "国办发明电〔2026〕X号", stdout=io.StringIO())
        assert not CalendarOverride.objects.exists()

        monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
        result = calendar_import(actor=administrator, path_or_rows=example, force=True)
        assert result.example and CalendarOverride.objects.filter(date__year=2027).count() == 35
        assert not CalendarYear.objects.filter(year=2027).exists()
        cal = get_calendar()
        assert cal.is_provisional(dt.date(2027, 3, 1))
        assert calendar_alarm_message().startswith("2027 年放假安排尚未录入")
        assert AuditEvent.objects.get(action="calendar.import").data["example"] is True

    def test_a_notice_marks_a_deadline_in_a_provisional_year(self, record, market_bureau, enterprise, handler):
        def accepted(decide_by):
            notice = notice_request(
                case=record,
                kind="repair_accepted",
                trigger=f"accepted-{decide_by}",
                issuer=market_bureau,
                addressee_subject=enterprise,
                context={"matter": "终止公示行政处罚信息", "received_on": "2026-12-28", "decide_by": decide_by},
                actor=handler,
            )
            return rendering.html_for(notice)

        assert "本机关将于2027年1月12日（暂定）前作出" in accepted("2027-01-12")
        # A deadline in a year whose arrangement is published is final; a received date is a fact.
        html = accepted("2026-12-30")
        assert "2026年12月30日前作出" in html and "（暂定）" not in html


# --- item 12: the rule-set timeline --------------------------------------------------------------------
@pytest.mark.django_db
class TestRuleSetTimeline:
    def _record(self, enterprise, market_bureau, handler, decided, severity="ordinary", sector=""):
        return record_create(
            actor=handler,
            subject=enterprise,
            kind="admin_penalty",
            severity=severity,
            sector=sector,
            title="未按规定公示年度报告",
            provider=market_bureau,
            decision_date=decided,
            publication_date=decided + dt.timedelta(days=5),
        )

    def test_records_decided_before_order_58_can_be_entered_with_the_527_periods(
        self, rule_sets, enterprise, market_bureau, handler
    ):
        ordinary = self._record(enterprise, market_bureau, handler, dt.date(2021, 3, 1))
        serious = self._record(enterprise, market_bureau, handler, dt.date(2022, 1, 5), severity="serious")
        # 527号: 一般 3 months / 1 year, 严重 6 months / 3 years, from the decision date.
        assert (ordinary.display_min_until, ordinary.display_max_until) == (dt.date(2021, 6, 1), dt.date(2022, 3, 1))
        assert (serious.display_min_until, serious.display_max_until) == (dt.date(2022, 7, 5), dt.date(2025, 1, 5))
        assert "527号" in rules.ruleset_in_force(dt.date(2021, 3, 1)).citation

    def test_the_22_limits_apply_only_from_2025_06_22(self, rule_sets):
        before = rules.rule_param_detail(rules.ruleset_in_force(dt.date(2025, 6, 21)), rules.REPAIR_DECISION_WD)
        after = rules.rule_param_detail(rules.ruleset_in_force(dt.date(2025, 6, 22)), rules.REPAIR_DECISION_WD)
        assert "不适用其时限" in before.citation and before.citation.endswith("[cfg]")
        assert "22号" in after.citation and after.citation.endswith("[sec]")
        assert rules.ruleset_in_force(dt.date(2024, 1, 2)).code == "ndrc-58-2023-pre22"

    def test_at_the_switch_the_more_favourable_minimum_applies_to_earlier_decisions(
        self, rule_sets, enterprise, market_bureau, handler
    ):
        # Food sector, decided 2 Mar 2026 under Order 58: 1 year minimum (to 2 Mar 2027); Order 36: 3 months.
        record = self._record(enterprise, market_bureau, handler, dt.date(2026, 3, 2), sector="food")
        assert record.display_min_until == dt.date(2027, 3, 2)

        def min_period(on):
            with translation.override("zh-hans"):
                found = [
                    p for p in repair_eligibility(subject=enterprise, record=record, on=on) if p.code == "min_period"
                ]
            return found[0].message if found else None

        # Before the switch Order 58 alone applies.
        assert "2027年3月2日后方可申请" in min_period(dt.date(2026, 3, 20))
        # From 1 Apr 2026 the shorter Order 36 minimum applies, and the explanation says why and cites it.
        text = min_period(dt.date(2026, 4, 10))
        assert "从旧兼从轻" in text and "2026年6月2日后方可申请" in text and "立法法》第一百零四条" in text
        assert "[" not in text
        assert min_period(dt.date(2026, 6, 2)) is None
        new = rules.ruleset_in_force(dt.date(2026, 4, 1))
        earlier = rules.rule_param_detail(new, rules.DISPLAY_EARLIER_RECORDS)
        assert earlier.value == "lighter" and "从旧兼从轻" in earlier.citation

    def test_a_longer_new_minimum_never_applies_to_an_earlier_decision(
        self, rule_sets, enterprise, market_bureau, handler
    ):
        # Serious, decided 2 Mar 2026 under Order 58: 3 months; Order 36 would say 12 months.
        record = self._record(enterprise, market_bureau, handler, dt.date(2026, 3, 2), severity="serious")
        assert record.display_min_until == dt.date(2026, 6, 2)
        problems = repair_eligibility(subject=enterprise, record=record, on=dt.date(2026, 6, 3))
        assert "min_period" not in [p.code for p in problems]


# --- item 14: users see citations, never the maintainers' annotations -------------------------------------
DEVELOPER_MARKS = ("PROCEDURES.md", "[cfg]", "[sec]", "[law]", "§")


@pytest.mark.django_db
class TestNoDeveloperAnnotations:
    @pytest.mark.parametrize(
        ("citation", "shown"),
        [
            ("PROCEDURES.md §4 [cfg]", "依据：本平台设定"),
            (
                "保障中小企业款项支付条例（国务院令第802号）第二十五条 [law]",
                "依据：保障中小企业款项支付条例（国务院令第802号）第二十五条",
            ),
            (
                "PROCEDURES.md §4；参照保障中小企业款项支付条例第二十五条 [cfg]",
                "依据：参照保障中小企业款项支付条例第二十五条",
            ),
        ],
    )
    def test_a_clock_shows_only_the_law_it_cites(self, record, market_bureau, handler, citation, shown):
        clock = clock_start(
            case=record,
            purpose="plan",
            label="整改方案报送期限",
            budget=5,
            received_at=dt.datetime(2026, 11, 2, 10, tzinfo=BEIJING),
            organisation=market_bureau,
            citation=citation,
            actor=handler,
        )
        with translation.override("zh-hans"):
            html = render_to_string("_partials/clock.html", {"cs": clock_status(clock)})
        assert shown in html
        assert not [mark for mark in DEVELOPER_MARKS if mark in html]

    def test_every_rule_citation_reads_clean_once_published(self, rule_sets):
        from workflows.models import RuleParameter, RuleSet

        for citation in [
            *RuleParameter.objects.values_list("citation", flat=True),
            *RuleSet.objects.values_list("citation", flat=True),
        ]:
            shown = rules.public_citation(citation)
            assert shown and not [mark for mark in DEVELOPER_MARKS if mark in shown], citation

    def test_the_public_guides_show_citations_without_annotations(self, client, rule_sets):
        from django.urls import reverse

        from cases.selectors import guide

        for matter in guide.matter_list():
            page = client.get(reverse("guide_matter", args=[matter.procedure, matter.kind])).content.decode()
            assert "法律依据" in page
            assert not [mark for mark in DEVELOPER_MARKS if mark in page], matter.code

    def test_a_notice_prints_its_basis_without_tags(self, record, market_bureau, enterprise, handler):
        notice = notice_request(
            case=record,
            kind="repair_accepted",
            trigger="accepted",
            issuer=market_bureau,
            addressee_subject=enterprise,
            context={
                "matter": "终止公示行政处罚信息",
                "received_on": "2026-04-02",
                "decide_by": "2026-04-16",
                "legal_basis": "国办发〔2025〕22号 [sec]；PROCEDURES.md §1 [cfg]",
            },
            actor=handler,
        )
        html = rendering.html_for(notice)
        assert "依据：国办发〔2025〕22号</p>" in html
        assert not [mark for mark in DEVELOPER_MARKS if mark in html]


# --- item 13: each notice kind prints its own legal basis; 联系方式 is the department's -----------------------
@pytest.mark.django_db
class TestNoticeBasisAndContact:
    def _html(self, case, kind, issuer, addressee, actor, context):
        notice = notice_request(
            case=case,
            kind=kind,
            trigger=f"test-{kind}",
            issuer=issuer,
            addressee_subject=addressee,
            context=context,
            actor=actor,
        )
        return rendering.html_for(notice)

    def test_objection_and_rectification_notices_cite_their_own_law_not_the_repair_rule_set(
        self, rule_sets, enterprise, market_bureau, handler, intake, body, office
    ):
        # A case that carries a rule set (whose citation is the repair orders'), as every case does.
        case = new_case(actor=intake, body=body, office=office, enterprise=enterprise)
        assert "36号" in case.rule_set.citation
        result = self._html(
            case,
            "objection_result",
            market_bureau,
            enterprise,
            handler,
            {
                "tracking_number": "YY2026000001",
                "received_on": "2026-05-06",
                "record_title": "未按规定公示年度报告",
                "outcome": "维持",
                "reasons": "经核查无误",
            },
        )
        supervision = self._html(
            case,
            "rectification_supervision",
            market_bureau,
            enterprise,
            handler,
            {"matter": "拖欠账款", "limit_label": "整改期限", "due_date": "2026-06-05", "overdue_days": 2},
        )
        repair = self._html(
            case,
            "repair_accepted",
            market_bureau,
            enterprise,
            handler,
            {"matter": "终止公示行政处罚信息", "received_on": "2026-05-06", "decide_by": "2026-05-20"},
        )
        assert "依据：《河南省社会信用条例》第四十一条" in result
        assert "依据：《优化营商环境条例》第三十一条" in supervision and "国发〔2016〕76号" in supervision
        for html in (result, supervision):
            assert "36号" not in html.split("依据：")[1] and "22号" not in html.split("依据：")[1]
        # Repair notices cite the rule set of their case.
        assert "依据：国家发展改革委令2025年第36号" in repair.split("</section>")[-1]

    def test_the_acceptance_notice_gives_the_departments_contact_not_the_applicants_name(
        self, enterprise, market_bureau, handler
    ):
        market_bureau.contact_name = "信用科"
        market_bureau.contact_phone = "0371-12345678"
        market_bureau.save()
        case = CreditRecordFactory(subject=enterprise, provider=market_bureau)
        html = self._html(
            case,
            "repair_accepted",
            market_bureau,
            enterprise,
            handler,
            {
                "matter": "终止公示行政处罚信息",
                "received_on": "2026-05-06",
                "decide_by": "2026-05-20",
                "contact": "张三",  # what the old context carried: the applicant's own name
            },
        )
        assert "联系方式：郑州市市场监督管理局 信用科，电话0371-12345678" in html
        assert "张三" not in html


# --- item 15: the objection form speaks Chinese, not codes -------------------------------------------------
@pytest.mark.django_db
class TestObjectionForm:
    def test_it_offers_choices_dates_and_yes_no_with_chinese_labels(
        self, travel, storage, applicant, enterprise, market_bureau, rule_sets, credit_centre
    ):
        record = CreditRecordFactory(
            subject=enterprise,
            provider=market_bureau,
            kind="abnormal_list",
            severity="ordinary",
            decision_date=dt.date(2026, 3, 5),
            publication_date=dt.date(2026, 3, 10),
            display_min_until=dt.date(2026, 6, 5),
            display_max_until=dt.date(2027, 3, 5),
        )
        client = Client()
        client.force_login(applicant)
        with translation.override("zh-hans"):
            page = client.get(f"/objection/records/{record.pk}/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        for raw in ("现为：abnormal_list", "现为：ordinary", "现为：False"):
            assert raw not in page
        assert "现为：经营异常名录" in page and "现为：一般" in page and "现为：否" in page
        assert re.search(r'<select name="f_severity"[^>]*>.*<option value="serious">严重</option>', page, re.S)
        assert re.search(r'<select name="f_obligations_performed"[^>]*>.*<option value="True">是</option>', page, re.S)
        assert re.search(r'<input type="date" name="f_decision_date"', page)

        response = client.post(
            f"/objection/records/{record.pk}/new/",
            {
                "matter": "content",
                "f_severity": "minor",
                "f_obligations_performed": "True",
                "f_decision_date": "2026-03-04",
                "reason": "已缴清罚款，程度认定有误",
                "contact_name": "赵六",
                "contact_phone": "13800000000",
                "evidence": upload(),
            },
        )
        assert response.status_code == 302, response.content.decode()[:500]
        case = ObjectionCase.objects.get()
        assert {d["field"]: d["proposed"] for d in case.disputed} == {
            "severity": "minor",
            "obligations_performed": "True",
            "decision_date": "2026-03-04",
        }
        with translation.override("zh-hans"):
            status = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "轻微" in status and ">是<" in status and ">否<" in status
        assert ">False<" not in status and ">minor<" not in status


# --- item 16: countdowns in their own unit; reminders name their case --------------------------------------
@pytest.mark.django_db
class TestCountdownsAndReminders:
    def test_a_calendar_day_limit_counts_down_in_calendar_days_and_the_reminder_names_its_case(
        self, travel, rule_sets, intake, reviewer, body, office, city_gov, enterprise, body_user
    ):
        case = substantiated_case(
            intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, enterprise=enterprise
        )
        deadline = clock_of(case, "rectification.deadline")
        assert deadline.unit == Clock.Unit.CALENDAR_DAYS
        travel.to(deadline.due_date.year, deadline.due_date.month, deadline.due_date.day)
        travel.now -= dt.timedelta(days=8)
        today = timezone.localdate()
        status = clock_status(deadline)
        assert status.remaining == (deadline.due_date - today).days == 8
        client = Client()
        client.force_login(body_user)
        with translation.override("zh-hans"):
            page = client.get(f"/rectification/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
            reminders = client.get("/reminders/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "剩余8个自然日" in page
        travel.now += dt.timedelta(days=2)
        client.force_login(body_user)  # a new working day, a new session
        with translation.override("zh-hans"):
            response = client.get("/reminders/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        reminders = response.content.decode()
        assert response.status_code == 200, (response.status_code, reminders[:300])
        soon = reminders.split("七日内到期")[1]
        assert "剩余6个自然日" in soon
        assert case.tracking_number in soon and case.subject.name in soon
        assert f'href="/rectification/{case.pk}/"' in soon


# --- item 19: stored in the original, shown in the reader's language --------------------------------------
@pytest.mark.django_db
class TestStoredLanguage:
    def test_an_officer_acting_in_english_stores_chinese_and_an_english_reader_reads_english(
        self, rule_sets, intake, body, office, city_gov, enterprise
    ):
        from cases.models import CaseActivity
        from cases.services import rectification as rect

        with translation.override("en"):
            case = new_case(actor=intake, body=body, office=office, enterprise=enterprise)
            rect.rectification_forward(actor=intake, case=case, verifier=city_gov)
        verification = clock_of(case, "rectification.verification")
        forward = clock_of(case, "rectification.forward")
        assert verification.label == "核实认定期限" and forward.stop_reason == "已转交"
        notes = list(CaseActivity.objects.filter(object_id=case.pk).order_by("pk").values_list("kind", "text"))
        assert ("routed", f"转交{city_gov.name}核实认定") in notes
        assert ("submitted", "拖欠账款") in notes

        with translation.override("en"):
            html = render_to_string("_partials/clock.html", {"cs": clock_status(verification)})
            timeline = render_to_string(
                "_partials/timeline.html", {"timeline": CaseActivity.objects.filter(object_id=case.pk)}
            )
        assert "Verification time limit" in html and "核实认定期限" not in html
        assert "Arrears" in timeline or "arrears" in timeline

    def test_one_chinese_word_reads_as_an_action_on_a_button_and_as_a_state_on_a_case(self):
        from cases.models import CaseActivity, RepairState
        from cases.models.repair import Proposal

        with translation.override("en"):
            assert str(Proposal.APPROVE.label) == "Grant repair"
            assert str(RepairState.APPROVED.label) == "Repair granted"
            assert str(CaseActivity.Kind.ACCEPTED.label) == "Accepted"
            assert str(RepairState.NOT_ACCEPTED.label) == "Not accepted"
            button = Template('{% load i18n %}{% translate "受理" context "action" %}').render(Context())
        assert button == "Accept"


# --- item 17: the demo keeps the invariants of real data ---------------------------------------------------
# Words in a record's text that say its obligations were performed (罚款已缴纳 etc.).
PERFORMED_WORDS = re.compile(r"已(当场)?(缴纳|缴清|履行|支付|补报)")


@pytest.mark.django_db
def test_the_demo_data_keeps_the_invariants_of_real_data(settings):
    from cases.models import CreditRecord, ObjectionCase
    from cases.models.objection import OPEN_STATES

    call_command("load_demo", verbosity=0)
    records = list(CreditRecord.objects.select_related("subject"))
    assert records
    open_cases = ObjectionCase.objects.filter(state__in=OPEN_STATES)
    for record in records:
        # Henan Art 41: the 异议标注 mark exists exactly while an objection case about the record is open.
        marked = record.display_state == DisplayState.UNDER_OBJECTION
        assert marked == open_cases.filter(record=record).exists(), record.decision_number
        # Dates in order: decided, published, minimum display ended, maximum display ended.
        assert record.decision_date <= record.publication_date, record.decision_number
        if record.kind == RecordKind.ADMINISTRATIVE_LICENSE:
            # A licence is not dishonesty information: no display window, nothing to repair.
            assert record.display_min_until is None and not record.repairable, record.decision_number
            continue
        assert record.publication_date <= record.display_min_until <= record.display_max_until, record.decision_number
        # The flag agrees with what the text says was done.
        if PERFORMED_WORDS.search(record.content):
            assert record.obligations_performed, record.decision_number
    # What the README promises a newcomer.
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    assert "four objections" in readme and ObjectionCase.objects.count() == 4
    assert "qiye's other two records are under objection" in readme
    qiye = User.objects.get(username="qiye").authorisations.get().subject
    assert qiye.records.filter(display_state=DisplayState.UNDER_OBJECTION).count() == 2


def test_the_demo_file_cannot_mark_a_record_without_an_objection(db, tmp_path):
    data = read_demo_data()
    data["records"][0]["state"] = "objection"
    data["records"][0]["reason"] = "异议"
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="objection case"):
        call_command("load_demo", "--file", str(path), verbosity=0)
