"""MediaWiki markup to plain text: no tables, refs, files or categories; templates are
dropped except the inline ones that carry prose (``{{lang}}``, ``{{convert}}``, dates, ...,
see ``INLINE``), which are rendered to the text Wikipedia shows."""

from __future__ import annotations

import re

import mwparserfromhell
from mwparserfromhell.nodes import ExternalLink, HTMLEntity, Tag, Template, Text, Wikilink
from mwparserfromhell.wikicode import Wikicode

# Sections after which an article is only lists of links and citations.
_TAIL_SECTIONS = re.compile(
    r"^==\s*(See also|References|External links|Further reading|Notes|Bibliography|Sources|"
    r"Footnotes|Citations|Notes and references|References and notes)\s*==\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_DROP_TAGS = {
    "ref",
    "references",
    "table",
    "gallery",
    "math",
    "chem",
    "score",
    "timeline",
    "imagemap",
    "syntaxhighlight",
    "source",
    "pre",
    "nowiki",
    "templatedata",
    "div",
}
_DROP_LINK_PREFIXES = (
    "file:",
    "image:",
    "category:",
    "media:",
    "wikipedia:",
    "wp:",
    "help:",
    "template:",
    "portal:",
    "user:",
    "talk:",
    "special:",
    "draft:",
)
_INTERLANG = re.compile(r"^:?[a-z]{2,3}(-[a-z]+)?:")
_MAGIC = re.compile(r"__[A-Z]+__")
_LEFTOVER = re.compile(
    r"\{\{.*?\}\}|\[\[|\]\]|\{\||\|\}|<ref[^>]*/>|<ref.*?</ref>|<[^>]{1,60}>|'{2,}", re.DOTALL
)
# A dropped node (template, ref, file link) leaves this mark so that the punctuation it
# orphaned is cleaned up next to it only, never elsewhere in the prose (";)" stays).
DROPPED = "\x00"
_D = r"(?:\s|\x00)*\x00(?:\s|\x00)*"  # dropped nodes and the space around them
_EMPTY_PARENS = re.compile(r"\s?\((?:[\s,;:]|\x00)*\x00(?:[\s,;:]|\x00)*\)")
_PAREN_LEAD = re.compile(r"\(" + _D + r"[,;](?:\s|\x00)*")  # "({{IPA}}; born" -> "(born"
_PAREN_TAIL = re.compile(r"\s*[,;]" + _D + r"\)")  # "(Akhilleus, {{IPA}})" -> "(Akhilleus)"
_SPACE_PUNCT = re.compile(r"[ \t]+(?:\x00[ \t]*)+(?=[,;)])")  # "x {{IPA}}, y" -> "x, y"
_SPACES = re.compile(r"[ \t\u00a0]+")
_TABLE_LINE = re.compile(r"^\s*(\{\||\|\}|\|-|\||!)")


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+")
_RANGE = {
    "-": "–",
    "–": "–",
    "to": "to",
    "and": "and",
    "or": "or",
    "x": "×",
    "by": "by",
    "+": "+",
    "&": "and",
    "to(-)": "to",
}


def _args(t: Template) -> list[str]:
    """Positional parameters (``|x`` and ``|1=x`` alike) in order, empty ones kept,
    rendered (they may hold links and nested templates)."""
    pos = {
        int(str(p.name).strip()): _render(p.value).replace(DROPPED, "").strip()
        for p in t.params
        if str(p.name).strip().isdigit()
    }
    return [pos.get(i, "") for i in range(1, max(pos, default=0) + 1)]


def _named(t: Template, name: str) -> str:
    return _render(t.get(name).value).replace(DROPPED, "").strip() if t.has(name) else ""


def _date_words(args: list[str], mf: bool = False) -> str:
    """[year, month?, day?] -> "10 December 1815" ("December 10, 1815" with ``mf``)."""
    nums = args[:3]
    while nums and not nums[-1].isdigit():
        nums.pop()
    if not nums or not all(n.isdigit() for n in nums):
        return ""
    y, rest = nums[0], [int(n) for n in nums[1:]]
    if not rest or not 1 <= rest[0] <= 12:
        return y
    month = _MONTHS[rest[0] - 1]
    if len(rest) < 2:
        return f"{month} {y}"
    return f"{month} {rest[1]}, {y}" if mf else f"{rest[1]} {month} {y}"


def _date(t: Template) -> str:
    """{{birth date|1815|12|10}} -> 10 December 1815; with mf=yes -> December 10, 1815."""
    return _date_words(_args(t), _named(t, "mf").lower() in ("y", "yes"))


