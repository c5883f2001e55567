"""``manage.py load_demo``: a small demo city from fixtures/demo.json (used by ``make demo``).

Safe to run again: everything is looked up by its natural key (organisation name, username, 统一社会信用代码 or
身份证号, a record's subject and decision number) and only what is missing is created. Subjects and credit
records are written through their services, so the demo has the same audit trail and record history as
real data; records are then moved to the display state the data file asks for through the state services.

    manage.py load_demo                 # load (runs load_rule_sets first)
    manage.py load_demo --show-logins   # only print the demo logins
"""

import datetime as dt
import json
import unicodedata
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.models import (
    CreditRecord,
    DisplayState,
    Organisation,
    Role,
    Subject,
    SubjectAuthorisation,
    SubjectKind,
    User,
)
from cases.services.audit import audit_log, audited_create
from cases.services.records import (
    record_create,
    record_expire,
    record_repair,
    record_revoke,
)
from cases.services.subjects import subject_create_enterprise, subject_create_person

DEFAULT_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"
# The audit trail names the loader, not a person: nobody in the demo city did these things.
ACTOR = "manage.py load_demo"
# No 异议标注 here: the mark exists only while an objection case is open (Henan Art 41), so the demo's marks
# come from the objections cases/demo/objection.py files, never from a bare state in the data file.
STATE_SERVICES = {
    DisplayState.REPAIRED: record_repair,
    DisplayState.REVOKED: record_revoke,
    DisplayState.EXPIRED: record_expire,
}
# Authorisations in the demo start before any of its records.
AUTHORISED_FROM = dt.date(2024, 1, 1)


