"""Demo commitments (``manage.py load_demo``): matters of two departments and commitments in different states —
kept, awaiting verification, broken (heard, decided by the leader, with its record and notice), documents to follow
overdue — written through
the commitment services, as the department's own users."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Commitment, CommitmentMatter, CommitmentVerification, Role, User, VerificationState
from cases.services.commitment import lifecycle as svc
from cases.services.commitment.sweep import verifications_schedule_due

EVIDENCE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def load_demo_commitments(data: dict, organisations: dict, subjects: dict, created: Counter) -> None:
    admin = User.objects.filter(role=Role.ADMINISTRATOR).order_by("pk").first()
    matters = {}
    for item in data.get("commitment_matters", []):
        department = organisations[item["department"]]
        matter = CommitmentMatter.objects.filter(department=department, code=item["code"]).first()
        if matter is None:
            fields = {k: v for k, v in item.items() if k not in ("department", "code")}
            if "sample_ratio" in fields:
                fields["sample_ratio"] = Decimal(fields["sample_ratio"])
            matter = svc.matter_save(
                actor=admin, matter=CommitmentMatter(department=department, code=item["code"], **fields)
            )
            created["commitment matters"] += 1
        matters[(item["department"], item["code"])] = matter
    today = timezone.localdate()
    outcomes = []
    for item in data.get("commitments", []):
        department = organisations[item["department"]]
        handler = User.objects.filter(role=Role.DEPT_HANDLER, organisation=department).order_by("pk").first()
        commitment = Commitment.objects.filter(source_reference=item["ref"]).first()
        if commitment is None:
            signed_on = today - dt.timedelta(days=item["days_ago"])
            commitment = svc.commitment_register(
                actor=handler,
                matter=matters[(item["department"], item["matter"])],
                subject=subjects[item["subject"]],
                signer_name=item["signer"],
                capacity=item["capacity"],
                signed_on=signed_on,
                decision_date=signed_on,
                source_reference=item["ref"],
            )
            created["commitments"] += 1
        if item.get("outcome"):
            outcomes.append((commitment, handler, item))
    opened = verifications_schedule_due().opened
    if opened:
        created["verification checks opened"] += opened
    for commitment, handler, item in outcomes:
        check = CommitmentVerification.objects.filter(commitment=commitment, state=VerificationState.OPEN).first()
        if check is None:
            continue
        evidence = (
            []
            if item["outcome"] == VerificationState.KEPT
            else [SimpleUploadedFile("核查记录.pdf", EVIDENCE_PDF, content_type="application/pdf")]
        )
        svc.verification_record(
            actor=handler, verification=check, outcome=item["outcome"], finding=item["finding"], evidence=evidence
        )
        if item["outcome"] != VerificationState.KEPT:
            # A breach is only proposed: the subject states its case, then the department's leader decides.
            _hear_and_decide(check, item)
        created["verification outcomes"] += 1


def _hear_and_decide(check: CommitmentVerification, item: dict) -> None:
    subject = check.commitment.subject
    speaker = User.objects.filter(role=Role.APPLICANT, authorisations__subject=subject).order_by("pk").first()
    leader = User.objects.filter(role=Role.DEPT_LEADER, organisation=check.handling_organisation).order_by("pk").first()
    if speaker is None or leader is None:
        return
    svc.verification_statement(actor=speaker, verification=check, text=item.get("statement", "对核查事实无异议。"))
    svc.verification_decide(
        actor=leader,
        verification=check,
        outcome=item["outcome"],
        reasons=item.get("decision", "承诺人陈述未提出新的事实和证据，维持拟认定意见。"),
    )
