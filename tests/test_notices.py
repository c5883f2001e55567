"""Notices (文书): requested once, numbered without gaps, rendered to a PDF that says what the law requires,
immutable once issued, verifiable by anyone, delivered to the addressee's inbox with the time it was read."""

import datetime as dt
import hashlib
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import AuditEvent, NumberSequence
from notices import kinds, rendering
from notices.models import Notice, NoticeImmutableError
from notices.services import notice_mark_read, notice_render, notice_render_due, notice_request, notice_supersede
from tests.factories import AuthorisationFactory, UserFactory

CONTEXTS = {
    "repair_accepted": {"matter": "终止公示行政处罚信息", "received_on": "2026-04-02", "decide_by": "2026-04-16"},
    "repair_not_accepted": {
        "matter": "终止公示行政处罚信息",
        "received_on": "2026-04-02",
        "reasons": ["该信息不属于本机关认定的信息"],
    },
    "repair_supplement": {
        "matter": "终止公示行政处罚信息",
        "received_on": "2026-04-02",
        "missing": ["罚款缴纳凭证", "授权委托书"],
        "supplement_by": "2026-04-09",
    },
    "repair_extension": {
        "matter": "终止公示行政处罚信息",
        "received_on": "2026-04-02",
        "reasons": ["需向有关部门核实履行情况"],
        "extended_until": "2026-04-30",
    },
    "repair_granted": {
        "matter": "终止公示行政处罚信息",
        "received_on": "2026-04-02",
        "record_title": "未按规定公示年度报告",
        "effective_by": "2026-04-17",
    },
    "repair_refused": {
        "matter": "终止公示行政处罚信息",
        "received_on": "2026-04-02",
        "reasons": ["最短公示期尚未届满"],
    },
    "repair_revoked": {
        "matter": "终止公示行政处罚信息",
        "original_number": "郑市监修决〔2026〕第0003号",
        "reasons": ["申请人提供的缴款凭证系伪造"],
    },
    "commitment_letter": {
        "matter": "食品经营许可（告知承诺制）",
        "text": "本单位郑重承诺……",
        "signer": "张三",
        "capacity": "法定代表人",
        "signed_on": "2026-07-06",
        "signed_at": "2026-07-06 09:30:00",
        "sha256": "0" * 64,
    },
    "commitment_breach": {
        "matter": "食品经营许可（告知承诺制）",
        "signed_on": "2026-07-01",
        "outcome": "违诺",
        "reasons": "未按承诺配备冷藏设施",
        "severity": "一般",
    },
    "commitment_revocation": {
        "matter": "食品经营许可（告知承诺制）",
        "reasons": "承诺不实",
        "decision_number": "郑市监许〔2026〕第0007号",
    },
}
# A date each kind's context asks to print, as the notice must print it.
DATES_SHOWN = {
    "repair_accepted": "2026年4月16日",
    "repair_not_accepted": "2026年4月2日",
    "repair_supplement": "2026年4月9日",
    "repair_extension": "2026年4月30日",
    "repair_granted": "2026年4月17日",
    "repair_refused": "2026年4月2日",
    "repair_revoked": "郑市监修决〔2026〕第0003号",
    "commitment_letter": "2026年7月6日",
    "commitment_breach": "2026年7月1日",
    "commitment_revocation": "郑市监许〔2026〕第0007号",
}


@pytest.fixture
def storage(settings, tmp_path):
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def request_notice(record, market_bureau, enterprise, handler, storage):
    """Request a notice about ``record`` (standing in for a case) from the market bureau to the enterprise."""

    def make(kind="repair_refused", trigger="decided", context=None, **kwargs):
        return notice_request(
            case=kwargs.pop("case", record),
            kind=kind,
            trigger=trigger,
            issuer=kwargs.pop("issuer", market_bureau),
            addressee_subject=kwargs.pop("addressee_subject", enterprise),
            context=context or CONTEXTS[kind],
            actor=handler,
            **kwargs,
        )

    return make


@pytest.fixture
def issued(request_notice):
    def make(**kwargs):
        notice = request_notice(**kwargs)
        return notice_render(notice_id=notice.pk)

    return make


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.pdf")) if root.exists() else []


