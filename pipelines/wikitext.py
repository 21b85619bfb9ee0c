"""MediaWiki markup to plain text: no templates, tables, refs, files or categories."""

from __future__ import annotations

import re

import mwparserfromhell
from mwparserfromhell.nodes import Comment, Heading, Tag, Template, Wikilink

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
_LEFTOVER = re.compile(r"\{\{.*?\}\}|\[\[|\]\]|\{\||\|\}|<ref[^>]*/>|<ref.*?</ref>|<[^>]{1,60}>",
                       re.DOTALL)
_EMPTY_PARENS = re.compile(r"\s?\(\s*[,;:]?\s*\)")
_PAREN_LEAD = re.compile(r"\(\s*[,;]\s*")
_SPACES = re.compile(r"[ \t\u00a0]+")
_TABLE_LINE = re.compile(r"^\s*(\{\||\|\}|\|-|\||!)")


def _drop(code: mwparserfromhell.wikicode.Wikicode, node: object) -> None:
    try:
        code.remove(node)
    except ValueError:  # already gone with a parent node
        pass


def wikitext_to_text(wikitext: str) -> str:
    """Readable article text, paragraphs separated by newlines."""
    cut = _TAIL_SECTIONS.search(wikitext)
    if cut:
        wikitext = wikitext[: cut.start()]
    code = mwparserfromhell.parse(_MAGIC.sub("", wikitext))
    for node in code.filter(recursive=True):
        if isinstance(node, (Template, Comment, Heading)):
            _drop(code, node)
        elif isinstance(node, Tag) and str(node.tag).strip().lower() in _DROP_TAGS:
            _drop(code, node)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip().lower()
            if title.startswith(_DROP_LINK_PREFIXES) or _INTERLANG.match(title):
                _drop(code, node)
    text = code.strip_code(normalize=True, collapse=True)
    text = _LEFTOVER.sub("", text)
    lines = []
    for line in text.splitlines():
        if _TABLE_LINE.match(line):
            continue
        line = _PAREN_LEAD.sub("(", _EMPTY_PARENS.sub("", line))
        line = _SPACES.sub(" ", line).strip()
        line = line.lstrip("*#:; ").strip() if line[:1] in "*#:;" else line
        if line:
            lines.append(line)
    return "\n".join(lines)
