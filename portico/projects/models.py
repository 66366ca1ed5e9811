from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel
from portico.sales.models import MONEY


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")


class Project(OrganizationOwnedModel):
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name=_("customer"),
    )
    name = models.CharField(_("project name"), max_length=200)
    code = models.CharField(_("project code"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE
    )
    # What an hour costs the customer, in the customer's currency.
    hourly_rate = models.DecimalField(
        _("hourly rate"), default=0, validators=[MinValueValidator(0)], **MONEY
    )
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "name", "id"], name="project_org_name_idx"),
            models.Index(fields=["organization", "customer"], name="project_org_cust_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TimeEntry(OrganizationOwnedModel):
    """Hours a staff member spent on a project: the customer's timesheet line."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="time_entries", verbose_name=_("project")
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
        verbose_name=_("staff member"),
    )
    task = models.CharField(_("task"), max_length=200)
    hours = models.DecimalField(
        _("hours"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0.01), MaxValueValidator(24)],
    )
    notes = models.TextField(_("notes"), blank=True)
    billable = models.BooleanField(_("billable"), default=True)
    approved_by_customer = models.BooleanField(_("approved by customer"), default=False)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    invoiced = models.BooleanField(_("invoiced"), default=False)
    invoice = models.ForeignKey(
        "sales.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
        verbose_name=_("invoice"),
    )

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "project", "-date", "-id"], name="time_org_proj_idx"
            ),
            models.Index(fields=["organization", "-date", "-id"], name="time_org_date_idx"),
            # A project's hours (total, unbilled, approved …) from the index alone:
            # the project list sums them for every project it shows.
            models.Index(
                fields=[
                    "organization",
                    "project",
                    "billable",
                    "invoiced",
                    "approved_by_customer",
                    "hours",
                ],
                name="time_org_proj_hours_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="time_entry_hours_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.task} ({self.hours} h)"
