"""Countries: names, demonyms and codes as the lists write them -> ISO 3166-1 alpha-2.

Lists name a country in many ways ("Iran (Islamic Republic of)", "Iranian", "IR"); one code lets a
nationality or an issuing country on a list meet the one on a traveller's document.
"""

from __future__ import annotations

import re

_COUNTRY_TABLE = """
AF Afghanistan; Afghan|AL Albania; Albanian|DZ Algeria; Algerian|AD Andorra|AO Angola; Angolan|AG Antigua and Barbuda
AR Argentina; Argentine; Argentinian|AM Armenia; Armenian|AW Aruba|AU Australia; Australian|AT Austria; Austrian
AZ Azerbaijan; Azerbaijani|BS Bahamas; Bahamas, The; The Bahamas|BH Bahrain; Bahraini|BD Bangladesh; Bangladeshi
BB Barbados|BY Belarus; Belarusian|BE Belgium; Belgian|BZ Belize|BJ Benin|BT Bhutan|BO Bolivia; Bolivian
BA Bosnia and Herzegovina; Bosnia-Herzegovina; Bosnian|BW Botswana|BR Brazil; Brazilian|BN Brunei; Brunei Darussalam
BG Bulgaria; Bulgarian|BF Burkina Faso|BI Burundi; Burundian|CV Cabo Verde; Cape Verde|KH Cambodia; Cambodian
CM Cameroon; Cameroonian|CA Canada; Canadian|KY Cayman Islands|CF Central African Republic|TD Chad; Chadian
CL Chile; Chilean|CN China; Chinese; People's Republic of China|CO Colombia; Colombian|KM Comoros
CG Congo; Republic of the Congo; Congo, Republic of the; Congo-Brazzaville
CD Democratic Republic of the Congo; Congo, Democratic Republic of the; DRC; Congo-Kinshasa; Zaire
CR Costa Rica|CI Cote d Ivoire; Cote d'Ivoire; Ivory Coast; Ivorian|HR Croatia; Croatian|CU Cuba; Cuban
CY Cyprus; Cypriot|CZ Czech Republic; Czechia; Czech|DK Denmark; Danish|DJ Djibouti|DM Dominica
DO Dominican Republic|EC Ecuador; Ecuadorian|EG Egypt; Egyptian|SV El Salvador; Salvadoran|GQ Equatorial Guinea
ER Eritrea; Eritrean|EE Estonia; Estonian|SZ Eswatini; Swaziland|ET Ethiopia; Ethiopian|FJ Fiji|FI Finland; Finnish
FR France; French|GA Gabon; Gabonese|GM Gambia; The Gambia; Gambia, The|GE Georgia; Georgian|DE Germany; German
GH Ghana; Ghanaian|GI Gibraltar|GR Greece; Greek|GD Grenada|GT Guatemala; Guatemalan|GN Guinea; Guinean
GW Guinea-Bissau|GY Guyana|HT Haiti; Haitian|HN Honduras; Honduran
HK Hong Kong; China, Hong Kong Special Administrative Region; Hong Kong SAR|HU Hungary; Hungarian|IS Iceland
IN India; Indian|ID Indonesia; Indonesian|IR Iran; Iran (Islamic Republic of); Islamic Republic of Iran; Iranian
IQ Iraq; Iraqi|IE Ireland; Irish|IM Isle of Man; Man, Isle of|IL Israel; Israeli|IT Italy; Italian
JM Jamaica; Jamaican|JP Japan; Japanese|JE Jersey|JO Jordan; Jordanian|KZ Kazakhstan; Kazakh|KE Kenya; Kenyan
KI Kiribati|KP North Korea; Korea, North; Democratic People's Republic of Korea; DPRK; Korea, Democratic People's Republic of
KR South Korea; Korea, South; Republic of Korea; Korea, Republic of|XK Kosovo|KW Kuwait; Kuwaiti
KG Kyrgyzstan; Kyrgyz|LA Laos; Lao People's Democratic Republic|LV Latvia; Latvian|LB Lebanon; Lebanese
LS Lesotho|LR Liberia; Liberian|LY Libya; Libyan|LI Liechtenstein|LT Lithuania; Lithuanian|LU Luxembourg|MO Macau; Macao
MG Madagascar|MW Malawi|MY Malaysia; Malaysian|MV Maldives|ML Mali; Malian|MT Malta; Maltese|MH Marshall Islands
MR Mauritania; Mauritanian|MU Mauritius|MX Mexico; Mexican|FM Micronesia|MD Moldova; Republic of Moldova
MC Monaco|MN Mongolia; Mongolian|ME Montenegro|MA Morocco; Moroccan|MZ Mozambique|MM Myanmar; Burma; Burmese
NA Namibia|NR Nauru|NP Nepal; Nepalese|NL Netherlands; Dutch|AN Netherlands Antilles|NZ New Zealand|NI Nicaragua
NE Niger; Nigerien|NG Nigeria; Nigerian|MK North Macedonia; Macedonia; Macedonia, The Former Yugoslav Republic of
NO Norway; Norwegian|OM Oman; Omani|PK Pakistan; Pakistani|PW Palau
PS Palestine; State of Palestine; Palestinian; Palestinian Authority; West Bank; Gaza; Region: Gaza|PA Panama
PG Papua New Guinea|PY Paraguay|PE Peru; Peruvian|PH Philippines; Filipino|PL Poland; Polish|PT Portugal; Portuguese
QA Qatar; Qatari|RO Romania; Romanian|RU Russia; Russian Federation; Russian|RW Rwanda; Rwandan
KN Saint Kitts and Nevis|LC Saint Lucia|VC Saint Vincent and the Grenadines|WS Samoa|SM San Marino
ST Sao Tome and Principe|SA Saudi Arabia; Saudi|SN Senegal; Senegalese|RS Serbia; Serbian|SC Seychelles
SL Sierra Leone|SG Singapore; Singaporean|SK Slovakia; Slovak|SI Slovenia; Slovenian|SB Solomon Islands
SO Somalia; Somali|ZA South Africa; South African|SS South Sudan|ES Spain; Spanish|LK Sri Lanka; Sri Lankan
SD Sudan; Sudanese|SR Suriname|SE Sweden; Swedish|CH Switzerland; Swiss|SY Syria; Syrian Arab Republic; Syrian
TW Taiwan|TJ Tajikistan; Tajik|TZ Tanzania; United Republic of Tanzania|TH Thailand; Thai|TL Timor-Leste
TG Togo|TO Tonga|TT Trinidad and Tobago|TN Tunisia; Tunisian|TR Turkey; Türkiye; Turkiye; Turkish
TM Turkmenistan|UG Uganda; Ugandan|UA Ukraine; Ukrainian|AE United Arab Emirates; UAE; Emirati
GB United Kingdom; United Kingdom of Great Britain and Northern Ireland; UK; British; Great Britain
US United States; United States of America; USA; American|UY Uruguay|UZ Uzbekistan; Uzbek|VU Vanuatu
VE Venezuela; Venezuela (Bolivarian Republic of); Venezuelan|VN Vietnam; Viet Nam; Vietnamese
VG British Virgin Islands; Virgin Islands, British|YE Yemen; Yemeni|ZM Zambia|ZW Zimbabwe; Zimbabwean
"""


def _country_key(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", text.casefold().replace("ü", "u")).strip()


def _build_country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for line in _COUNTRY_TABLE.strip().splitlines():
        for item in line.split("|"):
            code, _, names = item.strip().partition(" ")
            index[code.casefold()] = code
            for name in names.split(";"):
                index[_country_key(name)] = code
    return index


_COUNTRIES = _build_country_index()


def country_code(text: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, demonym or code as lists write them, else None.

    Trailing notes ("Cabo Verde.  Previously Cape Verde.") and qualifiers ("possibly Palestinian")
    are tolerated; anything unrecognised returns None so the caller can keep the raw text.
    """
    if not text:
        return None
    raw = text.strip()
    if len(raw) == 2 and raw.isalpha():
        return raw.upper() if raw.casefold() in _COUNTRIES else None
    key = _country_key(raw)
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    key = re.sub(r"^(possibly|probably|reportedly|allegedly) ", "", key)
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    first = _country_key(re.split(r"[.(]", raw, maxsplit=1)[0])
    return _COUNTRIES.get(first)


def country_or_raw(text: str | None) -> str | None:
    """The ISO code of ``text`` where it is a known country, else the text as written (None when blank)."""
    if not text or not text.strip():
        return None
    return country_code(text) or text.strip()
