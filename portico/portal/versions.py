"""Data versions for the portal's page cache, kept by database triggers.

``Customer.portal_version`` goes up whenever a row that a customer's portal
pages may show changes: the customer, its contacts, quotes, sales orders,
invoices, credit notes, their lines, payments, projects, time entries,
comments, checkouts… ``Organization.portal_version`` does the same for the
organisation's own rows (its details, portal and online-payment settings,
taxes and items). Cached portal pages are keyed by both
(``portico.portal.page_cache``), so any change is seen at the next request.

Why triggers and not signals: much of Portico writes with ``QuerySet.update``,
``bulk_create`` and COPY (bulk invitations, payment allocation, status
changes), which send no signals. A trigger sees every write, whoever makes it.

Which tables: every model with a foreign-key path to ``Customer`` is found by
walking the models, so a new model is covered without anyone remembering to;
``EXCLUDED`` names the few that portal pages do not show and that change
constantly (view counts, activity, accesses written per sign-in). An update
that changes only ``IGNORED_COLUMNS`` (the document's "viewed in portal"
stamp, ``updated_at``) raises nothing: recording a view must not empty the
cache it is served from.

The triggers are derived from the current models: dropped before every
``migrate`` (so migrations never run through triggers naming old columns)
and created again after it (``post_migrate``). SQLite gets row triggers;
PostgreSQL statement triggers with transition tables, so a COPY of 200,000
invoices raises each customer once per statement, not once per row.
"""

from collections import deque
from dataclasses import dataclass

from django.apps import apps
from django.db import connections, models

TRIGGER_PREFIX = "portico_pv_"
ORGANIZATION_LABELS = [
    "accounts.Organization",
    "portal_access.PortalSettings",
    "online_payments.OnlinePaymentSettings",
    "catalog.Tax",
    "catalog.Item",
]
EXCLUDED = {
    # Not shown in the portal, and written on every visit or event.
    "portal.DocumentView",
    "activity.ActivityEvent",
    "activity.Notification",
    # A contact's own access is part of every cache key (its modules, its
    # language); others' accesses are not shown on cached pages, and a bulk
    # invitation writes 10,000 of them.
    "portal_access.PortalAccess",
    "portal_access.PortalInvitation",
}
IGNORED_COLUMNS = {"updated_at", "portal_viewed_at", "portal_viewed_by_id", "portal_version"}


@dataclass(frozen=True)
class VersionedTable:
    """A table whose changes raise ``target``'s portal_version."""

    model: type[models.Model]
    target: type[models.Model]  # Customer or Organization
    path: tuple  # foreign keys from ``model`` to ``target``; () for the target itself

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def compared_columns(self) -> list[str]:
        return [
            field.column
            for field in self.model._meta.concrete_fields
            if field.column not in IGNORED_COLUMNS
        ]

    def target_id(self, row: str, quote) -> str:
        """SQL for the target's id given ``row`` (NEW, OLD or an alias)."""
        if not self.path:
            return f"{row}.{quote(self.model._meta.pk.column)}"
        expression = f"{row}.{quote(self.path[0].column)}"
        for field in self.path[1:]:
            meta = field.model._meta
            expression = (
                f"(SELECT {quote(field.column)} FROM {quote(meta.db_table)}"
                f" WHERE {quote(meta.pk.column)} = {expression})"
            )
        return expression


def _path_to(model, target) -> tuple | None:
    """The shortest chain of foreign keys from ``model`` to ``target``."""
    if model is target:
        return ()
    queue = deque([(model, ())])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        for field in current._meta.concrete_fields:
            if not field.many_to_one and not field.one_to_one:
                continue
            related = field.related_model
            if related is target:
                return (*path, field)
            if related in seen or not related.__module__.startswith("portico."):
                continue
            seen.add(related)
            queue.append((related, (*path, field)))
    return None


def versioned_tables() -> list[VersionedTable]:
    Customer = apps.get_model("customers", "Customer")
    Organization = apps.get_model("accounts", "Organization")
    organization_models = [apps.get_model(label) for label in ORGANIZATION_LABELS]
    tables = [
        VersionedTable(model, Organization, _path_to(model, Organization))
        for model in organization_models
    ]
    for model in apps.get_models():
        if (
            not model.__module__.startswith("portico.")
            or model._meta.label in EXCLUDED
            or model in organization_models
            or model._meta.proxy
        ):
            continue
        path = _path_to(model, Customer)
        # Models whose only way to a customer goes through an organisation-wide
        # table (an item, a tax) are not customer data.
        if path is not None and not any(f.related_model is Organization for f in path):
            tables.append(VersionedTable(model, Customer, path))
    return tables


# --- SQLite: row triggers ---------------------------------------------------------


