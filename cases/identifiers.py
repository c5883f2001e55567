"""Validation of the two national identifiers a subject carries.

- 统一社会信用代码: GB 32100-2015 (18 characters; the body embeds a GB 11714 organisation code with its
  own check character; the last character is a mod-31 check over the first 17).
- 居民身份证号: GB 11643-1999 (17 digits + an ISO 7064 MOD 11-2 check digit, 0-9 or X).

Each failure names the rule it broke, so the person typing the code knows what to fix.
"""

from __future__ import annotations

import datetime as dt
from operator import mul

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 §4.2: the code alphabet is the digits and 21 capital letters (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 32100-2015 Table 1: registration authorities (1 机构编制, 5 民政, 9 工商, Y 其他, and the rest in use).
_USCC_AUTHORITIES = set("123456789ANY")
# GB 11714-1997: the organisation code's check character.
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    total = sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def normalize_uscc(value: str) -> str:
    return (value or "").strip().upper()


def validate_uscc(value: str) -> None:
    """Raise ValidationError naming the GB 32100-2015 rule that ``value`` breaks."""
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)d位（GB 32100-2015 第4.1条）。"),
            code="uscc_length",
            params={"n": len(code)},
        )
    bad = [ch for ch in code if ch not in _USCC_VALUE]
    if bad:
        raise ValidationError(
            _(
                "统一社会信用代码含有不允许的字符“%(ch)s”：只能使用数字和除I、O、S、V、Z以外的大写字母（GB 32100-2015 第4.2条）。"
            ),
            code="uscc_charset",
            params={"ch": bad[0]},
        )
    if code[0] not in _USCC_AUTHORITIES:
        raise ValidationError(
            _("第1位登记管理部门代码“%(ch)s”无效（GB 32100-2015 表1）。"),
            code="uscc_authority",
            params={"ch": code[0]},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("第3至8位登记管理机关行政区划码应为6位数字（GB 32100-2015 第4.3条）。"),
            code="uscc_region",
        )
    org_body = code[8:16]
    if any(ch not in _ORG_ALPHABET for ch in org_body) or code[16] not in _ORG_ALPHABET + "X":
        raise ValidationError(_("第9至17位主体标识码（组织机构代码）格式无效（GB 11714-1997）。"), code="uscc_org_code")
    expected_org = org_code_check_char(org_body)
    if code[16] != expected_org:
        raise ValidationError(
            _("第17位组织机构代码校验码应为“%(expected)s”，实为“%(actual)s”（GB 11714-1997）。"),
            code="uscc_org_check",
            params={"expected": expected_org, "actual": code[16]},
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("第18位校验码应为“%(expected)s”，实为“%(actual)s”（GB 32100-2015 第5条）。"),
            code="uscc_check",
            params={"expected": expected, "actual": code[17]},
        )


_ORG_VALUE = {ch: i for i, ch in enumerate(_ORG_ALPHABET)}


def uscc_is_valid(code: str) -> bool:
    """True when ``code`` (normalised) passes every check of validate_uscc, without building its messages.

    The bulk import checks up to 200,000 codes, nearly all valid: this answers for those; a code that fails
    goes through validate_uscc to learn which rule it broke."""
    if len(code) != 18 or code[0] not in _USCC_AUTHORITIES or not code[2:8].isdigit():
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, code[:17]), _USCC_WEIGHTS))
    except KeyError:  # a character outside the alphabet
        return False
    if code[17] != USCC_ALPHABET[(31 - total % 31) % 31]:
        return False
    # Every USCC character is in the organisation-code alphabet: no KeyError here.
    value = 11 - sum(map(mul, map(_ORG_VALUE.__getitem__, code[8:16]), _ORG_WEIGHTS)) % 11
    return code[16] == ("X" if value == 10 else "0" if value == 11 else str(value))


def id_number_is_valid(number: str, today: dt.date | None = None) -> bool:
    """True when ``number`` (normalised) passes every check of validate_id_number (as uscc_is_valid)."""
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return False
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if birth.year < 1800 or birth > (today or dt.date.today()):
        return False
    return number[17] == id_check_digit(number[:17])


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def validate_id_number(value: str) -> None:
    """Raise ValidationError naming the GB 11643-1999 rule that ``value`` breaks."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(
            _("居民身份证号码应为18位，当前为%(n)d位（GB 11643-1999 第4条）。"),
            code="id_length",
            params={"n": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("居民身份证号码前17位应为数字，第18位为数字或X（GB 11643-1999 第4条）。"),
            code="id_charset",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1800 or birth > dt.date.today():
        raise ValidationError(
            _("第7至14位出生日期码“%(code)s”不是有效日期（GB 11643-1999 第5.3条）。"),
            code="id_birth",
            params={"code": number[6:14]},
        )
    expected = id_check_digit(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("第18位校验码应为“%(expected)s”，实为“%(actual)s”（GB 11643-1999 第5.5条）。"),
            code="id_check",
            params={"expected": expected, "actual": number[17]},
        )


def mask_id_number(value: str) -> str:
    """110105********002X: region and the last four kept, the birth date hidden."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:1] + "*" * (len(value) - 1)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# 查询码 for 办件查询 (/track/): no O/0/I/1, so it can be read off paper and typed back.
_QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
QUERY_CODE_LENGTH = 8


def tracking_query_code(tracking_number: str) -> str:
    """The 查询码 printed on the 受理通知书 next to the 办件编号: an HMAC of the number with
    TRACK_CODE_SECRET, so it needs no storage, cannot be derived from the number, and stays the same for
    the life of the case."""
    import hashlib
    import hmac

    from django.conf import settings

    digest = hmac.new(
        settings.TRACK_CODE_SECRET.encode("utf-8"), tracking_number.strip().upper().encode("utf-8"), hashlib.sha256
    ).digest()
    return "".join(_QUERY_CODE_ALPHABET[b % len(_QUERY_CODE_ALPHABET)] for b in digest[:QUERY_CODE_LENGTH])
