"""Fixtures and helpers shared by the commitment test modules (PROCEDURES.md §3)."""

import datetime as dt
from decimal import Decimal

import pytest

from cases.models import CommitmentMatter, CommitmentType
from tests.test_repair_flow import storage, travel  # noqa: F401  (fixtures re-exported)

TEMPLATE = (
    "本单位{subject_name}（{identifier}）就“{matter}”向{department}郑重承诺：所填报信息真实、准确、完整，"
    "已具备法定条件。如有虚假，自愿承担法律责任。签署人：{signer}，{date}"
)


def make_matter(department, *, code="food-licence", type=CommitmentType.APPROVAL_SUBSTITUTE, **kwargs):
    defaults = dict(
        title="食品经营许可（告知承诺）",
        template=TEMPLATE,
        verify_what="经营场所与承诺一致",
        verify_how="现场检查",
        verification=CommitmentMatter.Verification.ALL,
        verify_within=20,
        verify_unit="wd",
    )
    defaults.update(kwargs)
    if defaults["verification"] == CommitmentMatter.Verification.SAMPLE:
        defaults.setdefault("sample_seed", f"seed-{code}")
    return CommitmentMatter.objects.create(department=department, code=code, type=type, **defaults)


@pytest.fixture
def matter(market_bureau, rule_sets):
    return make_matter(market_bureau)


@pytest.fixture
def sample_matter(market_bureau, rule_sets):
    return make_matter(
        market_bureau,
        code="shop-sign",
        title="户外招牌设置（告知承诺）",
        type=CommitmentType.CERTIFICATE,
        verification=CommitmentMatter.Verification.SAMPLE,
        sample_ratio=Decimal("0.1000"),
    )


@pytest.fixture
def tolerance_matter(market_bureau, rule_sets):
    return make_matter(
        market_bureau,
        code="tolerance",
        title="个体工商户登记（容缺受理）",
        type=CommitmentType.TOLERANCE,
        follow_documents=["房屋产权证明"],
        follow_within_wd=5,
    )


def day(y, m, d):
    return dt.date(y, m, d)
