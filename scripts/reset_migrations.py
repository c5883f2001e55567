"""Reset the migration history of cases, notices and workflows to one initial history per app.

Before the first deployment (no database anywhere needs the old steps: CI and the demo start empty), the
history of every app is regenerated from the models, and the database rules that models cannot express are
carried over from the old history into one hand-kept migration per app (`NNNN_database_rules.py`):

1. Load the old graph (MigrationLoader) and walk it in order. RunSQL is carried as it is; RunPython must be
   named in RUN_PYTHON below, either carried (its code now lives in an importable module that survives the
   reset, e.g. cases/migrations/_database_rules.py) or dropped (a transform of existing rows, which an empty
   database does not have). Anything the script does not know stops it before a file is touched.
2. Delete the old migration files (NNNN_*.py; __init__.py and _helpers stay).
3. makemigrations for the three apps. Apps outside ours whose migrations depend on ours (viewflow, admin,
   django-otp ... depend on AUTH_USER_MODEL = cases.User, i.e. on cases' first migration) would make a cycle
   with a model of ours that points at them (cases.InboxItem -> viewflow.Task). So the initial migrations are
   made first without those models, and a second makemigrations adds them.
4. Write NNNN_database_rules.py per app with the carried operations, then check: makemigrations --check, and
   a migrate of an empty SQLite database.

    .venv/bin/python scripts/reset_migrations.py [--dry-run] [--force]

Then verify against the old history: .venv/bin/python scripts/compare_schema.py --old HEAD
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("cases", "notices", "workflows")
MIGRATION_FILE = re.compile(r"^\d{4}_\w+\.py$")
RULES_NAME = "database_rules"


@dataclass(frozen=True)
class Carry:
    """The old RunPython's code lives on in `forward`/`backward` (dotted paths), run once in the new history."""

    forward: str
    backward: str
    why: str


@dataclass(frozen=True)
class Drop:
    """The old RunPython only transforms rows that exist; an empty database has none."""

    why: str


_CASES_RULES = "cases.migrations._database_rules"
_NOTICE_TRIGGER = "notices.migrations._immutable_trigger"

# Every RunPython of the old history, by (app, migration, function name). A new one stops the script: decide
# whether it seeds data an empty database needs (move its code into an importable module and Carry it) or
# only transforms existing rows (Drop it, saying why).
RUN_PYTHON: dict[tuple[str, str, str], Carry | Drop] = {
    ("cases", "0005_commitments_procedure", "immutable_forward"): Carry(
        f"{_CASES_RULES}.commitment_immutable",
        f"{_CASES_RULES}.commitment_immutable_drop",
        "trigger: a signed commitment is immutable (PostgreSQL and SQLite)",
    ),
    ("cases", "0009_commitment_fsm_states", "check_states"): Drop(
        "refuses stored commitment/revocation states outside the new state machines; checks existing rows only"
    ),
    ("cases", "0019_audit_events_append_only_trigger", "forward"): Carry(
        f"{_CASES_RULES}.audit_append_only",
        f"{_CASES_RULES}.audit_append_only_drop",
        "trigger: audit events are append-only (PostgreSQL and SQLite)",
    ),
    ("cases", "0021_api_clients", "tokens_to_clients"): Drop(
        "turns existing DepartmentApiToken rows into ApiClients; the token model is gone from the models"
    ),
    ("cases", "0025_commitment_follow_late", "backfill"): Drop(
        "stamps follow_late_opened_at on existing commitments whose lateness check is open; none on an empty database"
    ),
    ("workflows", "0004_clock_next_escalation", "backfill"): Drop(
        "marks the open legal clocks of existing cases for the next escalation sweep; an empty database has none"
    ),
    ("notices", "0002_issued_notice_immutable_trigger", "forward"): Carry(
        f"{_NOTICE_TRIGGER}.create",
        f"{_NOTICE_TRIGGER}.drop",
        "trigger: an issued notice is immutable (create() installs it with the guarded columns of today)",
    ),
    ("notices", "0003_organisation_addressee_and_receipt", "forward"): Carry(
        f"{_NOTICE_TRIGGER}.create",
        f"{_NOTICE_TRIGGER}.drop",
        "trigger: an issued notice is immutable (0003 guards the addressee organisation too; same create())",
    ),
}


def dotted(function) -> str:
    return f"{function.__module__}.{function.__qualname__}"


class Unknown(Exception):
    pass


