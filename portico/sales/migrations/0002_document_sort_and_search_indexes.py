# The sales lists at 200,000 invoices (bench/sales_lists.py): indexes for the
# sorts by total and by balance, for the quotes' status filters, and for the
# search by number or reference an index each database can use for LIKE '%…%':
# PostgreSQL gets trigram (GIN) indexes on UPPER(number) and UPPER(reference),
# which is what Django's icontains compares; SQLite has none, so it gets a
# covering index holding what the search reads (number, reference, customer),
# scanned instead of the whole table.

from django.conf import settings
from django.db import migrations, models


# index prefix: table
SEARCHED_TABLES = {
    "quote": "sales_quote",
    "so": "sales_salesorder",
    "inv": "sales_invoice",
    "cn": "sales_creditnote",
}


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
        ('sales', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='creditnote',
            index=models.Index(fields=['organization', 'total', 'id'], name='cn_org_total_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['organization', 'total', 'id'], name='inv_org_total_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['organization', 'balance_due', 'id'], name='inv_org_balance_idx'),
        ),
        migrations.AddIndex(
            model_name='quote',
            index=models.Index(fields=['organization', 'total', 'id'], name='quote_org_total_idx'),
        ),
        migrations.AddIndex(
            model_name='quote',
            index=models.Index(fields=['organization', 'status', '-date', '-id', 'expiry_date'], name='quote_org_status_idx'),
        ),
        migrations.AddIndex(
            model_name='salesorder',
            index=models.Index(fields=['organization', 'total', 'id'], name='so_org_total_idx'),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
