"""Who sees what: the role × object matrix, over HTTP and at the selector and policy level.

Objects: the applicant's enterprise and its record (provided by 市场监管局), the other enterprise and its
record (税务局), and a government body's subject with a 政务失信 record (provided by 税务局).
Anything outside a user's scope answers 404 — the same as an id that does not exist.
"""

import datetime as dt
import re

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from cases import policy
from cases.models import AuditEvent, CreditRecord, Organisation, Role, SubjectKind
from cases.selectors import records as selectors
from cases.services.privacy import PERSONAL_DATA_VIEW
from tests.factories import (
    AuthorisationFactory,
    CreditRecordFactory,
    EnterpriseFactory,
    UserFactory,
    make_uscc,
)

SUBJECTS = ("enterprise", "other_enterprise", "gov_subject")
RECORDS = ("record", "other_record", "gov_record")
READ_ALL = (set(SUBJECTS), set(RECORDS))

# role persona → (subjects it may see, records it may see)
VISIBLE = {
    "applicant": ({"enterprise"}, {"record"}),
    "other_applicant": ({"other_enterprise"}, {"other_record"}),
    "intake": READ_ALL,
    "reviewer": READ_ALL,
    "handler": ({"enterprise"}, {"record"}),
    "leader": ({"enterprise"}, {"record"}),
    "other_handler": ({"other_enterprise", "gov_subject"}, {"other_record", "gov_record"}),
    "gov_user": ({"gov_subject"}, {"gov_record"}),
    "supervisor": READ_ALL,
    "administrator": READ_ALL,
    "outsider": (set(), set()),
}
ROLES = tuple(VISIBLE)


@pytest.fixture
def gov_subject(gov_body_org):
    return EnterpriseFactory(
        name="郑州市某区人民政府",
        kind=SubjectKind.GOVERNMENT_BODY,
        organisation=gov_body_org,
        uscc=make_uscc(region="410105"),
    )


@pytest.fixture
def gov_record(gov_subject, tax_bureau):
    return CreditRecordFactory(
        subject=gov_subject, provider=tax_bureau, kind="gov_dishonesty", title="拖欠中小企业账款"
    )


@pytest.fixture
def world(request, record, other_record, gov_record):
    """Every object of the matrix, by name."""
    return {name: request.getfixturevalue(name) for name in (*SUBJECTS, *RECORDS)}


# --- the matrix over HTTP -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", SUBJECTS)
def test_subject_detail_is_200_in_scope_and_404_outside(client, request, world, role, name):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("subject_detail", args=[world[name].pk]))
    assert response.status_code == (200 if name in VISIBLE[role][0] else 404)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", RECORDS)
def test_record_detail_is_200_in_scope_and_404_outside(client, request, world, role, name):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("record_detail", args=[world[name].pk]))
    assert response.status_code == (200 if name in VISIBLE[role][1] else 404)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_lists_show_exactly_the_scope(client, request, world, role):
    client.force_login(request.getfixturevalue(role))
    subjects = client.get(reverse("subject_list")).context["page"].object_list
    records = client.get(reverse("record_list")).context["page"].object_list
    assert {s.pk for s in subjects} == {world[n].pk for n in VISIBLE[role][0]}
    assert {r.pk for r in records} == {world[n].pk for n in VISIBLE[role][1]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", (*ROLES, None))
def test_public_page_is_open_to_everyone(client, request, world, role):
    if role:
        client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("public_subject", args=[world["enterprise"].pk]))
    assert response.status_code == 200
    assert world["record"].title in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["subject_detail", "record_detail"])
