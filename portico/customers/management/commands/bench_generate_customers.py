"""Fill an organisation with many realistic customers, fast (for benchmarks; DEBUG only).

Rows go in with ``bulk_create``, 5,000 customers (and their contact persons)
per transaction. ``search_text`` is computed by the same
``build_search_text`` the services use, so search behaves as in real data.
"""

import functools
import random
import re
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from portico.accounts.models import Organization
from portico.customers.models import ContactPerson, Customer, CustomerType, PaymentTerms
from portico.customers.services import build_search_text

BATCH_SIZE = 5_000
HISTORY = timedelta(days=3 * 365)  # customers were added over the last three years


def _ascii(text: str) -> str:
    """``Müller`` → ``Muller``; ``ß``, ``ø`` and ``æ`` spelled out."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("'", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _words(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


def _names(words: str) -> tuple[tuple[str, str], ...]:
    """Latin-script names as (as written, as in an e-mail address)."""
    return tuple(
        (name.replace("_", " "), _ascii(name.replace("_", "")).lower()) for name in words.split()
    )


def _romanised(pairs: str) -> tuple[tuple[str, str], ...]:
    """``佐藤:sato 鈴木:suzuki`` → (written, romanised) pairs."""
    return tuple(
        (written, romanised) for written, romanised in (p.split(":") for p in pairs.split())
    )


FIRST_NAMES = {
    "en": _names(
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
        "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Lisa Matthew Nancy "
        "Anthony Betty Mark Sandra Emily Olivia Noah Liam Emma Ava Sophia Ethan Mason Harper "
        "Chloe Grace Ryan Megan Kevin Laura Brian Amy Tyler Madison Jordan Hailey"
    ),
    "gb": _names(
        "Oliver George Harry Jack Charlie Amelia Isla Ava Mia Poppy Jacob Alfie Freddie Sophie "
        "Lily Jessica Thomas William Emily Charlotte Hannah Lucy Eleanor Arthur Harriet Rhys "
        "Callum Fiona Alistair Siobhan Niamh Ewan Imogen Rupert"
    ),
    "in": _names(
        "Aarav Vivaan Aditya Arjun Rohan Priya Ananya Diya Saanvi Isha Rahul Amit Sanjay Deepa "
        "Kavya Neha Vikram Anil Sunita Pooja"
    ),
    "de": _names(
        "Lukas Leon Finn Jonas Paul Felix Maximilian Hannah Lena Mia Emma Sophie Anna Laura Lea "
        "Jürgen Klaus Uwe Sabine Petra Ursula Stefan Andreas Thomas Katrin Jörg Björn Gerhard "
        "Heike Monika Dieter Gudrun Matthias Anke"
    ),
    "fr": _names(
        "Louis Gabriel Léo Raphaël Arthur Jules Hugo Lucas Emma Jade Louise Alice Chloé Léa "
        "Manon Camille Inès Zoé Théo Mathilde Hélène François Étienne Margaux Céline Amélie "
        "Benoît Aurélie Sébastien Élodie"
    ),
    "es": _names(
        "Alejandro Daniel Pablo Hugo Álvaro Adrián David Javier Lucía María Martina Paula Sofía "
        "Valeria Carmen Isabel José Antonio Manuel Francisco Juan Luis Miguel Ana Elena Pilar "
        "Rocío Guadalupe Santiago Ximena"
    ),
    "it": _names(
        "Leonardo Francesco Alessandro Lorenzo Mattia Andrea Gabriele Riccardo Sofia Giulia "
        "Aurora Alice Ginevra Emma Giorgia Chiara Beatrice Marco Luca Giuseppe Giovanni Paolo "
        "Roberta Federica Valentina Elisa Niccolò Tommaso Ludovica Matteo"
    ),
    "nl": _names(
        "Daan Sem Levi Lucas Finn Milan Bram Thijs Emma Julia Tess Sophie Zoë Mila Sara Anna "
        "Femke Sanne Lotte Jeroen Pieter Joost Willem Marieke Annelies Henk Ruud Sven Noor Fleur"
    ),
    "pt": _names(
        "João Pedro Gabriel Lucas Miguel Rafael Gustavo Matheus Ana Maria Beatriz Mariana Júlia "
        "Larissa Camila Fernanda Letícia Carolina Luís Tiago Rodrigo Bruno Inês Rita Sofia "
        "Francisca Leonor Diogo Thiago Vitória"
    ),
    "sv": _names(
        "William Liam Noah Hugo Lucas Oscar Elias Alice Maja Elsa Astrid Wilma Freja Olivia Ebba "
        "Saga Erik Lars Anders Johan Karin Ingrid Annika Björn Sven Gustav Linnea Agnes Axel Nils"
    ),
    "ja": _romanised(
        "翔:sho 蓮:ren 大翔:hiroto 陽翔:haruto 悠真:yuma 健:ken 太郎:taro 誠:makoto 陽菜:hina "
        "結衣:yui さくら:sakura 花子:hanako 美咲:misaki 葵:aoi 愛:ai 由美:yumi 直樹:naoki "
        "恵:megumi 拓也:takuya 明美:akemi"
    ),
    "zh": _romanised(
        "伟:wei 芳:fang 娜:na 秀英:xiuying 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang "
        "勇:yong 艳:yan 杰:jie 娟:juan 涛:tao 明:ming 超:chao 秀兰:xiulan 霞:xia"
    ),
}
LAST_NAMES = {
    "en": _names(
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
        "Lopez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris "
        "Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker Nelson "
        "Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart "
        "Murphy Cook O'Brien Chen Nguyen Patel Kim Novak Kowalski"
    ),
    "gb": _names(
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
        "Walker White Roberts Green Hall Wood Jackson Clarke Hughes Edwards Lewis Patel Khan "
        "Murray MacDonald Campbell Reid Fraser O'Connor Ahmed"
    ),
    "in": _names(
        "Sharma Verma Gupta Patel Singh Kumar Reddy Iyer Nair Rao Mehta Shah Joshi Desai Kapoor "
        "Malhotra Bose Das Menon Pillai"
    ),
    "de": _names(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
        "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
        "Hartmann Lange Schmitt Werner Krause Meier Lehmann Weiß Groß Yılmaz"
    ),
    "fr": _names(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre "
        "Mercier Dupont Lambert Bonnet François Martinez"
    ),
    "es": _names(
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez "
        "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres "
        "Domínguez Vázquez Ramos Gil Ramírez Serrano Castillo Ortega"
    ),
    "it": _names(
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro "
        "Mariani Rinaldi Caruso Ferrara Galli Martini Leone"
    ),
    "nl": _names(
        "de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer "
        "Mulder de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer de_Wit Dijkstra "
        "Smits de_Graaf van_der_Meer Kok Jacobs van_der_Linden Vermeulen Willems"
    ),
    "pt": _names(
        "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro "
        "Martins Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento "
        "Andrade Moreira Nunes Marques Machado Mendes Freitas"
    ),
    "sv": _names(
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson "
        "Magnusson Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind "
        "Lundgren Mattsson"
    ),
    "ja": _romanised(
        "佐藤:sato 鈴木:suzuki 高橋:takahashi 田中:tanaka 伊藤:ito 渡辺:watanabe 山本:yamamoto "
        "中村:nakamura 小林:kobayashi 加藤:kato 吉田:yoshida 山田:yamada 佐々木:sasaki "
        "山口:yamaguchi 松本:matsumoto 井上:inoue 木村:kimura 林:hayashi 清水:shimizu 斎藤:saito"
    ),
    "zh": _romanised(
        "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu "
        "孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 林:lin 高:gao 罗:luo"
    ),
}

BRANDS = tuple(
    brand.replace("_", " ")
    for brand in _words(
        "Northwind Bluebird Summit Evergreen Harbor Granite Silverline Pioneer Red_Oak Lakeside "
        "Atlas Beacon Cedar Crescent Falcon Horizon Ironwood Juniper Keystone Maple Meridian "
        "Orchard Pinnacle Riverbend Sterling Timberline Vantage Willow Zenith Apex Brightwater "
        "Cobalt Driftwood Emerald Foxglove Highland Nova Oakridge Polaris Quicksilver Saffron "
        "Tidewater Vertex Westbrook Alder Birchwood Copperfield Blue_Fjord Little_Fox"
    )
)
INDUSTRIES = _words(
    "Logistics Consulting Design Engineering Foods Software Analytics Construction Dental Legal "
    "Marketing Media Motors Pharma Plumbing Print Studio Textiles Travel Ventures Wines Bakery "
    "Architects Electric Energy Fitness Health Interiors Labs Landscaping Machinery Optics "
    "Packaging Robotics Solar Systems Trading Tools Veterinary Coffee"
)
# A local trade and where it goes: "{last} {trade}" or "{trade} {last}".
LOCAL_TRADES = {
    "de": (
        "{last} {trade}",
        _words(
            "Bäckerei Elektrotechnik Metallbau Maschinenbau Logistik Beratung "
            "Bau Druckerei Möbelwerkstatt Reisen Haustechnik Steuerberatung"
        ),
    ),
    "fr": (
        "{trade} {last}",
        _words(
            "Boulangerie Conseil Transports Menuiserie Architecture Imprimerie "
            "Électricité Vins Plomberie Immobilier"
        ),
    ),
    "es": (
        "{trade} {last}",
        _words(
            "Construcciones Transportes Asesoría Distribuciones Talleres "
            "Bodegas Inmobiliaria Reformas"
        ),
    ),
    "it": (
        "{trade} {last}",
        _words("Costruzioni Trasporti Consulenze Arredamenti Tipografia Officina Cantina Impianti"),
    ),
    "nl": (
        "{last} {trade}",
        _words("Bouw Transport Installatietechniek Advies Bakkerij Drukkerij Schilderwerken"),
    ),
    "pt": (
        "{trade} {last}",
        _words("Construções Transportes Consultoria Comércio Serralharia Distribuidora"),
    ),
    "sv": ("{last}s {trade}", _words("Bygg Åkeri Måleri Rör El Konsult Snickeri")),
}
# Japanese and Chinese companies: (written, romanised for the web domain).
JA_TRADES = _romanised(
    "工業:kogyo 商事:shoji 製作所:seisakusho 物産:bussan 建設:kensetsu 電機:denki "
    "食品:shokuhin 印刷:insatsu 運輸:unyu"
)
ZH_BRANDS = _romanised(
    "华信:huaxin 恒通:hengtong 金达:jinda 宏远:hongyuan 新兴:xinxing 东方:dongfang"
)
ZH_TRADES = _romanised(
    "科技:tech 贸易:trading 电子:electronics 物流:logistics 实业:industrial 机械:machinery"
)

MAILBOXES = _words("accounts billing info office finance ap invoices hello admin")
PRIVATE_MAIL_DOMAINS = _words("mail.example post.example inbox.example webmail.example")
DESIGNATIONS = _words(
    "Accounts payable|Purchasing|Finance director|Office manager|Owner|Managing director|"
    "Bookkeeper|Operations|Procurement|Project manager|Assistant|CFO",
    "|",
)
NOTES = _words(
    "Prefers invoices by e-mail.|Pays by bank transfer, usually a week late.|"
    "Ask for the PO number before invoicing.|Reseller: 10% discount agreed.|"
    "Closed in August.|Send quotes to purchasing, invoices to accounts.",
    "|",
)


@dataclass(frozen=True)
class Market:
    """Where a customer is: its portal language, currency and address formats."""

    language: str
    names: str  # key of FIRST_NAMES / LAST_NAMES
    country: str
    currency: str
    cities: tuple[str, ...]
    phone: str  # "#" is a digit
    postal_code: str  # "#" a digit, "@" a capital letter
    street: str  # "{name}" and "{number}"
    street_names: tuple[str, ...]
    legal_forms: tuple[str, ...]
    weight: int


def _market(language, names, country, currency, cities, phone, postal, street, streets, forms, w):
    return Market(
        language, names, country, currency, tuple(cities.split("|")), phone, postal, street,
        tuple(streets.split("|")), tuple(forms.split("|")) if forms else (), w,
    )  # fmt: skip


US_STREETS = "Main Street|Oak Avenue|Maple Drive|Park Road|Lake Street|Hill Road|Market Street"
MARKETS = [
    _market("en", "en", "United States", "USD",
            "New York|Chicago|Austin|Seattle|Denver|Boston|Atlanta|Portland|San Diego|Phoenix",
            "+1 ### ### ####", "#####", "{number} {name}", US_STREETS, "Inc.|LLC|Corp.", 30),
    _market("en", "en", "Canada", "CAD", "Toronto|Vancouver|Montréal|Calgary|Ottawa",
            "+1 ### ### ####", "@#@ #@#", "{number} {name}", US_STREETS, "Inc.|Ltd.", 5),
    _market("en", "en", "Australia", "AUD", "Sydney|Melbourne|Brisbane|Perth|Adelaide",
            "+61 # #### ####", "####", "{number} {name}", "George Street|King Street|Pitt Street",
            "Pty Ltd", 4),
    _market("en", "en", "New Zealand", "NZD", "Auckland|Wellington|Christchurch",
            "+64 # ### ####", "####", "{number} {name}", "Queen Street|Lambton Quay", "Ltd", 1),
    _market("en", "en", "Singapore", "SGD", "Singapore", "+65 #### ####", "######",
            "{number} {name}", "Orchard Road|Robinson Road|Cecil Street", "Pte. Ltd.", 2),
    _market("en", "in", "India", "INR", "Mumbai|Bengaluru|Delhi|Pune|Chennai",
            "+91 ##### #####", "######", "{number}, {name}", "MG Road|Linking Road|Park Street",
            "Pvt. Ltd.", 3),
    _market("en", "en", "South Africa", "ZAR", "Cape Town|Johannesburg|Durban",
            "+27 ## ### ####", "####", "{number} {name}", "Long Street|Jan Smuts Avenue",
            "(Pty) Ltd", 1),
    _market("en-gb", "gb", "United Kingdom", "GBP",
            "London|Manchester|Bristol|Leeds|Edinburgh|Glasgow|Cardiff",
            "+44 ## #### ####", "@@# #@@", "{number} {name}",
            "High Street|Station Road|Church Lane|Mill Lane|Victoria Road", "Ltd|PLC|LLP", 12),
    _market("de", "de", "Deutschland", "EUR",
            "Berlin|München|Hamburg|Köln|Frankfurt am Main|Stuttgart|Leipzig",
            "+49 ## ########", "#####", "{name} {number}",
            "Hauptstraße|Bahnhofstraße|Schulweg|Gartenstraße|Lindenallee|Bergstraße",
            "GmbH|AG|KG|GmbH & Co. KG", 9),
    _market("de", "de", "Schweiz", "CHF", "Zürich|Basel|Bern", "+41 ## ### ## ##", "####",
            "{name} {number}", "Bahnhofstrasse|Seestrasse|Dorfstrasse", "AG|GmbH", 2),
    _market("fr", "fr", "France", "EUR", "Paris|Lyon|Marseille|Bordeaux|Lille|Nantes|Toulouse",
            "+33 # ## ## ## ##", "#####", "{number} {name}",
            "rue de la Paix|avenue Jean Jaurès|boulevard Voltaire|rue Victor Hugo",
            "SARL|SAS|SA", 7),
    _market("es", "es", "España", "EUR", "Madrid|Barcelona|Valencia|Sevilla|Bilbao",
            "+34 ### ### ###", "#####", "{name}, {number}", "Calle Mayor|Gran Vía|Calle Alcalá",
            "S.L.|S.A.", 4),
    _market("es", "es", "México", "MXN", "Ciudad de México|Guadalajara|Monterrey|Puebla",
            "+52 ## #### ####", "#####", "{name} {number}", "Av. Reforma|Calle Madero",
            "S.A. de C.V.", 3),
    _market("it", "it", "Italia", "EUR", "Milano|Roma|Torino|Bologna|Firenze|Napoli",
            "+39 ## #### ####", "#####", "{name}, {number}",
            "Via Roma|Via Garibaldi|Corso Italia|Via Dante", "S.r.l.|S.p.A.", 4),
    _market("nl", "nl", "Nederland", "EUR", "Amsterdam|Rotterdam|Utrecht|Den Haag|Eindhoven",
            "+31 ## ### ####", "#### @@", "{name} {number}",
            "Kerkstraat|Dorpsstraat|Molenweg|Stationsplein", "B.V.|N.V.", 3),
    _market("pt", "pt", "Portugal", "EUR", "Lisboa|Porto|Braga|Coimbra", "+351 ### ### ###",
            "####-###", "{name}, {number}", "Rua Augusta|Avenida da Liberdade|Rua das Flores",
            "Lda.|S.A.", 2),
    _market("pt-br", "pt", "Brasil", "BRL",
            "São Paulo|Rio de Janeiro|Belo Horizonte|Curitiba|Porto Alegre",
            "+55 ## #####-####", "#####-###", "{name}, {number}",
            "Avenida Paulista|Rua Oscar Freire|Rua XV de Novembro", "Ltda.|S.A.", 4),
    _market("sv", "sv", "Sverige", "SEK", "Stockholm|Göteborg|Malmö|Uppsala",
            "+46 ## ### ## ##", "### ##", "{name} {number}",
            "Storgatan|Kyrkogatan|Drottninggatan", "AB", 2),
    _market("ja", "ja", "日本", "JPY", "東京都|大阪市|京都市|横浜市|名古屋市",
            "+81 ## #### ####", "###-####", "{name}{number}",
            "千代田区丸の内|中央区銀座|港区六本木|新宿区西新宿", "", 2),
    _market("zh-hans", "zh", "中国", "CNY", "上海市|北京市|深圳市|杭州市|广州市",
            "+86 ### #### ####", "######", "{name}{number}号",
            "浦东新区世纪大道|朝阳区建国路|南山区科技园路", "", 2),
]  # fmt: skip
MARKET_WEIGHTS = [market.weight for market in MARKETS]
PAYMENT_TERMS = [term.value for term in PaymentTerms]
PAYMENT_TERM_WEIGHTS = [10 if term == PaymentTerms.NET_30 else 2 for term in PaymentTerms]


LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@functools.cache
def _pattern_parts(pattern: str) -> tuple[str, ...]:
    """``+1 ### ####`` → ``("+1 ", "###", " ", "####")``."""
    return tuple(re.findall(r"#+|@|[^#@]+", pattern))