# --- request ---------------------------------------------------------------------------------------------
def test_it_requests_one_notice_per_case_kind_and_trigger(request_notice):
    first = request_notice()
    again = request_notice(context={**CONTEXTS["repair_refused"], "reasons": ["不同的理由"]})
    assert again.pk == first.pk
    assert again.context["reasons"] == ["最短公示期尚未届满"]
    assert Notice.objects.count() == 1
    assert AuditEvent.objects.filter(action="notice.requested").count() == 1
    # Another trigger on the same case is another notice.
    request_notice(trigger="decided-again")
    assert Notice.objects.count() == 2


def test_it_refuses_an_adverse_decision_without_reasons(request_notice):
    with pytest.raises(ValidationError):
        request_notice(kind="repair_refused", context={"matter": "x", "received_on": "2026-04-02"})
    with pytest.raises(ValidationError):
        request_notice(
            kind="repair_supplement", context={"matter": "x", "received_on": "2026-04-02", "missing": ["罚款缴纳凭证"]}
        )
    assert not Notice.objects.exists()


def test_it_refuses_a_notice_without_addressee(request_notice):
    with pytest.raises(ValidationError):
        request_notice(addressee_subject=None)


def test_it_renders_after_commit_through_the_task_queue(request_notice, django_capture_on_commit_callbacks):
    # Q_SYNC=1 in the test settings: the queued task runs in this process when the callback fires.
    with django_capture_on_commit_callbacks(execute=True):
        notice = request_notice()
        assert Notice.objects.get(pk=notice.pk).status == Notice.Status.PENDING
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED


# --- numbering and idempotency ---------------------------------------------------------------------------
def test_numbers_run_per_issuer_kind_and_year_without_gaps(issued, record, other_record, tax_bureau):
    year = timezone.localdate().year
    refused = [issued(trigger=f"t{i}") for i in range(3)]
    assert [n.number for n in refused] == [f"郑市监修不决〔{year}〕第{i:04d}号" for i in (1, 2, 3)]
    assert issued(kind="repair_accepted").number == f"郑市监修受〔{year}〕第0001号"
    assert issued(issuer=tax_bureau, case=other_record).number == f"郑税修不决〔{year}〕第0001号"


def test_rendering_twice_gives_one_number_one_pdf_one_hash(request_notice, storage):
    notice = request_notice()
    first = notice_render(notice_id=notice.pk)
    assert notice_render(notice_id=notice.pk) is None
    notice.refresh_from_db()
    assert (notice.number, notice.sha256) == (first.number, first.sha256)
    assert notice.serial == 1
    assert NumberSequence.objects.get().last_value == 1
    assert len(pdf_files(storage)) == 1
    assert hashlib.sha256(pdf_files(storage)[0].read_bytes()).hexdigest() == notice.sha256
    assert AuditEvent.objects.filter(action="notice.issued").count() == 1


