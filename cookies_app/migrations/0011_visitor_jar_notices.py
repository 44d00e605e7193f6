"""
On PostgreSQL, the visitor table tells every listening server process when a
jar changes (cookies_app/jar_versions.py): NOTIFY on channel cookie_lab_jars.
Other databases get nothing: their lab pages read the visitor row.
"""

from django.db import migrations

CHANNEL = "cookie_lab_jars"
# More deleted ids than this in one statement: the notice says "*" (forget
# everything) rather than name them (a notice holds at most 8000 bytes).
NAMED_DELETES = 200


def _statements(table):
    return [
        f"""
CREATE FUNCTION cookie_lab_jar_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.id || ':' || NEW.jar_version);
    RETURN NULL;
END $$""",
        f"""
CREATE TRIGGER cookie_lab_jar_moved AFTER UPDATE OF jar_version ON {table}
    FOR EACH ROW WHEN (OLD.jar_version IS DISTINCT FROM NEW.jar_version)
    EXECUTE FUNCTION cookie_lab_jar_moved()""",
        f"""
CREATE FUNCTION cookie_lab_jars_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids text;
    deleted bigint;
BEGIN
    SELECT string_agg(id::text, ','), count(*) INTO ids, deleted FROM gone;
    IF deleted > {NAMED_DELETES} THEN
        PERFORM pg_notify('{CHANNEL}', '*');
    ELSIF deleted > 0 THEN
        PERFORM pg_notify('{CHANNEL}', ids);
    END IF;
    RETURN NULL;
END $$""",
        f"""
CREATE TRIGGER cookie_lab_jars_deleted AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION cookie_lab_jars_deleted()""",
        f"""
CREATE FUNCTION cookie_lab_jars_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '*');
    RETURN NULL;
END $$""",
        f"""
CREATE TRIGGER cookie_lab_jars_truncated AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION cookie_lab_jars_truncated()""",
    ]


FUNCTIONS = ("cookie_lab_jar_moved", "cookie_lab_jars_deleted", "cookie_lab_jars_truncated")


def _table(apps, schema_editor):
    table = apps.get_model("cookies_app", "Visitor")._meta.db_table
    return schema_editor.quote_name(table)


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in _statements(_table(apps, schema_editor)):
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = _table(apps, schema_editor)
        # Each trigger is named after its function.
        for name in FUNCTIONS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("cookies_app", "0010_visitor_jar_version"),
    ]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers),
    ]
