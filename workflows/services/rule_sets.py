"""Loading rule sets (manage.py load_rule_sets, the admin): the one write path for versioned parameters."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cases.services.audit import audit_log
from workflows.models import RuleParameter, RuleSet


@dataclass
class LoadSummary:
    sets_created: int = 0
    sets_updated: int = 0
    params_created: int = 0
    params_updated: int = 0
    stale_params: list[str] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.sets_created or self.sets_updated or self.params_created or self.params_updated)


def _set_fields(item: dict) -> dict:
    return {
        "name": item["name"],
        "effective_from": dt.date.fromisoformat(item["effective_from"]),
        "effective_until": dt.date.fromisoformat(item["effective_until"]) if item.get("effective_until") else None,
        "citation": item["citation"],
    }


def _check_no_overlap(items: list[dict]) -> None:
    spans = sorted((_set_fields(i)["effective_from"], _set_fields(i)["effective_until"], i["code"]) for i in items)
    for (_start_a, until_a, code_a), (start_b, _until_b, code_b) in itertools.pairwise(spans):
        if until_a is None or until_a >= start_b:
            raise ValidationError(
                _("规则版本“%(a)s”与“%(b)s”的施行期间重叠。"),
                code="rule_sets_overlap",
                params={"a": code_a, "b": code_b},
            )


def rule_sets_load(*, actor=None, data: list[dict]) -> LoadSummary:
    """Create or update rule sets and their parameters from fixture data (idempotent).

    Parameters missing from the data are kept, not deleted: a case may be pinned to them. They are
    reported in ``stale_params``.
    """
    _check_no_overlap(data)
    summary = LoadSummary(stale_params=[])
    with transaction.atomic():
        for item in data:
            fields = _set_fields(item)
            rule_set = RuleSet.objects.select_for_update().filter(code=item["code"]).first()
            if rule_set is None:
                rule_set = RuleSet(code=item["code"], **fields)
                rule_set.full_clean()
                rule_set.save()
                summary.sets_created += 1
            elif any(getattr(rule_set, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(rule_set, k, v)
                rule_set.full_clean()
                rule_set.save()
                summary.sets_updated += 1
            existing = {p.key: p for p in rule_set.parameters.all()}
            seen = set()
            for p in item["parameters"]:
                key = p["key"]
                if key in seen:
                    raise ValidationError(_("参数“%(key)s”重复。"), code="duplicate_key", params={"key": key})
                seen.add(key)
                values = {
                    "value": p["value"],
                    "unit": p.get("unit", ""),
                    "description": p["description"],
                    "citation": p["citation"],
                }
                if values["value"] is None:
                    raise ValidationError(_("参数“%(key)s”没有取值。"), code="value_required", params={"key": key})
                param = existing.get(key)
                if param is None:
                    param = RuleParameter(rule_set=rule_set, key=key, **values)
                    # An empty list is a legitimate value (e.g. no key sectors), which "blank" would refuse.
                    param.full_clean(exclude=["value"])
                    param.save()
                    summary.params_created += 1
                elif any(getattr(param, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(param, k, v)
                    # An empty list is a legitimate value (e.g. no key sectors), which "blank" would refuse.
                    param.full_clean(exclude=["value"])
                    param.save()
                    summary.params_updated += 1
            summary.stale_params += [f"{rule_set.code}:{key}" for key in sorted(set(existing) - seen)]
        if summary.changed:
            audit_log(
                actor=actor,
                action="rule_sets.load",
                object_type="workflows.ruleset",
                data={
                    "codes": [item["code"] for item in data],
                    "sets_created": summary.sets_created,
                    "sets_updated": summary.sets_updated,
                    "params_created": summary.params_created,
                    "params_updated": summary.params_updated,
                },
            )
    return summary