def _pattern(rng: random.Random, pattern: str) -> str:
    """Fill a pattern: each ``#`` a random digit, each ``@`` a random capital letter."""
    return "".join(
        f"{rng.randrange(10 ** len(part)):0{len(part)}d}"
        if part[0] == "#"
        else rng.choice(LETTERS)
        if part == "@"
        else part
        for part in _pattern_parts(pattern)
    )


@dataclass
class _Person:
    first: str
    last: str
    first_ascii: str
    last_ascii: str

    @property
    def full_name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def mailbox(self) -> str:
        return f"{self.first_ascii}.{self.last_ascii}".replace(" ", "")


def _person(rng: random.Random, market: Market) -> _Person:
    first, first_ascii = rng.choice(FIRST_NAMES[market.names])
    last, last_ascii = rng.choice(LAST_NAMES[market.names])
    return _Person(first, last, first_ascii, last_ascii)


def _company(rng: random.Random, market: Market) -> tuple[str, str, str]:
    """A company's registered name, its name in short and what its web domain is made from."""
    if market.names == "ja":
        last, last_ascii = rng.choice(LAST_NAMES["ja"])
        trade, trade_ascii = rng.choice(JA_TRADES)
        name = f"株式会社{last}{trade}" if rng.random() < 0.5 else f"{last}{trade}株式会社"
        return name, f"{last}{trade}", f"{last_ascii}-{trade_ascii}"
    if market.names == "zh":
        brand, brand_ascii = rng.choice(ZH_BRANDS)
        trade, trade_ascii = rng.choice(ZH_TRADES)
        city = rng.choice(market.cities).removesuffix("市")
        return f"{city}{brand}{trade}有限公司", f"{brand}{trade}", f"{brand_ascii}-{trade_ascii}"
    form = rng.choice(market.legal_forms)
    roll = rng.random()
    if roll < 0.45:
        base = f"{rng.choice(BRANDS)} {rng.choice(INDUSTRIES)}"
    elif roll < 0.7 and market.names in LOCAL_TRADES:
        pattern, trades = LOCAL_TRADES[market.names]
        base = pattern.format(
            last=rng.choice(LAST_NAMES[market.names])[0], trade=rng.choice(trades)
        )
    elif roll < 0.85:
        names = LAST_NAMES[market.names]
        base = f"{rng.choice(names)[0]} & {rng.choice(names)[0]}"
    else:
        base = f"{rng.choice(LAST_NAMES[market.names])[0]} {rng.choice(INDUSTRIES)}"
    return f"{base} {form}", base, _ascii(base)