def _sqlite_statements(table: VersionedTable, quote) -> list[str]:
    target = quote(table.target._meta.db_table)
    target_pk = quote(table.target._meta.pk.column)
    name = f"{TRIGGER_PREFIX}{table.table}"
    raise_for = (
        f"UPDATE {target} SET portal_version = portal_version + 1 WHERE {target_pk} IN ({{}});"
    )
    changed = " OR ".join(
        f"OLD.{quote(column)} IS NOT NEW.{quote(column)}" for column in table.compared_columns
    )
    on = quote(table.table)
    statements = [
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {on} FOR EACH ROW WHEN {changed} BEGIN "
        + raise_for.format(f"{table.target_id('NEW', quote)}, {table.target_id('OLD', quote)}")
        + " END"
    ]
    if table.path:  # a new or deleted customer (organisation) has no cached pages
        statements += [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {on} FOR EACH ROW BEGIN "
            + raise_for.format(table.target_id("NEW", quote))
            + " END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {on} FOR EACH ROW BEGIN "
            + raise_for.format(table.target_id("OLD", quote))
            + " END",
        ]
    return statements


def _sqlite_drop(cursor) -> None:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
        [f"{TRIGGER_PREFIX}%"],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


# --- PostgreSQL: statement triggers with transition tables -------------------------


def _row(alias: str, columns: list[str], quote) -> str:
    return "ROW(" + ", ".join(f"{alias}.{quote(column)}" for column in columns) + ")"


def _postgresql_statements(table: VersionedTable, quote) -> list[str]:
    name = f"{TRIGGER_PREFIX}{table.table}"
    on = quote(table.table)
    columns = table.compared_columns
    if not table.path:
        # The customer (organisation) row itself: raise its own version in a
        # BEFORE trigger when anything but the version changed.
        return [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {_row("NEW", columns, quote)} IS DISTINCT FROM {_row("OLD", columns, quote)} THEN
    NEW.portal_version := OLD.portal_version + 1;
  END IF;
  RETURN NEW;
END $$""",
            f"CREATE TRIGGER {name}_upd BEFORE UPDATE ON {on}"
            f" FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    target = quote(table.target._meta.db_table)
    target_pk = quote(table.target._meta.pk.column)
    pk = quote(table.model._meta.pk.column)
    changed = (
        f"portico_new n JOIN portico_old o ON o.{pk} = n.{pk}"
        f" WHERE {_row('n', columns, quote)} IS DISTINCT FROM {_row('o', columns, quote)}"
    )
    raise_for = f"UPDATE {target} SET portal_version = portal_version + 1 WHERE {target_pk} IN"
    return [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {raise_for} (SELECT {table.target_id("n", quote)} FROM portico_new n);
  ELSIF TG_OP = 'DELETE' THEN
    {raise_for} (SELECT {table.target_id("o", quote)} FROM portico_old o);
  ELSE
    {raise_for} (SELECT {table.target_id("n", quote)} FROM {changed}
                 UNION SELECT {table.target_id("o", quote)} FROM {changed});
  END IF;
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {on} REFERENCING NEW TABLE AS portico_new"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {on}"
        " REFERENCING OLD TABLE AS portico_old NEW TABLE AS portico_new"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {on} REFERENCING OLD TABLE AS portico_old"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _postgresql_drop(cursor) -> None:
    cursor.execute(
        "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s",
        [f"{TRIGGER_PREFIX}%"],
    )
    for name, table in cursor.fetchall():
        cursor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON {table}')
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " JOIN pg_namespace s ON s.oid = p.pronamespace"
        " WHERE p.proname LIKE %s AND s.nspname = current_schema()",
        [f"{TRIGGER_PREFIX}%"],
    )
    for (function,) in cursor.fetchall():
        cursor.execute(f"DROP FUNCTION IF EXISTS {function}")


# --- install and remove -------------------------------------------------------------


def version_triggers_drop(using: str = "default") -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _postgresql_drop(cursor)
        elif connection.vendor == "sqlite":
            _sqlite_drop(cursor)


def version_trigger_statements(using: str = "default") -> list[str]:
    connection = connections[using]
    quote = connection.ops.quote_name
    build = {"postgresql": _postgresql_statements, "sqlite": _sqlite_statements}.get(
        connection.vendor
    )
    if build is None:
        return []
    return [statement for table in versioned_tables() for statement in build(table, quote)]


def version_triggers_install(using: str = "default") -> int:
    """(Re)create every trigger; returns how many statements ran."""
    connection = connections[using]
    statements = version_trigger_statements(using)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _postgresql_drop(cursor)
        elif connection.vendor == "sqlite":
            _sqlite_drop(cursor)
        for statement in statements:
            cursor.execute(statement)
    return len(statements)


def version_triggers_installed(using: str = "default") -> set[str]:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [f"{TRIGGER_PREFIX}%"]
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{TRIGGER_PREFIX}%"],
            )
        return {name for (name,) in cursor.fetchall()}


def _before_migrate(sender, using="default", **kwargs) -> None:
    version_triggers_drop(using)


def _after_migrate(sender, using="default", **kwargs) -> None:
    version_triggers_install(using)
