# ruff: noqa: F811  (pytest fixtures imported from tests.test_repair_flow)
"""The officers' inbox over HTTP (issue 13 item 1): one list of every open task the person's organisation
and role may take, by legal deadline, with search, filters, counts; claim, release, assign, reassign, bulk
assignment and delegation while absent — each audited; the 工作台's own numbers."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from viewflow.workflow.models import Task

from cases.models import AuditEvent, Delegation, InboxItem
from cases.services import inbox as inbox_svc
from cases.services import repair as svc
from tests.factories import CreditRecordFactory, EnterpriseFactory
from tests.test_repair_flow import (  # noqa: F401  (fixtures)
    eligible_record,
    handler2,
    make_submitted,
    storage,
    submitted,
    travel,
)
from workflows import engine

pytestmark = pytest.mark.django_db

INBOX = "/inbox/"


def task_of(case) -> Task:
    return engine.open_task(case)


def login(client, user):
    client.force_login(user)
    return client


def rows(response):
    return response.context["page"].object_list


@pytest.fixture
def second_case(travel, storage, applicant, market_bureau, rule_sets):
    """A second repair case of the market bureau, for another enterprise, received a day later."""
    travel.to(2026, 7, 7)
    other = EnterpriseFactory(name="郑州丙食品有限公司")
    from tests.factories import AuthorisationFactory

    AuthorisationFactory(user=applicant, subject=other)
    record = CreditRecordFactory(
        subject=other,
        provider=market_bureau,
        decision_date=dt.date(2026, 3, 5),
        publication_date=dt.date(2026, 3, 10),
        display_min_until=dt.date(2026, 6, 5),
        display_max_until=dt.date(2027, 3, 5),
    )
    case = make_submitted(applicant, record)
    travel.to(2026, 7, 7, 11)
    return case


# --- the list ----------------------------------------------------------------------------------------------------


def test_it_lists_the_departments_open_task_with_its_legal_deadline_and_countdown(client, submitted, handler):
    response = login(client, handler).get(INBOX)
    assert response.status_code == 200
    [item] = rows(response)
    assert item.tracking_number == submitted.tracking_number
    assert item.step_label == "受理审查" and item.procedure_label == "信用修复"
    # Received Mon 2026-07-06: acceptance within 3 working days, due Thu 07-09.
    assert item.due_date == dt.date(2026, 7, 9) and item.countdown.remaining == 3
    html = response.content.decode()
    assert submitted.tracking_number in html and "剩余3个工作日" in html and "2026-07-09" in html
    assert reverse("repair_desk_case", kwargs={"pk": submitted.pk}) in html


def test_other_organisations_applicants_and_supervisors_do_not_see_it(
    client, submitted, other_handler, applicant, supervisor, gov_user
):
    assert rows(login(client, other_handler).get(INBOX)) == []
    assert rows(login(client, gov_user).get(INBOX)) == []
    assert login(client, applicant).get(INBOX).status_code == 403
    assert login(client, supervisor).get(INBOX).status_code == 403


def test_the_list_is_ordered_by_legal_deadline_and_counts_per_step(client, submitted, second_case, leader, handler):
    svc.repair_accept(actor=handler, application=second_case)  # review step: 10 WD from 07-07 → due 07-21
    response = login(client, leader).get(INBOX)
    assert [i.tracking_number for i in rows(response)] == [submitted.tracking_number, second_case.tracking_number]
    counts = response.context["counts"]
    assert counts.total == 2 and counts.unassigned == 2 and counts.overdue == 0
    assert {(s.node, s.total) for s in counts.steps} == {("acceptance", 1), ("review", 1)}
    # The organisation's counts are shared and cached; a claim shows at once.
    inbox_svc.task_claim(actor=handler, task_id=task_of(submitted).pk)
    counts = client.get(INBOX).context["counts"]
    assert counts.total == 2 and counts.unassigned == 1 and counts.mine == 0
    assert login(client, handler).get(INBOX).context["counts"].mine == 1


def test_it_finds_a_case_by_tracking_number_subject_name_or_credit_code(
    client, submitted, second_case, handler, enterprise
):
    c = login(client, handler)
    by_number = rows(c.get(INBOX, {"q": submitted.tracking_number}))
    assert [i.case_id for i in by_number] == [submitted.pk]
    assert [i.case_id for i in rows(c.get(INBOX, {"q": "丙食品"}))] == [second_case.pk]
    assert [i.case_id for i in rows(c.get(INBOX, {"q": enterprise.uscc.lower()}))] == [submitted.pk]
    nothing = c.get(INBOX, {"q": "XF1999"})
    assert rows(nothing) == [] and "没有与“XF1999”相符的待办事项" in nothing.content.decode()


def test_filters_by_procedure_step_overdue_and_whose(client, travel, submitted, second_case, handler, handler2):
    inbox_svc.task_claim(actor=handler, task_id=task_of(submitted).pk)
    c = login(client, handler)
    assert len(rows(c.get(INBOX, {"procedure": "repair"}))) == 2
    assert rows(c.get(INBOX, {"procedure": "objection"})) == []
    assert len(rows(c.get(INBOX, {"procedure": "repair", "step": "acceptance"}))) == 2
    assert [i.case_id for i in rows(c.get(INBOX, {"who": "mine"}))] == [submitted.pk]
    assert [i.case_id for i in rows(c.get(INBOX, {"who": "unassigned"}))] == [second_case.pk]
    assert rows(c.get(INBOX, {"overdue": "on"})) == []
    travel.to(2026, 7, 10)  # the first case's acceptance was due Thu 07-09; the second's is due Fri 07-10
    overdue = login(client, handler).get(INBOX, {"overdue": "on"})
    [late] = rows(overdue)
    assert late.case_id == submitted.pk and late.countdown.overdue_working_days == 1
    assert "已超期1个工作日" in overdue.content.decode()
    # A colleague sees the claimed task too, held by the handler.
    [held, free] = rows(login(client, handler2).get(INBOX))
    assert held.owner == handler and free.owner is None


def test_the_row_follows_the_case_from_step_to_step_and_leaves_when_decided(submitted, handler, leader):
    item = InboxItem.objects.get(case_id=submitted.pk)
    assert item.node == "acceptance" and item.due_date == dt.date(2026, 7, 9)
    svc.repair_accept(actor=handler, application=submitted)
    item = InboxItem.objects.get(case_id=submitted.pk)
    assert item.node == "review" and item.due_date == dt.date(2026, 7, 20)  # 10 WD from receipt
    svc.repair_propose(actor=handler, application=submitted, proposal="approve", reason="已履行全部义务")
    assert InboxItem.objects.get(case_id=submitted.pk).node == "signoff"
    svc.repair_signoff(actor=leader, application=submitted, agree=True)
    assert not InboxItem.objects.filter(case_id=submitted.pk).exists()


def test_the_applicants_supplement_step_is_not_staff_work_and_a_rebuild_gives_the_same_rows(submitted, handler):
    svc.repair_request_supplement(actor=handler, application=submitted, missing="罚款缴纳凭证")
    assert not InboxItem.objects.filter(case_id=submitted.pk).exists()
    before = list(InboxItem.objects.values_list("pk", "node", "due_at"))
    assert inbox_svc.inbox_rebuild() == len(before)
    assert list(InboxItem.objects.values_list("pk", "node", "due_at")) == before


def test_the_page_makes_the_same_few_queries_for_one_task_or_many(
    client, travel, storage, applicant, handler, rule_sets
):
    from tests.factories import AuthorisationFactory

    def add_cases(n):
        for _ in range(n):
            subject = EnterpriseFactory()
            AuthorisationFactory(user=applicant, subject=subject)
            record = CreditRecordFactory(
                subject=subject,
                provider=handler.organisation,
                decision_date=dt.date(2026, 3, 5),
                publication_date=dt.date(2026, 3, 10),
                display_min_until=dt.date(2026, 6, 5),
                display_max_until=dt.date(2027, 3, 5),
            )
            make_submitted(applicant, record)

    c = login(client, handler)
    add_cases(1)
    c.get(INBOX)  # warm the session and the calendar
    with CaptureQueriesContext(connection) as one:
        assert c.get(INBOX).status_code == 200
    add_cases(6)
    with CaptureQueriesContext(connection) as fresh:  # the organisation's counts changed: recounted once
        assert len(rows(c.get(INBOX))) == 7
    with CaptureQueriesContext(connection) as many:
        assert len(rows(c.get(INBOX))) == 7
    assert len(many) == len(one) <= len(fresh) <= 10


# --- claim and release -------------------------------------------------------------------------------------------


def test_a_handler_claims_a_task_and_a_colleague_who_is_late_gets_a_conflict(client, submitted, handler, handler2):
    task = task_of(submitted)
    response = login(client, handler).post(reverse("inbox_claim", args=[task.pk]), {"next": INBOX})
    assert response.status_code == 302 and response["Location"] == INBOX
    task.refresh_from_db()
    assert task.owner == handler and task.status == "ASSIGNED"
    assert InboxItem.objects.get(pk=task.pk).owner == handler
    event = AuditEvent.objects.get(action="inbox.claim")
    assert event.actor == handler and event.data["tracking_number"] == submitted.tracking_number

    late = login(client, handler2).post(reverse("inbox_claim", args=[task.pk]))
    assert late.status_code == 409 and "该事项已由他人认领" in late.content.decode()
    task.refresh_from_db()
    assert task.owner == handler


def test_a_task_of_another_department_cannot_be_claimed(client, submitted, other_handler):
    task = task_of(submitted)
    assert login(client, other_handler).post(reverse("inbox_claim", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.owner is None and not AuditEvent.objects.filter(action="inbox.claim").exists()


def test_claiming_a_finished_task_says_so(client, submitted, handler):
    task = task_of(submitted)
    svc.repair_accept(actor=handler, application=submitted)
    response = login(client, handler).post(reverse("inbox_claim", args=[task.pk]))
    assert response.status_code == 409 and "已由他人处理或状态已变化" in response.content.decode()


def test_the_owner_releases_a_task_and_only_the_owner_or_the_leader_may(client, submitted, handler, handler2, leader):
    task = task_of(submitted)
    inbox_svc.task_claim(actor=handler, task_id=task.pk)
    assert login(client, handler2).post(reverse("inbox_release", args=[task.pk])).status_code == 403
    assert login(client, handler).post(reverse("inbox_release", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.owner is None and task.status == "NEW"
    assert AuditEvent.objects.get(action="inbox.release").data["previous_owner"] == handler.pk
    # The handler who claimed it can still decide after a release (the case belongs to the department).
    svc.repair_accept(actor=handler, application=submitted)
    assert engine.open_node_name(submitted) == "review"


# --- assign, reassign, bulk ------------------------------------------------------------------------------------


def test_the_leader_assigns_and_reassigns_a_task(client, submitted, handler, handler2, leader):
    task = task_of(submitted)
    c = login(client, leader)
    assert c.post(reverse("inbox_assign", args=[task.pk]), {"assignee": handler.pk}).status_code == 302
    task.refresh_from_db()
    assert task.owner == handler
    assert c.post(reverse("inbox_assign", args=[task.pk]), {"assignee": handler2.pk}).status_code == 302
    task.refresh_from_db()
    assert task.owner == handler2
    assign, reassign = AuditEvent.objects.filter(action__in=["inbox.assign", "inbox.reassign"]).order_by("seq")
    assert assign.action == "inbox.assign" and assign.data["owner"] == handler.pk
    assert reassign.action == "inbox.reassign" and reassign.data["previous_owner"] == handler.pk
    assert [i.owner for i in rows(login(client, handler2).get(INBOX, {"who": "mine"}))] == [handler2]


def test_only_a_leader_assigns_and_only_to_a_colleague_who_may_take_the_step(
    client, submitted, handler, handler2, leader, other_handler
):
    task = task_of(submitted)
    assert (
        login(client, handler).post(reverse("inbox_assign", args=[task.pk]), {"assignee": handler2.pk}).status_code
        == 403
    )
    c = login(client, leader)
    other = c.post(reverse("inbox_assign", args=[task.pk]), {"assignee": other_handler.pk})
    assert other.status_code == 400  # not a colleague: not offered, and refused
    svc.repair_accept(actor=handler, application=submitted)
    svc.repair_propose(actor=handler, application=submitted, proposal="approve", reason="已履行全部义务")
    signoff = task_of(submitted)
    refused = c.post(reverse("inbox_assign", args=[signoff.pk]), {"assignee": handler2.pk})
    assert refused.status_code == 400 and "不能办理“负责人签批”环节" in refused.content.decode()
    signoff.refresh_from_db()
    assert signoff.owner is None


def test_the_leader_assigns_in_bulk_all_or_nothing(client, submitted, second_case, handler, handler2, leader):
    first, second = task_of(submitted), task_of(second_case)
    c = login(client, leader)
    page = c.get(INBOX).content.decode()
    assert 'name="bulk-tasks"' in page and "批量分派所选事项" in page
    response = c.post(reverse("inbox_assign_bulk"), {"bulk-tasks": [first.pk, second.pk], "bulk-assignee": handler2.pk})
    assert response.status_code == 302
    assert set(Task.objects.filter(pk__in=[first.pk, second.pk]).values_list("owner", flat=True)) == {handler2.pk}
    assert AuditEvent.objects.filter(action="inbox.assign").count() == 2

    # A batch with one step the assignee may not take changes nothing.
    svc.repair_accept(actor=handler2, application=submitted)
    svc.repair_propose(actor=handler2, application=submitted, proposal="approve", reason="已履行全部义务")
    signoff = task_of(submitted)
    refused = c.post(reverse("inbox_assign_bulk"), {"bulk-tasks": [signoff.pk, second.pk], "bulk-assignee": handler.pk})
    assert refused.status_code == 400
    assert Task.objects.get(pk=second.pk).owner == handler2 and Task.objects.get(pk=signoff.pk).owner is None
    empty = c.post(reverse("inbox_assign_bulk"), {"bulk-assignee": handler.pk})
    assert empty.status_code == 400 and "请至少选择一项待办事项" in empty.content.decode()
    assert login(client, handler).post(reverse("inbox_assign_bulk"), {"bulk-tasks": [second.pk]}).status_code == 403


# --- delegation ---------------------------------------------------------------------------------------------------


def test_an_absent_handlers_tasks_go_to_the_named_colleague_and_both_see_them(
    client, submitted, handler, handler2, leader
):
    c = login(client, handler)
    form = {"delegate": handler2.pk, "starts_on": "2026-07-06", "ends_on": "2026-07-10", "reason": "年休假"}
    assert c.post(reverse("inbox_delegations"), form).status_code == 302
    assert c.post(reverse("inbox_delegations"), form).status_code == 302  # a double click: still one
    delegation = Delegation.objects.get()
    assert delegation.delegator == handler and delegation.delegate == handler2
    assert AuditEvent.objects.filter(action="inbox.delegation_create").count() == 1

    task = task_of(submitted)
    response = login(client, leader).post(
        reverse("inbox_assign", args=[task.pk]), {"assignee": handler.pk}, follow=True
    )
    assert "离岗，已按其委托转由" in response.content.decode()
    task.refresh_from_db()
    assert task.owner == handler2
    assert AuditEvent.objects.get(action="inbox.assign").data["routed_for"] == handler.pk
    for person in (handler, handler2):
        [mine] = rows(login(client, person).get(INBOX, {"who": "mine"}))
        assert mine.task_id == task.pk
    assert "代" in login(client, handler).get(INBOX).content.decode()
    # The delegate decides it.
    svc.repair_accept(actor=handler2, application=submitted)
    assert engine.open_node_name(submitted) == "review"


def test_the_delegate_acts_on_tasks_the_absent_colleague_already_held(client, submitted, handler, handler2):
    task = task_of(submitted)
    inbox_svc.task_claim(actor=handler, task_id=task.pk)
    inbox_svc.delegation_create(
        actor=handler, delegate=handler2, starts_on=dt.date(2026, 7, 6), ends_on=dt.date(2026, 7, 8)
    )
    [held] = rows(login(client, handler2).get(INBOX, {"who": "mine"}))
    assert held.task_id == task.pk and held.may_release
    assert client.post(reverse("inbox_release", args=[task.pk])).status_code == 302


def test_a_delegation_must_name_a_colleague_who_can_do_the_work(client, submitted, handler, leader, other_handler):
    c = login(client, leader)
    bad = {"delegate": handler.pk, "starts_on": "2026-07-08", "ends_on": "2026-07-06", "reason": "出差"}
    response = c.post(reverse("inbox_delegations"), bad)
    html = response.content.decode()
    assert response.status_code == 400 and "结束日期不能早于开始日期" in html and "出差" in html  # input kept
    wrong_role = {"delegate": handler.pk, "starts_on": "2026-07-06", "ends_on": "2026-07-08"}
    response = c.post(reverse("inbox_delegations"), wrong_role)
    assert response.status_code == 400 and "负责人签批只能委托给负责人" in response.content.decode()
    response = c.post(reverse("inbox_delegations"), {**wrong_role, "delegate": other_handler.pk})
    assert response.status_code == 400  # not a colleague
    assert not Delegation.objects.exists()


def test_a_delegation_can_be_cancelled_by_its_giver_only(client, handler, handler2, other_handler, travel):
    delegation = inbox_svc.delegation_create(
        actor=handler, delegate=handler2, starts_on=dt.date(2026, 7, 6), ends_on=dt.date(2026, 7, 8)
    )
    url = reverse("inbox_delegation_cancel", args=[delegation.pk])
    assert login(client, other_handler).post(url).status_code == 404
    assert login(client, handler2).post(url).status_code == 403
    assert login(client, handler).post(url).status_code == 302
    delegation.refresh_from_db()
    assert delegation.cancelled_at is not None
    assert AuditEvent.objects.filter(action="inbox.delegation_cancel").count() == 1
    assert inbox_svc.active_delegate_of(handler) is None


# --- the 工作台 and the landing page ----------------------------------------------------------------------------


def test_the_desk_shows_the_persons_own_numbers(client, travel, submitted, second_case, handler, handler2):
    inbox_svc.task_claim(actor=handler2, task_id=task_of(second_case).pk)  # a colleague's: not mine
    travel.to(2026, 7, 8)
    mine = login(client, handler).get(reverse("desk")).context["mine"]
    # To do: the unassigned first case; due 07-09, within 2 working days of Wed 07-08.
    assert (mine.todo, mine.due_soon, mine.overdue, mine.done_this_month) == (1, 1, 0, 0)
    svc.repair_accept(actor=handler, application=submitted)
    travel.to(2026, 7, 21)  # the review step (due 07-20) is now overdue
    mine = login(client, handler).get(reverse("desk")).context["mine"]
    assert (mine.todo, mine.overdue, mine.done_this_month) == (1, 1, 1)
    html = client.get(reverse("desk")).content.decode()
    assert "本月已办结" in html and "2个工作日内到期" in html


@pytest.mark.parametrize("role", ["handler", "leader", "intake", "gov_user"])
def test_staff_who_take_tasks_start_the_day_at_the_inbox(client, request, role):
    response = login(client, request.getfixturevalue(role)).get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("inbox") and response.status_code == 200


def test_the_repair_desk_links_to_the_filtered_inbox(client, submitted, handler):
    html = login(client, handler).get(reverse("repair_desk")).content.decode()
    assert f"{reverse('inbox')}?procedure=repair" in html


# --- every procedure ---------------------------------------------------------------------------------------------


def test_a_liaison_finds_its_bodys_rectification_step_and_the_credit_office_its_forwarding(
    client,
    rule_sets,
    rect_travel,
    complainant,
    enterprise,
    body,
    city_gov,
    office,
    intake,
    body_user,
    city_user,
    other_body_user,
):
    from tests.rectification_support import new_case

    case = new_case(actor=complainant, body=body, office=office, enterprise=enterprise)
    [forward] = rows(login(client, intake).get(INBOX))
    assert forward.procedure == "rectification" and forward.step_label == "转交核实认定"
    assert forward.due_date == dt.date(2026, 7, 7)  # "第一时间": 1 working day
    assert rows(login(client, body_user).get(INBOX)) == []

    from cases.services import rectification as rect

    rect.rectification_forward(actor=intake, case=case, verifier=city_gov)
    [verify] = rows(login(client, city_user).get(INBOX))
    assert verify.step_label == "核实认定"
    rect.rectification_verify(actor=city_user, case=case, substantiated=True, reason="经核实，拖欠属实。")
    response = login(client, body_user).get(INBOX, {"procedure": "rectification"})
    [plan] = rows(response)
    assert plan.step_label == "报送整改方案" and plan.due_date == dt.date(2026, 7, 13)  # 5 WD
    assert reverse("rectification_case", kwargs={"pk": case.pk}) in response.content.decode()
    assert rows(login(client, other_body_user).get(INBOX)) == []


def test_the_rebuild_command_restores_the_table_from_viewflows_tasks(submitted, second_case):
    from django.core.management import call_command

    before = sorted(InboxItem.objects.values_list("pk", "node", "due_at", "tracking_number"))
    InboxItem.objects.all().delete()
    call_command("rebuild_inbox", verbosity=0)
    assert sorted(InboxItem.objects.values_list("pk", "node", "due_at", "tracking_number")) == before


@pytest.mark.django_db(transaction=True)
def test_two_handlers_claiming_at_once_one_wins_the_other_is_told(submitted, handler, handler2):
    import threading

    from django.db import connections

    task_id = task_of(submitted).pk
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def claim(user):
        try:
            barrier.wait()
            inbox_svc.task_claim(actor=user, task_id=task_id)
            outcomes[user.pk] = "ok"
        except engine.TaskConflict:
            outcomes[user.pk] = "conflict"
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(user,)) for user in (handler, handler2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    [winner] = [pk for pk, outcome in outcomes.items() if outcome == "ok"]
    assert Task.objects.get(pk=task_id).owner_id == winner == InboxItem.objects.get(pk=task_id).owner_id
    assert AuditEvent.objects.filter(action="inbox.claim").count() == 1


def test_an_objection_goes_from_the_platforms_triage_to_the_providers_check_against_its_own_clock(
    client, travel, storage, applicant, eligible_record, credit_centre, intake, handler, other_handler
):
    from cases.services import objection as objection_svc
    from tests.test_objection_paths import file

    case = file(applicant, eligible_record)
    [triage] = rows(login(client, intake).get(INBOX, {"procedure": "objection"}))
    assert triage.step_label == "平台分办" and triage.due_date == dt.date(2026, 7, 9)  # Art 41: 3 WD
    assert rows(login(client, handler).get(INBOX)) == []

    travel.to(2026, 7, 7)
    objection_svc.objection_send_check(actor=intake, case=case, note="请核对处罚决定书原件")
    assert rows(login(client, intake).get(INBOX)) == []
    [check] = rows(login(client, handler).get(INBOX, {"procedure": "objection"}))
    # The provider's own 3 WD from the 核查通知, not the whole case's 7 WD.
    assert check.step_label == "信息提供单位核查" and check.due_date == dt.date(2026, 7, 10)
    assert rows(login(client, other_handler).get(INBOX)) == []
