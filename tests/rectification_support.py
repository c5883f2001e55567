"""Fixtures and helpers shared by the rectification tests (import the fixtures by name)."""

import datetime as dt

import pytest

from cases.models import Organisation, Role
from cases.services import rectification as svc
from tests.factories import AuthorisationFactory, OrganisationFactory, UserFactory, make_uscc
from tests.test_repair_flow import Travel, at  # noqa: F401  (re-exported for the rectification tests)


@pytest.fixture
def rect_travel():
    t = Travel()
    t._patcher.start()
    yield t
    t._patcher.stop()


@pytest.fixture
def city_gov(db):
    return OrganisationFactory(
        name="郑州市人民政府", kind=Organisation.Kind.GOVERNMENT_BODY, uscc=make_uscc(), district="市本级"
    )


@pytest.fixture
def body(db, city_gov):
    """The district bureau a complaint is about; its superior is the city government."""
    return OrganisationFactory(
        name="郑州市某区住房和城乡建设局",
        kind=Organisation.Kind.GOVERNMENT_BODY,
        uscc=make_uscc(),
        district="金水区",
        parent=city_gov,
    )


@pytest.fixture
def other_body(db):
    return OrganisationFactory(
        name="郑州市某县交通运输局", kind=Organisation.Kind.GOVERNMENT_BODY, uscc=make_uscc(), district="中牟县"
    )


@pytest.fixture
def office(credit_centre):
    return credit_centre


@pytest.fixture
def body_user(body):
    return UserFactory(username="body_liaison", role=Role.GOV_BODY, organisation=body)


@pytest.fixture
def body_user2(body):
    return UserFactory(username="body_liaison2", role=Role.GOV_BODY, organisation=body)


@pytest.fixture
def other_body_user(other_body):
    return UserFactory(username="other_liaison", role=Role.GOV_BODY, organisation=other_body)


@pytest.fixture
def city_user(city_gov):
    return UserFactory(username="city_verifier", role=Role.GOV_BODY, organisation=city_gov)


@pytest.fixture
def complainant(enterprise):
    user = UserFactory(username="sme_owner", role=Role.APPLICANT)
    AuthorisationFactory(user=user, subject=enterprise)
    return user


def new_case(*, actor, body, office, enterprise=None, sme=False, source="arrears"):
    return svc.rectification_intake(
        actor=actor,
        body=body,
        source=source,
        summary="拖欠工程款未支付",
        facts="2024年竣工验收后拖欠工程款120万元。",
        credit_office=office,
        complainant_subject=enterprise,
        sme_payment=sme,
    )


def substantiated_case(*, intake, reviewer, body, office, verifier, enterprise=None, deadline=None):
    case = new_case(actor=intake, body=body, office=office, enterprise=enterprise)
    svc.rectification_forward(actor=intake, case=case, verifier=verifier)
    svc.rectification_verify(actor=reviewer, case=case, substantiated=True, reason="经核实属实。", deadline=deadline)
    case.refresh_from_db()
    return case


def clock_of(case, purpose):
    from django.contrib.contenttypes.models import ContentType

    from workflows.models import Clock

    return (
        Clock.objects.filter(content_type=ContentType.objects.get_for_model(case), object_id=case.pk, purpose=purpose)
        .order_by("-id")
        .first()
    )


def day(y, m, d):
    return dt.date(y, m, d)