def test_a_failed_render_keeps_its_number_and_the_retry_issues_it(request_notice, storage, monkeypatch):
    """The number is recorded with the notice before rendering (no lock is held across the render), so a
    failed render never gives it back: the retry renders the same number, and the sequence has no gap."""
    notice = request_notice()
    real = rendering.pdf_bytes

    def broken(html, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rendering, "pdf_bytes", broken)
    with pytest.raises(OSError):
        notice_render(notice_id=notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.NUMBERED
    assert notice.claimed_at is None and notice.serial == 1 and notice.number
    assert "disk full" in notice.last_error
    assert NumberSequence.objects.get(scope__startswith="notice:").last_value == 1
    assert pdf_files(storage) == []
    number = notice.number

    monkeypatch.setattr(rendering, "pdf_bytes", real)
    issued = notice_render(notice_id=notice.pk)
    assert (issued.serial, issued.number, issued.status) == (1, number, Notice.Status.ISSUED)
    notice.refresh_from_db()
    assert notice.attempts == 2 and notice.last_error == ""
    assert NumberSequence.objects.get(scope__startswith="notice:").last_value == 1
    assert number in pdf_text(notice.pdf.path)


def test_it_stops_retrying_after_the_attempt_limit_and_alerts_staff(
    request_notice, monkeypatch, settings, market_bureau, handler, mailoutbox, django_capture_on_commit_callbacks
):
    settings.NOTICE_MAX_ATTEMPTS = 2
    handler.email = "handler@example.gov.cn"
    handler.save(update_fields=["email"])
    notice = request_notice()
    monkeypatch.setattr(rendering, "html_for", lambda n: (_ for _ in ()).throw(ValueError("bad template")))
    for _ in range(2):
        with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
            notice_render(notice_id=notice.pk)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED
    assert "bad template" in notice.last_error
    assert notice_render(notice_id=notice.pk) is None
    assert AuditEvent.objects.filter(action="notice.failed", object_id=str(notice.pk)).count() == 1
    [alert] = [m for m in mailoutbox if "handler@example.gov.cn" in m.to]
    assert "文书生成失败" in alert.subject and "bad template" in alert.body


def test_a_render_that_times_out_keeps_no_lock_and_fails_after_its_attempts(
    request_notice, monkeypatch, settings, mailoutbox
):
    """django-q2 ends a task that outlives its timeout by raising TimeoutException (a SystemExit) from a
    SIGALRM handler: no `except Exception` runs. The attempt was counted before rendering and the number
    taken in its own short transaction, so other notices of the same issuer are numbered meanwhile, the
    error is recorded, and after the last attempt the notice is failed with its error (issue 10 item 3)."""
    from django_q.timeout import TimeoutHandler

    settings.NOTICE_MAX_ATTEMPTS = 2
    slow = request_notice(trigger="slow")
    other = request_notice(trigger="other")
    real = rendering.pdf_bytes

    def slow_for_the_first(html, **kwargs):
        if "slow-marker" in html:
            time.sleep(5)
        return real(html, **kwargs)

    monkeypatch.setattr(rendering, "pdf_bytes", slow_for_the_first)
    monkeypatch.setattr(
        rendering,
        "html_for",
        lambda n, real_html=rendering.html_for: real_html(n) + ("<!-- slow-marker -->" if n.pk == slow.pk else ""),
    )
    for attempt in (1, 2):
        with pytest.raises(SystemExit), TimeoutHandler(1):
            notice_render(notice_id=slow.pk)
        slow.refresh_from_db()
        assert slow.serial == 1 and slow.attempts == attempt
        assert "TimeoutException" in slow.last_error
        if attempt == 1:
            assert slow.status == Notice.Status.NUMBERED and slow.claimed_at is None
            # The sequence is not held by the timed-out render: the next notice gets the next number.
            assert notice_render(notice_id=other.pk).serial == 2
    assert slow.status == Notice.Status.FAILED
    assert notice_render(notice_id=slow.pk) is None
    assert NumberSequence.objects.get(scope__startswith="notice:").last_value == 2


def test_the_sweep_renders_notices_whose_job_was_lost(request_notice):
    notice = request_notice()
    Notice.objects.filter(pk=notice.pk).update(requested_at=timezone.now() - dt.timedelta(minutes=5))
    assert notice_render_due() == 1
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ISSUED


# --- what the PDF says -----------------------------------------------------------------------------------
# The repair notices; each other procedure checks its own notices' PDFs in its own tests (their addressees,
# bases and remedies differ), e.g. tests/test_objection_paths.py.
@pytest.mark.parametrize("kind", [code for code in kinds.REGISTRY if code.startswith("repair_")])
def test_the_pdf_says_what_the_law_requires(issued, kind):
    notice = issued(kind=kind)
    text = pdf_text(notice.pdf.path)
    kind_def = kinds.get_kind(kind)
    assert str(kind_def.title) in text.replace(" ", "")
    assert notice.number in text
    assert "郑州甲科技有限公司" in text  # addressee
    assert "郑州市市场监督管理局" in text  # issuer
    assert DATES_SHOWN[kind] in text
    issued_on = timezone.localdate(notice.issued_at)
    assert f"{issued_on.year}年{issued_on.month}月{issued_on.day}日" in text
    # The kind's own legal basis (each procedure cites its own law).
    assert "依据" in text and str(kind_def.legal_basis)[:8] in text
    assert notice.verification_code in text
    # The seal is drawn where the placeholder stood (tests/test_signed_notices.py checks seal and signature).
    assert "（印章）" not in text
    remedies = ("行政复议" in text, "行政诉讼" in text, "异议" in text)
    assert remedies == ((True,) * 3 if kind_def.adverse else (False,) * 3)


def test_the_pdf_embeds_its_cjk_fonts(issued):
    notice = issued()
    out = subprocess.run(["pdffonts", notice.pdf.path], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert any("CJK" in row[0] for row in rows)
    # Columns: name type... encoding emb sub uni; "emb" must be yes for every font.
    assert all(row[-5] == "yes" for row in rows), out


def test_reasons_and_missing_materials_are_printed_in_full(issued):
    notice = issued(kind="repair_supplement")
    text = pdf_text(notice.pdf.path)
    assert "罚款缴纳凭证" in text and "授权委托书" in text


# --- immutability ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field,value",
    [
        ("sha256", "0" * 64),
        ("number", "郑市监修不决〔2026〕第9999号"),
        ("pdf", "notices/forged.pdf"),
        ("verification_code", "AAAAAAAAAA"),
    ],
)
def test_an_issued_notice_cannot_be_changed(issued, field, value):
    notice = Notice.objects.get(pk=issued().pk)
    setattr(notice, field, value)
    with pytest.raises(NoticeImmutableError):
        notice.save()
    # Nor around the model, in SQL: the database refuses too.
    with pytest.raises(DatabaseError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(**{field: value})


def test_an_issued_notice_cannot_go_back_to_pending_or_be_deleted(issued):
    notice = Notice.objects.get(pk=issued().pk)
    notice.status = Notice.Status.PENDING
    with pytest.raises(NoticeImmutableError):
        notice.save()
    with pytest.raises(NoticeImmutableError):
        Notice.objects.get(pk=notice.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.PENDING)


def test_a_correction_is_a_new_notice_that_supersedes_the_old(issued, handler):
    old = issued()
    new = notice_supersede(
        notice=old,
        context={"reasons": ["最短公示期尚未届满（应至2026年6月1日）"]},
        reason="理由表述不完整",
        actor=handler,
    )
    new = notice_render(notice_id=new.pk)
    old.refresh_from_db()
    assert old.status == Notice.Status.SUPERSEDED
    assert new.supersedes_id == old.pk and new.serial == 2
    text = pdf_text(new.pdf.path)
    assert old.number in text and "理由表述不完整" in text
    with pytest.raises(ValidationError):
        notice_supersede(notice=old, context={}, reason="再次更正", actor=handler)


# --- public verification ---------------------------------------------------------------------------------
def test_the_verification_page_confirms_number_code_and_hash(client, issued):
    notice = issued()
    response = client.get(
        reverse("notices:verify"), {"number": notice.number, "code": notice.verification_code.lower()}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert notice.sha256 in body and "郑州市市场监督管理局" in body and "已签发" in body


@pytest.mark.parametrize("wrong", ["code", "number", "pending"])
def test_the_verification_page_gives_one_answer_to_every_miss(client, issued, request_notice, wrong):
    notice = issued()
    pending = request_notice(trigger="not-yet")
    asked = {
        "code": {"number": notice.number, "code": "2222222222"},
        "number": {"number": notice.number.replace("0001", "0002"), "code": notice.verification_code},
        "pending": {"number": "", "code": pending.verification_code or "X"},
    }[wrong]
    response = client.get(reverse("notices:verify"), asked)
    assert response.status_code == 404
    body = response.content.decode()
    assert "未找到与该编号和验证码相符的文书" in body
    assert notice.sha256 not in body and "郑州市市场监督管理局" not in body


# --- the renderer fetches nothing but our static files ---------------------------------------------------
@pytest.fixture
def http_probe():
    """A local HTTP server that records every request: the renderer must never call it."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_applicant_text_with_markup_is_printed_as_text_not_fetched(issued, http_probe):
    base, hits = http_probe
    hostile = [f'<img src="{base}/beacon.png">', '<link rel="stylesheet" href="file:///etc/passwd">']
    notice = issued(context={**CONTEXTS["repair_refused"], "reasons": hostile})
    html = rendering.html_for(notice)
    # Printed as text; the one image of the page is the QR code the template draws (notices/seal.py).
    assert "&lt;img" in html and html.count("<img") == 1 and '<img class="qr-code"' in html
    text = pdf_text(notice.pdf.path)
    assert "beacon.png" in text and "file:///etc/passwd" in text
    assert "root:" not in text
    assert hits == []


def test_the_fetcher_serves_static_files_and_refuses_everything_else(http_probe):
    base, hits = http_probe
    one_pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk"
        "YAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    )
    html = f"""<html><head>
      <link rel="stylesheet" href="/static/css/notice.css">
      <link rel="stylesheet" href="/static/../config/settings.py">
      <link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="{base}/style.css">
      </head><body><p>测试</p>
      <img src="{base}/beacon.png"><img src="https://example.invalid/x.png"><img src="file:///etc/hostname">
      <img src="{one_pixel}"></body></html>"""
    fetcher = rendering.StaticOnlyURLFetcher()
    pdf = rendering.pdf_bytes(html, url_fetcher=fetcher)
    assert pdf.startswith(b"%PDF")
    assert hits == []
    refused = set(fetcher.refused)
    assert {
        f"{base}/style.css",
        f"{base}/beacon.png",
        "https://example.invalid/x.png",
        "file:///etc/hostname",
        "file:///etc/passwd",
    } <= refused
    assert any("settings.py" in url for url in refused)
    assert not any("notice.css" in url or url.startswith("data:") for url in refused)


# --- inbox, download and 送达 ----------------------------------------------------------------------------
def test_the_addressees_applicant_downloads_it_and_that_is_recorded_as_read(client, issued, applicant):
    notice = issued()
    # Dated when numbered (the PDF prints that date), delivered to the inbox when the PDF is stored.
    assert notice.issued_at <= notice.delivered_at and notice.read_at is None
    client.force_login(applicant)
    response = client.get(reverse("notices:download", args=[notice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == notice.sha256
    notice.refresh_from_db()
    first_read = notice.read_at
    assert first_read is not None
    client.get(reverse("notices:download", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at == first_read
    assert AuditEvent.objects.filter(action="notice.read", object_id=str(notice.pk)).count() == 1


def test_another_applicant_gets_404(client, issued, other_applicant):
    notice = issued()
    client.force_login(other_applicant)
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == 404
    assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 404
    assert notice.number not in client.get(reverse("notices:inbox")).content.decode()


def test_anonymous_is_sent_to_login(client, issued):
    notice = issued()
    response = client.get(reverse("notices:download", args=[notice.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_revoked_authorisation_ends_access(client, issued, applicant):
    notice = issued()
    applicant.authorisations.update(revoked_at=timezone.now())
    client.force_login(applicant)
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == 404


def test_the_addressee_user_sees_it_without_a_subject_authorisation(client, issued, outsider):
    notice = issued(addressee_subject=None, addressee_user=outsider)
    client.force_login(outsider)
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == 200


@pytest.mark.parametrize(
    "persona,status",
    [("handler", 200), ("reviewer", 200), ("supervisor", 200), ("other_handler", 404), ("outsider", 404)],
)
def test_staff_see_notices_in_their_scope_without_marking_them_read(client, issued, request, persona, status):
    notice = issued()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("notices:download", args=[notice.pk])).status_code == status
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_inbox_lists_the_subjects_notices_and_opening_one_records_reading(client, issued, applicant):
    notice = issued()
    client.force_login(applicant)
    body = client.get(reverse("notices:inbox")).content.decode()
    assert notice.number in body and "未读" in body
    assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 200
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_pending_notice_is_not_shown_to_the_applicant(client, request_notice, applicant, handler):
    notice = request_notice()
    client.force_login(applicant)
    assert client.get(reverse("notices:detail", args=[notice.pk])).status_code == 404
    assert not notice_mark_read(notice=notice, user=applicant)


def test_a_tampered_file_is_not_served(client, issued, applicant):
    notice = issued()
    Path(notice.pdf.path).write_bytes(b"%PDF-1.7 forged")
    client.force_login(applicant)
    with pytest.raises(RuntimeError):
        client.get(reverse("notices:download", args=[notice.pk]))


def test_a_newly_authorised_agent_reading_counts_as_delivery(issued, enterprise):
    notice = issued()
    agent = UserFactory(username="agent")
    AuthorisationFactory(user=agent, subject=enterprise, basis="agent")
    assert notice_mark_read(notice=notice, user=agent)


# --- kinds -----------------------------------------------------------------------------------------------
def test_the_rule_set_can_set_a_kinds_number_prefix(db):
    from workflows.rules import NOTICE_KINDS

    # Every kind the rule sets give a prefix for that the repair procedure uses exists here, and vice versa.
    assert {k for k in NOTICE_KINDS if k.startswith("repair_")} == {
        k for k in kinds.REGISTRY if k.startswith("repair_")
    }
    # Every registered kind (any procedure) has its prefix in the rule sets.
    assert set(kinds.REGISTRY) <= set(NOTICE_KINDS)
    from workflows.models import RuleParameter, RuleSet

    rule_set = RuleSet.objects.create(
        code="test-36", name="36号令", effective_from=dt.date(2026, 4, 1), citation="国家发展改革委令2025年第36号"
    )
    RuleParameter.objects.create(
        rule_set=rule_set,
        key="notice_prefix.repair_accepted",
        value="信修受",
        description="文书编号前缀",
        citation="[cfg]",
    )
    assert kinds.number_prefix(kinds.get_kind("repair_accepted"), rule_set) == "信修受"
    assert kinds.number_prefix(kinds.get_kind("repair_refused"), rule_set) == "修不决"
    assert kinds.number_prefix(kinds.get_kind("repair_accepted"), None) == "修受"


# --- fonts -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def notice_fonts():
    """The GB 2312 cut of the notice font, as scripts/install.sh builds it (once; it is not committed)."""
    script = Path(__file__).resolve().parent.parent / "scripts" / "build_notice_fonts.py"
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, timeout=600)


def pdf_font_names(path) -> list[str]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:] if line.strip()]


def test_a_name_outside_gb2312_is_printed_from_the_full_font(notice_fonts, request_notice):
    """Common characters come from the font cut to GB 2312; a name with rarer ones (堃 喆 犇 昇 are outside GB 2312,
    𠮷 outside the Basic Multilingual Plane) must still be printed, from the full Noto Serif CJK. A name within
    GB 2312 brings no second font in: the fallback is there because of the rare characters, not by accident
    (the seal once named the full font and embedded it in every notice)."""
    rare = "堃喆犇昇𠮷"
    for ch in rare:
        with pytest.raises(UnicodeEncodeError):
            ch.encode("gb2312")
    "王淼".encode("gb2312")  # the control name is all GB 2312

    def render(name, trigger):
        context = {**CONTEXTS["repair_refused"], "addressee_name": name}
        return notice_render(notice_id=request_notice(context=context, trigger=trigger).pk)

    notice = render(f"王{rare}", "rare-name")
    text = pdf_text(notice.pdf.path).replace(" ", "")
    assert f"王{rare}：" in text
    assert "不予信用修复决定书" in text
    fonts = pdf_font_names(notice.pdf.path)
    assert any(font.startswith("Notice-Serif-CJK") for font in fonts), fonts
    assert any(font.startswith("Noto-Serif-CJK-SC") for font in fonts), fonts

    control = render("王淼", "common-name")
    assert "王淼：" in pdf_text(control.pdf.path).replace(" ", "")
    fonts = pdf_font_names(control.pdf.path)
    assert any(font.startswith("Notice-Serif-CJK") for font in fonts), fonts
    assert not any(font.startswith("Noto-Serif-CJK") for font in fonts), fonts