def test_anonymous_visitors_are_sent_to_login(client, world, url):
    obj = world["enterprise"] if url == "subject_detail" else world["record"]
    response = client.get(reverse(url, args=[obj.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the matrix at selector and policy level ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_selectors_and_policy_agree_with_the_matrix(request, world, role):
    user = request.getfixturevalue(role)
    seen_subjects, seen_records = VISIBLE[role]
    assert set(selectors.subject_list_for_user(user=user)) == {world[n] for n in seen_subjects}
    assert set(selectors.record_list_for_user(user=user)) == {world[n] for n in seen_records}
    for name in SUBJECTS:
        visible = name in seen_subjects
        assert policy.can_view_subject(user, world[name]) is visible, name
        if visible:
            assert selectors.subject_get_for_user(user=user, pk=world[name].pk) == world[name]
        else:
            with pytest.raises(Http404):
                selectors.subject_get_for_user(user=user, pk=world[name].pk)
    for name in RECORDS:
        visible = name in seen_records
        assert policy.can_view_record(user, world[name]) is visible, name
        if visible:
            assert selectors.record_get_for_user(user=user, pk=world[name].pk) == world[name]
        else:
            with pytest.raises(Http404):
                selectors.record_get_for_user(user=user, pk=world[name].pk)


@pytest.mark.django_db
def test_anonymous_user_sees_nothing_through_selectors(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not selectors.subject_list_for_user(user=anonymous).exists()
    assert not selectors.record_list_for_user(user=anonymous).exists()
    assert not policy.can_view_subject(anonymous, world["enterprise"])


# --- guessing ids ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_applicant_guessing_another_subjects_ids_gets_the_same_404_as_for_nothing(client, applicant, world):
    client.force_login(applicant)
    missing = CreditRecord.objects.order_by("-pk").first().pk + 1000
    guessed = [
        reverse("subject_detail", args=[world["other_enterprise"].pk]),
        reverse("record_detail", args=[world["other_record"].pk]),
        reverse("record_detail", args=[world["gov_record"].pk]),
        reverse("subject_detail", args=[missing]),
        reverse("record_detail", args=[missing]),
    ]
    bodies = set()
    for url in guessed:
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.content.decode().replace(url, "URL")
        bodies.add(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body))
    # Apart from the echoed path and the per-response CSRF token, "not yours" reads exactly like "missing".
    assert len(bodies) == 1
    page = client.get(reverse("subject_detail", args=[world["enterprise"].pk])).content.decode()
    assert world["other_record"].title not in page


@pytest.mark.django_db
def test_an_applicant_cannot_search_its_way_to_another_subject(client, applicant, world):
    client.force_login(applicant)
    for query in (world["other_enterprise"].name, world["other_enterprise"].uscc):
        subjects = client.get(reverse("subject_list"), {"q": query}).context["page"].object_list
        records = client.get(reverse("record_list"), {"q": query}).context["page"].object_list
        assert list(subjects) == [] and list(records) == []


# --- authorisations -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": timezone.now()},
        {"valid_until": dt.date(2021, 1, 1)},
        {"valid_from": timezone.localdate() + dt.timedelta(days=1)},
    ],
    ids=["revoked", "ended", "not-yet-valid"],
)
def test_an_authorisation_not_in_force_today_grants_nothing(client, applicant, record, change):
    applicant.authorisations.update(**change)
    client.force_login(applicant)
    assert client.get(reverse("subject_detail", args=[record.subject_id])).status_code == 404
    assert client.get(reverse("record_detail", args=[record.pk])).status_code == 404
    assert not selectors.subject_list_for_user(user=applicant).exists()


@pytest.mark.django_db
def test_an_authorisation_ending_today_still_counts(applicant, record):
    applicant.authorisations.update(valid_until=timezone.localdate())
    assert policy.can_view_record(applicant, record)


@pytest.mark.django_db
def test_an_applicant_sees_all_its_records_whatever_their_display_state(client, applicant, enterprise, tax_bureau):
    hidden = CreditRecordFactory(subject=enterprise, provider=tax_bureau, title="已修复的处罚")
    CreditRecord.objects.filter(pk=hidden.pk).update(display_state="repaired")
    client.force_login(applicant)
    page = client.get(reverse("subject_detail", args=[enterprise.pk])).content.decode()
    assert "已修复的处罚" in page and "已修复" in page


# --- departments ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_department_sees_only_its_own_records_of_a_shared_subject(client, handler, record, tax_bureau):
    foreign = CreditRecordFactory(subject=record.subject, provider=tax_bureau, title="税务违法行为")
    client.force_login(handler)
    page = client.get(reverse("subject_detail", args=[record.subject_id])).content.decode()
    assert record.title in page
    assert foreign.title not in page
    assert client.get(reverse("record_detail", args=[foreign.pk])).status_code == 404


@pytest.mark.django_db
def test_staff_of_a_deactivated_organisation_see_nothing(handler, record):
    Organisation.objects.filter(pk=handler.organisation_id).update(is_active=False)
    handler.refresh_from_db()
    assert not selectors.record_list_for_user(user=handler).exists()
    assert not policy.can_view_record(handler, record)


@pytest.mark.django_db
def test_a_staff_role_in_the_wrong_kind_of_organisation_sees_nothing(credit_centre, record):
    # Written around User.clean on purpose: the policy must not trust the row.
    misplaced = UserFactory(role=Role.DEPT_HANDLER, organisation=credit_centre)
    assert not selectors.record_list_for_user(user=misplaced).exists()


# --- the public page ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_page_hides_repaired_revoked_and_expired_records_and_marks_objections(
    client, enterprise, market_bureau
):
    titles = {}
    for state in ("displayed", "objection", "repaired", "revoked", "expired"):
        rec = CreditRecordFactory(subject=enterprise, provider=market_bureau, title=f"记录-{state}")
        CreditRecord.objects.filter(pk=rec.pk).update(display_state=state)
        titles[state] = rec.title
    page = client.get(reverse("public_subject", args=[enterprise.pk])).content.decode()
    assert titles["displayed"] in page
    assert titles["objection"] in page
    assert "异议标注" in page and "异议处理中" in page
    for state in ("repaired", "revoked", "expired"):
        assert titles[state] not in page, state


