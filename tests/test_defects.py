# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
"""Issue 10: the defects found when the site was probed as an attacker (double submits, concurrent decisions,
ID-number look-ups, notice access by side routes, downloads, the installer's apt lock)."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import AuditEvent, Commitment, CommitmentType, RectificationCase, Role
from cases.models.objection import ObjectionCase, ObjectionState
from cases.models.repair import RepairApplication, RepairState
from cases.services import objection as svc_objection
from cases.services import repair as repair_svc
from cases.services.commitment import lifecycle as commitment_svc
from notices.models import Notice
from notices.services import notice_render
from tests.commitment_helpers import matter  # noqa: F401
from tests.factories import (
    AuthorisationFactory,
    CreditRecordFactory,
    EnterpriseFactory,
    PersonFactory,
    UserFactory,
    make_id_number,
)
from tests.test_notices import request_notice  # noqa: F401
from tests.test_objection_paths import checking, filed, notices_of  # noqa: F401
from tests.test_objection_paths import file as file_objection
from tests.test_repair_flow import eligible_record, make_submitted, storage, travel, upload  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def login(user) -> Client:
    # A server error is answered as the 500 page (as in production), so a race reports it as a status code.
    c = Client(raise_request_exception=False)
    c.force_login(user)
    return c


# --- item 20: the installer waits for the dpkg lock ---------------------------------------------------------
def test_apt_calls_wait_for_the_dpkg_lock(tmp_path):
    """apt_ensure passes DPkg::Lock::Timeout to every apt-get call, so another apt run (unattended-upgrades on
    a fresh machine) makes `make demo` wait instead of fail. apt-get and dpkg-query are stand-ins on PATH that
    record their arguments: the real ones need root and a package missing."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    subprocess.run(
        ["bash", "-c", f"source {ROOT}/scripts/lib.sh && apt_ensure some-package"],
        check=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
    )
    lines = calls.read_text().splitlines()
    assert len(lines) == 2 and "update" in lines[0] and "install" in lines[1]
    assert all("DPkg::Lock::Timeout=300" in line for line in lines), lines


# --- items 5 and 18: one notice policy on every route that serves a file; 下载PDF is an attachment --------------
FILE_ROUTES = {
    "authorisation_attachment",
    "notices:download",
    "notices:view",
    "objection_notice",
    "objection_attachment",
    "repair_attachment",
    "rectification_attachment",
    "supervision_export",
    # Public or empty by design: aggregate statistics (no subject named) and the blank import template.
    "public_statistics",
    "commitment_import_template",
}


FILE_MARKERS = ("FileResponse", "pdf_response", "Content-Disposition", "attachment_download_response")


def _views_serving_files():
    """Every URL pattern whose view builds a file response (walks the resolver, reads each view's source)."""
    found = set()

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                view = inspect.unwrap(p.callback)
                try:
                    source = inspect.getsource(view)
                except (OSError, TypeError):
                    continue
                # A view that hands its response to a shared file-serving helper serves a file too.
                if any(marker in source for marker in FILE_MARKERS):
                    found.add(namespace + p.name)

    walk(get_resolver().url_patterns)
    return found


def test_every_file_serving_route_is_covered_by_the_access_tests(db):
    """A route added later that serves a file fails here until someone decides who may fetch it."""
    assert _views_serving_files() == FILE_ROUTES


def test_notice_files_follow_one_policy_for_the_admin_and_a_stranger(
    checking, administrator, outsider, other_handler, handler, applicant, intake
):
    """The administrator (configures the system, reads no personal data) and a stranger get 404 from every
    route that serves a notice or a material; the provider department and the applicant get them."""
    check = notice_render(notice_id=notices_of(checking, "objection_check").get().pk)
    attachment = checking.attachments.get()
    urls = [
        reverse("notices:detail", args=[check.pk]),
        reverse("notices:download", args=[check.pk]),
        reverse("notices:view", args=[check.pk]),
        reverse("objection_notice", args=[checking.pk, check.pk]),
        reverse("objection_attachment", args=[checking.pk, attachment.pk]),
    ]
    for user in (administrator, outsider, other_handler):
        c = login(user)
        for url in urls:
            assert c.get(url).status_code == 404, (user.username, url)
    # The provider department reads the 核查通知 by every route, the same answer everywhere.
    provider = login(handler)
    for url in urls:
        assert provider.get(url).status_code == 200, url
    platform = login(intake)
    assert platform.get(reverse("objection_notice", args=[checking.pk, check.pk])).status_code == 200


