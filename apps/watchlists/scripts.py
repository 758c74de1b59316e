"""Names in other scripts: titles stripped, letters folded, and the Latin spellings a name may take.

The matcher compares names as ASCII tokens (``anyascii``): a Cyrillic, Greek or Devanagari name keeps
its vowels and reads much as its bearer's passport prints it. Two scripts need more:

* **Arabic and Persian** write few vowels, so ``محمد`` becomes ``mhmd``, which alone is almost nothing
  to go on. Before transliteration the letter variants that carry no identity (hamza seats, alef
  maqsura, ta marbuta, Persian yeh and keheh, vowel marks, tatweel) are folded, so two Arabic-script
  spellings compare letter for letter. The letters that do stand for vowels are kept as vowels
  (:func:`arabic_vowel_letters`: alif and ayin as ``a``), where ``anyascii`` drops them: ``علي`` is
  ``aly``, close to "Ali", not a bare ``ly``. Common name words are then given their usual Latin spellings
  (:func:`romanisations`), several where usage differs ("Hossein" in Iran, "Husayn" in transliteration,
  "Hussein" in the press); the rest keep their consonant skeleton (see ``matching``).
* **Chinese** characters carry no spaces and several readings: the family name (one character, or two
  for the compound surnames) is split from the given name, and the Pinyin readings the family name
  takes as a family name (``曾`` is "Zeng" as a surname, "Ceng" elsewhere) and the Wade-Giles
  spelling of the whole name (Taiwan, Hong Kong, older documents: "Tseng Hsiao-ming") are offered as
  further spellings. A name written with a space between its parts (as Japanese names are) is left
  as written.

Titles and forms of address that records carry before a name (``السيد``, ``جناب آقای``, ``г-н``,
``श्री``) are dropped before anything else, so they never count as a name part.
"""

# ruff: noqa: RUF001, RUF002 -- letters of other scripts are this module's data, not look-alikes.
from __future__ import annotations

import itertools
import re
import unicodedata
from functools import lru_cache

__all__ = [
    "arabic_vowel_letters",
    "fold_arabic",
    "has_arabic",
    "has_han",
    "romanisations",
    "split_han",
    "strip_titles",
]

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_HAN = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]")
_KANA = re.compile(r"[\u3040-\u30FF]")

#: Forms of address and titles in other scripts, as whole words (Arabic already folded).
_TITLE_WORDS = """
    السيد السيده الاستاذ الاستاذه الدكتور الدكتوره المهندس المهندسه الانسه الشيخ الحاج السيدة
    سيد سيده استاذ دكتور مهندس انسه حاج
    جناب اقاي اقا سركار خانم دكتر مهندس
    מר גב גברת ד״ר דר פרופ עו״ד
    г-н г-жа господин госпожа пан пані д-р проф
    κ κος κα δρ
    श्री श्रीमती सुश्री डॉ संमानित
    জনাব জনাবা ডঃ ডা
    นาย นาง นางสาว ดร
    ბატონი ქალბატონი
    պարոն տիկին
    """
_TITLES = frozenset(_TITLE_WORDS.split())

_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ی": "ي", "ې": "ي", "ئ": "ي", "ؤ": "و",
        "ة": "ه", "ۀ": "ه", "ک": "ك", "ڪ": "ك", "ـ": None, "ء": None, "\u200c": " ", "\u200d": None,
    }
)  # fmt: skip


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def has_han(text: str) -> bool:
    return bool(_HAN.search(text)) and not _KANA.search(text)


def fold_arabic(text: str) -> str:
    """Arabic and Persian letters folded to one form each; vowel marks and tatweel dropped."""
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFKC", text.translate(_ARABIC_FOLD))
    return text.translate(_ARABIC_FOLD)


#: Letters anyascii leaves out that a name's Latin spelling keeps: alif is a long "a" (the article
#: "al", "Aswad", "Ali" as "aly"), and ayin is most often romanised as a vowel ("Abbas", "Saad", "Jafar").
_ARABIC_VOWEL_LETTERS = str.maketrans({"ا": "a", "ع": "a"})


