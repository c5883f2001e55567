"""A database trigger that refuses UPDATE and DELETE of audit events (issue 10 item 7), so the trail is
append-only for every writer, not just for the ORM (raw SQL, the admin shell, a compromised web node).

Someone who owns the table can still disable the trigger; what they then change is found by verify_audit,
because the chain is keyed (AUDIT_HMAC_KEY, never in the database). TRUNCATE is left to the owner on purpose:
the test runner empties tables with it, and a truncated trail disagrees with the checkpoints sent out."""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION cases_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% of event #% refused)', TG_OP, OLD.seq
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_auditevent_append_only BEFORE UPDATE OR DELETE ON cases_auditevent
    FOR EACH ROW EXECUTE FUNCTION cases_auditevent_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS cases_auditevent_append_only ON cases_auditevent;
DROP FUNCTION IF EXISTS cases_auditevent_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER cases_auditevent_no_update BEFORE UPDATE ON cases_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    """CREATE TRIGGER cases_auditevent_no_delete BEFORE DELETE ON cases_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS cases_auditevent_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("cases", "0018_merge_inbox_intake")]

    operations = [migrations.RunPython(forward, backward)]
