"""The kinds of notice (文书) the procedures issue: the registry here, the kinds in notices/kinds/<procedure>.py.

Like e-mails built from ``{name}-subject``/``{name}-body`` templates, a kind is a code, a title, a template
``notices/pdf/<code>.html`` and the few facts the numbering and the remedies block need. Procedures request a
notice by kind code through ``notices.services.notice_request``; the context each kind needs is checked on
request, so a 不予受理通知书 without reasons is refused before anything is queued, not when the worker renders it.

Number prefixes: PROCEDURES.md, "Notices — common rules" gives 郑信修受〔2026〕第0012号 as an example and marks
the prefix [cfg]. The number is ``<organisation prefix><kind prefix>〔<year>〕第<serial>号``; the kind prefix comes
from the case's rule set when it defines one (see ``number_prefix``), else from ``default_prefix`` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from notices.models import KIND_TITLES

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
    legal_basis: str | None = ""
    # Repair notices cite the rule set of their case (527号 / 58号令 / 36号令 by receipt date); every other kind
    # cites its own law, whatever rule set its case carries (issue 10 item 13).
    basis_from_rule_set: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def template_name(self) -> str:
        return f"notices/pdf/{self.code}.html"


REGISTRY: dict[str, NoticeKind] = {}


def register(kind: NoticeKind) -> NoticeKind:
    if kind.code in REGISTRY:
        raise ValueError(f"notice kind {kind.code!r} registered twice")
    REGISTRY[kind.code] = kind
    KIND_TITLES[kind.code] = kind.title
    return kind


def kind(code, title, prefix, required="", *, adverse=False, basis=None) -> NoticeKind:
    """One row of a procedure's table of kinds: ``required`` is the context keys separated by spaces; ``basis``
    overrides the procedure's legal basis for this kind."""
    return NoticeKind(code, title, prefix, adverse=adverse, required=tuple(required.split()), legal_basis=basis)


def register_table(legal_basis, *rows: NoticeKind, basis_from_rule_set: bool = False) -> dict[str, NoticeKind]:
    """Register a procedure's kinds; a row without its own basis gets the procedure's ``legal_basis``.
    ``basis_from_rule_set``: the notices cite their case's rule set first (repair)."""
    return {
        row.code: register(
            replace(
                row,
                legal_basis=legal_basis if row.legal_basis is None else row.legal_basis,
                basis_from_rule_set=basis_from_rule_set,
            )
        )
        for row in rows
    }


def get_kind(code: str) -> NoticeKind:
    try:
        return REGISTRY[code]
    except KeyError:
        raise LookupError(f"unknown notice kind {code!r}") from None


def choices() -> list[tuple[str, str]]:
    return [(k.code, k.title) for k in REGISTRY.values()]


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


# Each procedure registers its kinds in notices/kinds/<procedure>.py; importing them fills REGISTRY.
from notices.kinds import commitment, objection, rectification, repair, report  # noqa: E402, F401