@pytest.mark.django_db
def test_the_public_page_has_no_objection_mark_when_nothing_is_disputed(client, record):
    page = client.get(reverse("public_subject", args=[record.subject_id])).content.decode()
    assert record.title in page
    assert "异议处理中" not in page


@pytest.mark.django_db
def test_a_person_with_nothing_on_display_is_not_on_the_public_site(client, citizen_subject, market_bureau):
    assert client.get(reverse("public_subject", args=[citizen_subject.pk])).status_code == 404
    results = client.get(reverse("public_search"), {"q": citizen_subject.name}).context["results"]
    assert citizen_subject not in results
    rec = CreditRecordFactory(subject=citizen_subject, provider=market_bureau)
    assert client.get(reverse("public_subject", args=[citizen_subject.pk])).status_code == 200
    CreditRecord.objects.filter(pk=rec.pk).update(display_state="repaired")
    assert client.get(reverse("public_subject", args=[citizen_subject.pk])).status_code == 404


@pytest.mark.django_db
def test_the_public_search_finds_people_only_by_their_full_id_number(client, citizen_subject, market_bureau):
    """Issue 10 item 8: natural persons by full 18-digit 身份证号 only, never by name or part of a number
    (个人信息保护法 Art 6), as on the public commitment register."""
    CreditRecordFactory(subject=citizen_subject, provider=market_bureau)
    search = reverse("public_search")
    assert client.get(search, {"q": citizen_subject.id_number}).context["results"] == [citizen_subject]
    assert client.get(search, {"q": citizen_subject.name}).context["results"] == []
    assert client.get(search, {"q": citizen_subject.id_number[:17]}).context["results"] == []


# --- personal data: masked everywhere, revealed on request to the entitled, and registered -------------


@pytest.fixture
def person_record(citizen_subject, market_bureau):
    return CreditRecordFactory(subject=citizen_subject, provider=market_bureau, title="无证经营")


@pytest.fixture
def citizen(citizen_subject):
    user = UserFactory(username="wangwu", role=Role.APPLICANT, display_name="王五", phone="13812345678")
    AuthorisationFactory(user=user, subject=citizen_subject, basis="self")
    return user


def _views(subject_id):
    return AuditEvent.objects.filter(action=PERSONAL_DATA_VIEW, object_id=str(subject_id))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["citizen", "intake", "reviewer", "handler", "leader", "supervisor", "administrator"])
