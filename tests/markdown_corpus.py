"""Markdown answers for ``markdown_blocks`` tests and the shaping benchmark.

``ANSWERS`` holds hand-written answers shaped like a model's (tables, nested lists,
fences with and without a language, quotes, raw HTML, an unterminated fence at the end)
and answers assembled from the same kinds of blocks by a seeded generator, so that every
kind meets every other kind as its neighbour. The tests check the blocks against
markdown-it-py's own block structure of the whole answer, not against expectations
written here.
"""

from __future__ import annotations

import random

HAND_WRITTEN: list[str] = [
    "# Answer\n\nHere is the **short** version.\n",
    "Plain text without any markup and without a final newline",
    "## Steps\n\n1. Install the package:\n   ```bash\n   pip install rxstream\n   ```\n"
    "2. Run the demo.\n3. Read the docs.\n\nThat's it.\n",
    "| Model | Context | Price |\n|:------|:-------:|------:|\n| small | 8k | $0.10 |\n"
    "| large | 128k | $2.00 |\n\nPrices are per million tokens.\n",
    "Before the table:\n| a | b |\n|---|---|\n| 1 | 2 |\nAfter it, no blank line.\n",
    "- fruit\n  - apple\n  - pear\n    - conference\n- vegetables\n  - leek\n\n- loose item\n\n"
    "  with a second paragraph\n- last\n",
    "```python\ndef f(x):\n    return x * 2\n```\n\n```\nno language here\n```\n",
    "~~~js\nconsole.log(`template ${x}`)\n~~~\n",
    "````markdown\n```python\nnested fence\n```\n````\n",
    "Here is code that never ends:\n\n```python\nwhile True:\n    pass\n",
    "> A quote\n> over lines\nlazily continued\n\n> Another quote\n",
    "Setext Heading\n==============\n\nSub heading\n-----------\nText.\n",
    "Some text\n***\nMore text\n___\n\n- - -\n",
    '<div align="center">\n<b>raw html</b>\n</div>\n\nAfter the HTML.\n',
    "<!-- a comment\nover two lines -->\nText after.\n",
    "<script>\nalert(1)\n</script>\n<img src=x onerror=alert(1)>\n\nHostile.\n",
    "Text\n# Heading right after\nText again\n> quote right after\n",
    "1. one\n2. two\n\n   indented paragraph of two\n\n3. three\n10. ten\n",
    "* star\n+ plus\n- dash\n",
    "Paragraph\n2. not a list (a paragraph cannot be interrupted by 2.)\n\n2. but this is one\n",
    "    indented code\n    more\n\nParagraph after.\n",
    "Title\n---\n",
    "A line with trailing spaces  \nhard break\n\n\n\nAfter three blank lines\n",
    "- [ ] todo\n- [x] done\n",
    "Mixed **bold**, *italic*, `code`, [link](https://example.com) and ![img](https://e.com/i.png).\n",
    "#Not a heading (no space)\n\n#\n\n###### Six\n",
    "Line with CRLF\r\nsecond line\r\n\r\n- item\r\n",
    "| single column |\n| --- |\n| row |\n",
    "```\nunterminated at the very end",
]

_PARAGRAPHS = [
    "Streams arrive in pieces, and each piece may end anywhere.",
    "The **first** token matters most;\nthe rest can follow at leisure.",
    "A line with `inline code` and a [link](https://example.com/docs).",
    "Numbers like 3.14 and versions like v2.0.1 stay in their paragraph.",
]
_HEADINGS = ["# Overview", "## Details", "### Step 2. Configure", "Result\n======"]
_LISTS = [
    "- one\n- two\n- three",
    "1. first\n2. second\n   - nested a\n   - nested b\n3. third",
    "* alpha\n\n* beta\n\n  continued paragraph of beta",
    "- outer\n  1. inner one\n  2. inner two\n- outer again",
]
_CODE = [
    "```python\nimport rxstream as rs\n\nprint(rs.__version__)\n```",
    "```\nplain code\n\nwith a blank line\n```",
    "~~~sh\nmake test\n~~~",
    '```json\n{"a": [1, 2, 3]}\n```',
]
_TABLES = [
    "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |",
    "Name | Value\n:--- | ---:\nx | 1\ny | 2",
]
_QUOTES = ["> Quoted wisdom.\n> Second line.", "> - a list in a quote\n> - second"]
_OTHER = ["---", "* * *", "<details>\n<summary>More</summary>\nHidden\n</details>"]


def generated(count: int = 100, seed: int = 7) -> list[str]:
    """``count`` answers of 3-9 random blocks, separated by one or two blank lines."""
    rng = random.Random(seed)
    families = [_PARAGRAPHS, _HEADINGS, _LISTS, _CODE, _TABLES, _QUOTES, _OTHER]
    answers = []
    for _ in range(count):
        blocks = [rng.choice(rng.choice(families)) for _ in range(rng.randint(3, 9))]
        text = "".join(block + "\n" * rng.choice((2, 2, 3)) for block in blocks)
        if rng.random() < 0.2:
            text += "```python\nprint('cut off mid-fence')"
        elif rng.random() < 0.3:
            text = text.rstrip("\n")
        answers.append(text)
    return answers


ANSWERS: list[str] = HAND_WRITTEN + generated()
