# ruff: noqa: F811  (pytest fixtures imported from tests.test_repair_flow)
"""办件查询 without login (issue 12, item 4): number + 查询码 → procedure, step, progress, dates, legal deadline
and its explanation; no personal data; the same answer for a wrong number and a wrong code; rate limited per
address on the shared cache."""

import os
import subprocess

import pytest
from django.core.cache import cache
from django.urls import reverse

from cases.identifiers import tracking_query_code
from cases.selectors.track import track_lookup
from cases.services import repair as svc
from notices.models import Notice
from notices.services import notice_render
from tests.test_i18n import english_catalog  # noqa: F401
from tests.test_repair_flow import eligible_record, storage, submitted, travel  # noqa: F401


@pytest.fixture(autouse=True)
def shared_cache(settings):
    """The rate limit counts on Redis, as on a multi-node installation."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "KEY_PREFIX": f"casework-test-track-{os.getpid()}",
        }
    }
    cache.clear()
    yield
    cache.clear()


def track(client, number, code, address="203.0.113.7"):
    return client.get(reverse("track"), {"number": number, "code": code}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_anyone_with_the_number_and_code_sees_the_progress_and_no_personal_data(
    client, travel, submitted, handler, enterprise, applicant
):
    svc.repair_accept(actor=handler, application=submitted)
    number = submitted.tracking_number
    response = track(client, number, tracking_query_code(number).lower())  # case does not matter
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "信用修复" in html and number in html and "审查决定" in html
    assert '<progress value="3" max="4"' in html
    assert "2026-07-06" in html  # received
    assert "2026-07-20" in html  # decision limit: 10 WD from Mon 07-06
    assert "个工作日" in html and "不计入办理时限" in html
    for private in (enterprise.name, enterprise.uscc, applicant.display_name, submitted.contact_name, "13800000000"):
        assert private not in html


@pytest.mark.django_db
def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(client, travel, submitted):
    number = submitted.tracking_number
    code = tracking_query_code(number)
    unknown = number[:-1] + ("0" if number[-1] != "0" else "1")
    bad_code = "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA"
    wrong_code = track(client, number, bad_code)
    wrong_number = track(client, unknown, code)
    assert wrong_code.status_code == wrong_number.status_code == 404

    def main(response, typed_number, typed_code):
        html = response.content.decode()
        body = html[html.index("<main>") : html.index("</main>")]
        return body.replace(typed_number, "N").replace(typed_code, "C")

    a, b = main(wrong_code, number, bad_code), main(wrong_number, unknown, code)
    assert a == b and "未查询到与该办件编号和查询码相符的办件" in a


@pytest.mark.django_db
def test_it_is_rate_limited_per_address(client, travel, submitted, settings):
    settings.TRACK_RATE_LIMIT = 3
    number = submitted.tracking_number
    for _ in range(3):
        assert track(client, number, "WRONGCOD").status_code == 404
    # The fourth look-up from the same address is refused, even with the right code …
    refused = track(client, number, tracking_query_code(number))
    assert refused.status_code == 429 and "查询过于频繁" in refused.content.decode()
    # … another address is not affected.
    assert track(client, number, tracking_query_code(number), address="198.51.100.9").status_code == 200


@pytest.mark.django_db
def test_the_query_code_is_printed_on_the_acceptance_notice_and_shown_to_the_applicant(
    client, travel, submitted, handler, applicant
):
    svc.repair_accept(actor=handler, application=submitted)
    notice = Notice.objects.get(kind="repair_accepted")
    notice_render(notice_id=notice.pk)
    notice.refresh_from_db()
    code = tracking_query_code(submitted.tracking_number)
    assert notice.context["query_code"] == code
    text = subprocess.run(
        ["pdftotext", "-layout", notice.pdf.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert code in text and "/track/" in text

    client.force_login(applicant)
    assert code in client.get(reverse("repair_status", args=[submitted.pk])).content.decode()


@pytest.mark.django_db
def test_bad_input_is_answered_without_an_error_page(client):
    response = client.get(reverse("track"), {"number": "", "code": "x" * 40})
    assert response.status_code == 400 and "查询码" in response.content.decode()
    assert client.get(reverse("track")).status_code == 200


@pytest.mark.django_db
def test_the_front_door_pages_have_no_chinese_left_in_english(client, travel, submitted, english_catalog):
    from django.conf import settings

    from tests.test_i18n import _chinese_left
    from workflows.rules import public_citation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    number = submitted.tracking_number
    html = track(client, number, tracking_query_code(number)).content.decode()
    assert "Case tracking" in html and "Legal time limits" in html
    result = track_lookup(number=number, code=tracking_query_code(number))
    # The citation is the data (a statute's name), shown as users see it: without our annotations.
    data = [c.clock.label for c in result.clocks] + [public_citation(c.clock.citation) for c in result.clocks]
    assert not _chinese_left(html, *data)
    for url in (reverse("register"), reverse("register_confirm")):
        page = client.get(url).content.decode()
        assert not _chinese_left(page), url


@pytest.mark.django_db
def test_the_public_api_tracks_a_case_without_a_key_and_without_personal_data(client, travel, submitted, enterprise):
    number = submitted.tracking_number
    url = reverse("api_case_track")
    body = client.get(url, {"number": number, "code": tracking_query_code(number)}).json()
    assert body["found"] and body["procedure"] == "repair" and body["tracking_number"] == number
    assert enterprise.name not in str(body) and enterprise.uscc not in str(body)
    wrong = client.get(url, {"number": number, "code": "WRONGCODE1"}).json()
    assert wrong["found"] is False and wrong["tracking_number"] == ""
