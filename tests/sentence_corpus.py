"""The project's sentence-splitting corpus: (category, text, expected sentences).

Used by the tests (whole text and re-chunked must agree with the expectation) and by the
``shaping`` benchmark (accuracy against other splitters).
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    category: str
    text: str
    expected: list[str]


def said(category: str, *sentences: str) -> Case:
    """A case whose text is its sentences joined by single spaces."""
    return Case(category, " ".join(sentences), list(sentences))


CORPUS: list[Case] = [
    # -- plain prose ------------------------------------------------------------------
    said("basic", "Hello world.", "How are you?", "I'm fine!"),
    said("basic", "This is one sentence."),
    said("basic", "First.", "Second.", "Third."),
    said("basic", "Streams are fun.", "Reactive streams are more fun."),
    said("basic", "It works!", "Does it?", "Yes."),
    said("basic", "The answer is 42.", "That settles it."),
    said("basic", "A short one.", "B is next.", "C comes last."),
    said("basic", "Emoji are fine 🎉.", "So is ünïcödé."),
    said("basic", "She said yes.", "He said no."),
    Case("basic", "Trailing text without a stop", ["Trailing text without a stop"]),
    Case(
        "basic",
        "  Leading and trailing spaces.   Are stripped.  ",
        ["Leading and trailing spaces.", "Are stripped."],
    ),
    Case(
        "basic",
        "Lowercase after a stop. is not a new sentence.",
        ["Lowercase after a stop. is not a new sentence."],
    ),
    # -- abbreviations and titles ---------------------------------------------------------
    said("abbreviation", "Mr. Smith went to Washington.", "He met Dr. Jones."),
    said("abbreviation", "Mrs. Brown and Ms. Green arrived.", "They sat down."),
    said("abbreviation", "Prof. Lee teaches math.", "Students like her."),
    said("abbreviation", "We met at St. Mary's church.", "It was cold."),
    said("abbreviation", "Use a tool, e.g. a hammer.", "Then stop."),
    said("abbreviation", "Pick one, i.e. the first.", "Done."),
    said("abbreviation", "Cats vs. dogs is old.", "Birds win."),
    said("abbreviation", "Bring fruit, bread, etc.", "Then we eat."),
    said("abbreviation", "Bring fruit, bread, etc. and water."),
    said("abbreviation", "I work at Acme Inc.", "It is nice."),
    said("abbreviation", "Acme Inc. Headquarters moved."),
    said("abbreviation", "I live in the U.S.", "It is big."),
    said("abbreviation", "The U.S. Army is large."),
    said("abbreviation", "Gen. Grant won.", "Col. Sanders cooked."),
    said("abbreviation", "See Fig. 3 for the plot.", "It is clear."),
    said("abbreviation", "Read No. 5 first.", "Then No. 6."),
    said("abbreviation", "Smith et al. found it.", "They were right."),
    said("abbreviation", "Approx. ten people came.", "Few stayed."),
    said("abbreviation", "Meet Rev. King at noon.", "Be on time."),
    # -- times ---------------------------------------------------------------------------
    said("time", "We left at 5 p.m.", "Then we slept."),
    said("time", "We left at 5 p.m. on Friday."),
    said("time", "Wake up at 6 a.m.", "It is early."),
    said("time", "Call at 9 a.m. or later."),
    # -- initials --------------------------------------------------------------------------
    said("initials", "J. R. R. Tolkien wrote books.", "They are long."),
    said("initials", "George W. Bush spoke.", "People listened."),
    said("initials", "Written by J. K. Rowling.", "It sold well."),
    said("initials", "We chose plan B.", "Then it worked."),
    said("initials", "H. G. Wells wrote it."),
    said("initials", "Ask E. Smith about it.", "She knows."),
    # -- numbers, versions, addresses ------------------------------------------------------
    said("number", "Pi is 3.14.", "E is 2.718."),
    said("number", "Version v2.0.1 is out.", "Upgrade now."),
    said("number", "Ping 10.0.0.1 now.", "Then ping 192.168.1.1."),
    said("number", "It costs $4.99.", "That is cheap."),
    said("number", "Python 3.11.7 is installed.", "Good."),
    said("number", "The ratio is 0.5 exactly.", "Nice."),
    said("number", "Growth was 12.5% in 2023.", "It slowed in 2024."),
    said("number", "In 2023.", "Things changed."),
    said("number", "Set timeout=1.5 and retry.", "It helps."),
    said("number", "Section 4.2.1 explains it.", "Read it."),
    # -- ellipses --------------------------------------------------------------------------
    said("ellipsis", "Wait... what?", "Oh no."),
    said("ellipsis", "I waited...", "Then I left."),
    said("ellipsis", "Well… maybe not.", "Who knows."),
    said("ellipsis", "It was... interesting."),
    said("ellipsis", "And then…", "Silence."),
    said("ellipsis", "So... it begins."),
    # -- closing quotes and brackets -------------------------------------------------------
    said("quotes", 'He said "Stop."', "Then he left."),
    said("quotes", "(See above.)", "Next part."),
    said("quotes", "“Go home.”", "She went."),
    said("quotes", "It is ‘done.’", "Finally."),
    said("quotes", '"Why?" she asked.', "Nobody knew."),
    said("quotes", "[Citation needed.]", "Moving on."),
    said("quotes", '"Really?!" he shouted.', "Yes."),
    said("quotes", "He said «Bonjour.»", "She smiled."),
    said("quotes", "**Note.**", "Read this first."),
    said("quotes", '"Hi," he said.', '"Hello."'),
    # -- ?! runs ---------------------------------------------------------------------------
    said("punctuation", "Really?!", "Yes."),
    said("punctuation", "What?!?", "No way!!!"),
    said("punctuation", "Stop!", "Now!"),
    said("punctuation", "Is it?", "Is it really?"),
    said("punctuation", "Go!!", "Run!!"),
    # -- URLs, e-mails, file names ---------------------------------------------------------
    said("url", "Visit https://example.com/a.b?c=d.", "Then come back."),
    said("url", "Go to www.example.org.", "It loads."),
    said("url", "The docs live at docs.python.org/3/library.", "Read them."),
    said("url", "Mail me at john.doe@example.com.", "I reply fast."),
    said("url", "Write to a.b@c.co.uk today."),
    said("url", "Edit main.py.", "Then run it."),
    said("url", "Open config.yaml and set debug.", "Save it."),
    said("url", "The file README.md explains it.", "Read it."),
    said("url", "See http://127.0.0.1:8000/v1/chat.", "It streams."),
    said("url", "Install rxstream-0.1.0.tar.gz now."),
    # -- numbered lists ----------------------------------------------------------------------
    Case("list", "Steps:\n1. Install it.\n2. Run it.", ["Steps:", "1. Install it.", "2. Run it."]),
    Case("list", "1. First\n2. Second\n3. Third", ["1. First", "2. Second", "3. Third"]),
    Case(
        "list",
        "10. Tenth item is here.\n11. Eleventh.",
        ["10. Tenth item is here.", "11. Eleventh."],
    ),
    Case(
        "list",
        "Do this:\n 1. Open it. Read it.\n 2. Close it.",
        ["Do this:", "1. Open it.", "Read it.", "2. Close it."],
    ),
    Case("list", "1) Alpha\n2) Beta", ["1) Alpha", "2) Beta"]),
    Case("list", "Intro.\n1. Body.", ["Intro.", "1. Body."]),
    # -- newlines and blank lines ----------------------------------------------------------
    Case("newline", "Line one\nLine two", ["Line one", "Line two"]),
    Case("newline", "Para one.\n\nPara two.", ["Para one.", "Para two."]),
    Case("newline", "A\n\n\n\nB", ["A", "B"]),
    Case("newline", "Ends with newline.\n", ["Ends with newline."]),
    Case("newline", "Windows\r\nline ends\r\n", ["Windows", "line ends"]),
    Case("newline", "\n\nLeading blank lines.", ["Leading blank lines."]),
    # -- markdown ----------------------------------------------------------------------------
    Case("markdown", "# Title\nSome text.", ["# Title", "Some text."]),
    Case("markdown", "## Setup\n- install\n- configure", ["## Setup", "- install", "- configure"]),
    Case("markdown", "* one. two\n* three", ["* one. two", "* three"]),
    Case("markdown", "> A quote. More.\nAfter.", ["> A quote.", "More.", "After."]),
    Case("markdown", "### Done!\nNext.", ["### Done!", "Next."]),
    Case("markdown", "Text **bold.** More.", ["Text **bold.**", "More."]),
    # -- fenced code -------------------------------------------------------------------------
    Case(
        "code",
        "Here:\n```python\nx = 1. y = 2\nprint('Hi. There.')\n```\nDone.",
        ["Here:", "```python\nx = 1. y = 2\nprint('Hi. There.')\n```", "Done."],
    ),
    Case("code", "```\na. B. c!\n```", ["```\na. B. c!\n```"]),
    Case(
        "code",
        "Run:\n```sh\nmake test\n```\n\nThen relax.",
        ["Run:", "```sh\nmake test\n```", "Then relax."],
    ),
    Case(
        "code",
        "```js\nif (a) { b(); }\n\nc();\n```\nOk.",
        ["```js\nif (a) { b(); }\n\nc();\n```", "Ok."],
    ),
    Case("code", "Unclosed:\n```\nstill code. Yes.", ["Unclosed:", "```\nstill code. Yes."]),
    Case(
        "code", "Inline ```not a fence``` here. Next.", ["Inline ```not a fence``` here.", "Next."]
    ),
    # -- CJK -----------------------------------------------------------------------------------
    Case("cjk", "你好。我是小明！你呢？", ["你好。", "我是小明！", "你呢？"]),
    Case("cjk", "今日は晴れです。明日は雨です。", ["今日は晴れです。", "明日は雨です。"]),
    Case("cjk", "他说：“你好。”然后走了。", ["他说：“你好。”", "然后走了。"]),
    Case("cjk", "好！！真的吗？？", ["好！！", "真的吗？？"]),
    Case("cjk", "これはペンです。This is English.", ["これはペンです。", "This is English."]),
    Case("cjk", "「はい。」と言った。", ["「はい。」", "と言った。"]),
    # -- Spanish -------------------------------------------------------------------------------
    said("spanish", "¿Qué hora es?", "Son las tres."),
    said("spanish", "¡Hola!", "¿Cómo estás?"),
    said("spanish", "Estoy bien.", "¿Y tú?"),
    said("spanish", "¡Qué bien!", "Me alegro."),
    said("spanish", "El Sr. García llegó.", "¿Quién es?"),
    said("spanish", "¿Vienes?", "¡Claro que sí!"),
]
