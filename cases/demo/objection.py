"""A few objections for ``manage.py load_demo``, in different states, written through the services.

- 李某明 (login shimin) objects to his housing-bureau penalty: waiting for the credit centre's triage;
- 郑州中原某某科技有限公司 (login qiye) objects to its market-regulation penalty: the 核查通知 is out, waiting for 市场监管局 (login shijianju_jingban);
- qiye also objects to its 经营异常名录 entry (it has moved, not vanished): waiting for the credit centre's triage;
- 李某明 (login shimin) also objected to his tax arrears record: verified by the tax bureau and maintained, so he
  may ask for 复核.

Idempotent: a record that already has an objection case is left alone.
"""

from __future__ import annotations

from collections import Counter

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import CreditRecord, DisplayState, Organisation, User
from cases.models.objection import ObjectionCase

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (decision number, applicant, disputed field → proposed value, reason, how far it goes)
DEMO_OBJECTIONS = [
    (
        "郑建罚〔2026〕77号",
        "shimin",
        {"content": "更换卫生间门框，未改变承重结构"},
        "现场勘验报告显示未改动承重墙，公示内容有误。",
        "filed",
    ),
    (
        "郑市监处罚〔2026〕118号",
        "qiye",
        {"content": "未按规定期限公示2024年度报告（已于2025年7月补报）"},
        "公示内容遗漏了已补报年度报告的情况。",
        "checking",
    ),
    (
        "郑市监列异〔2025〕0937号",
        "qiye",
        {"content": "当事人已于2025年11月办理住所变更登记，可通过新住所联系"},
        "住所变更登记在列入经营异常名录之前已经受理，列入依据不成立。",
        "filed",
    ),
    (
        "郑税欠公〔2025〕207号",
        "shimin",
        {"title": "个人所得税欠税已缴清"},
        "欠税已于2025年12月缴清，请核实。",
        "maintained",
    ),
]


def _user(username):
    return User.objects.filter(username=username).first()


def load_demo_objections(created: Counter) -> None:
    from cases.services import objection as svc

    if not Organisation.objects.filter(kind=Organisation.Kind.CREDIT_CENTRE, is_active=True).exists():
        return
    centre = svc.credit_centre()
    intake = User.objects.filter(organisation=centre, role="platform_intake").first()
    for number, username, disputed, reason, stage in DEMO_OBJECTIONS:
        record = CreditRecord.objects.filter(decision_number=number).select_related("provider").first()
        applicant = _user(username)
        if record is None or applicant is None or ObjectionCase.objects.filter(record=record).exists():
            continue
        if record.display_state != DisplayState.DISPLAYED:
            continue
        case = svc.objection_file(
            actor=applicant,
            record=record,
            matter="content",
            disputed=disputed,
            reason=reason,
            contact_name=applicant.display_name or applicant.username,
            contact_phone="13800000000",
            uploads=[SimpleUploadedFile("证明材料.pdf", PDF, content_type="application/pdf")],
        )
        created["objections"] += 1
        if stage == "filed" or intake is None:
            continue
        case = svc.objection_send_check(actor=intake, case=case, note="请核对原始决定文书。")
        provider_staff = (
            User.objects.filter(organisation=record.provider, role__in=["dept_handler", "dept_leader"], is_active=True)
            .order_by("role", "pk")
            .first()
        )
        if stage == "checking" or provider_staff is None:
            continue
        svc.objection_decide(
            actor=provider_staff,
            case=case,
            outcome="maintained",
            reason="经核查，税务系统显示该笔欠税在公示时尚未缴清，公示信息准确。",
        )
