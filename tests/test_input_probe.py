# ruff: noqa: F811 — pytest fixtures imported from other test modules are requested by name
"""Issue 10 item 6: inputs no form could mean (NUL, lone surrogates, over-long text, wrong types, over-deep
JSON) answer a specific bilingual 400, never a 500 — for the payloads the probe found, and for every URL,
query parameter and form of the site, as every role reaches them."""

from __future__ import annotations

import datetime as dt
import json
import time
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases.models import OutboxEvent
from cases.services.api_clients import api_client_issue
from cases.services.commitment import lifecycle as commitment_svc
from cases.services.repair import repair_accept
from notices.models import Notice
from notices.services import notice_render
from tests.commitment_helpers import matter  # noqa: F401
from tests.factories import CreditRecordFactory
from tests.rectification_support import new_case
from tests.test_objection_paths import file as file_objection
from tests.test_repair_flow import eligible_record, make_submitted, storage, travel  # noqa: F401

NUL = "%00"
SURROGATE = "%ED%A0%80"  # "\ud800" as the UTF-8 bytes a browser or a script could send
LONG = "x" * 100_000
WRONG_TYPE = "not-a-number"


def client_for(user=None) -> Client:
    c = Client(raise_request_exception=False)
    if user is not None:
        c.force_login(user)
    return c


def assert_bilingual_400(response, *, zh: str, en: str):
    assert response.status_code == 400, response.status_code
    page = response.content.decode()
    assert zh in page and en in page, page[:2000]
    assert page.index(zh) < page.index(en)  # Chinese first, English below


# --- the payloads the probe found --------------------------------------------------------------------------------
def test_nul_in_public_queries_gets_a_bilingual_400(db):
    anonymous = client_for()
    for url in ("/public/commitments/?q=%00", "/notices/verify/?number=%00&code=%00", "/public/?q=%00"):
        assert_bilingual_400(anonymous.get(url), zh="空字符", en="NUL character")


def test_broken_utf8_and_over_long_query_values_get_a_bilingual_400(db):
    anonymous = client_for()
    assert_bilingual_400(anonymous.get(f"/public/?q={SURROGATE}"), zh="UTF-8", en="not valid UTF-8")
    assert_bilingual_400(anonymous.get("/public/?q=" + "a" * 1001), zh="过长", en="too long")
    assert anonymous.get("/public/?q=" + "a" * 100).status_code == 200


def test_nul_in_a_form_gets_a_bilingual_400(applicant, client):
    c = client_for(applicant)
    response = c.post("/rectification/new/", {"summary": "a\x00b", "facts": "x"})
    assert_bilingual_400(response, zh="空字符", en="NUL character")


