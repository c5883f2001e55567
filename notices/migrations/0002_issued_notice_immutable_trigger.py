"""A database trigger that refuses changes to what an issued notice says (PROCEDURES.md, "Notices — common
rules": issued notices are immutable). The model's save() checks the same columns; the trigger also covers
QuerySet.update(), raw SQL and the admin shell."""

from django.db import migrations

COLUMNS = (
    "kind", "issuer_id", "year", "serial", "number", "content_type_id", "object_id", "trigger",
    "addressee_subject_id", "addressee_user_id", "context", "pdf", "sha256", "verification_code", "issued_at",
    "supersedes_id",
)

PG_CHANGED = " OR ".join(f"NEW.\"{c}\" IS DISTINCT FROM OLD.\"{c}\"" for c in COLUMNS)
PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION notices_notice_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('issued', 'superseded') AND (
        {PG_CHANGED}
        OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded'))
        OR (OLD.status = 'superseded' AND NEW.status <> 'superseded')
    ) THEN
        RAISE EXCEPTION 'notice % is issued and immutable', OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER notices_notice_immutable BEFORE UPDATE ON notices_notice
    FOR EACH ROW EXECUTE FUNCTION notices_notice_immutable();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS notices_notice_immutable ON notices_notice;
DROP FUNCTION IF EXISTS notices_notice_immutable();
"""

SQLITE_CHANGED = " OR ".join(f"NEW.\"{c}\" IS NOT OLD.\"{c}\"" for c in COLUMNS)
SQLITE_FORWARD = f"""
CREATE TRIGGER notices_notice_immutable BEFORE UPDATE ON notices_notice
FOR EACH ROW WHEN OLD.status IN ('issued', 'superseded') AND (
    {SQLITE_CHANGED}
    OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded'))
    OR (OLD.status = 'superseded' AND NEW.status <> 'superseded')
)
BEGIN
    SELECT RAISE(ABORT, 'notice is issued and immutable');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS notices_notice_immutable;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
