"""The kinds of notice (文书) the procedures issue, one entry per kind.

Like e-mails built from ``{name}-subject``/``{name}-body`` templates, a kind is a code, a title, a template
``notices/pdf/<code>.html`` and the few facts the numbering and the remedies block need. Procedures request a
notice by kind code through ``notices.services.notice_request``; the context each kind needs is checked on
request, so a 不予受理通知书 without reasons is refused before anything is queued, not when the worker renders it.

Number prefixes: PROCEDURES.md, "Notices — common rules" gives 郑信修受〔2026〕第0012号 as an example and marks
the prefix [cfg]. The number is ``<organisation prefix><kind prefix>〔<year>〕第<serial>号``; the kind prefix comes
from the case's rule set when it defines one (see ``number_prefix``), else from ``default_prefix`` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# Remedies printed on adverse notices, with their sources. The periods are overridable per rule set
# (parameters ``remedy_review_days`` and ``remedy_litigation_months``) and per notice (context keys of the
# same name), because a later law may change them.
REMEDY_DEFAULTS = {
    # 中华人民共和国行政复议法 (2023 revision) Art 20: 60 days from knowing of the act.
    "remedy_review_days": 60,
    # 中华人民共和国行政诉讼法 Art 46: six months from knowing of the act.
    "remedy_litigation_months": 6,
}


@dataclass(frozen=True)
class NoticeKind:
    code: str
    title: str
    default_prefix: str
    # An adverse notice refuses or takes away something the applicant asked for or had: it must tell the
    # addressee how to challenge it (行政复议法 Art 20, 行政诉讼法 Art 46; 河南省社会信用条例 Art 41 for objections).
    adverse: bool = False
    # Context keys the procedure must supply (validated in notice_request).
    required: tuple[str, ...] = ()
    legal_basis: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def template_name(self) -> str:
        return f"notices/pdf/{self.code}.html"


REGISTRY: dict[str, NoticeKind] = {}


def register(kind: NoticeKind) -> NoticeKind:
    if kind.code in REGISTRY:
        raise ValueError(f"notice kind {kind.code!r} registered twice")
    REGISTRY[kind.code] = kind
    return kind


def get_kind(code: str) -> NoticeKind:
    try:
        return REGISTRY[code]
    except KeyError:
        raise LookupError(f"unknown notice kind {code!r}") from None


def choices() -> list[tuple[str, str]]:
    return [(k.code, k.title) for k in REGISTRY.values()]


# --- credit repair (PROCEDURES.md §1, "Notices") -----------------------------------------------------------
_REPAIR_BASIS = _("《信用修复管理办法》及《河南省社会信用条例》")

REPAIR_ACCEPTED = register(NoticeKind(
    code="repair_accepted", title=_("信用修复申请受理通知书"), default_prefix="修受",
    required=("matter", "received_on", "decide_by"), legal_basis=_REPAIR_BASIS,
))
REPAIR_NOT_ACCEPTED = register(NoticeKind(
    code="repair_not_accepted", title=_("信用修复申请不予受理通知书"), default_prefix="修不受", adverse=True,
    required=("matter", "received_on", "reasons"), legal_basis=_REPAIR_BASIS,
))
REPAIR_SUPPLEMENT = register(NoticeKind(
    code="repair_supplement", title=_("信用修复申请补正材料通知书"), default_prefix="修补",
    required=("matter", "received_on", "missing", "supplement_by"), legal_basis=_REPAIR_BASIS,
))
REPAIR_EXTENSION = register(NoticeKind(
    code="repair_extension", title=_("信用修复办理期限延期告知书"), default_prefix="修延",
    required=("matter", "received_on", "reasons", "extended_until"), legal_basis=_REPAIR_BASIS,
))
REPAIR_GRANTED = register(NoticeKind(
    code="repair_granted", title=_("信用修复决定书"), default_prefix="修决",
    required=("matter", "received_on", "record_title"), legal_basis=_REPAIR_BASIS,
))
REPAIR_REFUSED = register(NoticeKind(
    code="repair_refused", title=_("不予信用修复决定书"), default_prefix="修不决", adverse=True,
    required=("matter", "received_on", "reasons"), legal_basis=_REPAIR_BASIS,
))
REPAIR_REVOKED = register(NoticeKind(
    code="repair_revoked", title=_("撤销信用修复决定书"), default_prefix="修撤", adverse=True,
    required=("matter", "original_number", "reasons"), legal_basis=_REPAIR_BASIS,
))


# --- credit commitments (PROCEDURES.md §3) ---------------------------------------------------------------------
_COMMITMENT_BASIS = _("《河南省社会信用条例》第三十二条、第三十三条、第五十八条")

COMMITMENT_LETTER = register(NoticeKind(
    code="commitment_letter", title=_("信用承诺书"), default_prefix="诺",
    required=("matter", "text", "signer", "signed_on"), legal_basis=_("《河南省社会信用条例》第五十八条"),
))
COMMITMENT_BREACH = register(NoticeKind(
    code="commitment_breach", title=_("违背信用承诺认定告知书"), default_prefix="诺违", adverse=True,
    required=("matter", "outcome", "reasons", "severity"), legal_basis=_COMMITMENT_BASIS,
))
COMMITMENT_REVOCATION = register(NoticeKind(
    code="commitment_revocation", title=_("撤销行政决定决定书"), default_prefix="诺撤", adverse=True,
    required=("matter", "reasons"), legal_basis=_("《中华人民共和国行政许可法》第六十九条；《河南省社会信用条例》第六十八条"),
))


# --- rule-set lookups ----------------------------------------------------------------------------------------
def _rule_value(rule_set, key: str):
    """A parameter of ``rule_set`` or None when the set does not define it (or there is no rule set)."""
    if rule_set is None:
        return None
    from workflows.rules import RuleParameterMissing, rule_param

    try:
        return rule_param(rule_set, key)
    except RuleParameterMissing:
        return None


def number_prefix(kind: NoticeKind, rule_set=None) -> str:
    """The kind part of the number: the rule set's ``notice_prefix.<kind code>`` parameter (workflows.rules
    NOTICE_PREFIX) if it has one, else the default above."""
    from workflows.rules import NOTICE_PREFIX

    return str(_rule_value(rule_set, NOTICE_PREFIX.format(kind=kind.code)) or kind.default_prefix)


def remedy_periods(rule_set=None, context: dict | None = None) -> dict:
    context = context or {}
    out = {}
    for key, default in REMEDY_DEFAULTS.items():
        value = context.get(key) or _rule_value(rule_set, key) or default
        out[key] = int(value)
    return out


# --- objections (PROCEDURES.md §2; 河南省社会信用条例 Art 41, 42, 65) ----------------------------------------
_OBJECTION_BASIS = _("《河南省社会信用条例》第四十一条、第四十二条")

OBJECTION_CHECK = register(NoticeKind(
    code="objection_check", title=_("异议信息核查通知"), default_prefix="异核",
    required=("tracking_number", "received_on", "record_title", "provider_name", "check_by", "disputed_text"),
    legal_basis=_OBJECTION_BASIS,
))
# Remedies are printed whatever the outcome: the applicant may still disagree with a correction too
# (复核, Art 28; 复议/诉讼).
OBJECTION_RESULT = register(NoticeKind(
    code="objection_result", title=_("异议处理结果告知书"), default_prefix="异结", adverse=True,
    required=("tracking_number", "received_on", "record_title", "outcome", "reasons"),
    legal_basis=_OBJECTION_BASIS,
))
OBJECTION_SUPERVISION = register(NoticeKind(
    code="objection_supervision", title=_("异议核查督办通知书"), default_prefix="异督",
    required=("tracking_number", "record_title", "provider_name", "due_date", "overdue_days"),
    legal_basis=_("《河南省社会信用条例》第四十一条、第六十五条"),
))
# --- 政务失信 rectification (PROCEDURES.md §4) ----------------------------------------------------------------
_RECTIFICATION_BASIS = _("《优化营商环境条例》第三十一条、第三十二条；《保障中小企业款项支付条例》（国务院令第802号）；"
                         "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》（国发〔2016〕33号）")

RECTIFICATION_NOTICE = register(NoticeKind(
    code="rectification_notice", title=_("政务失信限期整改通知书"), default_prefix="整改",
    required=("matter", "facts", "deadline", "plan_by"), legal_basis=_RECTIFICATION_BASIS,
))
RECTIFICATION_REPLY = register(NoticeKind(
    code="rectification_reply", title=_("政务失信线索核实结果答复函"), default_prefix="失信复",
    required=("matter", "reasons"), legal_basis=_RECTIFICATION_BASIS,
))
RECTIFICATION_SUPERVISION = register(NoticeKind(
    code="rectification_supervision", title=_("督办通知书"), default_prefix="督办",
    required=("matter", "limit_label", "due_date", "overdue_days"), legal_basis=_RECTIFICATION_BASIS,
))
RECTIFICATION_INTERVIEW = register(NoticeKind(
    code="rectification_interview", title=_("约谈通知书"), default_prefix="约谈",
    required=("matter", "limit_label", "due_date", "overdue_days"), legal_basis=_RECTIFICATION_BASIS,
))
RECTIFICATION_PUBLIC_NOTICE = register(NoticeKind(
    code="rectification_public_notice", title=_("逾期未整改情况通报"), default_prefix="通报",
    required=("matter", "limit_label", "due_date", "overdue_days"), legal_basis=_RECTIFICATION_BASIS,
))
RECTIFICATION_ACCOUNTABILITY = register(NoticeKind(
    code="rectification_accountability", title=_("问题线索移送追责函"), default_prefix="追责",
    required=("matter", "limit_label", "due_date", "overdue_days"), legal_basis=_RECTIFICATION_BASIS,
))
