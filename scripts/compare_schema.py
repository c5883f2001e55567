"""Compare what two migration histories build from an empty database: PostgreSQL and the SQLite demo.

Made to check scripts/reset_migrations.py: the old history (a commit, checked out in a temporary git worktree)
and the new one (the working tree, or another commit) each migrate an empty PostgreSQL database and an empty
SQLite file. Compared:

- PostgreSQL: `pg_dump --schema-only --no-owner --no-privileges --no-comments`, normalised (no comments or SET
  lines, a table's columns sorted, statements sorted), so the order in which columns were added does not count;
  then the rows each database holds after migrate (count per table, and every row as JSON, sorted, without
  its surrogate id; a content type named by app and model), except django_migrations.
- SQLite: tables with their columns (PRAGMA table_info), foreign keys, indexes, and rows; triggers are listed.
  The new history must have every trigger the old one has; every table with a PostgreSQL trigger must have a
  SQLite trigger too (the demo gets the same rules).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_x .venv/bin/python scripts/compare_schema.py --old HEAD

The databases are <name>_old and <name>_new next to DATABASE_URL's (dropped and made again on each run, kept
afterwards for a look). Exit status 0 when the histories build the same database, 1 otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SKIP_TABLES = {"django_migrations"}


def run(cmd: list[str], **kwargs) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs).stdout


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def migrate(tree: Path, database_url: str, label: str) -> None:
    print(f"migrate {label}: {database_url}", flush=True)
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"migrate {label} failed:\n{result.stdout}\n{result.stderr}")


# --- PostgreSQL --------------------------------------------------------------------------------------------


def pg_statements(dump: str) -> list[str]:
    """The dump's statements, each normalised; function bodies ($$ ... $$) kept whole."""
    statements, current, quoted = [], [], False
    for line in dump.splitlines():
        if not quoted and (not line.strip() or line.startswith("--") or line.startswith("SET ")):
            continue
        if not quoted and line.startswith(("SELECT pg_catalog.set_config", "\\restrict ", "\\unrestrict ")):
            # \restrict and \unrestrict (pg_dump 15.14 and later) carry a random key of their own each run.
            continue
        current.append(line)
        if line.count("$$") % 2:
            quoted = not quoted
        if not quoted and line.rstrip().endswith(";"):
            statements.append(normalise_statement(current))
            current = []
    if current:
        statements.append(normalise_statement(current))
    return sorted(statements)


def normalise_statement(lines: list[str]) -> str:
    if lines[0].startswith("CREATE TABLE ") and lines[-1].strip() == ");":
        # Columns in the order a history added them do not matter: sort them (without the separating comma).
        columns = sorted(line.strip().rstrip(",") for line in lines[1:-1])
        return "\n".join([lines[0], *("    " + c for c in columns), lines[-1]])
    return "\n".join(lines)


def natural(rows: dict[str, list[dict]]) -> dict[str, list[str]]:
    """Rows as sorted JSON lines, without their surrogate ids: post_migrate makes content types (and their
    permissions) in the order the migrations create the models, so the same content type has another id in
    either history. A content type is named by app and model instead."""
    types = {r["id"]: f"{r['app_label']}.{r['model']}" for r in rows.get("django_content_type", [])}
    lines = {}
    for table, table_rows in rows.items():
        lines[table] = sorted(
            json.dumps(
                {k: types.get(v, v) if k == "content_type_id" else v for k, v in r.items() if k != "id"},
                default=str,
                sort_keys=True,
                ensure_ascii=False,
            )
            for r in table_rows
        )
    return lines