def test_download_pdf_is_an_attachment_and_view_is_inline(checking, handler):
    check = notice_render(notice_id=notices_of(checking, "objection_check").get().pk)
    c = login(handler)
    for name, args in (("notices:download", [check.pk]), ("objection_notice", [checking.pk, check.pk])):
        response = c.get(reverse(name, args=args))
        assert response["Content-Disposition"].startswith("attachment"), name
        assert response["Content-Type"] == "application/pdf"
    inline = c.get(reverse("notices:view", args=[check.pk]))
    assert inline["Content-Disposition"].startswith("inline")
    page = c.get(reverse("notices:detail", args=[check.pk])).content.decode()
    assert reverse("notices:view", args=[check.pk]) in page and reverse("notices:download", args=[check.pk]) in page
    case_page = c.get(reverse("objection_desk_case", args=[checking.pk])).content.decode()
    assert "下载PDF" in case_page and reverse("notices:view", args=[check.pk]) in case_page


# --- item 2: concurrent decisions answer one winner and conflict pages, never 500 ------------------------------
def race(clients, url, data, *, method="post"):
    """Every client sends the same request at the same moment through Django's real request handler, each
    in its own thread with its own database connection. Returns the status codes."""
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []
    errors: list[BaseException] = []

    def go(c):
        try:
            barrier.wait()
            response = getattr(c, method)(url, data() if callable(data) else data)
            codes.append(response.status_code)
        except BaseException as exc:  # the test reports it; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return codes


def test_refreshing_cases_in_many_threads_never_trips_the_protected_state(transactional_db, checking):
    """django-fsm switches a protected field's class-level flag while one instance refreshes; another thread
    refreshing at that moment used to raise "Direct state modification is not allowed"."""
    errors: list[BaseException] = []

    def loop():
        try:
            case = ObjectionCase.objects.get(pk=checking.pk)
            for _ in range(300):
                case.refresh_from_db()
            assert case.state == ObjectionState.CHECKING
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=loop) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:1]
    assert ObjectionCase._meta.get_field("state").protected


@pytest.mark.django_db(transaction=True)
def test_thirty_leaders_signing_off_at_once_make_one_decision(travel, storage, applicant, eligible_record, handler):
    leaders = [
        UserFactory(username=f"leader{i}", role=Role.DEPT_LEADER, organisation=handler.organisation) for i in range(30)
    ]
    app = make_submitted(applicant, eligible_record)
    repair_svc.repair_accept(actor=handler, application=app)
    repair_svc.repair_propose(actor=handler, application=app, proposal="approve", reason="")
    codes = race(
        [login(u) for u in leaders],
        reverse("repair_desk_act", args=[app.pk, "signoff"]),
        {"signoff-agree": "yes", "signoff-comment": "同意"},
    )
    assert max(codes) < 500, codes
    assert codes.count(302) == 1 and set(codes) <= {302, 409}, codes
    app = RepairApplication.objects.get(pk=app.pk)
    assert app.state == RepairState.APPROVED
    assert AuditEvent.objects.filter(action="repair.signed_off", object_id=str(app.pk)).count() <= 1


@pytest.mark.django_db(transaction=True)
def test_twenty_handlers_accepting_at_once_make_one_acceptance(travel, storage, applicant, eligible_record, handler):
    handlers = [
        UserFactory(username=f"h{i}", role=Role.DEPT_HANDLER, organisation=handler.organisation) for i in range(20)
    ]
    app = make_submitted(applicant, eligible_record)
    codes = race([login(u) for u in handlers], reverse("repair_desk_act", args=[app.pk, "accept"]), {})
    assert max(codes) < 500, codes
    assert codes.count(302) == 1 and set(codes) <= {302, 409}, codes
    assert Notice.objects.filter(object_id=app.pk, kind="repair_accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_objection_decisions_at_once_make_one(
    travel, storage, applicant, eligible_record, credit_centre, handler, intake
):
    case = svc_objection.objection_send_check(
        actor=intake, case=file_objection(applicant, eligible_record), note="请核对"
    )
    handlers = [
        UserFactory(username=f"p{i}", role=Role.DEPT_HANDLER, organisation=handler.organisation) for i in range(20)
    ]
    codes = race(
        [login(u) for u in handlers],
        reverse("objection_desk_act", args=[case.pk, "decide"]),
        {"decide-outcome": "maintained", "decide-reason": "经核对原件，信息无误"},
    )
    assert max(codes) < 500, codes
    assert codes.count(302) == 1, codes
    assert Notice.objects.filter(object_id=case.pk, kind="objection_result").count() <= 1


