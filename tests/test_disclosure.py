# ruff: noqa: F811 — pytest fixtures imported from tests.test_repair_flow are requested by name
"""Record intake by departments (issue 13 item 3): licensing and penalty decisions entered by form and by
file, each with its 双公示 clock from the decision date (seed 003 item 4: 7 WD or 11 calendar days); late
publications on the supervisor's dashboard; the department corrects or revokes its own record (Henan Art
42) and revocation and expiry reach the platform through the outbox within 1 working day."""

import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import AuditEvent, CreditRecord, DisplayState, OutboxEvent, RecordChange
from cases.models.records import DISCLOSURE_PURPOSE
from cases.services import disclosure as svc
from cases.services.outbox import outbox_deliver_due
from cases.services.repair import records_expire_due
from tests.factories import EnterpriseFactory, make_uscc
from tests.test_repair_flow import storage, travel  # noqa: F401
from workflows.models import Clock

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture(autouse=True)
def _sink(settings, tmp_path):
    settings.OUTBOX_ENDPOINT = ""
    settings.OUTBOX_FILE_SINK = tmp_path / "events.jsonl"


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def disclosure_clock(record) -> Clock:
    return Clock.objects.get(
        content_type=ContentType.objects.get_for_model(CreditRecord), object_id=record.pk, purpose=DISCLOSURE_PURPOSE
    )


def penalty_form(**overrides):
    data = {
        "kind": "admin_penalty",
        "subject_name": "郑州丁餐饮有限公司",
        "identifier": make_uscc(71),
        "title": "未按规定公示食品经营许可信息",
        "decision_number": "郑市监罚〔2026〕88号",
        "decision_date": "2026-07-06",
        "severity": "ordinary",
        "sector": "food",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十六条",
        "content": "罚款人民币五千元",
    }
    data.update(overrides)
    return data