def test_rectification_intake_refuses_non_numeric_ids_on_the_form(intake, body, office, rule_sets):
    c = client_for(intake)
    response = c.post(
        "/rectification/new/",
        {"source": "contract", "body": "abc", "complainant": "x'--", "summary": "拖延", "facts": "事实"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "拖延" in page and "事实" in page  # nothing typed is lost
    assert "has-error" in page


def test_rectification_intake_refuses_non_numeric_complainant_for_an_applicant(applicant, body, office, rule_sets):
    c = client_for(applicant)
    response = c.post(
        "/rectification/new/",
        {"source": "contract", "body": str(body.pk), "complainant": "abc", "summary": "拖延", "facts": "事实"},
    )
    assert response.status_code == 400 and "拖延" in response.content.decode()


def test_nul_in_an_import_csv_names_the_line(travel, storage, handler, matter):
    c = client_for(handler)
    from cases.services.commitment import bulk_import as imp

    header = ",".join(imp.TEMPLATE_HEADERS)
    upload = SimpleUploadedFile("list.csv", f"{header}\n张三\x00,x\n".encode(), content_type="text/csv")
    response = c.post(reverse("commitment_import"), {"file": upload})
    assert response.status_code < 500
    assert "第2行含有空字符" in response.content.decode()


def test_closing_a_revocation_that_does_not_exist_is_a_form_error(
    travel, storage, applicant, enterprise, handler, matter
):
    commitment = commitment_svc.commitment_sign(
        actor=applicant, matter=matter, subject=enterprise, signer_name="张三", capacity="legal_rep"
    )
    v = commitment_svc.verification_start(actor=handler, commitment=commitment)
    response = client_for(handler).post(
        reverse("commitment_revocation_close", args=[v.pk]), {"decision": "revoke", "note": "撤销"}
    )
    assert response.status_code == 400
    assert "尚未启动撤销行政决定程序" in response.content.decode()


def test_the_commitment_api_refuses_nul_surrogates_and_deep_nesting(db, market_bureau, administrator):
    _, secret = api_client_issue(
        actor=administrator, organisation=market_bureau, name="probe", scopes=["commitments:write"]
    )
    c = client_for()
    cases = [
        (b'{"commitments": [{"name": "a\\u0000b"}]}', "NUL"),
        (b'{"commitments": [{"name": "\\ud800"}]}', "surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ]
    for i, (body, english) in enumerate(cases):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_IDEMPOTENCY_KEY": f"probe-{i}"}
        response = c.post("/api/v1/commitments/imports/", data=body, content_type="application/json", **auth)
        assert response.status_code == 400, body[:40]
        assert response["Content-Type"] == "application/problem+json"
        payload = response.json()
        assert english in payload["detail_en"] and payload["detail"], payload


# --- the probe: every URL, query parameter and form, as every role ------------------------------------------------
class _Forms(HTMLParser):
    """The forms of a page: method, action and the fields with the value the page gives them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                self._form["fields"].setdefault(a["name"], a.get("value") or "1")
            elif kind in ("checkbox", "radio"):
                if "checked" in a or a["name"] not in self._form["fields"]:
                    self._form["fields"][a["name"]] = a.get("value") or "on"
            elif kind != "file":
                self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data


class _Options(HTMLParser):
    """First option value of each select (HTMLParser hands options after the select start tag)."""

    def __init__(self):
        super().__init__()
        self.first: dict[str, str] = {}
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and self._select not in self.first:
            self.first[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(page: str) -> list[dict]:
    parser = _Forms()
    parser.feed(page)
    options = _Options()
    options.feed(page)
    for form in parser.forms:
        for name in form["fields"]:
            if not form["fields"][name] and name in options.first:
                form["fields"][name] = options.first[name]
    return parser.forms


# api/v1/: the REST API is fuzzed from its own schema by tests/test_api_contract.py (schemathesis).
SKIPPED_PREFIXES = (
    "admin/",
    "i18n/",
    "accounts/logout/",
    "accounts/password/reset/<",
    "healthz",
    "static/",
    "api/v1/",
)


def url_patterns():
    """(name, route, kwarg names) of every URL pattern, admin and language switch aside."""

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(SKIPPED_PREFIXES):
                    continue
                yield from walk(p.url_patterns, route, f"{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name and not route.startswith(SKIPPED_PREFIXES):
                yield namespace + p.name, route, list(p.pattern.converters)

    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def world(travel, storage, applicant, enterprise, eligible_record, market_bureau, handler, leader, intake, matter):
    """One object of each kind the URLs name, in states where their pages have forms."""

    repair = make_submitted(applicant, eligible_record)
    repair_accept(actor=handler, application=repair)
    for notice in Notice.objects.all():
        notice_render(notice_id=notice.pk)
    notice = Notice.objects.filter(status__in=("issued",)).first()
    other = CreditRecordFactory(subject=enterprise, provider=market_bureau, decision_date=dt.date(2026, 3, 5))
    objection = file_objection(applicant, other)
    commitment = commitment_svc.commitment_sign(
        actor=applicant, matter=matter, subject=enterprise, signer_name="张三", capacity="legal_rep"
    )
    verification = commitment_svc.verification_start(actor=handler, commitment=commitment)
    event = OutboxEvent.objects.order_by("pk").first()
    # The front door (issue 12): a power of attorney waiting for the credit centre, and a site message.
    from cases.models import Message, SubjectAuthorisation
    from cases.selectors.accounts import attorney_files
    from cases.services.accounts import enterprise_register
    from tests.factories import UserFactory
    from tests.test_repair_views import tiny_pdf

    agent = UserFactory(display_name="代理人")
    attorney = SimpleUploadedFile("委托书.pdf", tiny_pdf(), content_type="application/pdf")
    enterprise_register(
        actor=agent,
        uscc=enterprise.uscc,
        name=enterprise.name,
        capacity="agent",
        legal_representative="张三",
        attorney=attorney,
    )
    authorisation = SubjectAuthorisation.objects.get(user=agent, subject=enterprise)
    from viewflow.workflow.models import Task

    extra = {"task_id": Task.objects.order_by("-pk").first().pk}
    return {
        "authorisation": authorisation,
        "attorney_file": attorney_files(authorisation=authorisation).first(),
        "message": Message.objects.order_by("pk").first(),
        "repair": repair,
        "objection": objection,
        "commitment": commitment,
        "verification": verification,
        "notice": notice,
        "record": eligible_record,
        "subject": enterprise,
        "matter": matter,
        "event": event,
        "extra": extra,
    }


def fill(name: str, route: str, kwargs: list[str], world, rect) -> dict | None:
    w = world
    values = {
        "record_pk": w["record"].pk,
        "matter_pk": w["matter"].pk,
        "notice_id": w["notice"].pk,
        "verification_pk": w["verification"].pk,
        "step": "accept",
        "fmt": "csv",
    }
    if name.startswith("repair"):
        values["pk"] = w["repair"].pk
        values["attachment_pk"] = w["repair"].attachments.first().pk
    elif name.startswith("objection"):
        values["pk"] = w["objection"].pk
        values["attachment_pk"] = w["objection"].attachments.first().pk
        values["notice_pk"] = w["notice"].pk
    elif name.startswith(("commitment_verification", "commitment_revocation")):
        values["pk"] = w["verification"].pk
    elif name.startswith("commitment"):
        values["pk"] = w["commitment"].pk
    elif name.startswith("rectification"):
        values["pk"] = rect.pk
        values["attachment_pk"] = 1
    elif name.startswith(("subject", "public_subject")):
        values["pk"] = w["subject"].pk
    elif name == "record_detail":
        values["pk"] = w["record"].pk
    elif name in ("agent_revoke", "authorisation_review", "authorisation_attachment"):
        values["pk"] = w["subject"].pk
        values["auth_pk"] = w["authorisation"].pk
        values["attachment_pk"] = w["attorney_file"].pk
    elif name == "me_message":
        values["pk"] = w["message"].pk
    elif name.startswith("outbox"):
        values["pk"] = w["event"].pk if w["event"] else 1
    values.setdefault("pk", w["subject"].pk)
    values.update(w.get("extra", {}))
    # Ids of kinds the fixture does not make (a message, a delegation, a follow-up) stay real-looking: the
    # probe then meets their 404, which must not be a 500 either.
    return {k: values.get(k, "repair" if k in ("procedure", "kind") else 1) for k in kwargs}


def _body(fields: dict, name: str, raw: str) -> str:
    """An urlencoded body with ``name`` set to ``raw`` exactly as given (percent-escapes kept)."""
    parts = [f"{quote(k)}={quote(str(v))}" for k, v in fields.items() if k != name]
    parts.append(f"{quote(name)}={raw}")
    return "&".join(parts)


QUERY_PARAMETERS = ("q", "page", "type", "status", "state", "number", "code", "organisation", "overdue", "kind")


def test_probe_every_url_query_parameter_and_form_as_every_role(
    world, administrator, supervisor, reviewer, other_handler, outsider, body, office, body_user, rule_sets, request
):
    started = time.monotonic()
    rect = new_case(actor=request.getfixturevalue("intake"), body=body, office=office)
    roles = {
        "anonymous": None,
        "applicant": request.getfixturevalue("applicant"),
        "handler": request.getfixturevalue("handler"),
        "leader": request.getfixturevalue("leader"),
        "intake": request.getfixturevalue("intake"),
        "reviewer": reviewer,
        "supervisor": supervisor,
        "body_user": body_user,
        "other_handler": other_handler,
        "outsider": outsider,
        "administrator": administrator,
    }
    clients = {role: client_for(user) for role, user in roles.items()}
    failures: list[str] = []
    pages: dict[str, tuple[str, str]] = {}  # a form's identity → (role, page url) that shows it
    requests = 0
    probed: set[str] = set()
    phases: dict[str, float] = {}

    def check(response, what):
        nonlocal requests
        requests += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")

    patterns = url_patterns()
    assert len(patterns) > 40  # the walk found the site
    for name, route, kwargs in patterns:
        args = fill(name, route, kwargs, world, rect)
        if args is None:
            failures.append(f"no ids for {name} {route}")
            continue
        url = reverse(name, kwargs=args)
        for role, c in clients.items():
            response = c.get(url)
            check(response, f"GET {url} as {role}")
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            if url in probed:
                continue  # the query parameters of a URL are probed once, as the first role that reaches it
            probed.add(url)
            page = response.content.decode()
            forms = forms_of(page)
            params = set(QUERY_PARAMETERS)
            for form in forms:
                if form["method"] == "get":
                    params |= set(form["fields"])
                else:
                    action = urlsplit(form["action"]).path or url
                    pages.setdefault(f"{action}|{','.join(sorted(form['fields']))}", (role, action, form["fields"]))
            for param in sorted(params):
                for bad in (NUL, SURROGATE, "y" * 100_000, WRONG_TYPE):
                    check(c.get(f"{url}?{param}={bad}"), f"GET {url}?{param}={bad[:12]} as {role}")
    phases["pages and query parameters"] = time.monotonic() - started
    # Every form once, as the first role that reached it, each field set to each bad value in turn.
    for role, action, fields in pages.values():
        c = clients[role]
        for field in [f for f in fields if f != "csrfmiddlewaretoken"]:
            for bad in (NUL, SURROGATE, quote(LONG), quote(WRONG_TYPE)):
                response = c.post(action, _body(fields, field, bad), content_type="application/x-www-form-urlencoded")
                check(response, f"POST {action} {field}={bad[:12]} as {role}")
    phases["forms"] = time.monotonic() - started - sum(phases.values())
    # The JSON API: each field of a row as a JSON "\ud800", NUL, long text and a wrong type.
    _, secret = api_client_issue(
        actor=administrator, organisation=world["matter"].department, name="probe", scopes=["commitments:write"]
    )
    row = {
        "subject_name": world["subject"].name,
        "identifier": world["subject"].uscc,
        "matter_code": world["matter"].code,
        "signer_name": "张三",
        "signer_capacity": "legal_rep",
        "signed_on": "2026-07-06",
    }
    for field in row:
        for bad in ("\ud800", "\x00", LONG, 12345, ["x"], {"a": None}):
            body_text = json.dumps({"commitments": [{**row, field: bad}]})
            response = clients["anonymous"].post(
                "/api/v1/commitments/imports/",
                data=body_text,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_IDEMPOTENCY_KEY=f"probe-{field}-{requests}",
            )
            check(response, f"POST /api/v1/commitments/imports/ {field}={str(bad)[:12]!r}")
    print(f"probe: {requests} requests, {len(probed)} URLs, {len(pages)} forms, phases {phases}")
    assert not failures, "\n".join(failures[:50])
    assert len(pages) > 15, sorted(pages)  # the probe reached the forms of the site
    assert requests > 500
    assert time.monotonic() - started < 180, f"the probe took {time.monotonic() - started:.0f} s"
