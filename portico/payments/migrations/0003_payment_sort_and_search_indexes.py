# The payments list at 158,000 payments (bench/sales_lists.py): an index for the
# sort by amount, and the per-database search indexes on number and reference
# that the sales documents got in sales 0002 (trigram on PostgreSQL, covering
# on SQLite).

from django.conf import settings
from django.db import migrations, models


# index prefix: table
SEARCHED_TABLES = {"pay": "payments_payment"}


def create_search_indexes(apps, schema_editor):
    # Outside the model state: each database gets an index the other cannot use.
    # pg_trgm is a trusted extension (PostgreSQL 13+); reversing leaves it.
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for prefix, table in SEARCHED_TABLES.items():
        if vendor == "postgresql":
            for column in ("number", "reference"):
                schema_editor.execute(
                    f"CREATE INDEX {prefix}_{column}_trgm_idx ON {table} "
                    f"USING gin (UPPER({column}) gin_trgm_ops)"
                )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE INDEX {prefix}_search_idx ON {table} "
                "(organization_id, number, reference, customer_id)"
            )


def drop_search_indexes(apps, schema_editor):
    for prefix in SEARCHED_TABLES:
        for suffix in ("number_trgm_idx", "reference_trgm_idx", "search_idx"):
            schema_editor.execute(f"DROP INDEX IF EXISTS {prefix}_{suffix}")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_organization_allow_partial_payments'),
        ('customers', '0002_customer_list_indexes'),
        ('payments', '0002_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['organization', 'amount', 'id'], name='pay_org_amount_idx'),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