def _convert(t: Template) -> str:
    """{{convert|5|km|mi}} -> 5 km; {{convert|5|to|10|km}} -> 5 to 10 km;
    {{convert|6|ft|2|in}} -> 6 ft 2 in."""
    a = _args(t)
    if len(a) >= 4 and a[1] in _RANGE:
        return f"{a[0]} {_RANGE[a[1]]} {a[2]} {a[3]}"
    if len(a) >= 4 and _NUMBER.fullmatch(a[2]):
        return " ".join(a[:4])
    return " ".join(a[:2])


def _val(t: Template) -> str:
    """{{val|6.022|e=23|u=mol}} -> 6.022×10^23 mol."""
    a = _args(t)
    if not a:
        return ""
    e, unit = _named(t, "e"), _named(t, "u") or _named(t, "ul")
    return a[0] + (f"×10^{e}" if e else "") + (f" {unit}" if unit else "")


def _frac(t: Template) -> str:
    """{{frac|2|1|2}} -> 2 1/2; {{frac|1|2}} -> 1/2; {{frac|4}} -> 1/4."""
    a = [x for x in _args(t) if x]
    return {1: lambda: f"1/{a[0]}", 2: lambda: f"{a[0]}/{a[1]}", 3: lambda: f"{a[0]} {a[1]}/{a[2]}"}.get(
        len(a), lambda: ""
    )()


def _as_of(t: Template) -> str:
    """{{as of|2020|5}} -> As of May 2020 (lc=y: "as of")."""
    words = _date_words(_args(t))
    if not words:
        return ""
    return ("as of " if _named(t, "lc").lower() in ("y", "yes") else "As of ") + words


def _arg(i: int, fmt: str = "{}"):
    def render(t: Template) -> str:
        a = _args(t)
        return fmt.format(a[i]) if len(a) > i and a[i] else ""

    return render


def _last(t: Template) -> str:
    a = _args(t)
    return a[-1] if a else ""


# Inline templates whose text is prose, by lower-case name; every other template is dropped.
INLINE = {
    "lang": _arg(1),
    "langx": _arg(1),
    "transl": _last,
    "transliteration": _last,
    "nowrap": _arg(0),
    "nobr": _arg(0),
    "small": _arg(0),
    "smaller": _arg(0),
    "big": _arg(0),
    "em": _arg(0),
    "strong": _arg(0),
    "abbr": _arg(0),
    "math": _arg(0),
    "mvar": _arg(0),
    "convert": _convert,
    "cvt": _convert,
    "val": _val,
    "as of": _as_of,
    "circa": _arg(0, "c. {}"),
    "c.": _arg(0, "c. {}"),
    "us$": _arg(0, "US${}"),
    "frac": _frac,
    "birth date": _date,
    "birth date and age": _date,
    "death date": _date,
    "death date and age": _date,
    "start date": _date,
    "end date": _date,
    "start date and age": _date,
    "date": _arg(0),
    "oldstyledate": lambda t: ", ".join(_args(t)[:2]),
    "ndash": lambda t: "–",
    "mdash": lambda t: "—",
    "snd": lambda t: " – ",
    "spaced ndash": lambda t: " – ",
    "'": lambda t: "'",
}


def _template(t: Template) -> str:
    name = str(t.name).strip().lower().replace("_", " ")
    if name.startswith("lang-"):  # {{lang-fr|Paris}}
        return _arg(0)(t) or DROPPED
    render = INLINE.get(name)
    return (render(t) if render else "") or DROPPED


def _render(code: Wikicode) -> str:
    """Plain text of a node list, skipping what is not prose. One pass, no tree edits."""
    out: list[str] = []
    for node in code.nodes:
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip()
            if title.lower().startswith(_DROP_LINK_PREFIXES) or _INTERLANG.match(title.lower()):
                out.append(DROPPED)
                continue
            out.append(_render(node.text) if node.text is not None else title.split("#")[0])
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                out.append(_render(node.title))
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag in _DROP_TAGS:
                out.append(DROPPED)
                continue
            if tag == "br":
                out.append(" ")
            elif node.contents is not None and not node.self_closing:
                out.append(_render(node.contents))
        elif isinstance(node, Template):
            out.append(_template(node))
        # Comment, Heading, Argument: not prose, dropped.
    return "".join(out)


def wikitext_to_text(wikitext: str) -> str:
    """Readable article text, paragraphs separated by newlines."""
    cut = _TAIL_SECTIONS.search(wikitext)
    if cut:
        wikitext = wikitext[: cut.start()]
    text = _render(mwparserfromhell.parse(_MAGIC.sub("", wikitext)))
    text = _LEFTOVER.sub("", text)
    lines = []
    for line in text.splitlines():
        if _TABLE_LINE.match(line):
            continue
        line = _PAREN_LEAD.sub("(", _EMPTY_PARENS.sub("", _PAREN_TAIL.sub(")", line)))
        line = _SPACE_PUNCT.sub("", line).replace(DROPPED, "")
        line = _SPACES.sub(" ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)
