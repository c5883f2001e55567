"""信用报告 (issue 12 item 7; 河南省社会信用条例 Art 40): a subject's free credit report at /me/report/, issued as a
numbered, verifiable notice, twice per subject and calendar year, with the record of who looked it up."""

import datetime as dt
import subprocess
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.test import Client
from django.urls import reverse

from cases.models import AuditEvent, CreditReport
from cases.services import reports as svc
from cases.services.privacy import subject_id_number_reveal
from cases.services.records import record_revoke
from notices.models import Notice
from notices.services import notice_render
from tests.factories import AuthorisationFactory, CreditRecordFactory
from tests.test_repair_flow import make_submitted, storage  # noqa: F401

pytestmark = pytest.mark.django_db


def html(response, status=200) -> str:
    assert response.status_code == status, response.content.decode()[:3000]
    return response.content.decode()


def report_notices():
    return Notice.objects.filter(content_type=ContentType.objects.get_for_model(CreditReport))


def issue_pending():
    """What the django-q2 worker does after the request's commit (tests run inside one transaction)."""
    for notice in report_notices().filter(status=Notice.Status.PENDING):
        notice_render(notice_id=notice.pk)


def pdf_text(notice) -> str:
    with notice.pdf.open("rb") as fh:
        data = fh.read()
    # -raw keeps each table cell's text together; a cell wrapped over two lines is joined again here.
    text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(text.split())


