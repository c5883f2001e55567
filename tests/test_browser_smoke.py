"""One real browser through the front door: log in, read the home page in Chinese, switch languages."""

import re

import pytest

from tests.browser import html_lang, login, screenshot, switch_language

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.browser
def test_it_logs_a_staff_member_in_and_switches_between_chinese_and_english(page, intake):
    login(page, intake)

    response = page.goto("/")  # the home page sends each role on to its own start page
    assert response is not None and response.ok
    assert html_lang(page) == "zh-hans"
    assert CJK.search(page.inner_text("body"))
    assert screenshot(page, "smoke-home-zh").stat().st_size > 0

    switch_language(page, "en")
    assert html_lang(page) == "en"
    screenshot(page, "smoke-home-en")

    switch_language(page, "zh-hans")
    assert html_lang(page) == "zh-hans"
