# ruff: noqa: F811  (pytest fixtures imported from tests.commitment_helpers)
"""A breach of a commitment is decided only after the subject was heard (行政处罚法 Art 44, 45, 62): the department
proposes, the subject receives the 事先告知书 and may state its case online with files within the hearing period,
and the department's leader decides afterwards — never more severely than proposed."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Commitment, CommitmentVerification, CreditRecord, VerificationState
from cases.services.commitment import lifecycle as svc
from notices.models import Notice
from tests.commitment_helpers import matter, storage, travel  # noqa: F401
from tests.test_repair_flow import PDF
from workflows import engine
from workflows.flows.commitment import CommitmentFlow

pytestmark = pytest.mark.django_db


def _proposed(applicant, handler, matter, enterprise, outcome=VerificationState.BROKEN):
    c = svc.commitment_sign(
        actor=applicant, matter=matter, subject=enterprise, signer_name="张三", capacity="legal_rep"
    )
    v = svc.verification_start(actor=handler, commitment=c)
    svc.verification_record(
        actor=handler,
        verification=v,
        outcome=outcome,
        finding="现场核查未配备冷藏设施",
        evidence=[SimpleUploadedFile("check.pdf", PDF, content_type="application/pdf")],
    )
    return c, CommitmentVerification.objects.get(pk=v.pk)


def test_a_proposed_breach_is_told_to_the_subject_and_decides_nothing_yet(
    travel, storage, applicant, handler, leader, matter, enterprise
):
    c, v = _proposed(applicant, handler, matter, enterprise)
    assert v.state == VerificationState.HEARING and v.proposed_outcome == VerificationState.BROKEN
    # 5 calendar days from 2026-07-06 (Mon) end on Sat 07-11: moved to the next working day, Mon 07-13.
    assert v.hearing_until == dt.date(2026, 7, 13)
    assert Commitment.objects.get(pk=c.pk).status == Commitment.Status.IN_FORCE
    assert not CreditRecord.objects.filter(subject=enterprise).exists()
    notice = Notice.objects.get(kind="commitment_breach_notice", object_id=v.pk)
    assert notice.addressee_subject == enterprise and notice.context["hearing_until"] == "2026-07-13"
    assert not Notice.objects.filter(kind="commitment_breach").exists()
    task = engine.open_task(v)
    assert task.flow_task == CommitmentFlow.breach_decide
    assert engine.may_take(CommitmentFlow.breach_decide, leader, task)
    assert not engine.may_take(CommitmentFlow.breach_decide, handler, task)
    # Neither the handler nor, within the period and without an answer, the leader may decide.
    with pytest.raises(PermissionDenied):
        svc.verification_decide(actor=handler, verification=v, outcome="broken", reasons="x")
    with pytest.raises(ValidationError) as refused:
        svc.verification_decide(actor=leader, verification=v, outcome="broken", reasons="x")
    assert "2026年7月13日" in " ".join(refused.value.messages)


def test_the_subject_states_its_case_online_and_the_leader_then_decides(
    travel, storage, client, applicant, other_applicant, handler, leader, matter, enterprise
):
    c, v = _proposed(applicant, handler, matter, enterprise)
    url = f"/commitments/{c.pk}/verifications/{v.pk}/statement/"
    client.force_login(other_applicant)  # another company's user sees nothing of it
    assert client.post(url, {"text": "冒名"}).status_code == 404
    client.force_login(applicant)
    page = client.get(f"/commitments/{c.pk}/").content.decode()
    assert "拟认定该承诺为“违诺”" in page and url in page
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 400
    photo = SimpleUploadedFile("冷柜.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {"text": "冷藏设施已于7月8日安装到位，附购置发票。", "file": photo})
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.statement.startswith("冷藏设施") and v.statement_by == applicant
    assert v.attachments.filter(purpose="statement").count() == 1
    assert client.post(url, {"text": "再次陈述"}).status_code == 400  # once
    # The leader may decide at once after the answer; the answer holds, so the commitment is kept.
    client.force_login(leader)
    decide = f"/commitments/desk/verifications/{v.pk}/decide/"
    page = client.get(f"/commitments/desk/verifications/{v.pk}/").content.decode()
    assert "冷藏设施已于7月8日安装到位" in page and decide in page
    response = client.post(decide, {"outcome": "kept", "reasons": "陈述理由成立，采纳。"})
    assert response.status_code == 302
    assert Commitment.objects.get(pk=c.pk).status == Commitment.Status.KEPT
    assert not CreditRecord.objects.filter(subject=enterprise).exists()
    assert engine.open_task(v) is None


def test_a_late_statement_is_refused_and_the_leader_decides_after_the_period(
    travel, storage, client, applicant, handler, leader, matter, enterprise
):
    c, v = _proposed(applicant, handler, matter, enterprise)
    travel.to(2026, 7, 14)
    client.force_login(applicant)
    response = client.post(f"/commitments/{c.pk}/verifications/{v.pk}/statement/", {"text": "迟到的意见"})
    assert response.status_code == 400 and "2026年7月13日" in response.content.decode()
    svc.verification_decide(actor=leader, verification=v, outcome="broken", reasons="期满未陈述申辩。")
    c.refresh_from_db()
    assert c.status == Commitment.Status.BROKEN and c.breach_record is not None
    breach = Notice.objects.get(kind="commitment_breach", object_id=v.pk)
    assert "期满未陈述申辩" in breach.context["reasons"]


def test_stating_ones_case_never_makes_the_finding_heavier(
    travel, storage, client, applicant, handler, leader, matter, enterprise
):
    c, v = _proposed(applicant, handler, matter, enterprise)
    svc.verification_statement(actor=applicant, verification=v, text="不同意核查结论")
    with pytest.raises(ValidationError):
        svc.verification_decide(actor=leader, verification=v, outcome="false", reasons="更重")
    client.force_login(leader)
    page = client.get(f"/commitments/desk/verifications/{v.pk}/").content.decode()
    assert 'value="false"' not in page  # the form offers 践诺 or 违诺 only
    assert Commitment.objects.get(pk=c.pk).status == Commitment.Status.IN_FORCE
