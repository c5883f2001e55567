"""Credit commitments in a real browser (issue 5, "Tests"): an enterprise signs, the department verifies, anyone
finds it on the public register."""

import re

import pytest

from cases.models import Commitment, CommitmentVerification
from cases.services.commitment.sweep import verifications_schedule_due
from tests.browser import login, screenshot
from tests.commitment_helpers import make_matter
from tests.test_repair_browser import private_storage  # noqa: F401


@pytest.mark.browser
def test_it_signs_verifies_and_publishes_a_commitment(
    page,
    applicant,
    handler,
    enterprise,
    market_bureau,
    rule_sets,
    private_storage,  # noqa: F811
):
    matter = make_matter(market_bureau)

    # The enterprise's user signs the commitment online.
    login(page, applicant)
    page.goto("/commitments/")
    page.get_by_role("link", name="签署承诺").click()
    page.wait_for_url(re.compile(rf"/commitments/sign/{matter.pk}/"))
    page.fill("input[name=signer_name]", "张三")
    page.get_by_role("button", name="预览承诺书").click()
    assert enterprise.name in page.inner_text("#commitment-preview")
    screenshot(page, "commitment-sign-preview")
    page.get_by_role("button", name="确认签署").click()
    page.wait_for_url(re.compile(r"/commitments/\d+/$"))
    commitment = Commitment.objects.get(subject=enterprise)
    assert "在诺" in page.inner_text(".status")
    assert commitment.text_sha256 in page.content()
    page.get_by_role("button", name="退出").click()

    # The schedule opens the check; the department records 践诺.
    verifications_schedule_due()
    check = CommitmentVerification.objects.get(commitment=commitment)
    login(page, handler)
    page.goto("/commitments/desk/")
    page.get_by_role("link", name=f"#{check.pk}").click()
    page.wait_for_url(re.compile(rf"/commitments/desk/verifications/{check.pk}/"))
    page.select_option("select[name=outcome]", "kept")
    page.fill("textarea[name=finding]", "现场检查，经营场所与承诺一致。")
    screenshot(page, "commitment-verify")
    page.get_by_role("button", name="提交核查结果").click()
    page.wait_for_url(re.compile(rf"/commitments/desk/verifications/{check.pk}/"))
    assert "践诺" in page.inner_text("h1")
    page.get_by_role("button", name="退出").click()

    # Anyone finds it on the public register, kept.
    page.goto("/public/commitments/")
    page.fill("input[name=q]", enterprise.name)
    page.get_by_role("button", name="查询").click()
    row = page.inner_text("#register tbody")
    assert enterprise.name in row and "已践诺" in row and matter.title in row
    screenshot(page, "commitment-public-register")
