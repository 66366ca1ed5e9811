from datetime import date
from decimal import Decimal

import factory

from portico.customers.tests.factories import CustomerFactory
from portico.projects.models import Project, TimeEntry


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    name = factory.Sequence(lambda n: f"Project {n:04d}")
    code = factory.Sequence(lambda n: f"P-{n:04d}")
    hourly_rate = Decimal("120.00")
    currency = factory.SelfAttribute("customer.currency")


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    project = factory.SubFactory(ProjectFactory)
    organization = factory.SelfAttribute("project.organization")
    date = date(2026, 3, 2)
    task = "Development"
    hours = Decimal("2.00")
    billable = True
