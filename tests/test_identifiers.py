"""Subjects carry validated national identifiers; a wrong one is refused naming the rule it breaks."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from cases.models import AuditEvent, Subject, SubjectKind
from cases.services.subjects import subject_create_enterprise, subject_create_person

pytestmark = pytest.mark.django_db

REAL_USCCS = ["91330100716105852F", "9144030071526726XG", "914403001922038216"]
GB11643_EXAMPLES = ["11010519491231002X", "440524188001010014"]


def _field_error(exc: ValidationError, field: str, code: str) -> ValidationError:
    errors = [e for e in exc.error_dict[field] if e.code == code]
    assert errors, f"no {code} error on {field}: {[e.code for e in exc.error_dict[field]]}"
    return errors[0]


def _message(error: ValidationError) -> str:
    return next(iter(error))  # rendered with its params in the active language


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_unified_social_credit_codes_are_accepted(code, handler):
    subject = subject_create_enterprise(actor=handler, name="某公司", uscc=code)
    subject.refresh_from_db()
    assert subject.uscc == code


@pytest.mark.parametrize("number", GB11643_EXAMPLES)
def test_gb11643_example_id_numbers_are_accepted(number, handler):
    subject = subject_create_person(actor=handler, name="某人", id_number=number)
    subject.refresh_from_db()
    assert subject.id_number == number
    assert subject.kind == SubjectKind.INDIVIDUAL


def test_it_normalises_what_people_type(handler):
    """Full-width characters, lower case, spaces and dashes are folded before checking and storing."""
    enterprise = subject_create_enterprise(actor=handler, name="某公司", uscc=" ９１３３-０１００ 716105852f ")
    person = subject_create_person(actor=handler, name="某人", id_number="110105 19491231 002x")
    assert enterprise.uscc == "91330100716105852F"
    assert person.id_number == "11010519491231002X"


# (wrong code, error code, params, what the Chinese message must say)
USCC_RULES = [
    ("9133010071610585", "uscc_length", {"n": 16}, ["18位", "当前为16位", "GB 32100-2015 第4.1条"]),
    ("91330100716105852I", "uscc_charset", {"ch": "I"}, ["“I”", "I、O、S、V、Z", "GB 32100-2015 第4.2条"]),
    ("B1330100716105852F", "uscc_authority", {"ch": "B"}, ["登记管理部门代码“B”", "GB 32100-2015 表1"]),
    ("91A30100716105852F", "uscc_region", {}, ["行政区划码", "GB 32100-2015 第4.3条"]),
    (
        "91330100716105853F",
        "uscc_org_check",
        {"expected": "2", "actual": "3"},
        ["第17位", "应为“2”", "实为“3”", "GB 11714-1997"],
    ),
    (
        "91330100716105852E",
        "uscc_check",
        {"expected": "F", "actual": "E"},
        ["第18位", "应为“F”", "实为“E”", "GB 32100-2015 第5条"],
    ),
]

ID_RULES = [
    ("1101051949123100", "id_length", {"n": 16}, ["18位", "当前为16位", "GB 11643-1999 第4条"]),
    ("11010519491231002Y", "id_charset", {}, ["前17位应为数字", "GB 11643-1999 第4条"]),
    ("110105194902301234", "id_birth", {"code": "19490230"}, ["出生日期码“19490230”", "GB 11643-1999 第5.3条"]),
    (
        "110105194912310021",
        "id_check",
        {"expected": "X", "actual": "1"},
        ["第18位", "应为“X”", "实为“1”", "GB 11643-1999 第5.5条"],
    ),
]


@pytest.mark.parametrize(("value", "code", "params", "fragments"), USCC_RULES, ids=[r[1] for r in USCC_RULES])
def test_a_wrong_uscc_is_refused_naming_the_rule(value, code, params, fragments, handler):
    with pytest.raises(ValidationError) as caught:
        subject_create_enterprise(actor=handler, name="某公司", uscc=value)
    error = _field_error(caught.value, "uscc", code)
    with translation.override("zh-hans"):
        message = _message(error)
    for fragment in fragments:
        assert fragment in message
    with translation.override("en"):
        # The English catalog comes later: the rule is identified by code and params.
        assert error.code == code
        assert (error.params or {}) == params
        assert _message(error).strip()
    assert not Subject.objects.exists()
    assert not AuditEvent.objects.filter(action="subject.create").exists()


@pytest.mark.parametrize(("value", "code", "params", "fragments"), ID_RULES, ids=[r[1] for r in ID_RULES])
def test_a_wrong_id_number_is_refused_naming_the_rule(value, code, params, fragments, handler):
    with pytest.raises(ValidationError) as caught:
        subject_create_person(actor=handler, name="某人", id_number=value)
    error = _field_error(caught.value, "id_number", code)
    with translation.override("zh-hans"):
        message = _message(error)
    for fragment in fragments:
        assert fragment in message
    with translation.override("en"):
        assert error.code == code
        assert (error.params or {}) == params
        assert _message(error).strip()
    assert not Subject.objects.exists()


def test_a_code_can_belong_to_one_subject_only(handler):
    subject_create_enterprise(actor=handler, name="甲公司", uscc=REAL_USCCS[0])
    with pytest.raises(ValidationError) as caught:
        subject_create_enterprise(actor=handler, name="乙公司", uscc=REAL_USCCS[0].lower())
    assert "uscc" in caught.value.error_dict
    assert Subject.objects.count() == 1


def test_an_organisation_needs_a_code_and_a_person_needs_an_id_number(handler):
    with pytest.raises(ValidationError) as caught:
        subject_create_enterprise(actor=handler, name="甲公司", uscc="  ")
    assert _field_error(caught.value, "uscc", "uscc_required")
    with pytest.raises(ValidationError) as caught:
        subject_create_person(actor=handler, name="某人", id_number="")
    assert _field_error(caught.value, "id_number", "id_required")
    with pytest.raises(ValidationError) as caught:
        subject_create_enterprise(actor=handler, name="某人", uscc=REAL_USCCS[0], kind=SubjectKind.INDIVIDUAL)
    assert _field_error(caught.value, "kind", "subject_kind")


def test_creating_a_subject_is_audited_without_the_full_id_number(handler):
    enterprise = subject_create_enterprise(
        actor=handler, name="甲公司", uscc=REAL_USCCS[1], kind=SubjectKind.OTHER_ORGANISATION
    )
    person = subject_create_person(actor=handler, name="某人", id_number=GB11643_EXAMPLES[0])
    events = {e.object_id: e for e in AuditEvent.objects.filter(action="subject.create")}
    assert events[str(enterprise.pk)].data["uscc"] == REAL_USCCS[1]
    assert events[str(enterprise.pk)].actor == handler
    logged = events[str(person.pk)].data
    assert logged["id_number"] == "110105********002X"
    assert GB11643_EXAMPLES[0] not in str(logged)
    # Stored in full for matching; the public identifier is masked.
    assert person.id_number == GB11643_EXAMPLES[0]
    assert person.public_identifier == "110105********002X"


def test_the_fast_checks_agree_with_the_validators_on_valid_and_mutated_codes():
    """uscc_is_valid / id_number_is_valid (the bulk import's fast path) accept exactly what the validators do."""
    import random

    from cases.identifiers import id_number_is_valid, uscc_is_valid, validate_id_number, validate_uscc
    from tests.factories import make_id_number, make_uscc

    def accepts(validate, code):
        try:
            validate(code)
        except ValidationError:
            return False
        return True

    rng = random.Random(15)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV"
    codes = [*REAL_USCCS, *GB11643_EXAMPLES]
    for i in range(3000):
        code = make_uscc() if i % 3 else make_id_number()
        if rng.random() < 0.7:  # one character changed: most such codes fail one check or another
            position = rng.randrange(18)
            code = code[:position] + rng.choice(alphabet) + code[position + 1 :]
        if rng.random() < 0.05:
            code = code[: rng.randrange(19)]
        codes.append(code)
    for code in codes:
        assert uscc_is_valid(code) == accepts(validate_uscc, code), code
        assert id_number_is_valid(code) == accepts(validate_id_number, code), code
    assert sum(map(uscc_is_valid, codes)) > 500 and sum(map(id_number_is_valid, codes)) > 200
