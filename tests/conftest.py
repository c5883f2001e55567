"""Named personas, one per role (STYLE.md 9), shared by every test."""

import os

import pytest
from django.core.management import call_command

from cases.models import Organisation, Role
from tests.factories import (
    AuthorisationFactory,
    CreditRecordFactory,
    EnterpriseFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """Each test starts from the calendar its own database says."""
    from workflows.calendar import invalidate_calendar

    invalidate_calendar()
    yield
    invalidate_calendar()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with no rate-limit window left open by an earlier one: the limiter's windows open at a
    client's first hit and every test client is 127.0.0.1, so without this a test would spend the budget of
    the tests before it."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _language_restored():
    """A request or a test that switches to English must not leave it on for the next test (the test client
    runs LocaleMiddleware in this thread, which activates the request's language and never switches back)."""
    from django.utils import translation

    before = translation.get_language()
    yield
    if before:
        translation.activate(before)
    else:
        translation.deactivate()


@pytest.fixture
def official_2027(tmp_path, settings):
    """The days of fixtures/holidays/2027.example.csv as if the State Council had published them: the
    example file itself is refused (and, forced, leaves 2027 provisional)."""
    text = (settings.BASE_DIR / "fixtures/holidays/2027.example.csv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    path = tmp_path / "2027.csv"
    path.write_text("# year: 2027\n# source: 国办发明电〔2026〕X号\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def rule_sets(db):
    call_command("load_rule_sets", verbosity=0)


@pytest.fixture
def credit_centre(db):
    return OrganisationFactory(name="郑州市信用中心", kind=Organisation.Kind.CREDIT_CENTRE, notice_prefix="郑信")


@pytest.fixture
def market_bureau(db):
    return OrganisationFactory(name="郑州市市场监督管理局", kind=Organisation.Kind.DEPARTMENT, notice_prefix="郑市监")


@pytest.fixture
def tax_bureau(db):
    return OrganisationFactory(name="国家税务总局郑州市税务局", kind=Organisation.Kind.DEPARTMENT, notice_prefix="郑税")


@pytest.fixture
def gov_body_org(db):
    return OrganisationFactory(name="郑州市某区人民政府", kind=Organisation.Kind.GOVERNMENT_BODY)


@pytest.fixture
def supervisor_office(db):
    return OrganisationFactory(name="郑州市社会信用体系建设领导小组办公室", kind=Organisation.Kind.SUPERVISOR)


@pytest.fixture
def enterprise(db):
    return EnterpriseFactory(name="郑州甲科技有限公司")


@pytest.fixture
def other_enterprise(db):
    return EnterpriseFactory(name="郑州乙贸易有限公司")


@pytest.fixture
def citizen_subject(db):
    return PersonFactory(name="王五")


@pytest.fixture
def applicant(enterprise):
    user = UserFactory(username="applicant", role=Role.APPLICANT, display_name="甲公司经办人")
    AuthorisationFactory(user=user, subject=enterprise)
    return user


@pytest.fixture
def other_applicant(other_enterprise):
    user = UserFactory(username="other_applicant", role=Role.APPLICANT, display_name="乙公司经办人")
    AuthorisationFactory(user=user, subject=other_enterprise)
    return user


@pytest.fixture
def intake(credit_centre):
    return UserFactory(username="intake", role=Role.PLATFORM_INTAKE, organisation=credit_centre)


@pytest.fixture
def reviewer(credit_centre):
    return UserFactory(username="reviewer", role=Role.PLATFORM_REVIEWER, organisation=credit_centre)


@pytest.fixture
def handler(market_bureau):
    return UserFactory(username="handler", role=Role.DEPT_HANDLER, organisation=market_bureau)


@pytest.fixture
def leader(market_bureau):
    return UserFactory(username="leader", role=Role.DEPT_LEADER, organisation=market_bureau)


@pytest.fixture
def other_handler(tax_bureau):
    return UserFactory(username="other_handler", role=Role.DEPT_HANDLER, organisation=tax_bureau)


@pytest.fixture
def gov_user(gov_body_org):
    return UserFactory(username="gov_user", role=Role.GOV_BODY, organisation=gov_body_org)


@pytest.fixture
def supervisor(supervisor_office):
    return UserFactory(username="supervisor", role=Role.SUPERVISOR, organisation=supervisor_office)


@pytest.fixture
def administrator(db):
    system = OrganisationFactory(name="系统运维", kind=Organisation.Kind.SYSTEM)
    return UserFactory(username="admin", role=Role.ADMINISTRATOR, organisation=system, is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db):
    """Logged in, authorised for nothing."""
    return UserFactory(username="outsider", role=Role.APPLICANT)


@pytest.fixture
def record(enterprise, market_bureau):
    return CreditRecordFactory(subject=enterprise, provider=market_bureau)


@pytest.fixture
def other_record(other_enterprise, tax_bureau):
    return CreditRecordFactory(subject=other_enterprise, provider=tax_bureau)


# --- 政务失信 rectification personas (tests/rectification_support.py) -------------------------------------
from tests.rectification_support import (  # noqa: E402,F401
    body,
    body_user,
    body_user2,
    city_gov,
    city_user,
    complainant,
    office,
    other_body,
    other_body_user,
    rect_travel,
)


@pytest.fixture(autouse=True, scope="session")
def _notice_pki(tmp_path_factory):
    """Notices are signed (notices/signing.py): a demo CA of the test run's own, outside the repository."""
    from django.conf import settings

    from notices import pki

    settings.NOTICE_PKI_DIR = tmp_path_factory.mktemp("pki")
    # Task clusters and web servers the tests start as subprocesses sign with the same CA.
    os.environ["NOTICE_PKI_DIR"] = str(settings.NOTICE_PKI_DIR)
    settings.NOTICE_PKI_DEMO = True
    pki.demo_ca_ensure()
    return settings.NOTICE_PKI_DIR
