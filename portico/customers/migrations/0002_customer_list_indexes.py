# The customer list at 100,000 customers (bench/customer_list.py): every sort
# served by an index that ends in is_active, and on PostgreSQL a trigram
# index so search (search_text LIKE '%…%') stops scanning the whole table.

from django.db import migrations, models

TRIGRAM_INDEX = "cust_search_trgm_idx"


def create_trigram_index(apps, schema_editor):
    # PostgreSQL only, so it stays out of the model state: SQLite has no GIN.
    # (Not django.contrib.postgres's TrigramExtension: its reverse fails on SQLite.)
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
    # create it without superuser rights. Reversing leaves the extension.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON customers_customer "
            "USING gin (search_text gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('customers', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='cust_org_name_idx',
        ),
        migrations.RemoveIndex(
            model_name='customer',
            name='cust_org_created_idx',
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['organization', 'display_name', 'id', 'is_active'], name='cust_org_name_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['organization', '-created_at', '-id', 'is_active'], name='cust_org_created_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['organization', 'company_name', 'display_name', 'id', 'is_active'], name='cust_org_company_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['organization', 'email', 'id', 'is_active'], name='cust_org_email_idx'),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