@pytest.fixture
def person(citizen_subject, applicant, market_bureau, tax_bureau, handler, reviewer, rule_sets, storage):  # noqa: F811
    """A citizen the applicant acts for, with one record shown, one revoked, an open repair (and its
    commitment), and one look-up of the full ID number by the credit centre."""
    AuthorisationFactory(user=applicant, subject=citizen_subject)
    CreditRecordFactory(
        subject=citizen_subject, provider=tax_bureau, title="逾期未申报个人所得税", decision_number="郑税罚〔2026〕7号"
    )
    revoked = CreditRecordFactory(subject=citizen_subject, provider=market_bureau, title="无照经营")
    record_revoke(actor=handler, record=revoked, reason="处罚决定已被行政复议撤销", case_reference="郑复〔2026〕3号")
    eligible = CreditRecordFactory(
        subject=citizen_subject,
        provider=market_bureau,
        title="未按规定明码标价",
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    make_submitted(applicant, eligible)
    subject_id_number_reveal(actor=reviewer, subject=citizen_subject, reason="核查异议申请")
    return citizen_subject


def test_the_applicant_obtains_a_numbered_report_with_everything_article_40_asks_for(client, applicant, person):
    client.force_login(applicant)
    page = html(client.get(reverse("me_report")))
    assert person.name in page and "本年度剩余免费次数" in page
    key = "a" * 32
    response = client.post(reverse("me_report"), {"subject": person.pk, "request_key": key})
    assert response.status_code == 302
    assert "生成中" in html(client.get(reverse("me_report")))
    issue_pending()
    [notice] = report_notices()
    assert notice.status == Notice.Status.ISSUED and notice.kind == "credit_report"
    assert notice.number == f"郑信信报〔{dt.date.today().year}〕第0001号"
    assert notice.addressee_subject == person
    text = pdf_text(notice)
    for expected in (
        "信用报告",
        person.name,
        "逾期未申报个人所得税",  # shown publicly, with its source
        "国家税务总局郑州市税务局",
        "无照经营",  # no longer shown, and why
        "处罚决定已被行政复议撤销",
        "未按规定明码标价",  # the open repair
        "待受理",
        "信用修复型",  # the repair's commitment, still in force
        "在诺",
        "郑州市信用中心",  # who looked up the ID number, and why
        "核查异议申请",
        "第四十条",
        notice.verification_code,
    ):
        assert expected in text, expected
    assert person.id_number not in text  # masked, as everywhere
    listing = html(client.get(reverse("me_report")))
    assert notice.number in listing and reverse("notices:download", args=[notice.pk]) in listing
    verify = html(client.get(reverse("notices:verify"), {"number": notice.number, "code": notice.verification_code}))
    assert notice.sha256 in verify


def test_a_repeated_request_is_the_same_report_and_the_third_of_the_year_is_refused(client, applicant, person):
    client.force_login(applicant)
    url = reverse("me_report")
    client.post(url, {"subject": person.pk, "request_key": "first-key-0001"})
    client.post(url, {"subject": person.pk, "request_key": "first-key-0001"})  # double click
    assert CreditReport.objects.count() == 1 and report_notices().count() == 1
    client.post(url, {"subject": person.pk, "request_key": "second-key-002"})
    assert list(CreditReport.objects.order_by("ordinal").values_list("ordinal", flat=True)) == [1, 2]
    refused = html(client.post(url, {"subject": person.pk, "request_key": "third-key-0003"}), status=400)
    assert "已达上限" in refused and "第四十条" in refused and f"{dt.date.today().year + 1}年1月1日" in refused
    assert CreditReport.objects.count() == 2 and report_notices().count() == 2
    with pytest.raises(svc.ReportError) as again:
        svc.credit_report_request(actor=applicant, subject=person, request_key="fourth-key-004")
    assert again.value.code == "quota"
    assert AuditEvent.objects.filter(action="credit_report.requested").count() == 2


def test_only_a_subject_one_acts_for(client, applicant, other_applicant, person, handler):
    client.force_login(applicant)
    client.post(reverse("me_report"), {"subject": person.pk, "request_key": "b" * 20})
    issue_pending()
    notice = report_notices().get()
    client = Client()  # a different person's browser
    client.force_login(other_applicant)
    page = html(client.post(reverse("me_report"), {"subject": person.pk, "request_key": "c" * 20}), status=400)
    assert "请选择您有权代表的信用主体" in page and person.name not in page
    bad = html(client.post(reverse("me_report"), {"subject": "x'; drop", "request_key": "c" * 20}), status=400)
    assert "请选择您有权代表的信用主体" in bad
    assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 404
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == 404
    client.force_login(handler)
    assert client.get(reverse("me_report")).status_code == 403
    assert CreditReport.objects.count() == 1


def test_a_bad_request_key_is_refused_without_a_report(client, applicant, person):
    client.force_login(applicant)
    page = html(client.post(reverse("me_report"), {"subject": person.pk, "request_key": "<>"}), status=400)
    assert "请求标识无效" in page and not CreditReport.objects.exists()


def test_the_subject_page_links_the_report(client, applicant, person):
    client.force_login(applicant)
    page = html(client.get(reverse("subject_detail", args=[person.pk])))
    assert f"{reverse('me_report')}?subject={person.pk}" in page


def test_the_personal_centre_shows_the_report_box(client, applicant, person):
    client.force_login(applicant)
    client.post(reverse("me_report"), {"subject": person.pk, "request_key": "d" * 20})
    page = html(client.get(reverse("me")))
    assert reverse("me_report") in page and f"{person.name}：{dt.date.today().year}年已获取1次" in page


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_never_pass_the_yearly_limit(
    applicant,
    citizen_subject,
    credit_centre,
    rule_sets,
    storage,  # noqa: F811
    monkeypatch,
):
    """The subject row is locked while its reports are counted: with one free report left, two simultaneous
    requests (two browsers) give one report and one refusal; one key sent twice at once gives one report."""
    from notices import services as notice_services

    monkeypatch.setattr(notice_services, "_enqueue_render", lambda notice_id: None)
    AuthorisationFactory(user=applicant, subject=citizen_subject)
    svc.credit_report_request(actor=applicant, subject=citizen_subject, request_key="earlier-key-01")

    def race(keys):
        barrier = threading.Barrier(len(keys))
        outcomes, errors = [], []

        def run(key):
            try:
                barrier.wait()
                report = svc.credit_report_request(actor=applicant, subject=citizen_subject, request_key=key)
                outcomes.append(report.pk)
            except svc.ReportError as error:
                outcomes.append(error.code)
            except Exception as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(key,)) for key in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        return outcomes

    first, second = sorted(race(["second-key-01", "second-key-02"]), key=str)
    second_report = CreditReport.objects.get(ordinal=2)
    assert (first, second) == (second_report.pk, "quota")
    # The winner's key sent twice more at once: the same report, however often it is replayed.
    assert race([second_report.request_key] * 2) == [second_report.pk] * 2
    assert CreditReport.objects.count() == 2 and report_notices().count() == 2
