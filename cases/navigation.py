"""The navigation bar, by role: the one place that says which pages each kind of user is offered.

Each role sees its own world (issue 13 item 6): an applicant its subjects, records, applications and
notices; a department its inbox and its desks; a government-body liaison its rectifications and notices
only; the credit office its dashboards. A link is offered only to roles whose page answers 200 for them —
tests/test_navigation.py follows every link of every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Role

APPLICANT = frozenset({Role.APPLICANT})
DEPARTMENT = frozenset({Role.DEPT_HANDLER, Role.DEPT_LEADER})
PLATFORM = frozenset({Role.PLATFORM_INTAKE, Role.PLATFORM_REVIEWER})
GOV_BODY = frozenset({Role.GOV_BODY})
SUPERVISOR = frozenset({Role.SUPERVISOR})
ADMINISTRATOR = frozenset({Role.ADMINISTRATOR})
TASK_TAKERS = DEPARTMENT | PLATFORM | GOV_BODY
OFFICE = DEPARTMENT | PLATFORM | SUPERVISOR | ADMINISTRATOR  # the staff who work with records and subjects
EVERYONE = None


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str | Promise
    roles: frozenset | None  # None: everyone, signed in or not
    query: str = ""
    # Shown only to users with ``is_staff`` (the Django admin), on top of the role.
    admin_site: bool = False

    def url(self) -> str:
        return reverse(self.url_name) + (f"?{self.query}" if self.query else "")


NAVIGATION: tuple[NavEntry, ...] = (
    # applicants
    NavEntry("me", _("个人中心"), APPLICANT),
    NavEntry("subject_list", _("我的信用主体"), APPLICANT),
    NavEntry("record_list", _("我的信用记录"), APPLICANT),
    NavEntry("repair_my_list", _("我的申请"), APPLICANT),
    NavEntry("commitment_my_list", _("信用承诺"), APPLICANT),
    NavEntry("objection_my_list", _("我的异议"), APPLICANT),
    NavEntry("me_report", _("信用报告"), APPLICANT),
    # staff: the inbox first; the procedure desks are the inbox filtered to one procedure
    NavEntry("inbox", _("待办事项"), TASK_TAKERS),
    NavEntry("desk", _("工作台"), OFFICE),
    NavEntry("inbox", _("信用修复"), DEPARTMENT, query="procedure=repair"),
    NavEntry("inbox", _("异议核查"), DEPARTMENT, query="procedure=objection"),
    NavEntry("objection_desk", _("异议处理"), PLATFORM | SUPERVISOR),
    NavEntry("commitment_desk", _("承诺核查"), DEPARTMENT | PLATFORM | SUPERVISOR),
    NavEntry("rectification_list", _("政务失信整改"), PLATFORM | SUPERVISOR | GOV_BODY),
    NavEntry("subject_list", _("信用主体"), OFFICE),
    NavEntry("record_list", _("信用记录"), OFFICE),
    NavEntry("disclosure_intake", _("双公示报送"), DEPARTMENT),
    NavEntry("reminders", _("到期提醒"), DEPARTMENT | PLATFORM | SUPERVISOR),
    NavEntry("rating_follow_ups", _("差评整改"), DEPARTMENT),
    NavEntry("supervision_dashboard", _("督办看板"), PLATFORM | SUPERVISOR | ADMINISTRATOR),
    NavEntry("authorisation_review_list", _("授权委托书审核"), PLATFORM),
    NavEntry("notices:inbox", _("文书"), APPLICANT | TASK_TAKERS | SUPERVISOR),
    NavEntry("admin:index", _("管理后台"), ADMINISTRATOR, admin_site=True),
    # the public website
    NavEntry("public_search", _("信用公示查询"), EVERYONE),
    NavEntry("commitment_register_public", _("信用承诺公示"), EVERYONE),
    NavEntry("guide_index", _("办事指南"), EVERYONE),
    NavEntry("public_statistics", _("办理时效统计"), EVERYONE),
    NavEntry("track", _("办件查询"), EVERYONE),
    NavEntry("notices:verify", _("文书查验"), EVERYONE),
)


@dataclass(frozen=True)
class NavLink:
    label: str | Promise
    url: str
    current: bool


def navigation_for(user, *, path: str = "", query: str = "") -> list[NavLink]:
    """The links ``user`` is offered, in order; ``current`` marks the page being shown."""
    role = getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None
    links = []
    for entry in NAVIGATION:
        if entry.roles is not None and role not in entry.roles:
            continue
        if entry.admin_site and not getattr(user, "is_staff", False):
            continue
        url = entry.url()
        base, _sep, q = url.partition("?")
        links.append(NavLink(label=entry.label, url=url, current=base == path and q == query))
    return links
