"""The configuration admin: Chinese, role ↔ organisation enforced, personal data masked, history read-only."""

import datetime as dt
import re

import pytest
from django.forms import MultiWidget
from django.urls import reverse

from cases.models import AuditEvent, CreditRecord, Organisation, RecordChange, Role, Subject, User
from cases.services.audit import audit_log
from cases.services.records import display_window
from tests.factories import make_id_number


def _post_data(form) -> dict:
    """What a browser would send back for ``form`` unchanged."""
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(field.widget, MultiWidget):
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{key}_{i}"] = "" if part is None else part
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = list(value)
        elif value is not None:
            data[key] = value
    return data


def _management(prefix: str, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(initial),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


# --- access and language --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_index_lists_the_configuration_in_chinese(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    for text in ("系统配置", "机构", "用户", "信用主体", "主体授权", "信用记录", "审计事件"):
        assert text in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["applicant", "handler", "supervisor"])
def test_people_who_are_not_administrators_cannot_open_the_admin(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


# --- users: role ↔ organisation kind (User.clean) --------------------------------------------------------


def _add_user(admin_client, **fields):
    data = {
        "username": "new_user",
        "display_name": "新用户",
        "usable_password": "true",
        "password1": "Zz-very-long-pass-42",
        "password2": "Zz-very-long-pass-42",
        **fields,
    }
    return admin_client.post(reverse("admin:cases_user_add"), data)


@pytest.mark.django_db
def test_a_department_handler_must_belong_to_a_department(admin_client, credit_centre):
    response = _add_user(admin_client, role=Role.DEPT_HANDLER, organisation=credit_centre.pk)
    assert response.status_code == 200
    assert "必须隶属于" in response.content.decode()
    assert not User.objects.filter(username="new_user").exists()


@pytest.mark.django_db
def test_an_applicant_belongs_to_no_organisation(admin_client, market_bureau):
    response = _add_user(admin_client, role=Role.APPLICANT, organisation=market_bureau.pk)
    assert "申请人不隶属于办理机构" in response.content.decode()
    assert not User.objects.filter(username="new_user").exists()


@pytest.mark.django_db
def test_a_handler_in_a_department_is_created(admin_client, market_bureau):
    response = _add_user(admin_client, role=Role.DEPT_HANDLER, organisation=market_bureau.pk)
    assert response.status_code == 302
    user = User.objects.get(username="new_user")
    assert user.role == Role.DEPT_HANDLER and user.organisation == market_bureau


@pytest.mark.django_db
def test_changing_a_users_role_is_checked_against_its_organisation(admin_client, handler, supervisor_office):
    url = reverse("admin:cases_user_change", args=[handler.pk])
    data = _post_data(admin_client.get(url).context["adminform"].form)
    data["organisation"] = supervisor_office.pk
    response = admin_client.post(url, data)
    assert "必须隶属于" in response.content.decode()
    handler.refresh_from_db()
    assert handler.organisation.kind == Organisation.Kind.DEPARTMENT


@pytest.mark.django_db
def test_a_users_phone_is_write_only(admin_client, handler):
    User.objects.filter(pk=handler.pk).update(phone="13912345678")
    url = reverse("admin:cases_user_change", args=[handler.pk])
    page = admin_client.get(url)
    html = page.content.decode()
    assert "13912345678" not in html and "139****5678" in html
    assert "13912345678" not in admin_client.get(reverse("admin:cases_user_changelist")).content.decode()

    data = _post_data(page.context["adminform"].form)
    data["new_phone"] = "13700001111"
    assert admin_client.post(url, data).status_code == 302
    handler.refresh_from_db()
    assert handler.phone == "13700001111"


# --- subjects: the identity number is write-only --------------------------------------------------------


def _add_subject(admin_client, **fields):
    data = {
        "kind": "individual",
        "name": "赵六",
        "uscc": "",
        "new_id_number": "",
        "legal_representative": "",
        "address": "",
        "district": "",
        "organisation": "",
        **_management("authorisations"),
        **fields,
    }
    return admin_client.post(reverse("admin:cases_subject_add"), data)


@pytest.mark.django_db
def test_a_person_needs_a_valid_id_number(admin_client):
    assert "自然人主体必须填写居民身份证号码" in _add_subject(admin_client).content.decode()
    number = make_id_number()
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    response = _add_subject(admin_client, new_id_number=wrong_check)
    assert "第18位校验码" in response.content.decode()
    assert not Subject.objects.filter(name="赵六").exists()


@pytest.mark.django_db
def test_a_person_is_created_by_the_service_with_the_number_stored_in_full_but_not_logged(admin_client):
    number = make_id_number()
    assert _add_subject(admin_client, new_id_number=number).status_code == 302
    subject = Subject.objects.get(name="赵六")
    assert subject.id_number == number
    event = AuditEvent.objects.get(action="subject.create", object_id=str(subject.pk))
    assert number not in str(event.data)


@pytest.mark.django_db
def test_the_admin_never_shows_a_persons_full_id_number(admin_client, citizen_subject):
    pages = [
        admin_client.get(reverse("admin:cases_subject_changelist")),
        admin_client.get(reverse("admin:cases_subject_change", args=[citizen_subject.pk])),
    ]
    for response in pages:
        html = response.content.decode()
        assert citizen_subject.id_number not in html
        assert citizen_subject.masked_id_number in html
    # Found by the exact number (kept for matching), listed masked; only the typed query is echoed back.
    search = admin_client.get(reverse("admin:cases_subject_changelist"), {"q": citizen_subject.id_number})
    rows = search.content.decode().split('id="result_list"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    results = re.sub(r"<[^>]+>", " ", rows)  # what is shown, not the links that carry the query along
    assert citizen_subject.masked_id_number in results
    assert citizen_subject.id_number not in results


@pytest.mark.django_db
def test_a_persons_id_number_can_be_replaced_but_not_read(admin_client, citizen_subject):
    url = reverse("admin:cases_subject_change", args=[citizen_subject.pk])
    data = {**_post_data(admin_client.get(url).context["adminform"].form), **_management("authorisations")}
    new = make_id_number()
    data["new_id_number"] = new
    assert admin_client.post(url, data).status_code == 302
    citizen_subject.refresh_from_db()
    assert citizen_subject.id_number == new
    # Saving without a new number keeps the stored one.
    data["new_id_number"] = ""
    assert admin_client.post(url, data).status_code == 302
    citizen_subject.refresh_from_db()
    assert citizen_subject.id_number == new


# --- read-only history ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_events_are_read_only(admin_client, administrator):
    from django.db import transaction

    with transaction.atomic():
        event = audit_log(
            actor=administrator,
            action="personal_data.view",
            object_type="cases.subject",
            object_id="1",
            data={"field": "id_number"},
        )
    assert "personal_data.view" in admin_client.get(reverse("admin:cases_auditevent_changelist")).content.decode()
    assert admin_client.get(reverse("admin:cases_auditevent_add")).status_code == 403
    change = reverse("admin:cases_auditevent_change", args=[event.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"action": "edited"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:cases_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.get(pk=event.pk).action == "personal_data.view"


# --- records: created and corrected through the record services ----------------------------------------


@pytest.mark.django_db
def test_a_record_added_in_the_admin_gets_its_display_window_from_the_rule_set(
    admin_client, rule_sets, enterprise, market_bureau
):
    data = {
        "subject": enterprise.pk,
        "kind": "admin_penalty",
        "severity": "ordinary",
        "sector": "",
        "title": "虚假宣传",
        "decision_number": "郑市监处罚〔2026〕88号",
        "content": "",
        "legal_basis": "",
        "provider": market_bureau.pk,
        "decision_date": "2026-05-06",
        "publication_date": "2026-05-08",
        "repairable": "on",
        **_management("changes"),
    }
    response = admin_client.post(reverse("admin:cases_creditrecord_add"), data)
    assert response.status_code == 302
    record = CreditRecord.objects.get(title="虚假宣传")
    window = display_window(decision_date=dt.date(2026, 5, 6), severity="ordinary")
    assert (record.display_min_until, record.display_max_until) == (window.min_until, window.max_until)
    assert record.display_state == "displayed"
    assert AuditEvent.objects.filter(action="record.create", object_id=str(record.pk)).count() == 1


@pytest.mark.django_db
def test_correcting_a_record_in_the_admin_needs_a_reason_and_is_kept_in_its_history(admin_client, record):
    url = reverse("admin:cases_creditrecord_change", args=[record.pk])
    data = {**_post_data(admin_client.get(url).context["adminform"].form), **_management("changes")}
    data["title"] = "未按规定公示年度报告（更正）"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "变更原因" in response.content.decode()
    assert CreditRecord.objects.get(pk=record.pk).title == record.title

    data["change_reason"] = "认定部门核实后更正事项名称"
    data["display_state"] = "revoked"  # not a field of the form: only the case procedures move it
    assert admin_client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert record.title == "未按规定公示年度报告（更正）"
    assert record.display_state == "displayed"
    change = RecordChange.objects.get(record=record)
    assert (change.field, change.reason) == ("title", "认定部门核实后更正事项名称")


@pytest.mark.django_db
def test_credit_records_are_not_deleted_in_the_admin(admin_client, record):
    assert (
        admin_client.post(reverse("admin:cases_creditrecord_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert CreditRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db
def test_organisations_are_deactivated_not_deleted(admin_client, market_bureau):
    url = reverse("admin:cases_organisation_delete", args=[market_bureau.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Organisation.objects.filter(pk=market_bureau.pk).exists()
