"""Database rules of the cases app that models cannot express: triggers, in PostgreSQL's dialect and in
SQLite's for the embedded demo. Migrations run them through RunPython (one function per vendor would not fit
RunSQL, which runs the same text everywhere).

The SQL is the text the original migrations installed (cases 0005 and 0019 before the reset of the migration
history), so a database migrated either way has the same functions and triggers. A module prefixed with "_" is
not a migration (Django's loader skips it); scripts/reset_migrations.py names these functions in its allowlist.
"""

# --- A signed commitment is immutable ----------------------------------------------------------------------
# Henan Art 58: a signed commitment enters the credit record and is public. The database refuses to change what
# was signed, by whom and when, or to delete it, whatever code path tries.
COMMITMENT_PG = """
CREATE OR REPLACE FUNCTION cases_commitment_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a signed commitment cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.text IS DISTINCT FROM OLD.text OR NEW.text_sha256 IS DISTINCT FROM OLD.text_sha256
     OR NEW.signer_name IS DISTINCT FROM OLD.signer_name OR NEW.signer_capacity IS DISTINCT FROM OLD.signer_capacity
     OR NEW.signed_at IS DISTINCT FROM OLD.signed_at OR NEW.subject_id IS DISTINCT FROM OLD.subject_id
     OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id THEN
    RAISE EXCEPTION 'a signed commitment is immutable' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER cases_commitment_immutable BEFORE UPDATE OR DELETE ON cases_commitment
  FOR EACH ROW EXECUTE FUNCTION cases_commitment_immutable();
"""
COMMITMENT_PG_DROP = """
DROP TRIGGER IF EXISTS cases_commitment_immutable ON cases_commitment;
DROP FUNCTION IF EXISTS cases_commitment_immutable();
"""
_SIGNED = ("text", "text_sha256", "signer_name", "signer_capacity", "signed_at", "subject_id", "signed_by_id")
COMMITMENT_SQLITE = [
    "CREATE TRIGGER cases_commitment_immutable_update BEFORE UPDATE ON cases_commitment FOR EACH ROW WHEN "
    + " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in _SIGNED)
    + " BEGIN SELECT RAISE(ABORT, 'a signed commitment is immutable'); END;",
    "CREATE TRIGGER cases_commitment_immutable_delete BEFORE DELETE ON cases_commitment FOR EACH ROW "
    "BEGIN SELECT RAISE(ABORT, 'a signed commitment cannot be deleted'); END;",
]
COMMITMENT_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_commitment_immutable_update;",
    "DROP TRIGGER IF EXISTS cases_commitment_immutable_delete;",
]

# --- Audit events are append-only --------------------------------------------------------------------------
# Issue 10 item 7: the trail is append-only for every writer, not just for the ORM (raw SQL, the admin shell, a
# compromised web node). Someone who owns the table can still disable the trigger; what they then change is
# found by verify_audit, because the chain is keyed (AUDIT_HMAC_KEY, never in the database). TRUNCATE is left
# to the owner on purpose: the test runner empties tables with it, and a truncated trail disagrees with the
# checkpoints sent out.
AUDIT_PG = """
CREATE OR REPLACE FUNCTION cases_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% of event #% refused)', TG_OP, OLD.seq
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_auditevent_append_only BEFORE UPDATE OR DELETE ON cases_auditevent
    FOR EACH ROW EXECUTE FUNCTION cases_auditevent_append_only();
"""
AUDIT_PG_DROP = """
DROP TRIGGER IF EXISTS cases_auditevent_append_only ON cases_auditevent;
DROP FUNCTION IF EXISTS cases_auditevent_append_only();
"""
AUDIT_SQLITE = [
    """CREATE TRIGGER cases_auditevent_no_update BEFORE UPDATE ON cases_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    """CREATE TRIGGER cases_auditevent_no_delete BEFORE DELETE ON cases_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
]
AUDIT_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS cases_auditevent_no_delete;",
]


def _run(schema_editor, pg: str, sqlite: list[str]) -> None:
    # Other vendors get no trigger: the project runs on PostgreSQL, and SQLite for the demo only.
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the PL/pgSQL text holds % placeholders of its own (RAISE), not query parameters.
        schema_editor.execute(pg, params=None)
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)


def commitment_immutable(apps, schema_editor):
    _run(schema_editor, COMMITMENT_PG, COMMITMENT_SQLITE)


def commitment_immutable_drop(apps, schema_editor):
    _run(schema_editor, COMMITMENT_PG_DROP, COMMITMENT_SQLITE_DROP)


def audit_append_only(apps, schema_editor):
    _run(schema_editor, AUDIT_PG, AUDIT_SQLITE)


def audit_append_only_drop(apps, schema_editor):
    _run(schema_editor, AUDIT_PG_DROP, AUDIT_SQLITE_DROP)
