"""leadrouter.inert: hostile lead text rendered by each reader (CommonMark and GFM markdown, HTML, Slack mrkdwn,
email, a rich terminal) shows as the text it was: no link, image, tag, mention, formatting or escape."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import markdown_it
import mistune
import pandas as pd
import pytest
from rich.console import Console

from leadrouter import inert

HOSTILE = {
    "markdown link": "[click](javascript:alert(1)) http://evil.example/login",
    "image": "![pixel](https://evil.example/p.png)",
    "autolink": "<https://evil.example> www.evil.example bob@evil.example",
    "reference": "[x][1] [1]: http://evil.example",
    "html": '<a href="https://evil.example">hi</a><img src=x onerror=alert(1)><script>alert(1)</script>',
    "entities": "&lt;img src=x&gt; &#106;avascript:alert(1)",
    "formatting": "*bold* **strong** _it_ ~~gone~~ `code` # head | col | > quote",
    "slack": "Ann <!channel> <@U123> <!here> @channel @here <https://evil.example|Open>",
    "ansi": "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "rtl": "Invoice \u202egpj.exe and zero\u200bwidth",
    "rich markup": "[bold red]loud[/bold red] [link=https://evil.example]here[/link]",
    "newlines": "line one\n# heading\r\n- item\u2028sep",
    "glued": "'\\x3chttps://evil.example/tel\\x3e x\\x3ewww.evil.example Xjavascript:alert(1)'",
    "ip and data": "http://10.0.0.1/x data:text/html;base64,PHNjcmlwdD4= vbscript:run",
}
CASES = list(HOSTILE.values())
IDS = list(HOSTILE)


class Tags(HTMLParser):
    """The tags and the text of an HTML fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


MARKDOWN_RENDERERS = {
    "commonmark": markdown_it.MarkdownIt("commonmark").enable("table").render,
    "gfm-like": mistune.create_markdown(plugins=["url", "table", "strikethrough"]),
}


@pytest.mark.parametrize("renderer", list(MARKDOWN_RENDERERS))
@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_markdown_renders_as_the_plain_text_only(value: str, renderer: str) -> None:
    page = Tags(MARKDOWN_RENDERERS[renderer](inert.markdown(value)))
    assert page.tags == ["p"]  # one paragraph: no link, image, emphasis, code, heading or raw HTML
    assert "".join(page.text).strip() == inert.plain(value)


@pytest.mark.parametrize("renderer", list(MARKDOWN_RENDERERS))
@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_a_markdown_table_cell_stays_one_cell(value: str, renderer: str) -> None:
    table = f"| lead | value |\n|---|---|\n| 00Q1 | {inert.markdown(value)} |\n"
    page = Tags(MARKDOWN_RENDERERS[renderer](table))
    assert page.tags.count("td") == 2 and set(page.tags) == {"table", "thead", "tbody", "tr", "th", "td"}
    assert "".join(page.text).count(inert.plain(value)) == 1


def test_defanging_is_exact() -> None:
    assert (
        inert.plain(HOSTILE["markdown link"]) == "[click](javascript[:]alert(1)) hxxp://evil[.]example/login"
    )
    assert inert.plain("HTTPS://Evil.Example ftp://files.example.org") == (
        "HxxPS://Evil[.]Example fxp://files[.]example[.]org"
    )
    assert inert.plain(HOSTILE["ip and data"]) == (
        "hxxp://10[.]0[.]0[.]1/x data[:]text/html;base64,PHNjcmlwdD4= vbscript[:]run"
    )
    assert inert.plain("mail jane.doe@acme.co.uk or münchen.de") == (
        "mail jane[.]doe@acme[.]co[.]uk or münchen[.]de"
    )
    # prose, figures and versions are left alone
    prose = "e.g. 3.5% of v1.2, Acme Inc. Data: yes; Profile: VP"
    assert inert.plain(prose) == prose
    assert inert.plain("file:///etc/passwd") == "file[:]///etc/passwd"
    # glued to a word: the Prefect UI links a scheme anywhere in a word
    assert inert.plain(HOSTILE["glued"]) == (
        "'\\x3chxxps://evil[.]example/tel\\x3e x\\x3ewww[.]evil[.]example Xjavascript[:]alert(1)'"
    )
    assert inert.plain("hxxp://evil[.]example") == "hxxp://evil[.]example"  # defanging twice changes nothing


def test_invisible_characters_are_shown_as_escapes_on_one_line() -> None:
    assert inert.plain(HOSTILE["rtl"]) == "Invoice \\u202egpj[.]exe and zero\\u200bwidth"
    assert inert.plain("a\x1b[2Jb\x00c\x7f") == "a\\x1b[2Jb\\x00c\\x7f"
    assert inert.plain(HOSTILE["newlines"]) == "line one # heading - item sep"
    assert inert.plain(None) == "" and inert.plain(float("nan")) == ""