def read_demo_data(path: Path | str = DEFAULT_FILE) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read demo data from {path}: {exc}") from exc


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_logins(data: dict) -> str:
    rows = [(user["username"], user["what"]) for user in data["users"]]
    first = max(_width(name) for name, _ in rows)
    lines = [f"Demo logins (password for all: {data['password']}):"]
    lines += [f"  {_pad(name, first)}  {what}" for name, what in rows]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Load the demo city (organisations, one user per role, subjects, credit records); safe to run again."
    # make demo runs migrate (with the checks) just before; the calendar warning need not be printed twice.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_FILE), help="path of the demo data (JSON)")
        parser.add_argument("--show-logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, file: str, show_logins: bool, **options):
        data = read_demo_data(file)
        if show_logins:
            self.stdout.write(format_logins(data))
            return
        call_command("load_rule_sets", verbosity=0)
        created = load_demo(data)
        if options["verbosity"] >= 1:
            if created:
                self.stdout.write("demo data loaded: " + ", ".join(f"{n} {what}" for what, n in created.items()))
            else:
                self.stdout.write("demo data already loaded, nothing to do")


@transaction.atomic
def load_demo(data: dict) -> Counter:
    """Create what is missing; return how many of each thing were created or moved."""
    created: Counter = Counter()
    organisations = {item["name"]: _organisation(item, created) for item in data["organisations"]}
    subjects = {item["name"]: _subject(item, organisations, created) for item in data["subjects"]}
    for item in data["users"]:
        _user(item, data["password"], organisations, subjects, created)
    for item in data["records"]:
        _record(item, organisations, subjects, created)
    from cases.demo.commitment import load_demo_commitments

    load_demo_commitments(data, organisations, subjects, created)
    for item in data.get("repairs", []):
        _repair(item, created)
    from cases.demo.objection import load_demo_objections

    load_demo_objections(created)
    from cases.demo.rectification import load_demo_rectifications

    load_demo_rectifications(data.get("rectifications", []), created)
    return created


# A one-page PDF, so demo applications carry a real proof file.
DEMO_PROOF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
REPAIR_STAGES = ("submitted", "accepted", "signoff", "approved")


def _repair(item: dict, created: Counter) -> None:
    """Drive a repair application through the real services up to ``stage``, once."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import RepairApplication
    from cases.models.attachments import Attachment
    from cases.services import repair as repair_services

    record = CreditRecord.objects.get(decision_number=item["record"])
    if RepairApplication.objects.filter(record=record).exists():
        return
    stage = item["stage"]
    if stage not in REPAIR_STAGES:
        raise CommandError(f"repair stage must be one of {REPAIR_STAGES}: {stage}")
    applicant = User.objects.get(username=item["applicant"])
    handler = User.objects.get(username=item["handler"])
    leader = User.objects.get(username=item["leader"])
    app = repair_services.repair_draft_save(
        actor=applicant,
        record=record,
        contact_name=applicant.display_name,
        contact_phone=item["contact_phone"],
        statement=item["statement"],
    )
    repair_services.repair_attach(
        actor=applicant,
        application=app,
        purpose=Attachment.Purpose.PROOF,
        uploaded=SimpleUploadedFile("履行义务证明.pdf", DEMO_PROOF),
    )
    repair_services.repair_sign_commitment(
        actor=applicant, application=app, signer_name=applicant.display_name, capacity="legal_rep"
    )
    repair_services.repair_submit(actor=applicant, application=app)
    reached = REPAIR_STAGES.index(stage)
    if reached >= 1:
        repair_services.repair_accept(actor=handler, application=app)
    if reached >= 2:
        repair_services.repair_propose(
            actor=handler, application=app, proposal="approve", reason="材料齐全，符合修复条件。"
        )
    if reached >= 3:
        repair_services.repair_signoff(actor=leader, application=app, agree=True)
    created["repair applications"] += 1


def _organisation(item: dict, created: Counter) -> Organisation:
    organisation = Organisation.objects.filter(name=item["name"]).first()
    if organisation is None:
        organisation = Organisation(
            name=item["name"],
            short_name=item.get("short_name", ""),
            kind=item["kind"],
            district=item.get("district", ""),
            uscc=item.get("uscc", ""),
            notice_prefix=item.get("notice_prefix", ""),
        )
        audited_create(
            organisation,
            actor=ACTOR,
            action="organisation.create",
            data={"name": organisation.name, "kind": organisation.kind},
        )
        created["organisations"] += 1
    return organisation


def _subject(item: dict, organisations: dict, created: Counter) -> Subject:
    if item["kind"] == SubjectKind.INDIVIDUAL:
        subject = Subject.objects.filter(id_number=item["id_number"]).first()
        if subject is None:
            subject = subject_create_person(
                actor=ACTOR,
                name=item["name"],
                id_number=item["id_number"],
                address=item.get("address", ""),
                district=item.get("district", ""),
            )
            created["subjects"] += 1
        return subject
    subject = Subject.objects.filter(uscc=item["uscc"]).first()
    if subject is None:
        subject = subject_create_enterprise(
            actor=ACTOR,
            name=item["name"],
            uscc=item["uscc"],
            kind=item["kind"],
            legal_representative=item.get("legal_representative", ""),
            address=item.get("address", ""),
            district=item.get("district", ""),
            organisation=organisations.get(item.get("organisation")),
        )
        created["subjects"] += 1
    return subject


def _user(item: dict, password: str, organisations: dict, subjects: dict, created: Counter) -> User:
    user = User.objects.filter(username=item["username"]).first()
    if user is None:
        superuser = item.get("superuser", False)
        user = User(
            username=item["username"],
            display_name=item["display_name"],
            role=item["role"],
            organisation=organisations.get(item.get("organisation")),
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.set_password(password)
        audited_create(
            user,
            actor=ACTOR,
            action="user.create",
            data={"username": user.username, "role": user.role, "organisation": user.organisation_id},
        )
        created["users"] += 1
    for grant in item.get("authorisations", []):
        if user.role != Role.APPLICANT:
            raise CommandError(f"{user.username}: only applicants act for subjects")
        authorisation, new = SubjectAuthorisation.objects.get_or_create(
            user=user,
            subject=subjects[grant["subject"]],
            defaults={"basis": grant["basis"], "valid_from": AUTHORISED_FROM},
        )
        if new:
            audit_log(
                actor=ACTOR,
                action="authorisation.create",
                obj=authorisation,
                data={"user": user.pk, "subject": authorisation.subject_id, "basis": authorisation.basis},
            )
            created["authorisations"] += 1
    return user


def _record(item: dict, organisations: dict, subjects: dict, created: Counter) -> CreditRecord:
    subject = subjects[item["subject"]]
    record = CreditRecord.objects.filter(subject=subject, decision_number=item["decision_number"]).first()
    if record is None:
        record = record_create(
            actor=ACTOR,
            subject=subject,
            kind=item["kind"],
            severity=item["severity"],
            sector=item.get("sector", ""),
            title=item["title"],
            provider=organisations[item["provider"]],
            decision_date=dt.date.fromisoformat(item["decision_date"]),
            publication_date=dt.date.fromisoformat(item["publication_date"]),
            decision_number=item["decision_number"],
            content=item.get("content", ""),
            legal_basis=item.get("legal_basis", ""),
            repairable=item.get("repairable", True),
            obligations_performed=item.get("obligations_performed", False),
        )
        created["records"] += 1
    target = DisplayState(item.get("state", DisplayState.DISPLAYED))
    if target == DisplayState.UNDER_OBJECTION:
        raise CommandError(
            f"{item['decision_number']}: a record is under objection only while an objection case is open; "
            "add the objection to cases/demo/objection.py instead of setting its state"
        )
    # Only a record whose display state nobody has changed yet is moved: what someone did to a record while
    # trying the demo (an objection cleared, say) is kept when the demo is loaded again.
    if target != DisplayState.DISPLAYED and not record.changes.filter(field="display_state").exists():
        record = STATE_SERVICES[target](actor=ACTOR, record=record, reason=item["reason"])
        created["state changes"] += 1
    return record
