"""The simulated world's reference data: routes, carriers, vessels, goods, traders and people's names.

Everything here is invented for the demo (names are common names, identifiers follow the real formats
but belong to nobody). The planted patterns the demo rules are written to find live here too, so that
the generators and the rules agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Airports and flights -------------------------------------------------------------------------------

#: IATA airport → (ISO alpha-2 country, ISO alpha-3 country, typical flight hours to the UK).
AIRPORTS: dict[str, tuple[str, str, float]] = {
    "JFK": ("US", "USA", 7.0),
    "ORD": ("US", "USA", 8.0),
    "DXB": ("AE", "ARE", 7.5),
    "DOH": ("QA", "QAT", 7.0),
    "SIN": ("SG", "SGP", 13.5),
    "DEL": ("IN", "IND", 9.5),
    "LOS": ("NG", "NGA", 6.5),
    "NBO": ("KE", "KEN", 8.5),
    "CDG": ("FR", "FRA", 1.2),
    "AMS": ("NL", "NLD", 1.2),
    "MAD": ("ES", "ESP", 2.3),
    "FCO": ("IT", "ITA", 2.5),
    "WAW": ("PL", "POL", 2.5),
    "IST": ("TR", "TUR", 4.0),
    "GRU": ("BR", "BRA", 11.5),
    "BOG": ("CO", "COL", 10.5),
    "LIM": ("PE", "PER", 12.5),
    "PTY": ("PA", "PAN", 10.5),
    "YYZ": ("CA", "CAN", 7.0),
}
#: Where the courier profile's flights come from (the demo rule lists them).
SOURCE_AIRPORTS = ("BOG", "GRU", "LIM", "PTY")

#: (carrier, flight number, origin) → arriving at Heathrow or Manchester.
ROUTES: dict[str, list[tuple[str, str, str]]] = {
    "GBLHR": [
        ("BA", "178", "JFK"), ("AA", "100", "JFK"), ("EK", "1", "DXB"), ("QR", "7", "DOH"),
        ("SQ", "322", "SIN"), ("AI", "111", "DEL"), ("BA", "75", "LOS"), ("KQ", "100", "NBO"),
        ("AF", "1680", "CDG"), ("KL", "1001", "AMS"), ("IB", "3166", "MAD"), ("BA", "249", "GRU"),
        ("AV", "120", "BOG"), ("BA", "2238", "LIM"), ("CM", "3", "PTY"), ("AC", "868", "YYZ"),
        ("TK", "1979", "IST"), ("LO", "281", "WAW"), ("BA", "551", "FCO"),
    ],
    "GBMNC": [
        ("EK", "17", "DXB"), ("QR", "23", "DOH"), ("SQ", "52", "SIN"), ("KL", "1071", "AMS"),
        ("TK", "1993", "IST"), ("LO", "287", "WAW"), ("IB", "3680", "MAD"), ("AA", "734", "ORD"),
    ],
}  # fmt: skip

# --- Ships and trucks -----------------------------------------------------------------------------------

#: (IMO, name, carrier, flag, loading UN/LOCODE, route countries before GB)
VESSELS: list[tuple[str, str, str, str, str, list[str]]] = [
    ("9461867", "MSC OSCAR", "MSC", "PA", "CNSHA", ["CN", "SG", "NL"]),
    ("9778791", "MAERSK EMDEN", "MAEU", "DK", "SGSIN", ["SG", "LK", "ES"]),
    ("9454448", "CMA CGM MARCO POLO", "CMDU", "GB", "CNNGB", ["CN", "MY", "FR"]),
    ("9619907", "EVER GIVEN", "EGLV", "PA", "TWKHH", ["TW", "CN", "NL"]),
    ("9398400", "SEABOARD PRIDE", "SMLU", "LR", "COCTG", ["CO", "PA", "NL"]),
    ("9307009", "COSTA RICA BRIDGE", "HLCU", "DE", "ECGYE", ["EC", "PA", "BE"]),
    ("9290000", "ATLANTIC STAR", "ACLU", "GB", "USNYC", ["US", "CA"]),
    ("9226877", "BALTIC FREIGHTER", "MSCU", "MT", "PECLL", ["PE", "EC", "PA", "ES"]),
]  # fmt: skip
#: Which vessels sail from South America (fruit and coffee).
SOUTH_AMERICAN_VESSELS = ("9398400", "9307009", "9226877")

#: Truck registration prefixes by country of the haulier, for Dover.
HAULIER_COUNTRIES = ("ES", "NL", "PL", "FR", "BE", "DE", "LT", "RO", "MA")
FERRY_FROM = {"ES": "FRCQF", "NL": "FRCQF", "PL": "FRCQF", "FR": "FRCQF", "BE": "FRDKK",
              "DE": "FRDKK", "LT": "FRDKK", "RO": "FRCQF", "MA": "FRCQF"}  # fmt: skip

# --- Goods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goods:
    """A kind of goods: HS code, words, a plausible value per kg (USD) and the packing."""

    hs: str
    description: str
    value_per_kg: float
    unit: str
    kg_per_unit: float


SEA_GOODS: dict[str, list[Goods]] = {
    "CN": [
        Goods("8471300000", "portable computers", 85.0, "CT", 12),
        Goods("6403999600", "leather footwear", 28.0, "CT", 9),
        Goods("9503007500", "plastic toys", 9.0, "CT", 7),
        Goods("8516500000", "microwave ovens", 11.0, "PK", 14),
        Goods("6110203590", "cotton jumpers", 22.0, "CT", 10),
    ],
    "SG": [Goods("8542310000", "integrated circuits", 900.0, "PK", 3)],
    "TW": [Goods("8473302000", "computer parts", 60.0, "CT", 8)],
    "US": [Goods("2204210000", "wine in bottles", 7.0, "CS", 9), Goods("3004900000", "medicaments", 140.0, "CT", 6)],
    "CO": [Goods("0803901000", "fresh bananas", 1.0, "BX", 18.1), Goods("0901110000", "green coffee beans", 4.2, "BG", 60)],
    "EC": [Goods("0803901000", "fresh bananas", 0.9, "BX", 18.1), Goods("0603110000", "fresh cut roses", 9.0, "BX", 12)],
    "PE": [Goods("0804400010", "fresh avocados", 2.4, "BX", 10), Goods("0901110000", "green coffee beans", 4.0, "BG", 60)],
}  # fmt: skip
ROAD_GOODS: dict[str, list[Goods]] = {
    "ES": [Goods("0702000007", "fresh tomatoes", 1.6, "CR", 6), Goods("0805102200", "fresh oranges", 1.1, "CR", 15),
           Goods("0709601000", "sweet peppers", 2.2, "CR", 5)],
    "MA": [Goods("0702000007", "fresh tomatoes", 1.2, "CR", 6), Goods("0709601000", "sweet peppers", 1.8, "CR", 5)],
    "NL": [Goods("0603110000", "cut flowers", 8.0, "BX", 5), Goods("9403609000", "wooden furniture", 6.0, "PK", 30)],
    "PL": [Goods("9403609000", "wooden furniture", 5.0, "PK", 35), Goods("1905901000", "biscuits", 3.5, "CT", 6)],
    "FR": [Goods("2204210000", "wine in bottles", 8.0, "CS", 9), Goods("0406900000", "cheese", 9.0, "CT", 8)],
    "BE": [Goods("1806320000", "chocolate", 12.0, "CT", 6), Goods("3401110000", "soap", 4.0, "CT", 10)],
    "DE": [Goods("8708999700", "vehicle parts", 15.0, "PK", 25), Goods("8481809900", "valves", 30.0, "PK", 12)],
    "LT": [Goods("4418999000", "builders' joinery", 3.0, "PK", 40)],
    "RO": [Goods("2402209000", "cigarettes", 45.0, "CT", 10), Goods("4407119000", "sawn pine", 0.4, "PK", 500)],
}  # fmt: skip
AIR_CARGO_GOODS: list[Goods] = [
    Goods("8517130000", "smartphones", 420.0, "CT", 5),
    Goods("3004900000", "medicaments", 160.0, "CT", 4),
    Goods("7113190000", "gold jewellery", 28000.0, "PK", 0.5),
    Goods("6204430000", "silk dresses", 90.0, "CT", 6),
    Goods("0302140000", "fresh salmon", 14.0, "BX", 20),
]
POSTAL_GOODS: list[tuple[str, str]] = [
    ("640399", "CN"), ("640411", "CN"), ("851830", "CN"), ("330499", "KR"), ("950300", "CN"),
    ("611020", "HK"), ("420221", "CN"), ("852580", "CN"), ("910211", "HK"), ("300490", "IN"),
]  # fmt: skip

# --- Traders ----------------------------------------------------------------------------------------------

#: (EORI, name) of UK importers that behave.
IMPORTERS: list[tuple[str, str]] = [
    ("GB553202734852", "Harbour Lane Trading Ltd"),
    ("GB201948374000", "Northgate Electronics plc"),
    ("GB338274659000", "Pennine Foods Ltd"),
    ("GB447281936000", "Thames Valley Retail Ltd"),
    ("GB512938475000", "Castle Home Furnishings Ltd"),
    ("GB628374910000", "Albion Fresh Produce Ltd"),
    ("GB739284756000", "Redbrick Wines Ltd"),
    ("GB846372819000", "Kestrel Medical Supplies Ltd"),
    ("GB957382910000", "Mersey Auto Parts Ltd"),
    ("GB163829475000", "Solent Garden Centres Ltd"),
]
#: Importers under investigation for undervaluation (the demo rule names them).
WATCHED_IMPORTERS: list[tuple[str, str]] = [
    ("GB771204385000", "Brightwater Footwear Imports Ltd"),
    ("GB660318270000", "Eastgate Apparel Wholesale Ltd"),
]
DECLARANTS = ("GB900100200300", "GB900400500600", "GB900700800900")

# --- People -------------------------------------------------------------------------------------------------

#: ISO alpha-3 nationality → (given names male, given names female, surnames).
NAMES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "GBR": (["JAMES", "OLIVER", "HARRY", "DAVID", "THOMAS"], ["EMMA", "SOPHIE", "CHLOE", "LUCY", "GRACE"],
            ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "EVANS", "WALKER", "HUGHES"]),
    "USA": (["MICHAEL", "JOHN", "ROBERT", "DANIEL"], ["JENNIFER", "SARAH", "JESSICA", "ASHLEY"],
            ["JOHNSON", "MILLER", "DAVIS", "GARCIA", "MARTINEZ", "ANDERSON"]),
    "BRA": (["JOAO", "PEDRO", "LUCAS", "GABRIEL"], ["ANA", "JULIANA", "MARIANA", "BEATRIZ"],
            ["SILVA", "SANTOS", "OLIVEIRA", "SOUZA", "PEREIRA", "COSTA"]),
    "COL": (["ANDRES", "CARLOS", "JUAN", "SEBASTIAN"], ["VALENTINA", "CAMILA", "DANIELA", "LAURA"],
            ["RODRIGUEZ", "GOMEZ", "LOPEZ", "GONZALEZ", "HERNANDEZ", "RAMIREZ"]),
    "PER": (["JOSE", "LUIS", "MIGUEL"], ["ROSA", "CARMEN", "LUCIA"], ["QUISPE", "FLORES", "CHAVEZ", "TORRES"]),
    "ESP": (["JAVIER", "PABLO", "ALEJANDRO"], ["LUCIA", "MARTA", "PAULA"], ["FERNANDEZ", "MORENO", "JIMENEZ", "RUIZ"]),
    "NLD": (["DAAN", "SEM", "LUCAS"], ["JULIA", "SANNE", "EMMA"], ["DE JONG", "JANSEN", "DE VRIES", "VAN DIJK"]),
    "FRA": (["LOUIS", "HUGO", "JULES"], ["LEA", "MANON", "CAMILLE"], ["MARTIN", "BERNARD", "DUBOIS", "LAURENT"]),
    "IND": (["RAHUL", "ARJUN", "VIKRAM"], ["PRIYA", "ANANYA", "DEEPA"], ["SHARMA", "PATEL", "SINGH", "KUMAR"]),
    "NGA": (["CHINEDU", "EMEKA", "TUNDE"], ["NGOZI", "AMAKA", "FUNMI"], ["OKAFOR", "ADEYEMI", "BELLO", "EZE"]),
    "POL": (["JAKUB", "PIOTR", "TOMASZ"], ["ZUZANNA", "MAJA", "ANNA"], ["NOWAK", "KOWALSKI", "WISNIEWSKI"]),
    "ARE": (["AHMED", "KHALID", "OMAR"], ["FATIMA", "MARYAM", "AISHA"], ["AL MANSOORI", "AL HASHIMI", "AL KETBI"]),
    "SGP": (["WEI", "JUN", "KAI"], ["MEI", "HUI", "LING"], ["TAN", "LIM", "LEE", "NG"]),
}  # fmt: skip
#: Nationalities travelling on a flight from each origin country (the first is the most common).
NATIONALITIES_FROM: dict[str, list[str]] = {
    "US": ["USA", "GBR"], "AE": ["GBR", "ARE", "IND"], "QA": ["GBR", "IND"], "SG": ["SGP", "GBR"],
    "IN": ["IND", "GBR"], "NG": ["NGA", "GBR"], "KE": ["GBR", "NGA"], "FR": ["FRA", "GBR"],
    "NL": ["NLD", "GBR"], "ES": ["ESP", "GBR"], "IT": ["GBR", "FRA"], "PL": ["POL", "GBR"],
    "TR": ["GBR", "NLD"], "BR": ["BRA", "GBR"], "CO": ["COL", "ESP", "GBR"], "PE": ["PER", "ESP"],
    "PA": ["COL", "USA"], "CA": ["GBR", "USA"],
}  # fmt: skip