@pytest.mark.parametrize("limit", [1, 10, 60])
def test_long_values_are_cut_with_a_marker(limit: int) -> None:
    cut = inert.plain("x" * 500, limit)
    assert cut == "x" * (limit - 1) + "…" and len(cut) == limit
    assert inert.plain("y" * limit, limit) == "y" * limit  # at the limit: whole
    marked = inert.markdown("*" * 500, limit)
    assert marked == "\\*" * (limit - 1) + "…"  # cut before escaping: no escape is ever split


@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_html_is_text_only(value: str) -> None:
    page = Tags(f"<td>{inert.html(value)}</td>")
    assert page.tags == ["td"]
    assert "".join(page.text) == inert.plain(value)


@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_slack_text_cannot_mention_link_or_format(value: str) -> None:
    text = inert.slack(value)
    assert "<" not in text and ">" not in text  # every mention, link and command needs an angle bracket
    assert not set(text) & set("*_~`")
    assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    for word in ("@channel", "@here", "@everyone", "http://", "https://", "evil.example"):
        assert word not in text.lower()


def test_slack_shows_the_text_with_look_alikes_and_links_ours() -> None:
    assert inert.slack("Ann <!channel> *VIP* @here") == "Ann &lt;!channel&gt; \u2217VIP\u2217 @\u200bhere"
    assert inert.slack_link("https://crm.example/r/00Q%2F1?a=1&b=|", "Open <it>") == (
        "<https://crm.example/r/00Q%2F1?a=1&amp;b=%7C|Open &lt;it&gt;>"
    )


@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_email_text_is_one_defanged_line(value: str) -> None:
    text = inert.email_text(value)
    assert "\n" not in text and "\r" not in text and text.isprintable()
    assert "http://" not in text and "evil.example" not in text


@pytest.mark.parametrize("value", CASES, ids=IDS)
def test_terminal_prints_the_text_without_markup_or_escapes(value: str) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system=None, width=400, highlight=False)
    console.print(f"[bold]{inert.terminal(value)}[/bold]", end="")  # as the commands print it: inside markup
    shown = out.getvalue()
    assert shown == inert.plain(value)  # every bracket shown: rich read no tag from the lead's text
    assert "\x1b" not in shown and "\u202e" not in shown


def test_terminal_keeps_our_paths_and_cuts_only_when_asked() -> None:
    assert inert.terminal("var/report/index.html", urls=True) == "var/report/index.html"
    assert inert.terminal("a" * 300) == "a" * 300
    assert inert.terminal("a" * 300, 5) == "aaaa…"


def reason(check: str, column: str, value: str, severity: str = "blocking") -> dict[str, str]:
    return {"check": check, "column": column, "value": value, "fix": f"fix {check}", "severity": severity}


def test_the_quarantine_table_has_a_column_per_fact_and_blocking_rows_first() -> None:
    from leadrouter.validate.tables import QUARANTINE_COLUMNS, quarantine_table

    evil = "'" + HOSTILE["markdown link"] + "'"
    quarantined = pd.DataFrame(
        {
            "lead_id": ["00Q2", "00Q1[x](http://a.example)"],
            "reasons": [
                [reason("email_format", "email", evil), reason("phone_valid", "phone", "'12'", "warning")],
                [
                    reason("company_present", "company", "<NA>"),
                    reason("title_present", "title", "<NA>", "warning"),
                ],
            ],
            "reason": ["summary", "summary"],
        }
    )
    rows = quarantine_table(quarantined)
    assert [list(r) for r in rows] == [QUARANTINE_COLUMNS] * 4
    first = "00Q1\\[x\\]\\(hxxp://a\\[.\\]example\\)"
    assert [(r["severity"], r["lead"], r["check"]) for r in rows] == [
        ("blocking", first, "company_present"),
        ("blocking", "00Q2", "email_format"),
        ("warning", first, "title_present"),
        ("warning", "00Q2", "phone_valid"),
    ]  # blocking failures, then warnings; by lead within each
    assert rows[1]["field"] == "email" and rows[1]["fix"] == "fix email_format"
    assert rows[1]["value"] == inert.markdown(evil, 80) and "](" not in rows[1]["value"]
    assert quarantine_table(quarantined.iloc[:0]) == []


def test_validation_samples_are_inert_markdown() -> None:
    from leadrouter.validate.tables import validation_table

    report = pd.DataFrame(
        {
            "check": ["email_format"], "column": ["email"], "severity": ["blocking"], "evaluated": [3],
            "passed": [2], "failed": [1], "error": [None],
            "sample_failures": [[{"lead_id": "<b>00Q</b>", "value": "'[a](http://evil.example)'"}]],
        }
    )  # fmt: skip
    (row,) = validation_table([report, report])
    assert (row["evaluated"], row["passed"], row["failed"]) == (6, 4, 2)
    sample = "\\<b\\>00Q\\</b\\>: '\\[a\\]\\(hxxp://evil\\[.\\]example\\)'"
    assert row["sample_failures"] == f"{sample}; {sample}" and row["error"] == ""
