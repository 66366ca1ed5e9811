"""Seed the demo organisation (development databases only)."""

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portico.accounts.models import Membership, Organization, Role, User
from portico.core.demo_sales import seed_sales
from portico.customers.services import ContactData, customer_create

DEMO_PASSWORD = "portico-demo"
DEMO_OWNER_EMAIL = "owner@demo.portico.test"
DEMO_PORTAL_NAME = "demo"
DEMO_PORTAL_EMAIL = "portal@acme.example"
DEMO_PAYMENT_INSTRUCTIONS = (
    "Bank transfer to Demo Trading Co.\n"
    "Bank: First Demo Bank, San Francisco\n"
    "Account number: 000123456789 · Routing number: 121000358\n"
    "SWIFT/BIC: DEMOUS6S\n"
    "Please quote the invoice number with your payment."
)

# (display name, company, currency, portal language, city, country, contacts)
# A contact is (first, last, e-mail or "", designation).
DEMO_CUSTOMERS = [
    (
        "Acme Corporation",
        "Acme Corporation",
        "USD",
        "en",
        "Springfield",
        "United States",
        [
            ("Pat", "Portal", "portal@acme.example", "Accounts payable"),
            ("Wile", "Coyote", "wile@acme.example", "Purchasing"),
            ("Road", "Runner", "", "Warehouse"),
        ],
    ),
    (
        "Globex GmbH",
        "Globex GmbH",
        "EUR",
        "de",
        "München",
        "Deutschland",
        [
            ("Hank", "Scorpio", "hank@globex.example", "Geschäftsführer"),
            ("Greta", "Vogel", "greta@globex.example", "Buchhaltung"),
        ],
    ),
    (
        "Initech Ltd",
        "Initech Ltd",
        "GBP",
        "en-gb",
        "London",
        "United Kingdom",
        [
            ("Bill", "Lumbergh", "bill@initech.example", "Division VP"),
            ("Milton", "Waddams", "", "Collation"),
        ],
    ),
    (
        "Umbrella Japan K.K.",
        "アンブレラ株式会社",
        "JPY",
        "ja",
        "東京都",
        "日本",
        [
            ("健", "佐藤", "sato@umbrella.example", "購買部"),
            ("花子", "鈴木", "suzuki@umbrella.example", "経理部"),
        ],
    ),
    (
        "Soylent S.A.",
        "Soylent S.A.",
        "EUR",
        "fr",
        "Lyon",
        "France",
        [("Claire", "Dubois", "claire@soylent.example", "Directrice financière")],
    ),
    (
        "Stark Industrias",
        "Stark Industrias SL",
        "EUR",
        "es",
        "Madrid",
        "España",
        [("Lucía", "García", "lucia@stark.example", "Compras"), ("Javier", "Ruiz", "", "Almacén")],
    ),
    (
        "Vandelay Import Export",
        "Vandelay Industries",
        "USD",
        "en",
        "New York",
        "United States",
        [("Art", "Vandelay", "art@vandelay.example", "Owner")],
    ),
    (
        "Tyrell Italia",
        "Tyrell Italia S.r.l.",
        "EUR",
        "it",
        "Milano",
        "Italia",
        [("Giulia", "Bianchi", "giulia@tyrell.example", "Amministrazione")],
    ),
    (
        "Oranje Handel B.V.",
        "Oranje Handel B.V.",
        "EUR",
        "nl",
        "Rotterdam",
        "Nederland",
        [
            ("Daan", "de Vries", "daan@oranje.example", "Inkoop"),
            ("Sanne", "Jansen", "sanne@oranje.example", "Financiën"),
        ],
    ),
    (
        "Lisboa Têxteis",
        "Lisboa Têxteis Lda",
        "EUR",
        "pt",
        "Lisboa",
        "Portugal",
        [("João", "Silva", "joao@lisboatexteis.example", "Compras")],
    ),
    (
        "Café do Brasil",
        "Café do Brasil Ltda",
        "BRL",
        "pt-br",
        "São Paulo",
        "Brasil",
        [
            ("Ana", "Souza", "ana@cafedobrasil.example", "Financeiro"),
            ("Pedro", "Oliveira", "", "Logística"),
        ],
    ),
    (
        "Nordvik AB",
        "Nordvik AB",
        "SEK",
        "sv",
        "Göteborg",
        "Sverige",
        [("Erik", "Lindqvist", "erik@nordvik.example", "Inköp")],
    ),
    (
        "华星贸易",
        "上海华星贸易有限公司",
        "CNY",
        "zh-hans",
        "上海",
        "中国",
        [("伟", "王", "wang@huaxing.example", "采购经理")],
    ),
    (
        "Maple Leaf Supplies",
        "Maple Leaf Supplies Inc.",
        "CAD",
        "en",
        "Toronto",
        "Canada",
        [("Olivia", "Tremblay", "olivia@mapleleaf.example", "Controller")],
    ),
    (
        "Kiwi Outdoor",
        "Kiwi Outdoor Ltd",
        "NZD",
        "en-gb",
        "Auckland",
        "New Zealand",
        [("Aroha", "Ngata", "aroha@kiwioutdoor.example", "Buyer")],
    ),
    (
        "Sydney Harbour Traders",
        "SHT Pty Ltd",
        "AUD",
        "en-gb",
        "Sydney",
        "Australia",
        [("Jack", "Wilson", "jack@sht.example", "Operations")],
    ),
    (
        "Alpenblick AG",
        "Alpenblick AG",
        "CHF",
        "de",
        "Zürich",
        "Schweiz",
        [
            ("Lukas", "Meier", "lukas@alpenblick.example", "Einkauf"),
            ("Anna", "Keller", "", "Empfang"),
        ],
    ),
    (
        "Bangalore Spices",
        "Bangalore Spices Pvt Ltd",
        "INR",
        "en",
        "Bengaluru",
        "India",
        [("Priya", "Raman", "priya@bangalorespices.example", "Finance")],
    ),
    (
        "Merlion Logistics",
        "Merlion Logistics Pte Ltd",
        "SGD",
        "en",
        "Singapore",
        "Singapore",
        [("Wei Ling", "Tan", "weiling@merlion.example", "Procurement")],
    ),
    (
        "Cape Craft Brewing",
        "Cape Craft Brewing (Pty) Ltd",
        "ZAR",
        "en",
        "Cape Town",
        "South Africa",
        [("Thabo", "Nkosi", "thabo@capecraft.example", "Owner")],
    ),
    (
        "Ciudad Verde",
        "Ciudad Verde S.A. de C.V.",
        "MXN",
        "es",
        "Guadalajara",
        "México",
        [("María", "Hernández", "maria@ciudadverde.example", "Compras")],
    ),
    (
        "Bäckerei Schmidt",
        "",
        "EUR",
        "de",
        "Hamburg",
        "Deutschland",
        [("Jonas", "Schmidt", "", "Inhaber")],
    ),
    (
        "Osaka Robotics",
        "大阪ロボティクス株式会社",
        "JPY",
        "ja",
        "大阪市",
        "日本",
        [("太郎", "山田", "yamada@osakarobotics.example", "技術部")],
    ),
    (
        "Brightside Dental",
        "Brightside Dental LLC",
        "USD",
        "en",
        "Austin",
        "United States",
        [("Emily", "Chen", "emily@brightside.example", "Office manager")],
    ),
    (
        "Le Petit Atelier",
        "Le Petit Atelier SARL",
        "EUR",
        "fr",
        "Bordeaux",
        "France",
        [
            ("Louis", "Martin", "louis@petitatelier.example", "Gérant"),
            ("Camille", "Bernard", "", "Atelier"),
        ],
    ),
    (
        "Northwind Traders",
        "Northwind Traders Ltd",
        "GBP",
        "en-gb",
        "Manchester",
        "United Kingdom",
        [("Oliver", "Smith", "oliver@northwind.example", "Finance director")],
    ),
    (
        "Fjord Fisk",
        "Fjord Fisk AB",
        "SEK",
        "sv",
        "Malmö",
        "Sverige",
        [("Maja", "Andersson", "maja@fjordfisk.example", "Ekonomi")],
    ),
    (
        "Jane Doe",
        "",
        "USD",
        "en",
        "Portland",
        "United States",
        [("Jane", "Doe", "jane.doe@mail.example", "")],
    ),
    (
        "Delft Design Studio",
        "Delft Design Studio",
        "EUR",
        "nl",
        "Delft",
        "Nederland",
        [("Femke", "Bakker", "femke@delftdesign.example", "Studio lead")],
    ),
    (
        "Rio Verde Agro",
        "Rio Verde Agro S.A.",
        "BRL",
        "pt-br",
        "Curitiba",
        "Brasil",
        [("Carlos", "Pereira", "carlos@rioverde.example", "Diretor")],
    ),
    ("Hanami Tea House", "", "JPY", "ja", "京都市", "日本", [("さくら", "高橋", "", "店主")]),
]


