from pipelines.wikitext import wikitext_to_text


def test_templates_refs_files_categories_and_tables_are_removed():
    src = """{{Infobox person|name=Ada}}
'''Ada Lovelace''' (10 December 1815 – 27 November 1852)<ref name="a">{{cite web|url=x}}</ref> was an
English [[mathematician|mathematical]] writer.<ref>Plain ref</ref>
[[File:Ada.jpg|thumb|A portrait of [[Ada]]]]
== Life ==
She worked with [[Charles Babbage]] on the [[Analytical Engine#Design|engine]].<!-- comment -->
{| class="wikitable"
|-
! Year !! Event
|-
| 1843 || Notes
|}
* A list item about [http://example.org her notes]
== See also ==
* [[Something else]]
[[Category:Mathematicians]]
[[fr:Ada Lovelace]]
"""
    out = wikitext_to_text(src)
    assert out.splitlines() == [
        "Ada Lovelace (10 December 1815 – 27 November 1852) was an",
        "English mathematical writer.",
        "She worked with Charles Babbage on the engine.",
        "A list item about her notes",
    ]


def test_empty_parentheses_left_by_templates_are_dropped():
    assert wikitext_to_text("Paris ({{IPA|paʁi}}) is a city.") == "Paris is a city."
    assert wikitext_to_text("Rome ({{lang|it|Roma}}; founded 753 BC) is old.") == \
        "Rome (founded 753 BC) is old."


def test_html_entities_and_magic_words():
    assert wikitext_to_text("__NOTOC__A&nbsp;B &amp; C") == "A B & C"