def collect(loader, problems: list[str]):
    """Walk the old history in dependency order: (carried operations per app, report lines)."""
    from django.db.migrations import operations as ops
    from django.db.migrations.operations.base import Operation
    from django.db.migrations.operations.fields import FieldOperation
    from django.db.migrations.operations.models import IndexOperation, ModelOperation
    from django.utils.module_loading import import_string

    model_state_ops = (ModelOperation, FieldOperation, IndexOperation)
    carry_targets = {(c.forward, c.backward): c for c in RUN_PYTHON.values() if isinstance(c, Carry)}
    graph = loader.graph
    plan: list[tuple[str, str]] = []
    for leaf in sorted(n for n in graph.leaf_nodes() if n[0] in APPS):
        for node in graph.forwards_plan(leaf):
            if node[0] in APPS and node not in plan:
                plan.append(node)
    carried: dict[str, list[Operation]] = {app: [] for app in APPS}
    seen: set[tuple[str, str]] = set()
    report: list[str] = []

    def visit(app: str, name: str, operation: Operation, db_only: bool) -> None:
        where = f"{app}.{name}"
        if isinstance(operation, ops.SeparateDatabaseAndState):
            # The state half is what the models say now; the database half is looked at like any operation.
            for inner in operation.database_operations:
                visit(app, name, inner, db_only=True)
        elif isinstance(operation, ops.RunSQL):
            if operation.state_operations:
                problems.append(f"{where}: RunSQL with state_operations (decide by hand)")
            elif operation.elidable:
                report.append(f"dropped  {where}: RunSQL marked elidable (a transform)")
            else:
                carried[app].append(operation)
                report.append(f"carried  {where}: RunSQL {str(operation.sql).strip()[:60]!r}")
        elif isinstance(operation, ops.RunPython):
            code, reverse = operation.code, operation.reverse_code
            if code is ops.RunPython.noop:
                report.append(f"dropped  {where}: RunPython.noop")
                return
            rule = RUN_PYTHON.get((app, name, code.__qualname__))
            if rule is None and reverse is not None:
                # Already the new history (a second run): its code is one of the carried targets.
                rule = carry_targets.get((dotted(code), dotted(reverse)))
            if rule is None:
                problems.append(
                    f"{where}: RunPython {code.__qualname__} is in no list: add it to RUN_PYTHON in "
                    f"{Path(__file__).name} as Carry (it seeds data or installs a rule an empty database "
                    f"needs; move its code to an importable module) or Drop (it transforms existing rows)"
                )
            elif isinstance(rule, Drop):
                report.append(f"dropped  {where}: RunPython {code.__qualname__} ({rule.why})")
            elif (rule.forward, rule.backward) not in seen:
                seen.add((rule.forward, rule.backward))
                carried[app].append(
                    ops.RunPython(import_string(rule.forward), import_string(rule.backward), hints=operation.hints)
                )
                report.append(f"carried  {where}: RunPython {code.__qualname__} -> {rule.forward} ({rule.why})")
            else:
                report.append(f"merged   {where}: RunPython {code.__qualname__} -> {rule.forward} (once)")
        elif isinstance(operation, model_state_ops):
            if db_only:
                problems.append(f"{where}: {type(operation).__name__} in database_operations (decide by hand)")
            # else: the models say it; makemigrations writes it again.
        else:
            # CreateExtension, CreateCollation, ValidateConstraint, a custom operation: none yet.
            problems.append(f"{where}: {type(operation).__name__} is not handled by this script")

    for app, name in plan:
        migration = graph.nodes[(app, name)]
        if getattr(migration, "replaces", None):
            problems.append(f"{app}.{name}: squashed migration (not handled)")
        for operation in migration.operations:
            visit(app, name, operation, db_only=False)
    return carried, report


def dependents_of_ours(loader) -> set[str]:
    """Apps outside ours with a migration that depends, directly or not, on a migration of ours."""
    graph = loader.graph
    outside = set()
    for node in graph.nodes:
        if node[0] in APPS:
            outside |= {d[0] for d in graph.backwards_plan(node) if d[0] not in APPS}
    return outside


def depended_on_apps(loader) -> set[str]:
    """Our apps that a migration outside ours depends on directly (cases: AUTH_USER_MODEL)."""
    graph = loader.graph
    return {
        parent.key[0]
        for node, n in graph.node_map.items()
        if node[0] not in APPS
        for parent in n.parents
        if parent.key[0] in APPS
    }


def deferred_models(outside: set[str], roots_apps: set[str]) -> list[str]:
    """Models of ours that must wait for a migration outside ours (and models that point at those)."""
    from django.apps import apps

    ours = [m for app in APPS for m in apps.get_app_config(app).get_models(include_auto_created=False)]

    def targets(model):
        return {
            f.related_model
            for f in model._meta.get_fields()
            if f.is_relation and f.concrete and f.related_model is not None
        } | {f.remote_field.through for f in model._meta.local_many_to_many}

    deferred = {
        m for m in ours if m._meta.app_label in roots_apps and any(t._meta.app_label in outside for t in targets(m))
    }
    while True:
        more = {m for m in ours if m not in deferred and targets(m) & deferred}
        if not more:
            break
        deferred |= more
    return sorted(m._meta.label_lower for m in deferred)


