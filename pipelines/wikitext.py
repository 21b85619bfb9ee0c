"""MediaWiki markup to plain text: no templates, tables, refs, files or categories."""

from __future__ import annotations

import re

import mwparserfromhell
from mwparserfromhell.nodes import ExternalLink, HTMLEntity, Tag, Text, Wikilink
from mwparserfromhell.wikicode import Wikicode

# Sections after which an article is only lists of links and citations.
_TAIL_SECTIONS = re.compile(
    r"^==\s*(See also|References|External links|Further reading|Notes|Bibliography|Sources|"
    r"Footnotes|Citations|Notes and references|References and notes)\s*==\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_DROP_TAGS = {"ref", "references", "table", "gallery", "math", "chem", "score", "timeline",
              "imagemap", "syntaxhighlight", "source", "pre", "nowiki", "templatedata", "div"}
_DROP_LINK_PREFIXES = ("file:", "image:", "category:", "media:", "wikipedia:", "wp:", "help:",
                       "template:", "portal:", "user:", "talk:", "special:", "draft:")
_INTERLANG = re.compile(r"^:?[a-z]{2,3}(-[a-z]+)?:")
_MAGIC = re.compile(r"__[A-Z]+__")
_LEFTOVER = re.compile(r"\{\{.*?\}\}|\[\[|\]\]|\{\||\|\}|<ref[^>]*/>|<ref.*?</ref>|<[^>]{1,60}>|'{2,}",
                       re.DOTALL)
_EMPTY_PARENS = re.compile(r"\s?\(\s*[,;:]?\s*\)")
_PAREN_LEAD = re.compile(r"\(\s*[,;]\s*")
_SPACES = re.compile(r"[ \t\u00a0]+")
_TABLE_LINE = re.compile(r"^\s*(\{\||\|\}|\|-|\||!)")


def _render(code: Wikicode) -> str:
    """Plain text of a node list, skipping what is not prose. One pass, no tree edits."""
    out: list[str] = []
    for node in code.nodes:
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip()
            if title.lower().startswith(_DROP_LINK_PREFIXES) or _INTERLANG.match(title.lower()):
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
                continue
            if tag == "br":
                out.append(" ")
            elif node.contents is not None and not node.self_closing:
                out.append(_render(node.contents))
        # Template, Comment, Heading, Argument: not prose, dropped.
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
        line = _PAREN_LEAD.sub("(", _EMPTY_PARENS.sub("", line))
        line = _SPACES.sub(" ", line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)
