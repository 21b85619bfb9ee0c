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
    assert (
        wikitext_to_text("Rome ({{IPAc-en|r|oʊ|m}}; founded 753 BC) is old.")
        == "Rome (founded 753 BC) is old."
    )
    assert (
        wikitext_to_text("Achilles ({{lang|grc|Ἀχιλλεύς}}, Akhilleus, {{IPA|x}}) was")
        == "Achilles (Ἀχιλλεύς, Akhilleus) was"
    )
    assert (
        wikitext_to_text("Aristotle ({{lang|grc|Ἀριστοτέλης}} {{IPA|x}}, Aristotélēs)")
        == "Aristotle (Ἀριστοτέλης, Aristotélēs)"
    )


def test_inline_templates_keep_their_prose():
    """Templates Wikipedia renders as words inside a sentence keep them (dates and
    quantities are salient spans); the rest (infoboxes, citations, IPA) are dropped."""
    cases = {
        "Rome ({{lang|it|Roma}}) and {{lang-fr|Paris}}.": "Rome (Roma) and Paris.",
        "({{langx|grc|ἀξίωμα}})": "(ἀξίωμα)",
        "born {{birth date and age|1950|5|3|df=y}} in": "born 3 May 1950 in",
        "({{birth date|1815|12|10}} – {{death date|1852}})": "(10 December 1815 – 1852)",
        "born {{birth date|mf=yes|1905|02|02}}": "born February 2, 1905",
        "({{OldStyleDate|February 2|1905|January 20}}&nbsp;– March 6, 1982)": (
            "(February 2, 1905 – March 6, 1982)"
        ),
        "It is {{convert|5|km|mi}} long.": "It is 5 km long.",
        "From {{convert|5|to|10|km|abbr=on}}.": "From 5 to 10 km.",
        "{{As of|2020}}, the town had {{val|1234}} people.": "As of 2020, the town had 1234 people.",
        "Built {{circa|1850}}, a {{frac|1|2}} share{{snd}}sold.": "Built c. 1850, a 1/2 share – sold.",
        "{{nowrap|[[Isaac Newton|Newton]]'s}} laws{{sfn|Smith|2001|p=3}}.": "Newton's laws.",
        "{{math|1=E = mc²}} and {{nowrap|1=a=b}}": "E = mc² and a=b",  # named positional
        "{{frac|2|1|2}} cups, {{frac|4}}": "2 1/2 cups, 1/4",
        "{{val|6.022|e=23|u=mol}}": "6.022×10^23 mol",
        "({{death date and age|1852|11||1815|12|10}})": "(November 1852)",  # empty day kept
        "{{convert|6|ft|2|in|m}} tall": "6 ft 2 in tall",
        "It is, {{as of|2020|5|lc=y}}, closed.": "It is, as of May 2020, closed.",
    }
    for src, want in cases.items():
        assert wikitext_to_text(src) == want, src


def test_prose_punctuation_is_left_alone():
    """Cleanups of orphaned punctuation act only next to a dropped template, ref or file."""
    for prose in (
        "Emoticons include :) and ;) in chat.",
        "The comma , is a mark.",
        "Such as ;-) or :-) here.",
        "A tuple (1, ) in Python.",
        "Call main() first.",
    ):
        assert wikitext_to_text(prose) == prose
    assert wikitext_to_text("Ayn Rand ({{IPAc-en|a}};<ref>x</ref> born Alisa)") == "Ayn Rand (born Alisa)"
    assert wikitext_to_text("x ([[File:a.jpg|thumb]]) y") == "x y"


def test_html_entities_and_magic_words():
    assert wikitext_to_text("__NOTOC__A&nbsp;B &amp; C") == "A B & C"