def arabic_vowel_letters(text: str) -> str:
    """Arabic letters that stand for vowels in names written as Latin ``a`` (text already folded)."""
    return text.translate(_ARABIC_VOWEL_LETTERS)


def strip_titles(name: str) -> str:
    """``name`` without leading or trailing titles and forms of address written in another script."""
    if name.isascii():
        return name
    words = name.split()
    folded = [fold_arabic(w).strip(".,'’\"") if has_arabic(w) else w.casefold().strip(".,") for w in words]
    keep = [w for w, f in zip(words, folded, strict=True) if f not in _TITLES]
    return " ".join(keep) if keep else name


# --- Arabic and Persian: usual Latin spellings of common name words ----------------------------------------

_ARABIC_NAMES = """
محمد muhammad mohamed|احمد ahmad ahmed|محمود mahmud mahmoud|مصطفي mustafa|علي ali|حسن hasan hassan
حسين husayn hussein hossein|عبد abd abdul|الله allah|عبدالله abdullah abdallah
عبدالرحمن abdulrahman abdelrahman|عبدالعزيز abdulaziz|عبدالكريم abdulkarim|عبدالرحيم abdulrahim
عبدالقادر abdulqadir abdelkader|عبدالحميد abdulhamid|عبدالمجيد abdulmajid|عبدالناصر abdulnasser
عمر umar omar|عثمان uthman osman|خالد khalid khaled|يوسف yusuf youssef|ابراهيم ibrahim|اسماعيل ismail
صالح salih saleh|سعيد said saeed|كريم karim|جمال jamal|ناصر nasir nasser|راشد rashid|حامد hamid
حميد hamid humaid|ماجد majid|فاطمه fatima fatemeh|عايشه aisha|عائشه aisha|زينب zaynab zeinab|مريم maryam
رضا reza rida|مهدي mahdi mehdi|غلام ghulam gholam|زهرا zahra|زهراء zahra|امين amin|سليمان sulayman suleiman
سلمان salman|طارق tariq tarek|زياد ziad|وليد walid|بكر bakr|جعفر jafar|عباس abbas|هادي hadi|نور nur noor
عادل adil adel|فيصل faisal|منصور mansur mansour|سامي sami|هاشم hashim hashem|ياسر yasir yasser|ابو abu
بن bin|بنت bint|قاسم qasim qassem|جواد jawad javad|رحيم rahim|رحمن rahman|نصر nasr|سيد sayyid seyed
محسن muhsin mohsen|مرتضي murtada morteza|مجتبي mujtaba mojtaba|اكبر akbar|اصغر asghar|امير amir
حبيب habib|عزيز aziz|شريف sharif|لطيف latif|منير munir|بشير bashir|نذير nazir|حمزه hamza|طاهر tahir
ظاهر zahir|صادق sadiq sadegh|كاظم kazim kazem|رسول rasul|حيدر haydar heidar|جلال jalal|كمال kamal
فريد farid|خليل khalil|نبيل nabil|وائل wael|وايل wael|ايمن ayman|اسامه usama osama|انور anwar|سمير samir
سعد saad|سعود saud|فهد fahd|تركي turki|بندر bandar|نايف nayef|مشعل mishal|سلطان sultan|ناديه nadia
ليلي layla|سلمي salma|هند hind|امل amal|نوره nora|نورا nora|عليرضا alireza|محمدرضا mohammadreza
محمدعلي mohammadali|حسينعلي hosseinali|علياكبر aliakbar|رستم rustam|بهرام bahram|داود dawud davoud
موسي musa|عيسي isa|هارون harun|يحيي yahya|ادريس idris|الياس ilyas|يونس yunus|نوح nuh|ايوب ayyub
انس anas|بلال bilal|معاذ muadh|اسامة usama|شهاب shihab|جميل jamil|رياض riyad riad|عماد imad emad
"""