# --- item 1: every create a person triggers happens once ------------------------------------------------------
APPLY = {
    "contact_name": "赵六",
    "contact_phone": "0371-66668888",
    "statement": "已于2026年3月20日缴清罚款并完成整改。",
    "signer_name": "张三",
    "signer_capacity": "legal_rep",
    "action": "submit",
}


def _apply_with_proof():
    return {**APPLY, "proof": upload()}


def _token(page: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', page)
    assert match, "the form carries a one-time token"
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_submits_make_one_case(travel, storage, applicant, eligible_record):
    clients = [login(applicant) for _ in range(10)]
    codes = race(clients, reverse("repair_apply", args=[eligible_record.pk]), _apply_with_proof)
    assert max(codes) < 500, codes
    assert RepairApplication.objects.filter(record=eligible_record).count() == 1
    app = RepairApplication.objects.get(record=eligible_record)
    assert app.state == RepairState.SUBMITTED
    assert Commitment.objects.filter(subject=eligible_record.subject, type=CommitmentType.REPAIR).count() == 1
    # Every loser is sent to the case that was submitted: the normal "already submitted" page.
    assert set(codes) == {302}, codes
    assert clients[0].get(reverse("repair_apply", args=[eligible_record.pk]))["Location"] == reverse(
        "repair_status", args=[app.pk]
    )


@pytest.mark.django_db(transaction=True)
def test_two_sends_on_an_ineligible_record_make_one_draft(travel, storage, applicant, eligible_record):
    travel.to(2026, 5, 6)  # before the minimum display period ends (2026-06-05): ineligible
    codes = race(
        [login(applicant) for _ in range(4)], reverse("repair_apply", args=[eligible_record.pk]), _apply_with_proof
    )
    assert max(codes) < 500, codes
    assert RepairApplication.objects.filter(record=eligible_record).count() == 1
    assert Commitment.objects.filter(subject=eligible_record.subject, type=CommitmentType.REPAIR).count() <= 1


def test_back_and_confirm_again_signs_one_commitment(travel, storage, applicant, enterprise, matter):
    c = login(applicant)
    url = reverse("commitment_sign", args=[matter.pk])
    token = _token(c.get(url).content.decode())
    data = {"subject": enterprise.pk, "signer_name": "张三", "capacity": "legal_rep", "form_token": token}
    preview = c.post(url, {**data, "preview": "1"}).content.decode()
    assert _token(preview) == token  # the preview keeps the page's token
    first = c.post(url, {**data, "confirm": "1"})
    commitment = Commitment.objects.get(subject=enterprise)
    assert first["Location"] == reverse("commitment_detail", args=[commitment.pk])
    # Back to the preview, confirm again: the same commitment, not a second one.
    again = c.post(url, {**data, "confirm": "1"})
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Commitment.objects.filter(subject=enterprise).count() == 1
    assert "已提交" in c.get(again["Location"]).content.decode()
    # A fresh page is a new signing.
    fresh = _token(c.get(url).content.decode())
    c.post(url, {**data, "form_token": fresh, "confirm": "1"})
    assert Commitment.objects.filter(subject=enterprise).count() == 2


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_signings_of_one_page_make_one_commitment(travel, storage, applicant, enterprise, matter):
    url = reverse("commitment_sign", args=[matter.pk])
    clients = [login(applicant) for _ in range(10)]
    token = _token(clients[0].get(url).content.decode())
    data = {
        "subject": enterprise.pk,
        "signer_name": "张三",
        "capacity": "legal_rep",
        "form_token": token,
        "confirm": "1",
    }
    codes = race(clients, url, data)
    assert max(codes) < 500 and set(codes) == {302}, codes
    assert Commitment.objects.filter(subject=enterprise).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_objections_make_one_case(travel, storage, applicant, eligible_record, credit_centre):
    def form():
        return {
            "matter": "content",
            "f_decision_number": "郑市监罚〔2026〕12号",
            "reason": "文书号有误",
            "contact_name": "赵六",
            "contact_phone": "13800000000",
            "evidence": upload(),
        }

    codes = race([login(applicant) for _ in range(10)], reverse("objection_file", args=[eligible_record.pk]), form)
    assert max(codes) < 500 and set(codes) == {302}, codes
    assert ObjectionCase.objects.filter(record=eligible_record).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_rectification_leads_from_one_form_make_one_case(travel, intake, body, office, rule_sets):
    url = reverse("rectification_intake")
    clients = [login(intake) for _ in range(10)]
    page = clients[0].get(url).content.decode()
    data = {
        "source": "contract",
        "body": body.pk,
        "complainant_name": "某企业",
        "summary": "拖延办理",
        "facts": "多次催办未果。",
        "form_token": _token(page),
    }
    codes = race(clients, url, data)
    assert max(codes) < 500 and set(codes) == {302}, codes
    assert RectificationCase.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_simultaneous_desk_registrations_from_one_form_make_one_commitment(
    travel, storage, handler, enterprise, matter
):
    url = reverse("commitment_register")
    clients = [login(handler) for _ in range(10)]
    data = {
        "matter": matter.pk,
        "identifier": enterprise.uscc,
        "signer_name": "张三",
        "capacity": "legal_rep",
        "signed_on": "2026-07-06",
        "form_token": _token(clients[0].get(url).content.decode()),
    }
    codes = race(clients, url, data)
    assert max(codes) < 500 and set(codes) == {302}, codes
    assert Commitment.objects.filter(subject=enterprise).count() == 1


# --- item 4: registration by ID number in the commitment desk -------------------------------------------------
def _register(c, matter, identifier):
    url = reverse("commitment_register")
    token = _token(c.get(url).content.decode())
    return c.post(
        url,
        {
            "matter": matter.pk,
            "identifier": identifier,
            "signer_name": "王小明",
            "capacity": "self",
            "signed_on": "2026-07-06",
            "form_token": token,
        },
    )


def test_the_desk_does_not_turn_an_unseen_id_number_into_a_name(travel, storage, handler, market_bureau, matter):
    stranger = PersonFactory(name="王小明", id_number=make_id_number(dt.date(1990, 1, 2)))
    c = login(handler)
    unseen = _register(c, matter, stranger.id_number)
    unknown = _register(c, matter, make_id_number(dt.date(1991, 3, 4)))
    for response in (unseen, unknown):
        assert response.status_code == 200
        page = response.content.decode()
        assert "未找到该主体" in page and "王小明" not in page.split("<form", 1)[0] + page.split("</form>")[-1]
    # The same answer for an unknown and an unseen number: the page confirms nothing.
    assert re.findall(r"field-error[^>]*>([^<]+)<", unseen.content.decode()) == re.findall(
        r"field-error[^>]*>([^<]+)<", unknown.content.decode()
    )
    assert not Commitment.objects.filter(subject=stranger).exists()


def test_the_desk_registers_a_person_it_may_see_and_logs_the_lookup(travel, storage, handler, market_bureau, matter):
    person = PersonFactory(name="李四", id_number=make_id_number(dt.date(1980, 5, 6)))
    CreditRecordFactory(subject=person, provider=market_bureau)
    response = _register(login(handler), matter, person.id_number)
    commitment = Commitment.objects.get(subject=person)
    assert response["Location"] == reverse("commitment_detail", args=[commitment.pk])
    lookup = AuditEvent.objects.get(action="personal_data.view", object_id=str(person.pk))
    assert lookup.actor_id == handler.pk and matter.title in lookup.data["reason"]


# --- item 8: personal data -----------------------------------------------------------------------------------
def test_staff_downloads_and_id_lookups_are_registered_and_shown_to_the_subject(
    checking, handler, applicant, other_applicant, market_bureau, enterprise
):
    attachment = checking.attachments.get()
    url = reverse("objection_attachment", args=[checking.pk, attachment.pk])
    before = AuditEvent.objects.filter(action="personal_data.view").count()
    assert login(applicant).get(url).status_code == 200  # its own materials: not a look-up by someone else
    assert AuditEvent.objects.filter(action="personal_data.view").count() == before
    assert login(handler).get(url).status_code == 200
    event = AuditEvent.objects.filter(action="personal_data.view").latest("seq")
    assert event.object_id == str(enterprise.pk) and event.data["field"] == "attachment"
    assert attachment.original_name in event.data["reason"] and checking.tracking_number in event.data["reason"]

    subject_page = login(applicant).get(reverse("subject_detail", args=[enterprise.pk])).content.decode()
    lookups_url = reverse("subject_lookups", args=[enterprise.pk])
    assert lookups_url in subject_page
    page = login(applicant).get(lookups_url).content.decode()
    assert market_bureau.name in page and "办件材料" in page and attachment.original_name in page
    assert login(other_applicant).get(lookups_url).status_code == 404


def test_a_person_sees_who_looked_up_its_full_id_number(db, handler, market_bureau):
    person = PersonFactory(name="赵六", id_number=make_id_number(dt.date(1975, 8, 9)))
    CreditRecordFactory(subject=person, provider=market_bureau)
    himself = UserFactory(username="zhaoliu", role=Role.APPLICANT)
    AuthorisationFactory(user=himself, subject=person)
    response = login(handler).post(reverse("subject_reveal_id", args=[person.pk]), {"reason": "核实处罚对象身份"})
    assert person.id_number in response.content.decode()
    page = login(himself).get(reverse("subject_lookups", args=[person.pk])).content.decode()
    assert "完整证件号" in page and "核实处罚对象身份" in page and market_bureau.name in page
    assert person.id_number not in page


def test_the_public_register_finds_people_only_by_full_id_number(travel, storage, handler, market_bureau, matter):
    person = PersonFactory(name="王小明", id_number=make_id_number(dt.date(1990, 1, 2)))
    CreditRecordFactory(subject=person, provider=market_bureau)
    commitment_svc.commitment_register(
        actor=handler,
        matter=matter,
        subject=person,
        signer_name="王小明",
        capacity="self",
        signed_on=dt.date(2026, 7, 6),
    )
    register = reverse("commitment_register_public")
    anonymous = Client()
    assert list(anonymous.get(register, {"q": person.id_number}).context["page"]) != []
    assert list(anonymous.get(register, {"q": "王小明"}).context["page"]) == []
    assert list(anonymous.get(register, {"q": person.id_number[:10]}).context["page"]) == []


def new_rect_case(*, actor, body, office, facts):
    from cases.services import rectification as rect_svc

    return rect_svc.rectification_intake(
        actor=actor, body=body, source="contract", summary="拖延", facts=facts, credit_office=office
    )


# --- item 3 (bound free text): limits in services, long strings wrapped on the page ----------------------------
def test_rectification_facts_longer_than_a_notice_can_print_are_refused(travel, intake, body, office, rule_sets):
    from cases.services import rectification as rect_svc

    with pytest.raises(rect_svc.RectificationError) as refused:
        new_rect_case(actor=intake, body=body, office=office, facts="事" * 100_000)
    assert "不得超过5000个字符" in refused.value.messages[0]
    assert not RectificationCase.objects.exists()
    c = login(intake)
    page = c.post(
        reverse("rectification_intake"),
        {"source": "contract", "body": body.pk, "complainant_name": "某企业", "summary": "拖延", "facts": "事" * 5001},
    )
    assert page.status_code == 400 and "5000" in page.content.decode()


def test_a_long_unbroken_string_wraps_everywhere_on_the_notice(request_notice):
    """Not only the body: the addressee line (a name as registered) wraps at the margin too."""
    unbroken = "A" * 200
    notice = notice_render(notice_id=request_notice(addressee_subject=EnterpriseFactory(name=unbroken)).pk)
    text = subprocess.run(
        ["pdftotext", "-layout", notice.pdf.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    runs = re.findall(r"A{20,}", text)
    assert sum(len(r) for r in runs) == 200  # all of it is printed…
    assert max(len(r) for r in runs) < 100  # …wrapped at the margin, not run off the page


def test_a_power_of_attorney_file_is_for_the_credit_centre_only_and_registered(
    storage, applicant, enterprise, administrator, outsider, handler, reviewer
):
    from cases.models import Attachment, SubjectAuthorisation
    from cases.services.attachments import attachment_add

    auth = SubjectAuthorisation.objects.get(user=applicant, subject=enterprise)
    attachment = attachment_add(
        actor=applicant, case=auth, purpose=Attachment.Purpose.POWER_OF_ATTORNEY, uploaded=upload("委托书.pdf")
    )
    url = reverse("authorisation_attachment", args=[auth.pk, attachment.pk])
    for user in (administrator, outsider, handler):
        assert login(user).get(url).status_code in (403, 404), user.username
    response = login(reviewer).get(url)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    event = AuditEvent.objects.filter(action="personal_data.view").latest("seq")
    assert event.object_id == str(enterprise.pk) and "委托书.pdf" in event.data["reason"]
