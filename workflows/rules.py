"""Rule sets: which legal parameters apply, and their values (DESIGN.md, "Rule sets").

Every time limit, display period, bar and notice-number prefix is a ``RuleParameter`` of a versioned
``RuleSet`` with its own citation; code asks for a key, never writes a number. A case stores the set in
force on its receipt date and keeps asking *that* set, so a change of law (a new set) never moves a
running case's deadline.

Units: ``wd`` working days, ``cd`` calendar days (the same codes as ``Clock.Unit``), ``months``,
``years``; text and list values have no unit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models import RuleParameter, RuleSet

# --- parameter keys ---------------------------------------------------------------------------------
# 1. 信用修复 (PROCEDURES.md §1)
REPAIR_ROUTING_WD = "repair.routing_wd"  # route to the recording department: same working day (0)
REPAIR_ACCEPTANCE_WD = "repair.acceptance_wd"  # 受理/不予受理/补正 from receipt
REPAIR_SUPPLEMENT_WD = "repair.supplement_wd"  # applicant's window to supplement, else 视为撤回
REPAIR_DECISION_WD = "repair.decision_wd"  # whole case from application
REPAIR_EXTENSION_CAP_WD = "repair.extension_cap_wd"  # one extension, at most this long
REPAIR_EFFECT_WD = "repair.effect_wd"  # stop display/sharing after the decision (Henan Art 43)
REPAIR_SYNC_WD = "repair.sync_wd"  # sync the result to other platforms
REPAIR_FALSE_MATERIALS_BAR_YEARS = "repair.false_materials_bar_years"
# Display periods, counted from the decision date, per severity; the key-sector minimum applies where
# the set has one (58号令 set: food, drugs, special equipment, work safety, fire safety).
DISPLAY_MIN_MONTHS = {
    "minor": "display.min_months.minor",
    "ordinary": "display.min_months.ordinary",
    "serious": "display.min_months.serious",
}
DISPLAY_MAX_MONTHS = {
    "minor": "display.max_months.minor",
    "ordinary": "display.max_months.ordinary",
    "serious": "display.max_months.serious",
}
DISPLAY_KEY_SECTORS = "display.key_sectors"
DISPLAY_KEY_SECTOR_MIN_MONTHS = "display.key_sector_min_months"  # null: the set has no sector rule
DISPLAY_CAP_MONTHS = "display.cap_months"  # Henan Art 19: at most 5 years
# How a set treats records decided before it took effect: "own" (the set in force on the decision date
# decides, 立法法 Art 104 不溯及既往) or "lighter" (the minimum display period is the shorter of that set's
# and this one's: 从旧兼从轻, the 36号令 set from 2026-04-01).
DISPLAY_EARLIER_RECORDS = "display.earlier_records"
# 2. 异议处理
OBJECTION_PLATFORM_WD = "objection.platform_wd"
OBJECTION_PROVIDER_CHECK_WD = "objection.provider_check_wd"
OBJECTION_CASE_WD = "objection.case_wd"
OBJECTION_REVOCATION_WD = "objection.revocation_wd"
OBJECTION_REVIEW_WD = "objection.review_wd"
# How long after the 异议处理结果告知书 is delivered the applicant may still ask for 复核 (the law names no
# period: [cfg]).
OBJECTION_REVIEW_REQUEST_WD = "objection.review_request_wd"
# 3. 信用承诺
COMMITMENT_REPORT_WD = "commitment.report_wd"
COMMITMENT_REVOCATION_WD = "commitment.revocation_wd"
# The subject's period to state its case before a breach is decided (行政处罚法 Art 44, 45), in calendar days.
COMMITMENT_HEARING_DAYS = "commitment.hearing_days"
# 4. 政务失信
RECTIFICATION_FORWARD_WD = "rectification.forward_wd"
RECTIFICATION_PLAN_WD = "rectification.plan_wd"
RECTIFICATION_PROGRESS_INTERVAL_WD = "rectification.progress_interval_wd"
RECTIFICATION_DEADLINE_DAYS = "rectification.deadline_days"
RECTIFICATION_REMINDER_BEFORE_WD = "rectification.reminder_before_wd"
RECTIFICATION_INTERVIEW_OVERDUE_WD = "rectification.interview_overdue_wd"  # 约谈
RECTIFICATION_PUBLIC_NOTICE_OVERDUE_WD = "rectification.public_notice_overdue_wd"  # 通报
RECTIFICATION_ACCOUNTABILITY_OVERDUE_WD = "rectification.accountability_overdue_wd"  # 追责移送
RECTIFICATION_VERIFICATION_DAYS = "rectification.verification_days"  # 核实认定
SME_FORWARD_WD = "sme_payment.forward_wd"
SME_RESULT_DAYS = "sme_payment.result_days"
SME_MAX_DAYS = "sme_payment.max_days"
# 5. 双公示
DISCLOSURE_PUBLISH_WD = "disclosure.publish_wd"
DISCLOSURE_PUBLISH_DAYS = "disclosure.publish_days"
DISCLOSURE_SAMR_PUBLISH_WD = "disclosure.samr_publish_wd"
DISCLOSURE_WITHDRAWAL_WD = "disclosure.withdrawal_wd"
# 6. 办事指南: the materials to bring, per procedure (a list of items, see ``Material``); they change with the
# law, so they are rule-set data that the guide, the application form and the 补正 request all read.
MATERIALS = "materials.{procedure}"
MATERIAL_PROCEDURES = ("repair", "objection", "commitment", "rectification")
# 7. 好差评: a 差评 is looked into and answered within this many working days (国办发〔2019〕51号 [sec], [cfg]).
RATING_FOLLOW_UP_WD = "rating.follow_up_wd"
# 8. 信用报告: free reports per subject and calendar year (河南省社会信用条例 Art 40: twice a year).
REPORT_FREE_PER_YEAR = "report.free_per_year"
# Notices: the kind code that follows the issuing organisation's prefix (郑信 + 修受 = 郑信修受). Kind codes
# are those of notices.kinds, which reads ``notice_prefix.<kind code>``.
NOTICE_PREFIX = "notice_prefix.{kind}"
NOTICE_KINDS = (
    "repair_accepted",  # 受理通知书
    "repair_not_accepted",  # 不予受理通知书
    "repair_supplement",  # 补正材料通知书
    "repair_extension",  # 延期告知书
    "repair_granted",  # 信用修复决定书
    "repair_refused",  # 不予信用修复决定书
    "repair_revoked",  # 撤销信用修复决定书
    "commitment_letter",  # 信用承诺书
    "commitment_breach",  # 违背信用承诺认定告知书
    "commitment_breach_notice",  # 违背信用承诺事先告知书
    "commitment_revocation",  # 撤销行政决定决定书
    "objection_check",  # 核查通知
    "objection_result",  # 异议处理结果告知书
    "objection_supervision",  # 异议核查督办通知书
    "rectification_notice",  # 限期整改通知书
    "rectification_supervision",  # 督办通知书
    "rectification_interview",  # 约谈通知书
    "rectification_public_notice",  # 通报
    "rectification_accountability",  # 追责移送函
    "rectification_reply",  # 核实结果答复函
    "rectification_refusal",  # 拒不整改认定书
    "rectification_result",  # 投诉办理结果告知书
    "credit_report",  # 信用报告
)

REQUIRED_KEYS = frozenset(
    [
        REPAIR_ROUTING_WD,
        REPAIR_ACCEPTANCE_WD,
        REPAIR_SUPPLEMENT_WD,
        REPAIR_DECISION_WD,
        REPAIR_EXTENSION_CAP_WD,
        REPAIR_EFFECT_WD,
        REPAIR_SYNC_WD,
        REPAIR_FALSE_MATERIALS_BAR_YEARS,
        *DISPLAY_MIN_MONTHS.values(),
        *DISPLAY_MAX_MONTHS.values(),
        DISPLAY_KEY_SECTORS,
        DISPLAY_KEY_SECTOR_MIN_MONTHS,
        DISPLAY_CAP_MONTHS,
        DISPLAY_EARLIER_RECORDS,
        OBJECTION_PLATFORM_WD,
        OBJECTION_PROVIDER_CHECK_WD,
        OBJECTION_CASE_WD,
        OBJECTION_REVOCATION_WD,
        OBJECTION_REVIEW_WD,
        OBJECTION_REVIEW_REQUEST_WD,
        COMMITMENT_REPORT_WD,
        COMMITMENT_REVOCATION_WD,
        COMMITMENT_HEARING_DAYS,
        RECTIFICATION_FORWARD_WD,
        RECTIFICATION_PLAN_WD,
        RECTIFICATION_PROGRESS_INTERVAL_WD,
        RECTIFICATION_DEADLINE_DAYS,
        RECTIFICATION_REMINDER_BEFORE_WD,
        RECTIFICATION_INTERVIEW_OVERDUE_WD,
        RECTIFICATION_PUBLIC_NOTICE_OVERDUE_WD,
        RECTIFICATION_ACCOUNTABILITY_OVERDUE_WD,
        RECTIFICATION_VERIFICATION_DAYS,
        SME_FORWARD_WD,
        SME_RESULT_DAYS,
        SME_MAX_DAYS,
        DISCLOSURE_PUBLISH_WD,
        DISCLOSURE_PUBLISH_DAYS,
        DISCLOSURE_SAMR_PUBLISH_WD,
        DISCLOSURE_WITHDRAWAL_WD,
        *(MATERIALS.format(procedure=p) for p in MATERIAL_PROCEDURES),
        RATING_FOLLOW_UP_WD,
        REPORT_FREE_PER_YEAR,
        *(NOTICE_PREFIX.format(kind=kind) for kind in NOTICE_KINDS),
    ]
)

DEFAULT_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "rule_sets.json"


# --- errors -----------------------------------------------------------------------------------------
class NoRuleSetInForce(ValidationError):
    def __init__(self, day: dt.date):
        super().__init__(
            _("%(date)s没有施行中的规则版本，请管理员补充相应的规则版本。"),
            code="no_rule_set",
            params={"date": day.isoformat()},
        )
        self.day = day


class RuleParameterMissing(ValidationError, LookupError):
    def __init__(self, rule_set: RuleSet, key: str):
        super().__init__(
            _("规则版本“%(rule_set)s”缺少参数“%(key)s”。"),
            code="rule_parameter_missing",
            params={"rule_set": rule_set.code, "key": key},
        )
        self.key = key


# --- look-ups ---------------------------------------------------------------------------------------
def ruleset_in_force(day: dt.date | dt.datetime) -> RuleSet:
    """The rule set in force on ``day`` (a datetime counts by its Beijing date).

    Sets are not expected to overlap; if an administrator makes them overlap, the most recent
    effective_from wins, as a later rule displaces an earlier one.
    """
    if isinstance(day, dt.datetime):
        day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
    # Read once per transaction (a submission asks up to four times: eligibility, minimum period, materials,
    # pinning); the connection forgets it when the transaction ends (config/db/precommit.py).
    connection = transaction.get_connection()
    memo = getattr(connection, "transaction_memo", None) if connection.in_atomic_block else None
    if memo is not None and ("rules.in_force", day) in memo:
        return memo["rules.in_force", day]
    rule_set = (
        RuleSet.objects.filter(effective_from__lte=day)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=day))
        .order_by("-effective_from", "-id")
        .first()
    )
    if rule_set is None:
        raise NoRuleSetInForce(day)
    if memo is not None:
        memo["rules.in_force", day] = rule_set
    return rule_set


@dataclass(frozen=True)
class Param:
    key: str
    value: Any
    unit: str
    description: str
    citation: str


# Per-process cache: rule-set id → (loaded at, {key: Param}). Parameters of a set in force rarely change,
# and only [cfg] ones should; a change in this process clears the entry at once (signals below), other
# processes see it within RULE_PARAM_CACHE_SECONDS.
_cache: dict[int, tuple[float, dict[str, Param]]] = {}
_cache_lock = threading.Lock()


def _cache_seconds() -> float:
    return float(getattr(settings, "RULE_PARAM_CACHE_SECONDS", 60))


def _params_of(rule_set_id: int) -> dict[str, Param]:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(rule_set_id)
    if hit is not None and now - hit[0] < _cache_seconds():
        return hit[1]
    params = {
        p.key: Param(key=p.key, value=p.value, unit=p.unit, description=p.description, citation=p.citation)
        for p in RuleParameter.objects.filter(rule_set_id=rule_set_id)
    }
    with _cache_lock:
        _cache[rule_set_id] = (now, params)
    return params


def rule_param_detail(rule_set: RuleSet | int, key: str) -> Param:
    """Value, unit and citation (a clock shows the citation of its limit)."""
    rule_set_id = rule_set if isinstance(rule_set, int) else rule_set.pk
    try:
        return _params_of(rule_set_id)[key]
    except KeyError:
        if isinstance(rule_set, int):
            rule_set = RuleSet.objects.get(pk=rule_set_id)
        raise RuleParameterMissing(rule_set, key) from None


def rule_param(rule_set: RuleSet | int, key: str):
    return rule_param_detail(rule_set, key).value


# The tags of PROCEDURES.md ([law] / [sec] / [cfg]) and references to it are for the people who maintain the
# rule sets; a user is shown the law cited, never the annotations (issue 10 item 14).
_TAG = re.compile(r"\s*\[(?:law|sec|cfg)\]")
_PROCEDURES_REF = re.compile(r"PROCEDURES\.md\s*(?:§\s*\d+)?(?:（[^）]*）|\([^)]*\)|[^；;，,（(])*")


def public_citation(citation: str) -> str:
    """A stored citation as users read it: without [law]/[sec]/[cfg] tags and PROCEDURES.md references.
    A limit that only the platform set (no text cited) says so."""
    text = _TAG.sub("", citation or "")
    parts = []
    for part in re.split(r"[；;]", text):
        part = _PROCEDURES_REF.sub("", part).strip(" ，,、")
        if part:
            parts.append(part)
    if parts:
        return "；".join(parts)
    return str(_("本平台设定")) if (citation or "").strip() else ""


def notice_prefix(rule_set: RuleSet | int, *, kind: str, issuer_prefix: str) -> str:
    """郑信 + 修受 → 郑信修受 (PROCEDURES.md "Notices" [cfg])."""
    return f"{issuer_prefix}{rule_param(rule_set, NOTICE_PREFIX.format(kind=kind))}"


@dataclass(frozen=True)
class Material:
    """One item of a procedure's materials list (rule-set data, see ``MATERIALS``).

    ``when``: ``always`` | ``agent`` (an agent applies) | ``unconfirmed`` (the department has not confirmed the
    obligations performed) | ``optional``. ``source``: how the item is given — ``upload`` (a file of attachment
    purpose ``upload``), ``form`` (the online form itself), ``commitment`` (signed in the system), ``statement``
    (the statement typed into the form). ``kinds``: the procedure kinds it applies to (empty: all).
    """

    code: str
    name: str
    name_en: str
    when: str
    source: str
    upload: str = ""
    note: str = ""
    note_en: str = ""
    kinds: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name

    @property
    def explanation(self) -> str:
        from django.utils.translation import get_language

        return self.note_en if (get_language() or "").startswith("en") and self.note_en else self.note

    @property
    def required(self) -> bool:
        return self.when != "optional"


def materials(rule_set: RuleSet | int, procedure: str, kind: str = "") -> list[Material]:
    """The materials list of ``procedure`` (and ``kind``) under ``rule_set``, in the order the law lists them."""
    items = []
    for raw in rule_param(rule_set, MATERIALS.format(procedure=procedure)):
        material = Material(**{**raw, "kinds": tuple(raw.get("kinds") or ())})
        if kind and material.kinds and kind not in material.kinds:
            continue
        items.append(material)
    return items


def clear_rule_cache() -> None:
    with _cache_lock:
        _cache.clear()


@receiver(post_save, sender=RuleParameter)
@receiver(post_delete, sender=RuleParameter)
@receiver(post_save, sender=RuleSet)
@receiver(post_delete, sender=RuleSet)
def _rules_changed(**kwargs):
    transaction.on_commit(clear_rule_cache)
    clear_rule_cache()
    memo = getattr(transaction.get_connection(), "transaction_memo", None)
    if memo:
        memo.clear()


# --- loading ----------------------------------------------------------------------------------------
def read_rule_set_fixture(path: Path | str = DEFAULT_FIXTURE) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