def _table(text: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for item in text.replace("\n", "|").split("|"):
        if item.strip():
            word, *latin = item.split()
            out[fold_arabic(word)] = tuple(latin)
    return out


_ARABIC_TABLE = _table(_ARABIC_NAMES)
#: Spellings tried per name at most (each is scored; the best counts).
MAX_SPELLINGS = 6


def _arabic_spellings(name: str) -> list[str]:
    words = fold_arabic(name).split()
    options: list[tuple[str, ...]] = []
    known = False
    for w in words:
        bare = w[2:] if w.startswith("ال") and len(w) > 3 else w
        if w in _ARABIC_TABLE:
            options.append(_ARABIC_TABLE[w])
            known = True
        elif bare in _ARABIC_TABLE:  # "الحسن" -> "al hasan"
            options.append(tuple(f"al {x}" for x in _ARABIC_TABLE[bare]))
            known = True
        else:
            options.append((w,))
    if not known:
        return []
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), MAX_SPELLINGS)]


# --- Chinese -----------------------------------------------------------------------------------------------

_COMPOUND_SURNAME_TEXT = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 澹台 歐陽 司馬 諸葛"
)
_COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAME_TEXT.split())


#: Family names read otherwise as family names than in ordinary words (the reading a dictionary gives
#: first): "曾" is Zeng as a name, Ceng elsewhere.
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "單": "shan", "仇": "qiu", "区": "ou", "區": "ou", "解": "xie", "朴": "piao",
    "查": "zha", "盖": "ge", "蓋": "ge", "缪": "miao", "繆": "miao", "乐": "yue", "樂": "yue", "覃": "qin",
    "翟": "zhai", "秘": "bi", "冼": "xian", "燕": "yan", "种": "chong", "重": "chong", "繁": "po", "折": "she",
    "宿": "su", "华": "hua", "華": "hua", "沈": "shen", "石": "shi", "贾": "jia", "賈": "jia", "葛": "ge",
    "纪": "ji", "紀": "ji", "过": "guo", "過": "guo", "卜": "bu", "阚": "kan", "闞": "kan", "尉迟": "yuchi",
    "万俟": "moqi", "长孙": "zhangsun", "長孫": "zhangsun", "藏": "zang", "都": "du", "六": "lu", "薄": "bo",
    "员": "yun", "員": "yun", "车": "che", "車": "che", "任": "ren", "柏": "bai", "牟": "mou", "黑": "he",
}  # fmt: skip


def split_han(word: str) -> tuple[str, str] | None:
    """(family name, given name) of a Chinese name written without a space, family name first."""
    chars = [c for c in word if _HAN.match(c)]
    if not 2 <= len(chars) <= 4 or len(chars) != len(word):
        return None
    cut = 2 if word[:2] in _COMPOUND_SURNAMES and len(word) > 2 else 1
    return word[:cut], word[cut:]


def _han_spellings(name: str) -> list[str]:
    """Pinyin with the family name read as a family name, and Wade-Giles, of a one-word Chinese name."""
    try:
        from anyascii import anyascii
        from pypinyin import Style, lazy_pinyin
    except ImportError:  # the default reading (anyascii) still applies
        return []
    words = name.split()
    parts = split_han(words[0]) if len(words) == 1 else None
    if parts is None:  # written with a space (Japanese style) or not a name of 2-4 characters
        return []
    family, given = parts
    given_py = "".join(lazy_pinyin(given, style=Style.NORMAL))
    family_py = _SURNAME_READINGS.get(family) or "".join(lazy_pinyin(family, style=Style.NORMAL))
    out = [f"{family_py} {given_py}"]
    wg = [anyascii(s).casefold().replace("'", "") for s in lazy_pinyin(name, style=Style.WADEGILES)]
    cut = len(family)
    out.append(" ".join(["".join(wg[:cut]), "".join(wg[cut:])]))
    return out


@lru_cache(maxsize=50_000)
def romanisations(name: str) -> tuple[str, ...]:
    """Further Latin spellings of a name written in Arabic, Persian or Chinese script (may be empty).

    The default transliteration is not among them; each is a whole name to tokenise and score.
    """
    if name.isascii():
        return ()
    found: list[str] = []
    if has_arabic(name):
        found += _arabic_spellings(strip_titles(name))
    if has_han(name):
        found += _han_spellings(strip_titles(name))
    seen: set[str] = set()
    unique = []
    for spelling in found:
        if spelling not in seen:
            seen.add(spelling)
            unique.append(spelling)
    return tuple(unique[:MAX_SPELLINGS])
