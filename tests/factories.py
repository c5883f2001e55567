"""Factories for volume; the named personas live in conftest.py."""

import datetime as dt
import itertools

import factory

from cases.identifiers import id_check_digit, org_code_check_char, uscc_check_char
from cases.models import CreditRecord, Organisation, Role, Subject, SubjectAuthorisation, SubjectKind, User

_org_counter = itertools.count(10000000)
_id_counter = itertools.count(1)


def make_uscc(n: int | None = None, region: str = "410100") -> str:
    """A valid 统一社会信用代码 (工商 91, Zhengzhou region) with both check characters computed."""
    n = next(_org_counter) if n is None else n
    body = f"{n:08d}"[-8:]
    first17 = "91" + region + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def make_id_number(birth: dt.date = dt.date(1985, 6, 15), region: str = "410102") -> str:
    serial = f"{next(_id_counter) % 1000:03d}"
    first17 = region + birth.strftime("%Y%m%d") + serial
    return first17 + id_check_digit(first17)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"郑州市测试局{n}")
    kind = Organisation.Kind.DEPARTMENT
    district = "金水区"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.APPLICANT
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "pass-1234")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    kind = SubjectKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"郑州测试科技有限公司{n}")
    uscc = factory.LazyFunction(make_uscc)
    legal_representative = "张三"
    district = "金水区"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    kind = SubjectKind.INDIVIDUAL
    name = factory.Sequence(lambda n: f"李{n}")
    id_number = factory.LazyFunction(make_id_number)


class AuthorisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubjectAuthorisation

    basis = SubjectAuthorisation.Basis.LEGAL_REPRESENTATIVE
    valid_from = dt.date(2020, 1, 1)


class CreditRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditRecord

    kind = "admin_penalty"
    severity = "ordinary"
    title = factory.Sequence(lambda n: f"未按规定公示年度报告{n}")
    decision_number = factory.Sequence(lambda n: f"郑市监处罚〔2026〕{n}号")
    decision_date = dt.date(2026, 3, 5)
    publication_date = dt.date(2026, 3, 10)
    display_min_until = dt.date(2026, 6, 5)
    display_max_until = dt.date(2027, 3, 5)