def pg_rows(url: str) -> dict[str, list[str]]:
    tables = run(
        ["psql", url, "-tAc", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"]
    ).split()
    rows = {}
    for table in tables:
        if table in SKIP_TABLES:
            continue
        # to_jsonb sorts the keys, so the column order of either history does not count.
        out = run(["psql", url, "-tAc", f'SELECT to_jsonb(t)::text FROM public."{table}" t'])
        rows[table] = [json.loads(line) for line in out.splitlines()]
    return natural(rows)


def pg_triggers(url: str) -> dict[str, set[str]]:
    out = run(
        [
            "psql",
            url,
            "-tAc",
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal",
        ]
    )
    triggers: dict[str, set[str]] = {}
    for line in out.splitlines():
        table, name = line.split("|")
        triggers.setdefault(table, set()).add(name)
    return triggers


# --- SQLite ------------------------------------------------------------------------------------------------


def table_parts(sql: str) -> list[str]:
    """The column definitions and constraints of a CREATE TABLE, sorted (the order of adding them aside)."""
    body = sql[sql.index("(") + 1 : sql.rindex(")")]
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return sorted(" ".join(p.split()) for p in parts)


def sqlite_schema(path: Path) -> tuple[dict[str, object], dict[str, set[str]], dict[str, list[str]]]:
    """(tables, columns, foreign keys and indexes; triggers per table; rows per table)."""
    db = sqlite3.connect(path)
    schema: dict[str, object] = {}
    triggers: dict[str, set[str]] = {}
    rows: dict[str, list[dict]] = {}
    for kind, name, table, sql in db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"):
        if kind == "table" and not name.startswith("sqlite_"):
            columns = sorted(db.execute(f'PRAGMA table_info("{name}")').fetchall(), key=lambda c: c[1])
            schema[f"table {name}"] = [c[1:] for c in columns]
            fks = db.execute(f'PRAGMA foreign_key_list("{name}")').fetchall()
            schema[f"foreign keys {name}"] = sorted(fk[2:] for fk in fks)
            schema[f"definition {name}"] = table_parts(sql or "")
            if name not in SKIP_TABLES:
                names = [c[1] for c in columns]
                quoted = ", ".join(f'"{c}"' for c in names)
                rows[name] = [dict(zip(names, r, strict=True)) for r in db.execute(f'SELECT {quoted} FROM "{name}"')]
        elif kind == "index":
            info = db.execute(f'PRAGMA index_xinfo("{name}")').fetchall()
            where = (sql or "").partition(" WHERE ")[2]
            schema[f"index {name}"] = [table, [i[2] for i in info if i[5]], where]
        elif kind == "trigger":
            triggers.setdefault(table, set()).add(name)
            schema[f"trigger {name}"] = [table, " ".join((sql or "").split())]
    db.close()
    return schema, triggers, natural(rows)


# --- comparison --------------------------------------------------------------------------------------------


def diff(label: str, old: list[str], new: list[str]) -> bool:
    if old == new:
        print(f"  same: {label}")
        return True
    print(f"  DIFFERENT: {label}")
    sys.stdout.writelines(difflib.unified_diff(old, new, "old", "new", lineterm="\n", n=1))
    print()
    return False


def row_lines(rows: dict[str, list[str]]) -> list[str]:
    return [f"{table}: {row}\n" for table, table_rows in sorted(rows.items()) for row in table_rows]


def as_lines(mapping: dict) -> list[str]:
    return [f"{key}: {json.dumps(value, default=str, ensure_ascii=False)}\n" for key, value in sorted(mapping.items())]


def worktree(rev: str, scratch: Path, label: str) -> Path:
    path = scratch / label
    run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), rev])
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="commit of the old history (e.g. HEAD before committing)")
    parser.add_argument("--new", help="commit of the new history (default: the working tree)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database: <name>_old and <name>_new are made next to it")
    name = urlsplit(url).path.lstrip("/")
    admin = with_db(url, "postgres")
    scratch = Path(tempfile.mkdtemp(prefix="compare_schema_"))
    trees = {"old": worktree(args.old, scratch, "old")}
    trees["new"] = worktree(args.new, scratch, "new") if args.new else ROOT
    ok = True
    try:
        for label, tree in trees.items():
            print(f"{label}: {tree} ({run(['git', '-C', str(tree), 'log', '-1', '--format=%h %s']).strip()})")
            print(f"  {len(list(tree.glob('*/migrations/[0-9]*.py')))} migration files")
        urls = {label: with_db(url, f"{name}_{label}") for label in trees}
        for label, tree in trees.items():
            db = f"{name}_{label}"
            run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{db}"', "-c", f'CREATE DATABASE "{db}"'])
            migrate(tree, urls[label], f"{label} (PostgreSQL)")
        dumps = {}
        for label in trees:
            dump = run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--no-comments", urls[label]])
            dumps[label] = [s + "\n" for s in pg_statements(dump)]
            (scratch / f"schema_{label}.sql").write_text("".join(dumps[label]))
        print("PostgreSQL:")
        ok &= diff("schema (pg_dump --schema-only, normalised)", dumps["old"], dumps["new"])
        rows = {label: pg_rows(urls[label]) for label in trees}
        counts = {label: {t: len(r) for t, r in rows[label].items()} for label in trees}
        ok &= diff("row counts per table", as_lines(counts["old"]), as_lines(counts["new"]))
        ok &= diff("rows of every table", row_lines(rows["old"]), row_lines(rows["new"]))
        seeded = {t: n for t, n in counts["new"].items() if n}
        print(f"  tables with rows after migrate: {seeded or 'none'}")
        pg_trig = pg_triggers(urls["new"])
        print(f"  triggers: {sorted((t, sorted(n)) for t, n in pg_trig.items())}")

        print("SQLite (the demo):")
        sqlite = {}
        for label, tree in trees.items():
            path = scratch / f"{label}.sqlite3"
            migrate(tree, f"sqlite:///{path}", f"{label} (SQLite)")
            sqlite[label] = sqlite_schema(path)
        (old_schema, _, old_rows), (new_schema, new_trig, new_rows) = sqlite["old"], sqlite["new"]

        def without_triggers(schema):
            return {k: v for k, v in schema.items() if not k.startswith("trigger ")}

        ok &= diff(
            "tables (columns, constraints), foreign keys, indexes",
            as_lines(without_triggers(old_schema)),
            as_lines(without_triggers(new_schema)),
        )
        ok &= diff("rows of every table", row_lines(old_rows), row_lines(new_rows))
        old_names = {k: v for k, v in old_schema.items() if k.startswith("trigger ")}
        new_names = {k: v for k, v in new_schema.items() if k.startswith("trigger ")}
        print(f"  triggers (new): {sorted((t, sorted(n)) for t, n in new_trig.items())}")
        lost = sorted(set(old_names) - set(new_names))
        changed = sorted(k for k in set(old_names) & set(new_names) if old_names[k] != new_names[k])
        gained = sorted(set(new_names) - set(old_names))
        if lost or changed:
            ok = False
            print(f"  DIFFERENT: triggers the new history lacks {lost} or words otherwise {changed}")
        if gained:
            print(f"  note: triggers only the new history has (the old one lost them to a table rebuild): {gained}")
        missing = sorted(t for t in pg_trig if t not in new_trig)
        if missing:
            ok = False
            print(f"  DIFFERENT: tables with a PostgreSQL trigger but no SQLite trigger: {missing}")
        else:
            print("  every table with a PostgreSQL trigger has its SQLite trigger")
    finally:
        for tree in trees.values():
            if tree != ROOT:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
        print(f"normalised dumps kept in {scratch}")
    print("SAME DATABASE" if ok else "THE HISTORIES BUILD DIFFERENT DATABASES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
