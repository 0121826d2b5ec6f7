"""What the sentence splitter knows about each language: abbreviations, openers, months.

Every list applies at once unless the user narrows it with ``language=``: a voice
application does not know which language the model will answer in, and the lists barely
conflict. Where they do (Spanish ``Sr.`` is a title, English ``Sr.`` may end a sentence),
the title wins, because a title before a name is far more common than a suffix at a
sentence's end.

All entries are lower case, without the final dot; inner dots stay (``z.b``, ``т.е``).
Multi-part abbreviations written with spaces (``d. h.``) are looked up joined (``d.h``).
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["en", "es", "de", "fr", "it", "pt", "nl", "ru", "zh", "ja", "ko", "hi", "ar"]
LANGUAGES: Final[tuple[Language, ...]] = (
    "en", "es", "de", "fr", "it", "pt", "nl", "ru", "zh", "ja", "ko", "hi", "ar",
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEVER_END: Final[dict[Language, frozenset[str]]] = {
    # Titles and inner abbreviations: a "." after them never ends a sentence.
    "en": _words(
        "mr mrs ms mx dr prof st mt rev fr gen col lt capt sgt maj gov sen rep hon pres "
        "supt e.g i.e cf vs viz approx esp incl dept ca messrs mmes adm cmdr"
    ),
    "es": _words(
        "sr sra srta sres dr dra lic lda ing prof profa ud uds vd vds dña excmo excma "
        "p.ej aprox av avda arq mtro mtra sto sta"
    ),
    "de": _words(
        "z.b d.h u.a bzw evtl ggf inkl hr hrn fr frl dr prof str vgl s.o s.u o.ä u.ä "
        "z.t u.u i.d.r sog ca dipl.-ing"
    ),
    "fr": _words("mm mme mmes mlle mlles mgr dr pr st ste cf p.ex env av bd vol chap"),
    "it": _words("sig sigg sig.ra sig.na dott dott.ssa avv ing prof geom rag arch mons"),
    "pt": _words("sr sra srta dr dra prof profa exmo exma v.exa sto sta av eng arq"),
    "nl": _words("dhr mevr mw drs ir mr prof bijv bv d.w.z o.a m.b.t i.p.v t.a.v z.g.a ca"),
    "ru": _words("т.е т.к т.н т.ч ул им проф акад доц см стр напр г-н г-жа"),
    "zh": frozenset(),
    "ja": frozenset(),
    "ko": frozenset(),
    "hi": _words("डॉ प्रो श्रीमती सं"),
    "ar": _words("د أ.د م.م"),
}

MAY_END: Final[dict[Language, frozenset[str]]] = {
    # Often the last word of a sentence: it ends when the next word is capitalised.
    "en": _words("etc inc ltd co corp llc jr al bros a.m p.m"),
    "es": _words("etc cía"),
    "de": _words("usw etc u.s.w u.v.m"),
    "fr": _words("etc cie"),
    "it": _words("ecc etc"),
    "pt": _words("etc cia lda"),
    "nl": _words("enz etc e.d"),
    "ru": _words("т.д т.п др пр"),
    "zh": frozenset(),
    "ja": frozenset(),
    "ko": frozenset(),
    "hi": frozenset(),
    "ar": frozenset(),
}

BEFORE_NUMBER: Final = _words(
    # "No. 5", "Fig. 3", "S. 12", "Nr. 4", "pág. 7": no end when a number follows.
    "no nos nr nrs núm n.º nº vol vols fig figs p pp art sec ch eq ex op ed ref tab s bd "
    "kap abs hft pág págs pag pagg cap num blz afb hfdst гл стр рис ст п т №"
)

MONTHS: Final = _words(
    # Month (and, capitalised, weekday) abbreviations: no end before a number or a month.
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "mär okt dez "
    "janv févr avr juil déc "
    "ene abr dic "
    "gen giu lug ott "
    "fev "
    "mrt "
    "янв февр апр июн июл авг сент окт нояб дек"
)
UNITS: Final = _words(
    # After a number, "5 ft. tall", "2 Mio. Euro": the sentence ends only before an opener.
    "ft in oz lb lbs yd yds hr hrs min mins sec secs mio mrd tsd std sek mln млн млрд тыс"
)
WEEKDAYS: Final = _words("Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun")

MONTH_NAMES: Final = _words(
    # Capitalised month names that may follow a German ordinal ("am 14. Juli").
    "Januar Jänner Februar März April Mai Juni Juli August September Oktober November "
    "Dezember January February March May June July October December"
)
ORDINAL_LEAD: Final = _words(
    # German words before an ordinal number ("im 19. Jahrhundert", "zum 2. Mal").
    "am im zum zur vom beim der die das den dem des ab bis seit ihr ihre sein seine ihrem "
    "seinem ihrer seiner jeden jedes jeder"
)

STARTERS: Final[dict[Language, frozenset[str]]] = {
    # Common first words of a sentence: after an initial or an acronym ("the U.S. It
    # …"), a "." ends a sentence only before one of these.
    "en": _words(
        "I It He She We They You The A An This That These Those There Then But And So Or "
        "Yet However In On At If When While After Before Since As My Our Your His Her "
        "Their Its What Why How Who Where Which Let Please Also Finally First Next Now "
        "Here Today Thanks Thank Yes No Not Some Many All Each Every For To With By From "
        "Of Meanwhile Still Instead Last Later Most Only Such Both Once Another Overall"
    ),
    "es": _words(
        "El La Los Las Un Una Yo Él Ella Ellos Nosotros Pero Y Entonces Hoy Esto Eso "
        "Aquí Luego Después También Sin Con Por Para Es No Sí"
    ),
    "de": _words(
        "Der Die Das Ein Eine Ich Er Sie Es Wir Ihr Aber Und Dann Heute Danach Dort Hier "
        "Auch Doch Denn Nun Jetzt Im Am Wenn Als"
    ),
    "fr": _words(
        "Le La Les Un Une Je Il Elle Nous Vous Ils Elles Mais Et Puis Alors Ensuite "
        "Ce Cette Ces Ici Aujourd"
    ),
    "it": _words(
        "Il Lo La I Gli Le Un Una Io Lui Lei Noi Ma E È Era Poi Allora Oggi Questo Questa"
    ),
    "pt": _words("O A Os As Um Uma Eu Ele Ela Nós Mas E Depois Então Hoje Isso Isto"),
    "nl": _words("De Het Een Ik Hij Zij Wij Het Maar En Dan Daarna Vandaag Dit Dat Er"),
    "ru": _words("Он Она Оно Они Мы Я Это Но И Потом Затем Сегодня Тогда Здесь Там Как"),
    "zh": frozenset(),
    "ja": frozenset(),
    "ko": frozenset(),
    "hi": frozenset(),
    "ar": frozenset(),
}
