# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
"""Departments are addressees (issue 13 item 2): every organisation has a notice inbox with 送达 receipts; the
核查通知 goes to the information provider; a 督办通知书 goes to the organisation that holds the late clock, for
every procedure, from the supervising office, each step once."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client

from cases.models import AuditEvent, EscalationStep
from cases.services import escalation
from notices.models import Notice
from notices.services import notice_render
from tests.factories import UserFactory
from tests.test_objection_paths import checking, filed, notices_of  # noqa: F401
from tests.test_repair_flow import case_clock, eligible_record, storage, submitted, travel  # noqa: F401

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def late_repair(submitted, travel, supervisor_office):
    """The market bureau received a repair application on Mon 2026-07-06 and never decided on acceptance
    (3 WD: due Thu 07-09). On Fri 07-10 the sweep finds the clock overdue."""
    travel.to(2026, 7, 10, 9, 0)
    escalation.escalation_sweep(now=travel.now)
    return submitted


def test_a_late_department_receives_its_supervision_notice_in_its_own_inbox(
    late_repair, handler, leader, applicant, other_handler, storage
):
    clock = case_clock(late_repair, "repair.acceptance")
    step = EscalationStep.objects.get(clock=clock, step="supervision")
    notice = notice_render(notice_id=step.notice_id)
    assert notice.kind_title == "督办通知书"
    assert notice.issuer.kind == "supervisor"
    assert notice.addressee_organisation == late_repair.handling_organisation
    assert notice.addressee_subject is None  # not the applicant's subject
    # The department's inbox (收文) lists it, unread.
    inbox = login(handler).get("/notices/").content.decode()
    assert notice.number in inbox and "未签收" in inbox
    assert "送达本机构尚未签收的文书：1 件" in inbox
    # The applicant and another department never see it.
    assert notice.number not in login(applicant).get("/notices/").content.decode()
    assert login(other_handler).get(f"/notices/{notice.pk}/").status_code == 404
    # Opening it is the 送达 receipt, by a named member of the addressee organisation.
    page = login(leader).get(f"/notices/{notice.pk}/").content.decode()
    notice.refresh_from_db()
    assert notice.read_by == leader and notice.read_at is not None
    assert "签收人" in page and str(leader) in page
    assert AuditEvent.objects.filter(action="notice.read", object_id=str(notice.pk)).count() == 1
    # A colleague opening it later does not move the receipt.
    login(handler).get(f"/notices/{notice.pk}/")
    notice.refresh_from_db()
    assert notice.read_by == leader
    # The PDF is addressed to the department and cites the limit and Henan Art 65.
    from tests.test_notices import pdf_text

    text = pdf_text(notice.pdf.path)
    assert late_repair.handling_organisation.name in text and "第六十五条" in text


def test_the_issuing_office_opening_a_notice_is_not_a_receipt(late_repair, supervisor, storage):
    step = EscalationStep.objects.get(clock=case_clock(late_repair, "repair.acceptance"), step="supervision")
    notice = notice_render(notice_id=step.notice_id)
    assert login(supervisor).get(f"/notices/{notice.pk}/").status_code == 200
    notice.refresh_from_db()
    assert notice.read_at is None and notice.read_by is None
    # The supervising office finds it among what it issued.
    assert notice.number in login(supervisor).get("/notices/?box=issued").content.decode()


def test_the_check_notice_goes_to_the_information_provider_not_the_applicant(checking, handler, applicant, storage):
    [notice] = notices_of(checking, "objection_check")
    notice = notice_render(notice_id=notice.pk)
    assert notice.addressee_organisation == checking.provider and notice.addressee_subject is None
    assert notice.number in login(handler).get("/notices/").content.decode()
    assert notice.number not in login(applicant).get("/notices/").content.decode()
    login(handler).get(f"/notices/{notice.pk}/")
    notice.refresh_from_db()
    assert notice.read_by == handler


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_fire_each_step_once(rule_sets, supervisor_office, travel, settings, tmp_path):
    """Two schedulers sweeping at the same moment (two qcluster nodes): one step row and one notice."""
    from tests.factories import CreditRecordFactory, EnterpriseFactory, OrganisationFactory
    from tests.test_repair_flow import make_submitted

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    bureau = OrganisationFactory(name="郑州市应急管理局", kind="department", notice_prefix="郑应急")
    subject = EnterpriseFactory(name="郑州丙化工有限公司")
    record = CreditRecordFactory(
        subject=subject,
        provider=bureau,
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    from tests.factories import AuthorisationFactory

    applicant = UserFactory(username="concurrent_applicant", role="applicant")
    AuthorisationFactory(user=applicant, subject=subject)
    case = make_submitted(applicant, record)
    travel.to(2026, 7, 10, 9, 0)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(escalation.escalation_sweep(now=travel.now))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    clock = case_clock(case, "repair.acceptance")
    assert EscalationStep.objects.filter(clock=clock, step="supervision").count() == 1
    assert sum(r.inserted["supervision"] for r in results) == 1
    assert Notice.objects.filter(object_id=case.pk, kind="rectification_supervision").count() == 1


def test_a_provider_late_on_its_objection_check_receives_the_supervision_notice(checking, travel, handler, storage):
    """The 核查通知 of Tue 07-07 gave the provider 3 WD (to Fri 07-10); on Mon 07-13 the ladder fires."""
    travel.to(2026, 7, 13, 9, 0)
    escalation.escalation_sweep(now=travel.now)
    from cases.services import objection as objection_svc
    from tests.test_objection_paths import clock_of

    clock = clock_of(checking, objection_svc.PROVIDER)
    step = EscalationStep.objects.get(clock=clock, step="supervision")
    notice = notice_render(notice_id=step.notice_id)
    assert notice.addressee_organisation == checking.provider == handler.organisation
    assert notice.number in login(handler).get("/notices/?box=received").content.decode()


def test_a_government_body_signs_for_its_supervision_notice(
    rule_sets,
    rect_travel,
    body,
    body_user,
    other_body_user,
    city_gov,
    office,
    intake,
    reviewer,
    supervisor_office,
    storage,
):
    from cases.services import rectification as rect_svc
    from tests.rectification_support import clock_of, substantiated_case

    rect_travel.to(2026, 9, 1)
    body.refresh_from_db()
    case = substantiated_case(
        intake=intake, reviewer=reviewer, body=body, office=office, verifier=city_gov, deadline=dt.date(2026, 9, 24)
    )
    rect_travel.to(2026, 9, 25, 9, 0)
    escalation.escalation_sweep(now=rect_travel.now)
    step = EscalationStep.objects.get(clock=clock_of(case, rect_svc.DEADLINE), step="supervision")
    notice = notice_render(notice_id=step.notice_id)
    assert notice.addressee_organisation == body
    assert notice.number in login(body_user).get("/notices/?box=received").content.decode()
    assert login(other_body_user).get(f"/notices/{notice.pk}/").status_code == 404
    login(body_user).get(f"/notices/{notice.pk}/pdf/")
    notice.refresh_from_db()
    assert notice.read_by == body_user