def test_every_page_masks_a_persons_id_number(client, request, person_record, role):
    subject = person_record.subject
    client.force_login(request.getfixturevalue(role))
    pages = [
        client.get(reverse("subject_list")),
        client.get(reverse("subject_detail", args=[subject.pk])),
        client.get(reverse("record_detail", args=[person_record.pk])),
        client.get(reverse("public_subject", args=[subject.pk])),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert subject.id_number not in html
    assert subject.masked_id_number in pages[1].content.decode()
    assert not _views(subject.pk).exists()


@pytest.mark.django_db
def test_the_public_page_masks_a_persons_id_number(client, person_record):
    subject = person_record.subject
    html = client.get(reverse("public_subject", args=[subject.pk])).content.decode()
    assert subject.masked_id_number in html
    assert subject.id_number not in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["citizen", "intake", "reviewer", "handler", "leader"])
def test_an_entitled_user_sees_the_full_id_after_asking_and_the_look_up_is_registered(
    client, request, person_record, role
):
    user = request.getfixturevalue(role)
    subject = person_record.subject
    client.force_login(user)
    page = client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    assert "显示完整证件号" in page
    assert subject.id_number not in page

    response = client.post(reverse("subject_reveal_id", args=[subject.pk]), {"reason": "核对处罚决定书当事人"})

    assert response.status_code == 200
    assert subject.id_number in response.content.decode()
    event = _views(subject.pk).get()
    assert event.actor == user
    assert event.object_type == "cases.subject"
    assert event.data["field"] == "id_number"
    assert subject.id_number not in str(event.data)  # the register says who looked, not what they saw
    # Looking again later shows the masked number again: the reveal is per request.
    assert subject.id_number not in client.get(reverse("subject_detail", args=[subject.pk])).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "administrator"])
def test_read_all_roles_without_a_need_for_identity_numbers_are_refused(client, request, person_record, role):
    client.force_login(request.getfixturevalue(role))
    subject = person_record.subject
    assert "显示完整证件号" not in client.get(reverse("subject_detail", args=[subject.pk])).content.decode()
    response = client.post(reverse("subject_reveal_id", args=[subject.pk]), {"reason": "想看看"})
    assert response.status_code == 403
    assert subject.id_number not in response.content.decode()
    assert not _views(subject.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["outsider", "applicant", "other_handler", "gov_user"])
def test_users_outside_the_subjects_scope_get_nothing_from_the_reveal(client, request, person_record, role):
    client.force_login(request.getfixturevalue(role))
    subject = person_record.subject
    response = client.post(reverse("subject_reveal_id", args=[subject.pk]), {"reason": "核对"})
    assert response.status_code == 404
    assert subject.id_number not in response.content.decode()
    assert not _views(subject.pk).exists()


@pytest.mark.django_db
def test_anonymous_reveal_is_sent_to_login_and_registers_nothing(client, person_record):
    response = client.post(reverse("subject_reveal_id", args=[person_record.subject_id]))
    assert response.status_code == 302
    assert not _views(person_record.subject_id).exists()


@pytest.mark.django_db
def test_staff_must_give_a_reason_to_reveal(client, intake, person_record):
    client.force_login(intake)
    subject = person_record.subject
    response = client.post(reverse("subject_reveal_id", args=[subject.pk]), {"reason": ""})
    assert response.status_code == 400
    assert subject.id_number not in response.content.decode()
    assert not _views(subject.pk).exists()


@pytest.mark.django_db
def test_the_reveal_is_a_post_only_action(client, citizen, person_record):
    client.force_login(citizen)
    response = client.get(reverse("subject_reveal_id", args=[person_record.subject_id]))
    assert response.status_code == 405
    assert not _views(person_record.subject_id).exists()


@pytest.mark.django_db
def test_a_department_without_records_on_the_person_may_not_unmask(other_handler, person_record):
    assert not policy.can_unmask(other_handler, person_record.subject)


@pytest.mark.django_db
def test_phone_numbers_are_masked_on_the_subject_page(client, intake, citizen, person_record):
    client.force_login(intake)
    html = client.get(reverse("subject_detail", args=[person_record.subject_id])).content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
