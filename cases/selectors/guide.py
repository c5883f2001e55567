"""办事指南: what each matter needs, read from the rule set in force (PROCEDURES.md; issue 12 item 5).

A matter is a procedure and a kind (修复: 行政处罚 / 严重失信名单 / 其他; 异议: by what is disputed; …). Its
materials list and time limits are rule-set parameters (workflows.rules ``materials.<procedure>`` and the
limits' own keys), so a new law is a new rule set and the guide, the application form and the 补正 request all
change with it. Only the wording of the conditions lives here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.models import Organisation
from workflows import rules
from workflows.models import RuleSet


@dataclass(frozen=True)
class Matter:
    procedure: str
    kind: str
    title: str | Promise
    summary: str | Promise
    # Conditions, each a sentence; ``%(name)s`` placeholders are filled from the rule set (see _facts).
    conditions: tuple[str | Promise, ...]
    time_limits: tuple[str, ...]  # rule-parameter keys
    basis: tuple[str | Promise, ...]
    handled_by: str | Promise
    how_to_apply: str | Promise
    materials_kind: str = ""  # filter of the materials list (repair kinds); empty: the whole list
    extra: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return f"{self.procedure}/{self.kind}"


_REPAIR_CONDITIONS = (
    _(
        "已过最短公示期：轻微失信%(min_minor)s个月，一般失信%(min_ordinary)s个月，严重失信%(min_serious)s个月，自处罚决定之日起算。"
    ),
    _("已纠正失信行为、履行法定义务（罚款已缴纳、责令事项已整改完毕）。"),
    _("签署并公开信用承诺书。"),
    _("该信息依法可以修复，且没有正在办理的修复申请。"),
    _("未因提供虚假材料被撤销信用修复，或限制申请期（%(bar_years)s年）已届满。"),
)
_REPAIR_LIMITS = (
    rules.REPAIR_ACCEPTANCE_WD,
    rules.REPAIR_SUPPLEMENT_WD,
    rules.REPAIR_DECISION_WD,
    rules.REPAIR_EXTENSION_CAP_WD,
    rules.REPAIR_EFFECT_WD,
    rules.REPAIR_SYNC_WD,
)
_REPAIR_BASIS = (
    _("《信用修复管理办法》（国家发展改革委令2025年第36号）"),
    _("《国务院办公厅关于进一步完善信用修复制度的意见》（国办发〔2025〕22号）"),
    _("《河南省社会信用条例》第十九条、第四十三条"),
)
_REPAIR_HANDLED = _("作出失信认定的部门（谁认定、谁修复）；通过本平台在线申请，平台当日转送。")
_REPAIR_APPLY = _("登录后在“我的信用记录”中打开该条信息，点击“申请信用修复”。")

_OBJECTION_CONDITIONS = (
    _("申请人是该信息所涉的信用主体或其委托的代理人。"),
    _("认为公示的信息存在错误、遗漏，或者侵犯其合法权益，并能提供证明材料。"),
    _("自收到异议申请之日起，该信息在公示时加注“异议标注”，直至处理完毕。"),
)
_OBJECTION_LIMITS = (
    rules.OBJECTION_PLATFORM_WD,
    rules.OBJECTION_PROVIDER_CHECK_WD,
    rules.OBJECTION_CASE_WD,
    rules.OBJECTION_REVIEW_REQUEST_WD,
    rules.OBJECTION_REVIEW_WD,
)
_OBJECTION_BASIS = (
    _("《河南省社会信用条例》第二十八条、第四十一条、第四十二条"),
    _("《国务院办公厅关于进一步完善信用修复制度的意见》（国办发〔2025〕22号）"),
)
_OBJECTION_HANDLED = _("郑州市信用中心受理；需核查的，转信息提供单位核查。")
_OBJECTION_APPLY = _("登录后在“我的信用记录”中打开该条信息，点击“提出异议”。")


def _repair_matter(kind: str, title, summary) -> Matter:
    """A kind of repair: the conditions, limits, basis and handling are the procedure's; the materials the kind's."""
    return Matter(
        procedure="repair",
        kind=kind,
        title=title,
        summary=summary,
        conditions=_REPAIR_CONDITIONS,
        time_limits=_REPAIR_LIMITS,
        basis=_REPAIR_BASIS,
        handled_by=_REPAIR_HANDLED,
        how_to_apply=_REPAIR_APPLY,
        materials_kind=kind,
    )


def _objection_matter(kind: str, title, summary) -> Matter:
    return Matter(
        procedure="objection",
        kind=kind,
        title=title,
        summary=summary,
        conditions=_OBJECTION_CONDITIONS,
        time_limits=_OBJECTION_LIMITS,
        basis=_OBJECTION_BASIS,
        handled_by=_OBJECTION_HANDLED,
        how_to_apply=_OBJECTION_APPLY,
    )


MATTERS: tuple[Matter, ...] = (
    _repair_matter(
        "penalty",
        _("终止公示行政处罚信息"),
        _("行政处罚信息公示期间，已纠正失信行为、履行法定义务的，可申请提前终止公示。"),
    ),
    _repair_matter(
        "serious_list",
        _("移出严重失信主体名单"),
        _("被列入严重失信主体名单，已纠正失信行为、履行法定义务的，可申请移出名单。"),
    ),
    _repair_matter(
        "other", _("修复其他失信信息"), _("其他失信信息（含经营异常名录）公示期间，已纠正失信行为的，可申请信用修复。")
    ),
    _objection_matter("content", _("对公示内容提出异议"), _("认为公示的信用信息内容有误或遗漏的，可提出异议。")),
    _objection_matter("display_period", _("对公示期限提出异议"), _("认为信用信息的公示期限计算有误的，可提出异议。")),
    _objection_matter(
        "repair_result",
        _("对信用修复结果提出异议"),
        _("对信用修复的结果有异议的，可提出异议；对异议处理结果仍有争议的，可申请复核。"),
    ),
    Matter(
        procedure="commitment",
        kind="voluntary",
        title=_("作出信用承诺"),
        summary=_("在办理行政许可、证明事项或信用修复时，按承诺事项的格式文本作出信用承诺，承诺信息公开并接受核查。"),
        conditions=(
            _("有严重失信记录或曾作出虚假承诺、尚未修复的，不适用告知承诺等简化程序。"),
            _("承诺内容真实，并同意在信用网站公开、接受核查。"),
        ),
        time_limits=(rules.COMMITMENT_REPORT_WD, rules.COMMITMENT_HEARING_DAYS),
        basis=(_("《河南省社会信用条例》第三十二条、第三十三条"), _("国办发〔2020〕42号")),
        handled_by=_("办理该事项的行业主管部门；承诺及履约情况报送郑州市信用平台。"),
        how_to_apply=_("在办理相关事项时按部门提供的格式文本签署；信用修复型承诺在修复申请中在线签署。"),
    ),
    Matter(
        procedure="rectification",
        kind="complaint",
        title=_("投诉政务失信（政府拖欠账款、违约毁约、承诺不兑现）"),
        summary=_(
            "企业认为政府机构拖欠账款、违约毁约或不兑现承诺的，可投诉；经核实认定的，记入政务失信记录并限期整改。"
        ),
        conditions=(
            _("投诉人是与该政府机构有合同、账款或承诺关系的企业或个人。"),
            _("能提供合同、验收、结算、欠款或承诺文件等证据。"),
        ),
        time_limits=(rules.RECTIFICATION_FORWARD_WD, rules.SME_FORWARD_WD, rules.SME_RESULT_DAYS, rules.SME_MAX_DAYS),
        basis=(_("《保障中小企业款项支付条例》第二十五条"), _("《优化营商环境条例》第三十一条、第三十二条")),
        handled_by=_("郑州市社会信用体系建设领导小组办公室受理，转上级或主管部门核实认定。"),
        how_to_apply=_("通过12345政务服务便民热线或本平台提交投诉。"),
    ),
)

# What each time limit is, as the applicant reads it (the value, unit and citation come from the rule set).
LIMIT_LABELS = {
    rules.REPAIR_ACCEPTANCE_WD: _("受理、不予受理或一次性告知补正（自收到申请之日起）"),
    rules.REPAIR_SUPPLEMENT_WD: _("申请人补正材料（逾期视为撤回；补正期间部门时限暂停）"),
    rules.REPAIR_DECISION_WD: _("作出准予或不予修复决定（自申请之日起）"),
    rules.REPAIR_EXTENSION_CAP_WD: _("情况复杂的，可延期一次，最长"),
    rules.REPAIR_EFFECT_WD: _("准予修复后终止公示、停止共享"),
    rules.REPAIR_SYNC_WD: _("修复结果同步至信用中国等平台"),
    rules.OBJECTION_PLATFORM_WD: _("平台自身原因的异议：处理完毕并告知"),
    rules.OBJECTION_PROVIDER_CHECK_WD: _("信息提供单位接到核查通知后核查完毕"),
    rules.OBJECTION_CASE_WD: _("需核查的异议：处理完毕并告知（自收到申请之日起）"),
    rules.OBJECTION_REVIEW_REQUEST_WD: _("对处理结果仍有争议的，申请复核（自结果告知书送达之日起）"),
    rules.OBJECTION_REVIEW_WD: _("复核办理"),
    rules.COMMITMENT_REPORT_WD: _("承诺及履约践诺情况报送信用平台"),
    rules.COMMITMENT_HEARING_DAYS: _("拟认定违背承诺前的陈述、申辩期"),
    rules.RECTIFICATION_FORWARD_WD: _("转交上级或主管部门核实认定"),
    rules.SME_FORWARD_WD: _("中小企业款项投诉：转交处理投诉部门"),
    rules.SME_RESULT_DAYS: _("中小企业款项投诉：形成处理结果"),
    rules.SME_MAX_DAYS: _("情况复杂经批准延长的，最长"),
}

UNIT_FORMATS = {
    "wd": _("%(n)s个工作日"),
    "cd": _("%(n)s日（自然日）"),
    "months": _("%(n)s个月"),
    "years": _("%(n)s年"),
}


@dataclass(frozen=True)
class TimeLimit:
    label: str
    amount: str
    citation: str


@dataclass(frozen=True)
class MatterGuide:
    matter: Matter
    rule_set: RuleSet
    conditions: list[str]
    materials: list[rules.Material]
    time_limits: list[TimeLimit]
    contacts: list[Organisation]


def matter_list() -> tuple[Matter, ...]:
    return MATTERS


def matter_get(*, procedure: str, kind: str) -> Matter:
    for matter in MATTERS:
        if matter.procedure == procedure and matter.kind == kind:
            return matter
    raise Http404


def _facts(rule_set: RuleSet) -> dict:
    def value(key):
        try:
            return rules.rule_param(rule_set, key)
        except rules.RuleParameterMissing:
            return "—"

    return {
        "min_minor": value(rules.DISPLAY_MIN_MONTHS["minor"]),
        "min_ordinary": value(rules.DISPLAY_MIN_MONTHS["ordinary"]),
        "min_serious": value(rules.DISPLAY_MIN_MONTHS["serious"]),
        "bar_years": value(rules.REPAIR_FALSE_MATERIALS_BAR_YEARS),
    }


# Who answers questions on a matter: the credit centre always; for repairs and commitments also the departments
# that record information and take commitments (谁认定、谁修复); for 政务失信 the supervising office.
_CONTACT_KINDS = {
    "repair": (Organisation.Kind.CREDIT_CENTRE, Organisation.Kind.DEPARTMENT),
    "commitment": (Organisation.Kind.CREDIT_CENTRE, Organisation.Kind.DEPARTMENT),
    "objection": (Organisation.Kind.CREDIT_CENTRE,),
    "rectification": (Organisation.Kind.CREDIT_CENTRE, Organisation.Kind.SUPERVISOR),
}


def _contacts(matter: Matter) -> list[Organisation]:
    return list(
        Organisation.objects.filter(is_active=True, kind__in=_CONTACT_KINDS.get(matter.procedure, ()))
        .exclude(contact_phone="")
        .order_by("kind", "name")
    )


def matter_guide(*, matter: Matter, on: dt.date | None = None) -> MatterGuide:
    """The guide of ``matter`` under the rule set in force on ``on`` (today by default)."""
    rule_set = rules.ruleset_in_force(on or timezone.localdate())
    facts = _facts(rule_set)
    limits = []
    for key in matter.time_limits:
        try:
            detail = rules.rule_param_detail(rule_set, key)
        except rules.RuleParameterMissing:
            continue  # a limit the set in force does not have is not shown rather than guessed
        fmt = UNIT_FORMATS.get(detail.unit, "%(n)s")
        limits.append(
            TimeLimit(label=str(LIMIT_LABELS[key]), amount=fmt % {"n": detail.value}, citation=detail.citation)
        )
    try:
        materials = rules.materials(rule_set, matter.procedure, matter.materials_kind)
    except rules.RuleParameterMissing:
        materials = []
    return MatterGuide(
        contacts=_contacts(matter),
        matter=matter,
        rule_set=rule_set,
        conditions=[str(c) % facts if "%(" in str(c) else str(c) for c in matter.conditions],
        materials=materials,
        time_limits=limits,
    )