def initial_without(labels: list[str]) -> None:
    """Stage 1 (a fresh process): makemigrations of our apps without the deferred models."""
    from django.core.management import call_command
    from django.core.management.commands.makemigrations import Command as MakeMigrations
    from django.db.migrations.autodetector import MigrationAutodetector

    class Deferring(MigrationAutodetector):
        def __init__(self, from_state, to_state, questioner=None):
            for label in labels:
                to_state.remove_model(*label.split("."))
            super().__init__(from_state, to_state, questioner)

    class Command(MakeMigrations):
        autodetector = Deferring

    call_command(Command(), *APPS, interactive=False, verbosity=1)


def manage(*args: str, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    print("$ manage.py " + " ".join(args), flush=True)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=check)


def write_rules(app: str, operations, report: list[str]) -> Path:
    from django.db import migrations
    from django.db.migrations.writer import MigrationWriter

    folder = ROOT / app / "migrations"
    leaf = max(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
    migration = migrations.Migration(f"{int(leaf[:4]) + 1:04d}_{RULES_NAME}", app)
    migration.dependencies = [(app, leaf)]
    migration.operations = list(operations)
    text = MigrationWriter(migration).as_string()
    sources = [line[9:] for line in report if line[:7] in ("carried", "merged ") and line[9:].startswith(app + ".")]
    note = (
        "# What the models cannot express: database rules (triggers, functions) and data an empty database needs,\n"
        "# written by scripts/reset_migrations.py from the history before the reset (migration: operation):\n"
        + "".join(f"#   {textwrap.shorten(line, 200)}\n" for line in sources)
    )
    text = text.replace("\n\n", "\n\n" + note + "\n", 1)
    path = folder / f"{migration.name}.py"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="only say what would be carried and dropped")
    parser.add_argument("--force", action="store_true", help="run even with uncommitted migration files")
    parser.add_argument("--initial-without", help=argparse.SUPPRESS)
    args = parser.parse_args()

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="reset_migrations_"))
    # makemigrations needs no database; an empty SQLite file keeps a developer's var/ database out of it.
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{scratch}/x.db")
    os.environ.update(env)
    import django

    django.setup()

    if args.initial_without is not None:
        initial_without([label for label in args.initial_without.split(",") if label])
        return 0

    from django.db.migrations.loader import MigrationLoader

    folders = [ROOT / app / "migrations" for app in APPS]
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *map(str, folders)], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if dirty and not (args.force or args.dry_run):
        sys.exit(f"uncommitted changes in the migration folders (commit them or pass --force):\n{dirty}")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    conflicts = {app: names for app, names in loader.detect_conflicts().items() if app in APPS}
    if conflicts:
        sys.exit(f"conflicting migrations {conflicts}: run makemigrations --merge first")
    manage("makemigrations", "--check", "--dry-run", *APPS, env=env)  # the old history matches the models

    problems: list[str] = []
    carried, report = collect(loader, problems)
    outside = dependents_of_ours(loader)
    for node, n in loader.graph.node_map.items():
        for parent in n.parents:
            if (
                node[0] not in APPS
                and parent.key[0] in APPS
                and parent.key not in {loader.graph.root_nodes(parent.key[0])[0]}
            ):
                problems.append(f"{node[0]}.{node[1]} depends on {parent.key}, which the reset removes")
    print("\n".join(report))
    if problems:
        print("\nSTOP: the script does not know how to carry these (nothing was changed):", file=sys.stderr)
        print("\n".join(f"  - {p}" for p in problems), file=sys.stderr)
        return 2
    deferred = deferred_models(outside, depended_on_apps(loader))
    print(f"apps outside ours that depend on ours: {sorted(outside)}; models made after the initial ones: {deferred}")
    if args.dry_run:
        return 0

    removed = 0
    for folder in folders:
        for path in folder.iterdir():
            if MIGRATION_FILE.match(path.name):
                path.unlink()
                removed += 1
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    print(f"removed {removed} migration files")
    subprocess.run([sys.executable, __file__, "--initial-without", ",".join(deferred)], cwd=ROOT, env=env, check=True)
    if deferred:
        manage("makemigrations", *APPS, "--noinput", env=env)
    for app in APPS:
        if carried[app]:
            print(f"wrote {write_rules(app, carried[app], report).relative_to(ROOT)}")

    manage("makemigrations", "--check", "--dry-run", *APPS, env=env)
    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    shutil.rmtree(scratch, ignore_errors=True)
    print("done: verify with  .venv/bin/python scripts/compare_schema.py --old HEAD")
    return 0


if __name__ == "__main__":
    sys.exit(main())
