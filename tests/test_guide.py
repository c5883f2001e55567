"""办事指南 (issue 12 item 5): public pages per matter, and the materials list as rule-set data that drives the
application form and the 补正 request (一次性告知)."""

import datetime as dt

import pytest
from django.urls import reverse

from cases.models import RepairState
from cases.selectors import guide as sel
from cases.services import repair as svc
from tests.test_repair_flow import travel  # noqa: F401 — the shared clock fixture
from tests.test_repair_views import eligible_record, html, private_storage, submitted  # noqa: F401
from workflows import rules
from workflows.models import RuleParameter, RuleSet

pytestmark = pytest.mark.django_db


def test_every_matter_has_a_public_page_with_conditions_materials_limits_basis_fees_and_enquiries(client, rule_sets):
    index = html(client.get(reverse("guide_index")))
    for matter in sel.matter_list():
        url = reverse("guide_matter", args=[matter.procedure, matter.kind])
        assert url in index
        page = html(client.get(url))
        for heading in ("办理条件", "申请材料", "办理时限", "法律依据", "收费标准", "不收费", "咨询方式"):
            assert heading in page, (matter.code, heading)
    page = html(client.get(reverse("guide_matter", args=["repair", "penalty"])))
    # Figures come from the rule set in force (36号令 from 2026-04-01): serious dishonesty 12 months minimum.
    assert "严重失信12个月" in page and "3个工作日" in page and "10个工作日" in page
    assert "履行法定义务的证明材料" in page and "授权委托书" in page and "委托代理人申请时提供" in page


def test_where_to_ask_lists_the_organisations_contacts(client, rule_sets, credit_centre, market_bureau):
    credit_centre.contact_name = "信用修复服务窗口"
    credit_centre.contact_phone = "0371-12345678"
    credit_centre.save()
    market_bureau.contact_phone = "0371-87654321"
    market_bureau.save()
    repair = html(client.get(reverse("guide_matter", args=["repair", "penalty"])))
    assert "信用修复服务窗口" in repair and "0371-12345678" in repair and "0371-87654321" in repair
    objection = html(client.get(reverse("guide_matter", args=["objection", "content"])))
    assert "0371-12345678" in objection and "0371-87654321" not in objection  # the credit centre answers objections


def test_the_guide_follows_the_rule_set_of_the_day_asked_for(client, rule_sets):
    url = reverse("guide_matter", args=["repair", "penalty"])
    before = html(client.get(url, {"on": "2025-01-10"}))
    assert "58号令规则" in before and "严重失信3个月" in before
    bad = html(client.get(url, {"on": "2026-13-40"}), status=400)
    assert "日期“2026-13-40”无效" in bad and "办理条件" in bad
    assert html(client.get(reverse("guide_matter", args=["repair", "nonsense"])), status=404)


def test_the_guide_is_in_english_too(client, rule_sets):
    client.cookies["django_language"] = "en"
    page = html(client.get(reverse("guide_matter", args=["repair", "penalty"]), HTTP_ACCEPT_LANGUAGE="en"))
    assert "Proof that the legal obligations have been performed" in page
    assert "Power of attorney" in page


def test_a_new_law_changes_the_materials_list_and_the_application_form(
    client,
    applicant,
    eligible_record,  # noqa: F811
    travel,  # noqa: F811
):
    """The list is data: a rule set that adds a required upload makes the form ask for it and blocks submission."""
    rule_set = rules.ruleset_in_force(dt.date(2026, 7, 1))
    param = RuleParameter.objects.get(rule_set=rule_set, key="materials.repair")
    param.value = [
        *param.value,
        {
            "code": "licence_extra",
            "name": "信用修复培训证明",
            "name_en": "Training certificate",
            "when": "always",
            "source": "upload",
            "upload": "other",
        },
    ]
    param.save()
    rules.clear_rule_cache()
    client.force_login(applicant)
    page = html(client.get(reverse("repair_apply", args=[eligible_record.pk])))
    assert "信用修复培训证明" in page and 'name="other"' in page
    draft = svc.repair_draft_save(
        actor=applicant, record=eligible_record, contact_name="赵六", contact_phone="13800000000", statement="已整改"
    )
    assert "信用修复培训证明" in svc._missing_materials(draft)


def test_the_desk_picks_missing_items_from_the_list_and_a_second_request_needs_the_leader(
    client,
    submitted,  # noqa: F811
    handler,
    leader,
    applicant,
):
    client.force_login(handler)
    desk = html(client.get(reverse("repair_desk_case", args=[submitted.pk])))
    assert 'name="supplement-items"' in desk and "营业执照或身份证明" in desk
    url = reverse("repair_desk_act", args=[submitted.pk, "supplement"])
    bad = html(client.post(url, {"supplement-items": ["passport"]}), status=400)
    assert "passport" in bad  # Django's "select a valid choice" names the value
    client.post(url, {"supplement-items": ["proof", "licence"]})
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUPPLEMENTING and submitted.supplement_items == ["proof", "licence"]

    client.force_login(applicant)
    status = html(client.get(reverse("repair_status", args=[submitted.pk])))
    assert "履行法定义务的证明材料" in status and "营业执照或身份证明" in status
    from tests.test_repair_views import pdf_upload

    client.post(reverse("repair_supplement", args=[submitted.pk]), {"action": "submit", "file": pdf_upload()})
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUBMITTED

    client.force_login(handler)
    desk = html(client.get(reverse("repair_desk_case", args=[submitted.pk])))
    assert "再次补正的理由" in desk
    refused = html(client.post(url, {"supplement-items": ["attorney"]}), status=400)
    assert "一次性告知" in refused and "负责人签批" in refused
    client.force_login(leader)
    no_reason = html(client.post(url, {"supplement-items": ["attorney"]}), status=400)
    assert "再次要求补正须写明理由" in no_reason
    client.post(url, {"supplement-items": ["attorney"], "supplement-repeat_reason": "发现委托人另有其人"})
    submitted.refresh_from_db()
    assert submitted.state == RepairState.SUPPLEMENTING and submitted.supplement_items == ["attorney"]


def test_rule_sets_on_file_carry_the_materials_and_the_new_limits(rule_sets):
    for rule_set in RuleSet.objects.all():
        items = rules.materials(rule_set, "repair")
        assert [m.code for m in items][:3] == ["application", "commitment", "statement"]
        assert rules.rule_param(rule_set, rules.REPORT_FREE_PER_YEAR) == 2
        assert rules.rule_param(rule_set, rules.RATING_FOLLOW_UP_WD) > 0


def test_the_objection_form_asks_for_the_evidence_the_materials_list_names(client, applicant, record, rule_sets):
    client.force_login(applicant)
    page = html(client.get(reverse("objection_file", args=[record.pk])))
    assert "证明信息有误、遗漏或侵犯合法权益的材料" in page
    rule_set = rules.ruleset_in_force(dt.date.today())
    param = RuleParameter.objects.get(rule_set=rule_set, key="materials.objection")
    param.value = [{**m, "name": "异议证据材料", "note": "如有"} if m["code"] == "evidence" else m for m in param.value]
    param.value = [{**m, "when": "optional"} if m["code"] == "evidence" else m for m in param.value]
    param.save()
    rules.clear_rule_cache()
    page = html(client.get(reverse("objection_file", args=[record.pk])))
    assert "异议证据材料" in page and "证明信息有误" not in page
