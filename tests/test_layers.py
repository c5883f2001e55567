"""The import graph keeps the layers of DESIGN.md ("Architecture"): a lower layer never imports a higher one.

models → nothing above them; selectors → models and policy; services → models, selectors, other services;
views, forms, urls, admin, API, flows → services, selectors, forms. Every import counts, including the ones
inside functions: a lazy import is still a dependency (it only hides the cycle until run time).
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("cases", "workflows", "notices")

# Layer of each module prefix, the most specific prefix wins. Modules not listed (apps, templatetags,
# management commands, migrations, demo loaders, tasks) sit at the top and may import anything below.
LAYERS = {
    # models and the pure helpers they are built from
    "cases.models": "models",
    "workflows.models": "models",
    "notices.models": "models",
    "cases.identifiers": "models",
    "cases.portable_sql": "models",
    "workflows.calendar": "models",
    "workflows.deadlines": "models",
    "workflows.texts": "models",
    # who may do what: reads models only
    "cases.policy": "policy",
    "cases.task_permissions": "policy",
    "workflows.procedures": "policy",
    "workflows.rules": "policy",
    "workflows.ladder": "policy",
    # reads
    "cases.selectors": "selectors",
    "workflows.selectors": "selectors",
    "workflows.explain": "selectors",
    "notices.selectors": "selectors",
    "notices.kinds": "selectors",
    # writes
    "cases.services": "services",
    "workflows.services": "services",
    "workflows.engine": "services",
    "notices.services": "services",
    "notices.rendering": "services",
    "notices.seal": "services",
    "notices.pki": "services",
    "notices.signing": "services",
    "notices.verification": "services",
    # the thin outer layer
    "cases.forms": "interface",
    "cases.views": "interface",
    "cases.urls": "interface",
    "cases.admin": "interface",
    "cases.api": "interface",
    "cases.navigation": "interface",
    "workflows.flows": "interface",
    "workflows.admin": "interface",
    "notices.views": "interface",
    "notices.urls": "interface",
}
RANK = {"models": 0, "policy": 1, "selectors": 2, "services": 3, "interface": 4}


def layer_of(module: str) -> str | None:
    best = None
    for prefix, layer in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def violations(graph) -> list[str]:
    found = []
    for importer in sorted(graph.modules):
        low = layer_of(importer)
        if low is None:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            high = layer_of(imported)
            if high is not None and RANK[high] > RANK[low]:
                lines = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(f"line {d['line_number']}" for d in lines)
                found.append(f"{importer} ({low}) imports {imported} ({high}) at {where}")
    return found


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES)


def test_it_finds_no_layer_violation(graph):
    assert violations(graph) == []


def test_every_domain_module_has_a_layer(graph):
    """A new module is placed in a layer on purpose, not left out of the check by accident."""
    exempt = ("migrations", "management", "templatetags", "demo", "apps", "tasks", "checks", "context_processors")
    unplaced = [
        m
        for m in sorted(graph.modules)
        if layer_of(m) is None and m not in PACKAGES and not any(part in exempt for part in m.split("."))
    ]
    assert unplaced == []


def test_it_fails_when_a_model_imports_a_service(graph):
    """The check itself works: the old cases.models.outbox → cases.services.outbox import is caught."""
    graph.add_import(
        importer="cases.models.outbox", imported="cases.services.outbox", line_number=47, line_contents="(lazy)"
    )
    try:
        assert violations(graph) == ["cases.models.outbox (models) imports cases.services.outbox (services) at line 47"]
    finally:
        graph.remove_import(importer="cases.models.outbox", imported="cases.services.outbox")


def test_each_procedure_has_the_same_modules():
    """DESIGN.md: a procedure is one name in every layer."""
    import importlib.util

    layers = [
        "cases.models.{}",
        "cases.services.{}",
        "cases.selectors.{}",
        "cases.forms.{}",
        "cases.views.{}",
        "cases.urls.{}",
        "workflows.flows.{}",
        "notices.kinds.{}",
    ]
    missing = [
        pattern.format(procedure)
        for procedure in ("repair", "objection", "commitment", "rectification")
        for pattern in layers
        if importlib.util.find_spec(pattern.format(procedure)) is None
    ]
    assert missing == []