def _address(rng: random.Random, market: Market, city: str) -> dict[str, str]:
    street = market.street.format(name=rng.choice(market.street_names), number=rng.randint(1, 240))
    return {
        "street": street,
        "city": city,
        "postal_code": _pattern(rng, market.postal_code),
        "country": market.country,
    }


class CustomerGenerator:
    """Builds ``count`` unsaved customers with contact persons; deterministic for a seed.

    Their ``created_at`` spread over the last three years in the order they are
    made, as in a real database where ids and creation dates rise together.
    """

    def __init__(self, *, organization: Organization, seed: str, now: datetime, count: int):
        self.organization = organization
        self.rng = random.Random(seed)
        self.now = now
        self.count = count
        self.made = 0

    def customer(self, contacts_per_customer: int) -> tuple[Customer, list[ContactPerson]]:
        rng = self.rng
        self.made += 1
        market = rng.choices(MARKETS, MARKET_WEIGHTS)[0]
        people = [_person(rng, market) for _ in range(contacts_per_customer)]
        individual = rng.random() < 0.25
        if individual:
            owner = people[0] if people else _person(rng, market)
            domain = rng.choice(PRIVATE_MAIL_DOMAINS)
            display_name = owner.full_name
            if market.names in {"ja", "zh"}:
                display_name = f"{owner.last}{owner.first}"
            company_name = ""
            email = f"{owner.mailbox}{rng.randint(1, 99)}@{domain}"
            website = ""
        else:
            company_name, short_name, domain_base = _company(rng, market)
            domain = f"{slugify(domain_base)[:40]}.example"
            display_name = short_name if rng.random() < 0.3 else company_name
            email = f"{rng.choice(MAILBOXES)}@{domain}"
            website = f"https://www.{domain}/" if rng.random() < 0.4 else ""
        created_at = self.now - HISTORY * (1 - (self.made - rng.random()) / self.count)
        city = rng.choice(market.cities)
        billing = _address(rng, market, city)
        roll = rng.random()
        shipping = billing if roll < 0.7 else _address(rng, market, city) if roll < 0.9 else {}
        customer = Customer(
            organization=self.organization,
            customer_type=CustomerType.INDIVIDUAL if individual else CustomerType.BUSINESS,
            display_name=display_name,
            company_name=company_name,
            email=email,
            phone=_pattern(rng, market.phone),
            website=website,
            currency=market.currency,
            payment_terms=rng.choices(PAYMENT_TERMS, PAYMENT_TERM_WEIGHTS)[0],
            portal_language=market.language,
            notes=rng.choice(NOTES) if rng.random() < 0.1 else "",
            is_active=rng.random() < 0.95,
            billing_attention="" if individual else people[0].full_name if people else "",
            **{f"billing_{name}": value for name, value in billing.items()},
            **{f"shipping_{name}": value for name, value in shipping.items()},
            created_at=created_at,
            updated_at=created_at + (self.now - created_at) * rng.random() ** 4,
        )
        contacts = []
        mailboxes = set()
        for position, person in enumerate(people):
            mailbox = person.mailbox
            while mailbox in mailboxes:  # two people of the same name at one customer
                mailbox = f"{person.mailbox}{rng.randint(2, 99)}"
            mailboxes.add(mailbox)
            contact_email = (
                email if individual and position == 0 else f"{mailbox}@{domain}"
            ).lower()
            contacts.append(
                ContactPerson(
                    organization=self.organization,
                    customer=customer,
                    salutation=rng.choice(("", "", "Mr.", "Ms.", "Dr."))
                    if market.names == "en"
                    else "",
                    first_name=person.first,
                    last_name=person.last,
                    email=contact_email if rng.random() < 0.9 else "",
                    phone=_pattern(rng, market.phone) if rng.random() < 0.7 else "",
                    mobile=_pattern(rng, market.phone) if rng.random() < 0.4 else "",
                    designation="" if individual else rng.choice(DESIGNATIONS),
                    is_primary=position == 0,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        customer.search_text = build_search_text(customer, contacts)
        return customer, contacts


@contextmanager
def _timestamps_as_given(*model_classes: type[models.Model]):
    """Let bulk_create keep generated ``created_at``/``updated_at``.

    ``auto_now``/``auto_now_add`` would stamp every row with the same instant;
    a three-year history needs its own dates (the list sorts by them).
    """
    fields = [
        model._meta.get_field(name)
        for model in model_classes
        for name in ("created_at", "updated_at")
    ]
    flags = [(field, field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in flags:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def customers_generate(
    *,
    organization: Organization,
    count: int,
    contacts_per_customer: int = 2,
    seed: str = "",
    on_batch=None,
) -> int:
    """Insert ``count`` customers into ``organization``; returns the contact persons made."""
    start = Customer.objects.filter(organization=organization).count()
    generator = CustomerGenerator(
        organization=organization,
        # Growing an organisation in steps still gives new names at each step.
        seed=f"{seed or random.random()}:{organization.pk}:{start}",
        now=timezone.now(),
        count=count,
    )
    contact_count = 0
    with _timestamps_as_given(Customer, ContactPerson):
        for done in range(0, count, BATCH_SIZE):
            size = min(BATCH_SIZE, count - done)
            customers, contacts = [], []
            for _ in range(size):
                customer, customer_contacts = generator.customer(contacts_per_customer)
                customers.append(customer)
                contacts += customer_contacts
            with transaction.atomic():
                Customer.objects.bulk_create(customers, batch_size=1_000)
                ContactPerson.objects.bulk_create(contacts, batch_size=2_000)
            contact_count += len(contacts)
            if on_batch is not None:
                on_batch(done + size)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Settle the tables as autovacuum soon would on a real database: fresh
        # planner statistics, and a visibility map so index-only scans work.
        with connection.cursor() as cursor:
            for model in (Customer, ContactPerson):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return contact_count


class Command(BaseCommand):
    help = (
        "Create many realistic customers with contact persons, fast, for benchmarks "
        "(DEBUG only unless --force)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organization", required=True, help="Portal name of the organisation to fill."
        )
        parser.add_argument("--count", type=int, required=True, help="Customers to create.")
        parser.add_argument(
            "--contacts-per-customer",
            type=int,
            default=2,
            help="Contact persons per customer (default 2; the first is primary).",
        )
        parser.add_argument(
            "--create-organization",
            action="store_true",
            help="Create the organisation (with no members) when it does not exist.",
        )
        parser.add_argument("--seed", default="", help="Same seed, same customers.")
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *, organization, count, contacts_per_customer, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "bench_generate_customers fills the database with made-up customers, so it "
                "only runs with DEBUG on; pass --force to run it anyway."
            )
        if count < 1 or contacts_per_customer < 0:
            raise CommandError("--count must be at least 1 and --contacts-per-customer at least 0.")
        portal_name = organization
        organization = Organization.objects.filter(portal_name=portal_name).first()
        if organization is None:
            if not options["create_organization"]:
                raise CommandError(
                    f"No organisation with portal name {portal_name!r}; "
                    "pass --create-organization to create it."
                )
            organization = Organization.objects.create(
                name=portal_name.replace("-", " ").title(), portal_name=portal_name
            )
            self.stdout.write(f"Created organisation {organization.name} ({portal_name}).")

        started = time.perf_counter()

        def progress(done: int) -> None:
            if options["verbosity"] >= 2:
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done:,} customers, {elapsed:.1f} s")

        contact_count = customers_generate(
            organization=organization,
            count=count,
            contacts_per_customer=contacts_per_customer,
            seed=options["seed"],
            on_batch=progress,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count:,} customers and {contact_count:,} contact persons in "
                f"{portal_name} in {elapsed:.1f} s: {count / elapsed:,.0f} customers/s."
            )
        )