def test_a_department_enters_a_penalty_decision_and_sees_its_disclosure_clock(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    r = login(handler).post("/records/intake/", penalty_form())
    assert r.status_code == 302
    record = CreditRecord.objects.get(decision_number="郑市监罚〔2026〕88号")
    assert record.provider == handler.organisation and record.publication_date == D(2026, 7, 8)
    assert record.display_max_until is not None  # the display window of a penalty
    clock = disclosure_clock(record)
    # Mon 07-06: 7 WD ends Wed 07-15, 11 calendar days end Fri 07-17; the seed says "or", so the later.
    assert clock.due_date == D(2026, 7, 17) and clock.organisation == handler.organisation
    assert "第4项" in clock.citation
    page = login(handler).get(r["Location"]).content.decode()
    assert "双公示信息报送" in page and "2026" in page and "第4项" in page
    event = OutboxEvent.objects.get(topic="record.published", aggregate_id=str(record.pk))
    assert event.clock_id == clock.pk
    assert AuditEvent.objects.filter(action="record.intake", object_id=str(record.pk)).exists()
    # Delivery to the platform stops the clock in time.
    outbox_deliver_due()
    clock.refresh_from_db()
    assert clock.stopped_at is not None and clock.stopped_at <= clock.due_at


def test_across_a_long_holiday_the_seven_working_days_are_the_later_limit(rule_sets, handler):
    # Decided Wed 2026-09-30: 11 days end Sun 10-11 (→ Mon 10-12); 7 WD run 10-08, 09, 10 (make-up Sat),
    # 12, 13, 14, 15.
    limit = svc.disclosure_limit(D(2026, 9, 30))
    assert limit.due_date == D(2026, 10, 15) and limit.unit == "wd" and limit.budget == 7


def test_licence_decisions_have_no_severity_and_are_not_repairable(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    r = login(handler).post(
        "/records/intake/",
        penalty_form(
            kind="admin_license", severity="", sector="", decision_number="郑市监许〔2026〕5号", title="食品经营许可"
        ),
    )
    assert r.status_code == 302
    record = CreditRecord.objects.get(decision_number="郑市监许〔2026〕5号")
    assert record.kind == "admin_license" and record.severity == "" and not record.repairable
    assert record.display_max_until is None
    assert disclosure_clock(record).due_date == D(2026, 7, 17)


def test_bad_input_is_explained_and_nothing_typed_is_lost(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    bad = penalty_form(identifier="91410100MA00000000", severity="", decision_date="2026-07-20")
    r = login(handler).post("/records/intake/", bad)
    assert r.status_code == 400
    page = r.content.decode()
    assert "行政处罚信息必须填写失信程度" in page
    assert "未按规定公示食品经营许可信息" in page and "郑州丁餐饮有限公司" in page
    r = login(handler).post("/records/intake/", penalty_form(identifier="91410100MA00000000"))
    assert r.status_code == 400 and "统一社会信用代码" in r.content.decode()
    r = login(handler).post("/records/intake/", penalty_form(decision_date="2026-07-20"))
    assert r.status_code == 400 and "决定日期不能晚于今天" in r.content.decode()
    assert not CreditRecord.objects.exists()


def test_a_double_submission_enters_one_record(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    client = login(handler)
    assert client.post("/records/intake/", penalty_form()).status_code == 302
    assert client.post("/records/intake/", penalty_form()).status_code == 302
    assert CreditRecord.objects.count() == 1 and OutboxEvent.objects.filter(topic="record.published").count() == 1
    # The same number for another subject is a mistake, told as such.
    other = penalty_form(subject_name="郑州戊商贸有限公司", identifier=make_uscc(72))
    r = client.post("/records/intake/", other)
    assert r.status_code == 400 and "已报送过决定文书号" in r.content.decode()


def test_only_departments_enter_decisions(applicant, supervisor, rule_sets):
    assert login(applicant).get("/records/intake/").status_code == 403
    assert login(supervisor).post("/records/intake/", penalty_form()).status_code == 403


def test_an_existing_subject_must_match_its_name(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    known = EnterpriseFactory(name="郑州己建材有限公司")
    r = login(handler).post("/records/intake/", penalty_form(identifier=known.uscc, subject_name="郑州己建材公司"))
    assert r.status_code == 400 and "郑州己建材有限公司" in r.content.decode()


# --- import ----------------------------------------------------------------------------------------------------
HEADER = "决定类别,当事人名称,统一社会信用代码/身份证号,事项名称,决定文书号,决定日期,失信程度,主要内容,依据\n"


def csv_file(rows: str, name="decisions.csv"):
    return SimpleUploadedFile(name, (HEADER + rows).encode("utf-8-sig"), content_type="text/csv")


def test_an_import_with_one_bad_row_writes_nothing_and_lists_every_error(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    rows = (
        f"行政处罚,郑州庚物流有限公司,{make_uscc(81)},超限运输,郑交罚〔2026〕1号,2026-07-01,一般,罚款,道路运输条例\n"
        f"行政许可,郑州辛医药有限公司,{make_uscc(82)},药品经营许可,郑药许〔2026〕2号,2026-07-02,,,\n"
        f"行政处罚,郑州壬食品有限公司,91410100MA00000000,无证经营,郑交罚〔2026〕3号,2026-07-03,严重,,\n"
        f"行政处罚,郑州癸食品有限公司,{make_uscc(84)},无证经营,郑交罚〔2026〕4号,2026/13/03,一般,,\n"
    )
    r = login(handler).post("/records/intake/import/", {"file": csv_file(rows)})
    assert r.status_code == 400
    page = r.content.decode()
    assert "所有行均未写入" in page
    assert "<td>4</td>" in page and "<td>5</td>" in page  # the two bad lines, by their number in the file
    assert not CreditRecord.objects.exists() and not OutboxEvent.objects.exists()


def test_a_clean_import_enters_every_row_with_its_clock(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    rows = (
        f"行政处罚,郑州庚物流有限公司,{make_uscc(81)},超限运输,郑交罚〔2026〕1号,2026-07-01,一般,罚款,道路运输条例\n"
        f"行政许可,郑州辛医药有限公司,{make_uscc(82)},药品经营许可,郑药许〔2026〕2号,2026-07-02,,,\n"
    )
    r = login(handler).post("/records/intake/import/", {"file": csv_file(rows)})
    assert r.status_code == 302
    assert CreditRecord.objects.filter(provider=handler.organisation).count() == 2
    assert Clock.objects.filter(purpose=DISCLOSURE_PURPOSE).count() == 2
    assert AuditEvent.objects.filter(action="record.import").count() == 1
    page = login(handler).get("/records/intake/").content.decode()
    assert "郑交罚〔2026〕1号" in page and "郑药许〔2026〕2号" in page


def test_an_xlsx_import(travel, rule_sets, handler):
    from openpyxl import Workbook

    travel.to(2026, 7, 8)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(
        ["行政处罚", "郑州庚物流有限公司", make_uscc(81), "超限运输", "郑交罚〔2026〕9号", dt.date(2026, 7, 1), "一般"]
    )
    buf = io.BytesIO()
    wb.save(buf)
    upload = SimpleUploadedFile("d.xlsx", buf.getvalue())
    assert login(handler).post("/records/intake/import/", {"file": upload}).status_code == 302
    assert CreditRecord.objects.get().decision_date == D(2026, 7, 1)


# --- late publications -----------------------------------------------------------------------------------------
def test_late_publications_appear_on_the_supervisor_dashboard(travel, rule_sets, handler, supervisor):
    travel.to(2026, 7, 8)
    login(handler).post(
        "/records/intake/", penalty_form(decision_date="2026-06-01", decision_number="郑市监罚〔2026〕40号")
    )
    login(handler).post("/records/intake/", penalty_form(decision_number="郑市监罚〔2026〕41号"))
    outbox_deliver_due()
    late, in_time = (
        disclosure_clock(CreditRecord.objects.get(decision_number=n))
        for n in ("郑市监罚〔2026〕40号", "郑市监罚〔2026〕41号")
    )
    assert late.stopped_at > late.due_at and in_time.stopped_at <= in_time.due_at
    page = login(supervisor).get("/supervision/").content.decode()
    assert "双公示报送及时性" in page
    section = page[page.index("late-publications") :]
    assert handler.organisation.name in section and "<td>2</td><td>1</td><td>1</td><td>0</td><td>50.0</td>" in section


# --- correction, revocation, expiry ------------------------------------------------------------------------------
@pytest.fixture
def entered(travel, rule_sets, handler):
    travel.to(2026, 7, 8)
    return svc.record_intake(
        actor=handler,
        kind="admin_penalty",
        subject_name="郑州丁餐饮有限公司",
        identifier=make_uscc(71),
        title="未按规定公示许可信息",
        decision_number="郑市监罚〔2026〕88号",
        decision_date=D(2026, 7, 6),
        severity="ordinary",
    )


def test_the_department_corrects_its_own_record_with_a_reason(entered, handler, other_handler):
    form = {
        "title": "未按规定公示食品经营许可信息",
        "decision_number": "郑市监罚〔2026〕88号",
        "decision_date": "2026-07-06",
        "severity": "ordinary",
        "legal_basis": "",
        "content": "",
        "reason": "",
    }
    r = login(handler).post(f"/records/{entered.pk}/correct/", form)
    assert r.status_code == 400 and not RecordChange.objects.filter(record=entered).exists()
    form["reason"] = "事项名称录入有误"
    assert login(handler).post(f"/records/{entered.pk}/correct/", form).status_code == 302
    change = RecordChange.objects.get(record=entered, field="title")
    assert (change.old_value, change.new_value, change.reason) == (
        "未按规定公示许可信息",
        form["title"],
        "事项名称录入有误",
    )
    assert OutboxEvent.objects.filter(topic="record.corrected", aggregate_id=str(entered.pk)).count() == 1
    # Another department may not touch it.
    assert login(other_handler).post(f"/records/{entered.pk}/correct/", form).status_code in (403, 404)


def test_the_department_revokes_its_record_and_the_platform_is_told_within_one_working_day(
    entered, handler, other_handler, travel
):
    assert login(other_handler).post(f"/records/{entered.pk}/revoke/", {"reason": "x"}).status_code in (403, 404)
    r = login(handler).post(f"/records/{entered.pk}/revoke/", {"reason": ""})
    assert r.status_code == 400
    travel.to(2026, 7, 10, 15, 0)  # a Friday
    r = login(handler).post(f"/records/{entered.pk}/revoke/", {"reason": "原处罚决定已被复议机关撤销"})
    assert r.status_code == 302
    entered.refresh_from_db()
    assert entered.display_state == DisplayState.REVOKED
    event = OutboxEvent.objects.get(topic="record.revoked", aggregate_id=str(entered.pk))
    assert event.clock.due_date == D(2026, 7, 13) and "第四十二条" in event.clock.citation
    assert event.clock.organisation == handler.organisation
    assert AuditEvent.objects.filter(action="record.revoke", object_id=str(entered.pk)).exists()
    page = login(handler).get(f"/records/{entered.pk}/").content.decode()
    assert "信用信息撤销" in page


def test_expiry_is_reported_to_the_platform(entered, travel):
    CreditRecord.objects.filter(pk=entered.pk).update(obligations_performed=True)
    travel.to(2027, 7, 12)
    assert records_expire_due() == 1
    event = OutboxEvent.objects.get(topic="record.expired", aggregate_id=str(entered.pk))
    assert event.clock is not None and event.clock.budget == 1


def test_a_calendar_day_limit_counts_down_in_calendar_days(travel, rule_sets, handler):
    from workflows.selectors import clock_status

    travel.to(2026, 7, 8)
    login(handler).post("/records/intake/", penalty_form())
    clock = disclosure_clock(CreditRecord.objects.get())
    assert clock.unit == "cd" and clock.due_date == D(2026, 7, 17)
    # Wed 07-08 to Fri 07-17: 9 calendar days (7 working days).
    assert clock_status(clock, now=travel.now).remaining == 9
    page = login(handler).get("/records/intake/").content.decode()
    assert "剩余9个自然日" in page
