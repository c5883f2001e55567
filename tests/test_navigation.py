"""Each role sees its own world (issue 13 item 6): the navigation bar offers every role its own pages, and
every link it offers answers 200 for that role — nobody is shown a link that answers 403."""

import html
import re

import pytest
from django.urls import reverse

from cases.navigation import NAVIGATION

pytestmark = pytest.mark.django_db

ROLES = ["applicant", "intake", "reviewer", "handler", "leader", "gov_user", "supervisor", "administrator"]


def nav_links(client, path="/"):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    return response.context["nav_links"]


@pytest.mark.parametrize("role", ROLES)
def test_every_link_the_navigation_offers_answers_200(client, request, role, record):
    user = request.getfixturevalue(role)
    client.force_login(user)
    links = nav_links(client)
    assert links, role
    for link in links:
        response = client.get(link.url)
        assert response.status_code == 200, f"{role}: {link.label} {link.url} → {response.status_code}"
        # The page shows the same navigation (one place decides it).
        assert [str(x.label) for x in response.context["nav_links"]] == [str(x.label) for x in links]


def test_a_government_body_liaison_sees_its_rectifications_tasks_and_notices_only(client, gov_user):
    client.force_login(gov_user)
    urls = {link.url for link in nav_links(client)}
    staff_pages = {reverse(n) for n in ("desk", "objection_desk", "commitment_desk", "record_list", "subject_list")}
    assert not urls & staff_pages
    assert {reverse("inbox"), reverse("rectification_list"), reverse("notices:inbox")} <= urls


def test_a_department_reaches_its_procedure_desks_as_filtered_views_of_the_inbox(client, handler):
    client.force_login(handler)
    urls = [link.url for link in nav_links(client)]
    assert f"{reverse('inbox')}?procedure=repair" in urls and f"{reverse('inbox')}?procedure=objection" in urls
    assert reverse("supervision_dashboard") not in urls


def test_visitors_see_the_public_pages_only(client):
    urls = [link.url for link in nav_links(client)]
    assert urls == [entry.url() for entry in NAVIGATION if entry.roles is None]
    assert reverse("public_search") in urls and reverse("inbox") not in urls and reverse("desk") not in urls


def test_the_current_page_is_marked(client, handler):
    client.force_login(handler)
    response = client.get(reverse("inbox"), {"procedure": "repair"})
    [current] = [link for link in response.context["nav_links"] if link.current]
    assert str(current.label) == "信用修复"
    assert 'aria-current="page"' in response.content.decode()


def test_every_entry_is_for_someone():
    assert all(entry.roles is None or entry.roles for entry in NAVIGATION)


HREF = re.compile(r'<a [^>]*href="(/[^"#]*)"')
SKIP = ("/admin/", "/accounts/", "/i18n/", "/static/")


@pytest.mark.parametrize("role", ROLES)
def test_no_page_the_navigation_leads_to_shows_a_link_that_answers_403(client, request, role, record, rule_sets):
    """One level further: every link on every page of the role's navigation (lists, desks, the inbox)."""
    client.force_login(request.getfixturevalue(role))
    seen = set()
    for link in nav_links(client):
        page = client.get(link.url)
        for href in set(HREF.findall(page.content.decode())):
            href = html.unescape(href)
            if href in seen or href.startswith(SKIP):
                continue
            seen.add(href)
            status = client.get(href).status_code
            assert status != 403, f"{role}: {link.url} links to {href}, which answers 403"
