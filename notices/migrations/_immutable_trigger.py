"""The immutability trigger of issued notices (PROCEDURES.md, "Notices — common rules": issued notices are
immutable), parametrised by the guarded columns. The model's save() checks the same columns; the trigger also
covers QuerySet.update(), raw SQL and the admin shell.

create()/drop() install the current version whole (function and trigger) for a history that starts from an
initial migration (scripts/reset_migrations.py); install() replaces the function of an older history."""

COLUMNS_0002 = (
    "kind",
    "issuer_id",
    "year",
    "serial",
    "number",
    "content_type_id",
    "object_id",
    "trigger",
    "addressee_subject_id",
    "addressee_user_id",
    "context",
    "pdf",
    "sha256",
    "verification_code",
    "issued_at",
    "supersedes_id",
)
# The addressee organisation is guarded too (who received a notice is part of what the issued document says);
# read_by, like read_at, is delivery evidence written after issue.
COLUMNS_0003 = (*COLUMNS_0002, "addressee_organisation_id")
COLUMNS = COLUMNS_0003


def _pg(columns) -> str:
    changed = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in columns)
    return f"""
CREATE OR REPLACE FUNCTION notices_notice_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('issued', 'superseded') AND (
        {changed}
        OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded'))
        OR (OLD.status = 'superseded' AND NEW.status <> 'superseded')
    ) THEN
        RAISE EXCEPTION 'notice % is issued and immutable', OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _sqlite(columns) -> list[str]:
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)
    return [
        "DROP TRIGGER IF EXISTS notices_notice_immutable;",
        f"""
CREATE TRIGGER notices_notice_immutable BEFORE UPDATE ON notices_notice
FOR EACH ROW WHEN OLD.status IN ('issued', 'superseded') AND (
    {changed}
    OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'superseded'))
    OR (OLD.status = 'superseded' AND NEW.status <> 'superseded')
)
BEGIN
    SELECT RAISE(ABORT, 'notice is issued and immutable');
END;
""",
    ]


def install(schema_editor, columns) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_pg(columns), params=None)
    elif vendor == "sqlite":
        for statement in _sqlite(columns):
            schema_editor.execute(statement)


PG_TRIGGER = """
CREATE TRIGGER notices_notice_immutable BEFORE UPDATE ON notices_notice
    FOR EACH ROW EXECUTE FUNCTION notices_notice_immutable();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS notices_notice_immutable ON notices_notice;
DROP FUNCTION IF EXISTS notices_notice_immutable();
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_pg(COLUMNS) + PG_TRIGGER, params=None)
    elif vendor == "sqlite":
        for statement in _sqlite(COLUMNS):
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS notices_notice_immutable;")
