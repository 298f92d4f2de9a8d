"""The catalogue's version (circulation.catalogue_version): a sequence, so that every host
sees a change to the catalogue the moment it is made."""

from django.db import migrations

SEQUENCE = "circulation_catalogue_version"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # elsewhere the token is in the cache
        schema_editor.execute(f"CREATE SEQUENCE {SEQUENCE}")
        # Called once here, so that the first change moves last_value: a new sequence's
        # first nextval returns the start value that last_value already shows.
        schema_editor.execute(f"SELECT nextval('{SEQUENCE}')")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("circulation", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