STREETS = ["Main", "High", "Station", "Harbour", "Mill"]


def _phone(rng: random.Random) -> str:
    return f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


class Command(BaseCommand):
    help = "Create the demo organisation, its owner and about 30 customers (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has an organisation.",
        )

    def handle(self, *args, if_empty: bool, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on: it creates a known password.")
        if if_empty and Organization.objects.exists():
            self.stdout.write("The database already has data; demo seeding skipped.")
            return
        if Organization.objects.filter(portal_name=DEMO_PORTAL_NAME).exists():
            raise CommandError("The demo organisation already exists.")
        with transaction.atomic():
            self._seed()
        self.stdout.write(self.style.SUCCESS("Demo organisation created."))

    def _seed(self) -> None:
        rng = random.Random(20261126)
        organization = Organization.objects.create(
            name="Demo Trading Co.",
            portal_name=DEMO_PORTAL_NAME,
            base_currency="USD",
            email="hello@demo.portico.test",
            phone="+1 555 0100",
            address="100 Market Street\nSan Francisco, CA 94105\nUnited States",
        )
        owner = User.objects.create_user(
            DEMO_OWNER_EMAIL, DEMO_PASSWORD, full_name="Olivia Owner", language="en"
        )
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
        colleague = User.objects.create_user(
            "sam@demo.portico.test", DEMO_PASSWORD, full_name="Sam Sales", language="en"
        )
        Membership.objects.create(user=colleague, organization=organization, role=Role.STAFF)
        for index, (name, company, currency, language, city, country, contacts) in enumerate(
            DEMO_CUSTOMERS
        ):
            primary_email = next((email for _f, _l, email, _d in contacts if email), "")
            customer_create(
                organization=organization,
                customer_type="business" if company else "individual",
                display_name=name,
                company_name=company,
                email=primary_email,
                phone=_phone(rng),
                currency=currency,
                payment_terms=rng.choice([0, 15, 30, 30, 45, 60]),
                portal_language=language,
                billing_street=f"{rng.randint(1, 250)} {rng.choice(STREETS)} Street",
                billing_city=city,
                billing_postal_code=str(rng.randint(10000, 99999)),
                billing_country=country,
                is_active=index != len(DEMO_CUSTOMERS) - 2,
                contacts=[
                    ContactData(
                        first_name=first,
                        last_name=last,
                        email=email,
                        designation=designation,
                        phone=_phone(rng),
                        is_primary=position == 0,
                    )
                    for position, (first, last, email, designation) in enumerate(contacts)
                ],
            )
        seed_sales(organization=organization, owner=owner, colleague=colleague)
        self._seed_portal(organization=organization, owner=owner)
        self._seed_online_payments(organization=organization)

    def _seed_online_payments(self, *, organization: Organization) -> None:
        """Pay now works in the demo portal: the test gateway (test cards, no money)."""
        from portico.online_payments.services import online_payment_settings_get

        row = online_payment_settings_get(organization=organization)
        row.test_gateway_enabled = True
        row.prevent_duplicate_payments = True
        row.payment_instructions = DEMO_PAYMENT_INSTRUCTIONS
        row.save()

    def _seed_portal(self, *, organization: Organization, owner: User) -> None:
        """The demo portal contact can sign in at once; others wait in every state."""
        from django.utils import timezone

        from portico.customers.models import ContactPerson
        from portico.portal_access.models import AccessStatus, PortalAccess
        from portico.portal_access.services import portal_access_invite, portal_settings_get

        portal_settings = portal_settings_get(organization=organization)
        portal_settings.banner_message = (
            "Welcome to the Demo Trading Co. portal. Our offices are closed on 24–26 December."
        )
        portal_settings.save()
        contact = ContactPerson.objects.get(organization=organization, email=DEMO_PORTAL_EMAIL)
        user = User.objects.create_user(
            DEMO_PORTAL_EMAIL, DEMO_PASSWORD, full_name=contact.full_name, language="en"
        )
        # What accepting the invitation leaves behind (the token is only in an e-mail).
        PortalAccess.objects.create(
            organization=organization,
            customer=contact.customer,
            contact=contact,
            user=user,
            status=AccessStatus.ACTIVE,
            invited_at=timezone.now(),
            accepted_at=timezone.now(),
        )
        for email in ("wile@acme.example", "hank@globex.example", "sato@umbrella.example"):
            invited = ContactPerson.objects.get(organization=organization, email=email)
            portal_access_invite(contact=invited, actor=owner, portal_settings=portal_settings)
