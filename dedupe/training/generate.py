"""Generated copies of real articles, for training and evaluating the verifier.

Public API (stable; issue 4's syndication classifier reuses it)::

    import random
    from dedupe.training.generate import make_copy, make_same_source, reword_sentence, KINDS

    rng = random.Random(7)
    copy = make_copy(article_text, rng, "duplicate")      # syndicated copy
    part = make_copy(article_text, rng, "partial")        # a partial copy (a contiguous share)
    rew = make_copy(article_text, rng, "rewrite")         # rewritten sentence by sentence
    a, b = make_same_source(article_text, rng)            # two write-ups quoting one source

Every function takes the text (paragraphs separated by blank lines, optional headline as the
first paragraph is *not* assumed) and a ``random.Random``; the output depends only on the text and
the generator's state, so a seed reproduces a data set.  ``make_copy`` returns the new body; a
headline, when wanted, comes from :func:`rewrite_headline`.

The kinds, and what they do:

``duplicate`` (syndication)
    the body kept nearly verbatim: outlet boilerplate added at the top and/or bottom (datelines,
    "This story was first published by...", share prompts, related links), up to a fifth of the
    paragraphs dropped, occasionally two paragraphs swapped, light copy-editing (quote marks,
    dashes, number formats).
``partial``
    a contiguous 35-70 % of the paragraphs with an outlet's own one-line lead and boilerplate.
``rewrite``
    every kept sentence reworded by rules: synonym and phrase substitution (lists below), reporting
    verb changes and moving the attribution ("X, he said." <-> "He said X."), clause reordering
    around subordinators, number reformatting ("5%" <-> "5 per cent", "$3.2m" <-> "3.2 million
    dollars", "three" <-> "3"), sentence splitting at conjunctions and merging of short neighbours,
    dropped adjectives and intensifiers; a few sentences dropped and an own line added.
``same-source``
    (:func:`make_same_source`) two documents that each re-tell a different selection of the same
    source, reworded independently, and share the same verbatim quoted passages, like two outlets
    writing up one press release.
"""

from __future__ import annotations

import random
import re

KINDS = ("duplicate", "partial", "rewrite")

# --------------------------------------------------------------------------------------------
# Word lists.  Written for news English; substitutions are applied to whole words, case-aware.
# --------------------------------------------------------------------------------------------
SYNONYMS: dict[str, list[str]] = {
    "said": ["stated", "noted", "added", "explained", "commented", "remarked"],
    "says": ["states", "notes", "adds", "explains", "argues"],
    "announced": ["unveiled", "revealed", "made public", "disclosed"],
    "announce": ["unveil", "reveal", "disclose"],
    "company": ["firm", "group", "business"],
    "companies": ["firms", "groups", "businesses"],
    "firm": ["company", "business"],
    "firms": ["companies", "businesses"],
    "government": ["administration", "authorities"],
    "increase": ["rise", "growth", "jump"],
    "increased": ["rose", "grew", "climbed"],
    "rose": ["climbed", "increased", "went up"],
    "fell": ["dropped", "declined", "slipped", "went down"],
    "decline": ["fall", "drop", "decrease"],
    "declined": ["fell", "dropped", "decreased"],
    "big": ["large", "major", "significant"],
    "large": ["big", "sizeable", "major"],
    "major": ["big", "leading", "key"],
    "important": ["key", "significant", "crucial"],
    "significant": ["notable", "considerable", "substantial"],
    "help": ["assist", "support", "aid"],
    "helped": ["assisted", "supported"],
    "buy": ["purchase", "acquire"],
    "bought": ["purchased", "acquired"],
    "sell": ["offload", "dispose of"],
    "sold": ["offloaded", "disposed of"],
    "expected": ["anticipated", "forecast", "predicted"],
    "expects": ["anticipates", "forecasts", "predicts"],
    "plans": ["intends", "aims", "is planning"],
    "planned": ["intended", "scheduled", "proposed"],
    "begin": ["start", "commence"],
    "began": ["started", "commenced"],
    "start": ["begin", "launch"],
    "started": ["began", "launched"],
    "end": ["finish", "conclusion", "close"],
    # "show" and "told" appear once more below; a dict keeps the last value, so these verb senses
    # were never used.  Removed rather than merged: merging would change every generated set and
    # both shipped models (retrain them if it is ever merged).
    "showed": ["indicated", "revealed", "demonstrated"],
    "shows": ["indicates", "reveals", "demonstrates"],
    "new": ["fresh", "latest"],
    "latest": ["newest", "most recent"],
    "recent": ["latest", "new"],
    "first": ["initial", "opening"],
    "also": ["additionally", "as well", "too"],
    "however": ["but", "though", "nevertheless"],
    "because": ["as", "since"],
    "about": ["around", "roughly", "approximately"],
    "around": ["about", "roughly", "some"],
    "nearly": ["almost", "close to"],
    "almost": ["nearly", "close to"],
    "more than": ["over", "in excess of"],
    "less than": ["under", "below"],
    "asked": ["questioned", "queried"],
    "believe": ["think", "consider"],
    "believes": ["thinks", "considers"],
    "think": ["believe", "feel"],
    "thinks": ["believes", "feels"],
    "want": ["wish", "would like"],
    "wants": ["wishes", "is keen"],
    "need": ["require"],
    "needs": ["requires"],
    "use": ["utilise", "employ"],
    "used": ["utilised", "employed"],
    "make": ["create", "produce"],
    "made": ["created", "produced"],
    "get": ["obtain", "receive"],
    "give": ["provide", "offer"],
    "gave": ["provided", "offered"],
    "chance": ["opportunity", "possibility"],
    "problem": ["issue", "difficulty"],
    "problems": ["issues", "difficulties"],
    "result": ["outcome"],
    "results": ["figures", "outcomes"],
    "market": ["sector", "industry"],
    "people": ["individuals", "persons", "citizens"],
    "country": ["nation"],
    "countries": ["nations"],
    "world": ["globe", "planet"],
    "top": ["leading", "senior"],
    "boss": ["chief", "head", "chief executive"],
    "chief": ["head", "boss"],
    "spokesman": ["representative", "spokesperson"],
    "spokeswoman": ["representative", "spokesperson"],
    "deal": ["agreement", "pact", "accord"],
    "agreement": ["deal", "accord"],
    "talks": ["negotiations", "discussions"],
    "rules": ["regulations"],
    "profit": ["earnings", "income"],
    "profits": ["earnings"],
    "sales": ["revenues", "turnover"],
    "shares": ["stock", "equity"],
    "rise": ["increase", "gain"],
    "fall": ["decline", "drop"],
    "quickly": ["rapidly", "swiftly", "fast"],
    "currently": ["at present", "right now", "now"],
    "soon": ["shortly", "before long"],
    "later": ["subsequently", "afterwards"],
    "before": ["prior to", "ahead of"],
    "after": ["following"],
    "despite": ["in spite of", "notwithstanding"],
    "while": ["whereas", "although"],
    "but": ["yet", "however"],
    "so": ["therefore", "thus"],
    "many": ["numerous", "a lot of", "plenty of"],
    "several": ["a number of", "various"],
    "some": ["certain", "a few"],
    "good": ["positive", "strong", "solid"],
    "bad": ["poor", "negative", "weak"],
    "strong": ["robust", "solid"],
    "weak": ["soft", "poor", "feeble"],
    "high": ["elevated", "steep"],
    "low": ["modest", "reduced"],
    "hit": ["struck", "affected"],
    "won": ["secured", "claimed", "took"],
    "win": ["victory", "triumph"],
    "lost": ["was beaten", "suffered defeat"],
    "match": ["game", "fixture"],
    "film": ["movie", "picture"],
    "films": ["movies", "pictures"],
    "phone": ["handset", "device"],
    "phones": ["handsets", "devices"],
    "users": ["customers", "consumers"],
    "launch": ["release", "introduce", "roll out"],
    "launched": ["released", "introduced", "rolled out"],
    "warned": ["cautioned", "alerted"],
    "claimed": ["asserted", "alleged", "contended"],
    "reported": ["revealed", "stated", "disclosed"],
    "according to": ["as per", "citing", "based on information from"],
    "month": ["period of four weeks"], "months": ["period"],
    "week": ["seven days"], "year": ["twelve months", "period"],
    "biggest": ["largest", "greatest"], "largest": ["biggest"],
    "minister": ["secretary", "official"], "officials": ["authorities", "representatives"],
    "official": ["representative", "authority"], "leader": ["head", "chief"],
    "economy": ["economic situation"], "growth": ["expansion", "increase"],
    "figures": ["data", "numbers", "statistics"], "data": ["figures", "statistics"],
    "report": ["study", "document"], "study": ["research", "report"],
    "job": ["post", "position", "role"], "jobs": ["posts", "positions", "roles"],
    "workers": ["employees", "staff"], "staff": ["employees", "personnel"],
    "price": ["cost", "value"], "prices": ["costs", "rates"], "cost": ["price", "expense"],
    "money": ["funds", "cash"], "funds": ["money", "finance"], "bank": ["lender"],
    "banks": ["lenders"], "customers": ["clients", "buyers"], "customer": ["client"],
    "online": ["on the internet", "on the web"], "internet": ["web", "net"],
    "service": ["offering", "facility"], "services": ["offerings", "facilities"],
    "system": ["mechanism", "setup"], "plan": ["proposal", "scheme", "strategy"],
    "proposal": ["plan", "proposition"], "decision": ["ruling", "choice"],
    "campaign": ["drive", "push"], "election": ["vote", "poll"], "vote": ["ballot", "poll"],
    "party": ["movement"], "team": ["squad", "side"], "game": ["match", "contest"],
    "player": ["athlete"], "players": ["athletes"], "coach": ["manager", "trainer"],
    "season": ["campaign"], "award": ["prize", "honour"], "star": ["celebrity", "actor"],
    "album": ["record"], "show": ["programme", "broadcast"], "music": ["songs"],
    "technology": ["tech"], "software": ["programs", "applications"], "device": ["gadget"],
    "computer": ["PC", "machine"], "mobile": ["cellular", "cell"], "network": ["grid", "system"],
    "court": ["tribunal"], "police": ["officers", "the authorities"], "case": ["matter", "affair"],
    "claims": ["allegations", "assertions"], "concerns": ["worries", "fears"],
    "fears": ["worries", "concerns"], "worried": ["concerned", "anxious"],
    "difficult": ["hard", "tough"], "easy": ["simple"], "likely": ["probable", "expected"],
    "possible": ["feasible", "potential"], "able": ["capable"], "previous": ["prior", "earlier"],
    "earlier": ["previously", "before"], "recently": ["lately", "not long ago"],
    "move": ["step", "decision"], "moves": ["steps"], "effort": ["attempt", "bid"],
    "efforts": ["attempts", "moves"], "attempt": ["bid", "effort"], "aim": ["goal", "objective"],
    "goal": ["aim", "target"], "target": ["goal", "objective"], "key": ["main", "central"],
    "main": ["principal", "primary"], "total": ["overall", "combined"], "only": ["just", "merely"],
    "still": ["yet", "nonetheless"], "already": ["by now", "previously"], "again": ["once more"],
    "whole": ["entire"], "entire": ["whole", "complete"], "small": ["little", "minor", "modest"],
    "huge": ["enormous", "vast", "massive"], "rapid": ["fast", "quick", "swift"],
    "reached": ["hit", "attained"], "reach": ["hit", "attain"], "received": ["got", "obtained"],
    "included": ["comprised", "contained"], "includes": ["comprises", "contains"],
    "including": ["among them", "such as"], "allowed": ["permitted", "let"],
    "allow": ["permit", "let"], "stop": ["halt", "end"], "stopped": ["halted", "ended"],
    "continue": ["carry on", "keep going"], "continued": ["carried on", "went on"],
    "create": ["generate", "build"], "created": ["generated", "built"], "change": ["shift", "alteration"],
    "changes": ["shifts", "alterations"], "improve": ["boost", "enhance"], "improved": ["boosted", "enhanced"],
    "reduce": ["cut", "lower"], "reduced": ["cut", "lowered"], "cut": ["reduce", "trim"],
    "cuts": ["reductions"], "raise": ["lift", "increase"], "raised": ["lifted", "increased"],
    "remain": ["stay"], "remained": ["stayed"], "remains": ["stays"], "become": ["turn into"],
    "became": ["turned into"], "seen": ["viewed", "regarded"], "called": ["named", "labelled"],
    "known": ["recognised"], "found": ["discovered"], "met": ["held talks with"],
    "failed": ["did not manage"], "led": ["headed", "guided"], "leading": ["top", "foremost"],
    "held": ["hosted", "kept"], "hold": ["host", "keep"], "run": ["operate", "manage"],
    "set": ["fixed", "established"], "told": ["informed"], "added": ["continued"],
}

#: Phrase-level rewordings (regex -> replacement list); applied before word synonyms.
PHRASES: list[tuple[str, list[str]]] = [
    (r"\bin order to\b", ["to", "so as to"]),
    (r"\bas well as\b", ["and", "along with", "together with"]),
    (r"\ba number of\b", ["several", "various", "some"]),
    (r"\bat the moment\b", ["currently", "right now"]),
    (r"\bon the other hand\b", ["however", "by contrast"]),
    (r"\bin addition\b", ["moreover", "furthermore", "besides"]),
    (r"\bfor example\b", ["for instance", "such as"]),
    (r"\bdue to\b", ["because of", "owing to", "as a result of"]),
    (r"\bis expected to\b", ["should", "is likely to", "is set to"]),
    (r"\bwas expected to\b", ["was likely to", "was set to"]),
    (r"\bwill be\b", ["is going to be", "is set to be"]),
    (r"\bit is\b", ["it's"]),
    (r"\bdo not\b", ["don't"]),
    (r"\bdoes not\b", ["doesn't"]),
    (r"\bcannot\b", ["can't", "is unable to"]),
    (r"\bthe first time\b", ["the first occasion"]),
    (r"\bthis year\b", ["in the current year", "so far this year"]),
    (r"\blast year\b", ["the previous year", "a year ago"]),
    (r"\blast week\b", ["the previous week", "a week ago"]),
    (r"\bon monday\b", ["monday"]), (r"\bon tuesday\b", ["tuesday"]),
    (r"\bon wednesday\b", ["wednesday"]), (r"\bon thursday\b", ["thursday"]),
    (r"\bon friday\b", ["friday"]),
    (r"\bin a statement\b", ["in a press release", "in an official statement"]),
    (r"\btook place\b", ["happened", "was held"]),
    (r"\bset up\b", ["established", "created"]),
    (r"\bcarry out\b", ["conduct", "perform"]),
    (r"\bcarried out\b", ["conducted", "performed"]),
    (r"\bfind out\b", ["discover", "learn"]),
    (r"\bpoint out\b", ["note", "observe"]),
    (r"\bpointed out\b", ["noted", "observed"]),
    (r"\blooking for\b", ["seeking", "searching for"]),
    (r"\bgo up\b", ["rise", "increase"]),
    (r"\bwent up\b", ["rose", "increased"]),
    (r"\bgo down\b", ["fall", "decrease"]),
    (r"\bwent down\b", ["fell", "decreased"]),
    (r"\bper cent\b", ["%"]),
    (r"\bpercent\b", ["%"]),
]

REPORTING_VERBS = ["said", "stated", "noted", "added", "explained", "told reporters", "remarked", "commented"]

ADJECTIVES = frozenset(
    """very really extremely highly significant major huge massive big small new latest key
    important strong weak sharp slight modest substantial considerable dramatic rapid slow steady
    early late recent current former particular special serious successful popular famous
    leading top senior overall total full whole entire further additional clear real
    official annual general public national international global local
    """.split()
)
INTENSIFIERS = frozenset("very really extremely highly quite rather particularly especially just even".split())

SUBORDINATORS = ("although", "because", "while", "after", "before", "since", "when", "if", "as")

_NUM_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
              "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12"}
_NUM_DIGITS = {v: k for k, v in _NUM_WORDS.items()}

BOILERPLATE_TOP = [
    "{outlet} | {day} {month} {year}",
    "By {outlet} staff",
    "Home > News > {section}",
    "Posted on {day} {month} {year} by {outlet} Staff",
    "{outlet} -- ",
    "(Reuters) -",
    "Share this article",
    "Updated {hour}:{minute} GMT",
]
BOILERPLATE_BOTTOM = [
    "This story was first published by {outlet}.",
    "Copyright {year} {outlet}. All rights reserved.",
    "Follow us on Twitter and Facebook for more {section} news.",
    "Related: more {section} stories from {outlet}",
    "Read more: {section} news at a glance",
    "Additional reporting by {outlet} correspondents.",
    "Comments 0",
    "Subscribe to our newsletter",
    "Tags: {section}, news, {outlet}",
    "(Editing by {outlet} desk)",
]
#: Lines a publisher's own web page carries around its own story (no credit to anyone else): a
#: masthead and date, a byline, breadcrumbs, share and follow prompts, copyright and tag lines.
#: Real originals on the web carry them as much as re-posts do (the seeds' own write-ups have
#: subheads, image captions and share prompts), so an original is not told from a copy by
#: furniture alone (see :func:`publisher_page`).
PAGE_TOP = [
    "{outlet} | {day} {month} {year}",
    "By {outlet} staff",
    "Home > News > {section}",
    "Share this article",
    "Updated {hour}:{minute} GMT",
]
PAGE_BOTTOM = [
    "Copyright {year} {outlet}. All rights reserved.",
    "Follow us on Twitter and Facebook for more {section} news.",
    "Related: more {section} stories from {outlet}",
    "Read more: {section} news at a glance",
    "Comments 0",
    "Subscribe to our newsletter",
    "Tags: {section}, news, {outlet}",
]
OUTLETS = ["Daily Ledger", "Metro Wire", "NewsNow24", "The Courier", "Global Post", "TechBeat", "City Times",
           "Market Watchers", "Herald Online", "Press Digest", "Morning Report", "Wire Desk"]
SECTIONS = ["business", "world", "technology", "politics", "sport", "entertainment", "markets"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
OWN_LINES = [
    "Here is what we know so far.",
    "The news was widely expected by observers.",
    "We will update this story as more details emerge.",
    "Analysts have been following the matter closely.",
    "The move has attracted considerable attention.",
    "It remains to be seen how the market will react.",
    "Readers can find our earlier coverage on the site.",
    "The details were confirmed on the same day.",
    "Our correspondent has more on the background.",
    "This is a developing story.",
]

# --------------------------------------------------------------------------------------------
# Text structure
# --------------------------------------------------------------------------------------------
_SENT = re.compile(r"([.!?][\"'\u201d)]?)\s+(?=[\"'\u201c(]?[A-Z0-9])")
_ABBREV = re.compile(r"(?:\b(?:mr|mrs|ms|dr|prof|st|gen|gov|sen|rep|inc|corp|co|ltd|jr|sr|no|vs|u\.s|u\.k)\.|\b[A-Z]\.)$", re.I)


def paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by blank lines (single lines when there are no blank lines)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.strip())]
    if len(parts) == 1:
        parts = [p.strip() for p in text.split("\n")]
    return [" ".join(p.split()) for p in parts if p.strip()]


def sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph (a rule-based splitter good enough for news copy)."""
    out: list[str] = []
    start = 0
    for m in _SENT.finditer(paragraph):
        piece = paragraph[start:m.end(1)]
        if _ABBREV.search(piece):
            continue
        out.append(piece.strip())
        start = m.end()
    out.append(paragraph[start:].strip())
    return [s for s in out if s]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(outlet=rng.choice(OUTLETS), section=rng.choice(SECTIONS), day=rng.randint(1, 28),
                           month=rng.choice(MONTHS), year=rng.randint(2003, 2024), hour=rng.randint(0, 23),
                           minute=f"{rng.randint(0, 59):02d}")


def _join(paras: list[str]) -> str:
    return "\n\n".join(p for p in paras if p.strip())


# --------------------------------------------------------------------------------------------
# Syndicated and partial copies
# --------------------------------------------------------------------------------------------
def _copy_edit(sentence: str, rng: random.Random) -> str:
    """Light house-style edits a syndicating outlet makes."""
    r = rng.random()
    if r < 0.1:
        sentence = sentence.replace('"', "\u201c", 1).replace('"', "\u201d", 1)
    elif r < 0.18:
        sentence = sentence.replace(" - ", " \u2013 ")
    elif r < 0.26:
        sentence = re.sub(r"\bper cent\b", "%", sentence)
    elif r < 0.3:
        sentence = re.sub(r"(\d),(\d{3})\b", r"\1\2", sentence)
    return sentence


def syndicated_copy(text: str, rng: random.Random) -> str:
    paras = paragraphs(text)
    n = len(paras)
    drop = rng.randint(0, max(0, n // 5)) if n > 3 else 0
    keep = sorted(rng.sample(range(n), n - drop)) if drop else list(range(n))
    body = [paras[i] for i in keep]
    if len(body) > 3 and rng.random() < 0.25:
        i = rng.randrange(1, len(body) - 1)
        body[i], body[i + 1] = body[i + 1], body[i]
    body = [" ".join(_copy_edit(s, rng) for s in sentences(p)) for p in body]
    top = [_fill(t, rng) for t in rng.sample(BOILERPLATE_TOP, rng.randint(0, 2))]
    bottom = [_fill(t, rng) for t in rng.sample(BOILERPLATE_BOTTOM, rng.randint(0, 3))]
    return _join(top + body + bottom)


def publisher_page(text: str, rng: random.Random) -> str:
    """``text`` as its own publisher's web page shows it: 1-4 lines of :data:`PAGE_TOP` and
    :data:`PAGE_BOTTOM` around it."""
    k = rng.randint(1, 4)
    lines = rng.sample(PAGE_TOP + PAGE_BOTTOM, k)
    top = [_fill(t, rng) for t in lines if t in PAGE_TOP]
    bottom = [_fill(t, rng) for t in lines if t in PAGE_BOTTOM]
    return _join(top + [text] + bottom)


def partial_copy(text: str, rng: random.Random) -> str:
    paras = paragraphs(text)
    n = len(paras)
    if n <= 2:  # split by sentences instead
        sents = [s for p in paras for s in sentences(p)]
        k = max(1, int(len(sents) * rng.uniform(0.4, 0.7)))
        start = rng.randint(0, len(sents) - k)
        body = [" ".join(sents[start:start + k])]
    else:
        k = max(2, int(round(n * rng.uniform(0.35, 0.7))))
        start = rng.choice([0, 0, rng.randint(0, n - k)])
        body = paras[start:start + k]
    lead = [rng.choice(OWN_LINES)] if rng.random() < 0.5 else []
    bottom = [_fill(t, rng) for t in rng.sample(BOILERPLATE_BOTTOM, rng.randint(0, 2))]
    return _join(lead + body + bottom)


# --------------------------------------------------------------------------------------------
# Rewriting
# --------------------------------------------------------------------------------------------
def _match_case(src: str, word: str) -> str:
    if src.isupper() and len(src) > 1:
        return word.upper()
    if src[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _substitute(sentence: str, rng: random.Random, rate: float) -> str:
    for pattern, choices in PHRASES:
        if rng.random() < rate * 1.5:
            sentence = re.sub(pattern, lambda m: _match_case(m.group(0), rng.choice(choices)), sentence,
                              flags=re.I)
    multi = [k for k in SYNONYMS if " " in k]
    for key in multi:
        if key in sentence.lower() and rng.random() < rate:
            sentence = re.sub(rf"\b{key}\b", lambda m: _match_case(m.group(0), rng.choice(SYNONYMS[key])),
                              sentence, flags=re.I)

    def word(m: re.Match) -> str:
        w = m.group(0)
        choices = SYNONYMS.get(w.lower())
        if choices and rng.random() < rate:
            return _match_case(w, rng.choice(choices))
        return w

    return re.sub(r"[A-Za-z]+", word, sentence)


def _drop_adjectives(sentence: str, rng: random.Random, rate: float) -> str:
    words = sentence.split(" ")
    out = []
    for i, w in enumerate(words):
        bare = w.lower().strip(",;:")
        if (bare in INTENSIFIERS or bare in ADJECTIVES) and w == bare and 0 < i < len(words) - 1 \
                and rng.random() < rate:
            continue
        out.append(w)
    return " ".join(out)


def _numbers(sentence: str, rng: random.Random) -> str:
    def pct(m):
        return m.group(1) + rng.choice([" per cent", " percent", "%"])

    sentence = re.sub(r"(\d+(?:\.\d+)?)\s?(?:%|per cent|percent)", pct, sentence)

    def money(m):
        cur, num, unit = m.group(1), m.group(2), m.group(3)
        name = {"$": "dollars", "£": "pounds", "€": "euros"}[cur]
        big = {"m": "million", "bn": "billion", "million": "million", "billion": "billion"}[unit.lower()]
        return rng.choice([f"{num} {big} {name}", f"{cur}{num} {big}", f"{cur}{num}{unit}"])

    sentence = re.sub(r"([$£€])(\d+(?:\.\d+)?)\s?(m|bn|million|billion)\b", money, sentence)

    def comma(m):
        return m.group(0).replace(",", "") if rng.random() < 0.5 else m.group(0)

    sentence = re.sub(r"\b\d{1,3}(?:,\d{3})+\b", comma, sentence)

    def words(m):
        w = m.group(0)
        if rng.random() < 0.5:
            return w
        if w.lower() in _NUM_WORDS:
            return _NUM_WORDS[w.lower()]
        return _NUM_DIGITS.get(w, w)

    return re.sub(r"(?<![\d.,$£€])\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[2-9]|1[0-2])\b(?![.,]\d)",
                  words, sentence)


_ATTRIB_END = re.compile(r"^(?P<quote>.{20,}?),?\s+(?P<who>(?:he|she|they|it|the [a-z]+|[A-Z][\w.]*(?: [A-Z][\w.]*){0,3}))"
                         r"\s+(?P<verb>said|says|added|told [\w ]+?|stated|explained|noted)\.$")
_ATTRIB_START = re.compile(r"^(?P<who>[A-Z][\w.]*(?: [A-Z][\w.]*){0,3}|He|She|They)\s+"
                           r"(?P<verb>said|says|added|stated|noted)\s+(?:that\s+)?(?P<rest>.{20,})\.$")


def _move_attribution(sentence: str, rng: random.Random) -> str:
    m = _ATTRIB_END.match(sentence)
    if m:
        quote = m.group("quote").rstrip(",")
        if quote.startswith(('"', "\u201c")):
            return sentence
        who = m.group("who")
        who = who if who[:1].isupper() and who.lower() not in ("he", "she", "they", "it") else who.capitalize()
        verb = rng.choice(["said", "stated", "noted", "explained"])
        return f"{who} {verb} that {quote[:1].lower() + quote[1:] if not quote[:2].isupper() else quote}."
    m = _ATTRIB_START.match(sentence)
    if m:
        rest = m.group("rest")
        verb = rng.choice(["said", "added", "noted"])
        who = m.group("who")
        who = who.lower() if who in ("He", "She", "They") else who
        return f"{rest[:1].upper() + rest[1:]}, {who} {verb}."
    return sentence


def _reorder_clauses(sentence: str, rng: random.Random) -> str:
    body = sentence.rstrip(".")
    low = body.lower()
    for sub in SUBORDINATORS:
        if low.startswith(sub + " ") and ", " in body:
            head, _, tail = body.partition(", ")
            if len(tail.split()) >= 3:
                return f"{tail[:1].upper() + tail[1:]}, {head[:1].lower() + head[1:]}."
        key = f", {sub} "
        idx = low.find(key)
        if idx > 15:
            main, clause = body[:idx], body[idx + 2:]
            return f"{clause[:1].upper() + clause[1:]}, {main[:1].lower() + main[1:] if not main[:2].isupper() else main}."
    return sentence


def _split_sentence(sentence: str, rng: random.Random) -> list[str]:
    for conj in (", and ", ", but ", "; ", ", while ", ", which "):
        idx = sentence.find(conj)
        if idx > 25 and len(sentence) - idx > 25:
            first = sentence[:idx].rstrip(",;") + "."
            second = sentence[idx + len(conj):]
            lead = {", but ": rng.choice(["However, ", "But ", "Yet "]), ", while ": "Meanwhile, ",
                    ", which ": "This "}.get(conj, "")
            second = lead + (second[:1].lower() + second[1:] if lead else second[:1].upper() + second[1:])
            return [first, second]
    return [sentence]


INSERTS = ["also", "now", "reportedly", "notably", "in fact", "indeed", "officially", "in turn", "meanwhile",
           "at the time", "so far", "as expected", "for its part", "it seems"]


def _insert_adverbs(sentence: str, rng: random.Random, rate: float) -> str:
    """Discourse adverbs inserted after commas and before verbs-ish positions (breaks k-grams)."""
    words = sentence.split(" ")
    out = []
    for i, w in enumerate(words):
        out.append(w)
        if 1 < i < len(words) - 2 and rng.random() < rate and w.isalpha() and w.islower():
            out.append(rng.choice(INSERTS))
    return " ".join(out)


_OF_THE = re.compile(r"\bthe ([a-z]+) of (the )?([A-Z][a-z]+|[a-z]+)\b")


def _of_possessive(sentence: str, rng: random.Random) -> str:
    """"the head of the company" -> "the company's head"."""
    def swap(m):
        if rng.random() < 0.5:
            return m.group(0)
        return f"the {m.group(3)}'s {m.group(1)}" if m.group(2) else f"{m.group(3)}'s {m.group(1)}"
    return _OF_THE.sub(swap, sentence)


def reword_sentence(sentence: str, rng: random.Random, strength: float = 0.6) -> list[str]:
    """Rules applied to one sentence; returns one or two sentences.  ``strength`` in (0, 1]
    scales how many substitutions are made."""
    s = sentence
    if rng.random() < 0.5 * strength + 0.2:
        s = _move_attribution(s, rng)
    if rng.random() < 0.4 * strength + 0.1:
        s = _reorder_clauses(s, rng)
    s = _substitute(s, rng, rate=0.35 + 0.5 * strength)
    if rng.random() < 0.6:
        s = _drop_adjectives(s, rng, rate=0.5 * strength + 0.1)
    s = _numbers(s, rng)
    s = _of_possessive(s, rng)
    if strength > 0.5:
        s = _insert_adverbs(s, rng, rate=0.12 * strength)
    if rng.random() < 0.35 * strength:
        return _split_sentence(s, rng)
    return [s]


def rewrite(text: str, rng: random.Random, strength: float | None = None) -> str:
    """A reworded copy: same story, same order of paragraphs, sentences reworded."""
    strength = rng.uniform(0.5, 1.0) if strength is None else strength
    out_paras = []
    paras = paragraphs(text)
    for p in paras:
        sents = sentences(p)
        if len(paras) > 3 and len(sents) == 1 and rng.random() < 0.08 * strength:
            continue  # a dropped paragraph
        new: list[str] = []
        for s in sents:
            if len(sents) > 2 and rng.random() < 0.06 * strength:
                continue
            new.extend(reword_sentence(s, rng, strength))
        # merge two short neighbours now and then
        i = 0
        while i < len(new) - 1:
            if len(new[i].split()) < 14 and len(new[i + 1].split()) < 14 and rng.random() < 0.3 * strength:
                joiner = rng.choice([", and ", "; ", ", while "])
                new[i] = new[i].rstrip(".") + joiner + new[i + 1][:1].lower() + new[i + 1][1:]
                del new[i + 1]
            i += 1
        if new:
            out_paras.append(" ".join(new))
    if rng.random() < 0.5:
        out_paras.insert(rng.randint(0, min(1, len(out_paras))), rng.choice(OWN_LINES))
    if rng.random() < 0.5:
        out_paras.append(_fill(rng.choice(BOILERPLATE_BOTTOM), rng))
    return _join(out_paras)


def degrade(text: str, rng: random.Random, rate: float = 0.3, vocabulary: list[str] | None = None) -> str:
    """Loss of wording as in a machine-translated or freely paraphrased copy: each word is dropped
    with probability ``rate / 2`` and replaced by a word of ``vocabulary`` (e.g. words of other
    articles on the topic) with probability ``rate / 2``; sentence order and most names stay."""
    out = []
    for para in paragraphs(text):
        words = []
        for w in para.split(" "):
            r = rng.random()
            if r < rate / 2 and not w[:1].isupper():
                continue
            if r < rate and vocabulary and not w[:1].isupper():
                w = rng.choice(vocabulary)
            words.append(w)
        out.append(" ".join(words))
    return _join(out)


def free_rewrite(text: str, rng: random.Random, own: list[str] | None = None,
                 rate: tuple[float, float] = (0.2, 0.5), max_own: int = 3) -> str:
    """A free paraphrase, as weak as a machine-translated re-post: ``text`` rewritten twice at full
    strength, its wording degraded (:func:`degrade` at a rate drawn from ``rate``, replacing words
    by words of ``own``, e.g. paragraphs of other articles on the topic), and 1 to ``max_own``
    paragraphs of ``own`` inserted as the outlet's own material.  Sentence order and most names
    survive; hardly any word 5-gram does."""
    own = own or []
    vocab = [w for p in own for w in p.split(" ") if w.isalpha() and w.islower()] or None
    free = rewrite(rewrite(text, rng, 1.0), rng, 1.0)
    free_paras = paragraphs(degrade(free, rng, rng.uniform(*rate), vocab))
    for para in own[:rng.randint(1, max_own)]:
        free_paras.insert(rng.randint(0, len(free_paras)), para)
    return _join(free_paras)


def rewrite_headline(title: str, rng: random.Random) -> str:
    """A changed headline, as syndicating and rewriting outlets do."""
    words = _substitute(title, rng, 0.7)
    if rng.random() < 0.3:
        words = rng.choice(["UPDATE: ", "Report: ", "Breaking: ", ""]) + words
    return words


def make_copy(text: str, rng: random.Random, kind: str) -> str:
    """A generated copy of ``text`` of the given ``kind`` (``duplicate``, ``partial`` or ``rewrite``)."""
    if kind == "duplicate":
        return syndicated_copy(text, rng)
    if kind == "partial":
        return partial_copy(text, rng)
    if kind == "rewrite":
        return rewrite(text, rng)
    raise ValueError(f"unknown copy kind {kind!r}; expected one of {', '.join(KINDS)}")


def make_same_source(text: str, rng: random.Random, context: list[str] | None = None) -> tuple[str, str]:
    """Two write-ups of one source ``text`` (e.g. a press release).

    Both quote the same 2-4 passages verbatim; each re-tells a different, partly overlapping
    selection of the remaining sentences in its own words, and may add a line of ``context``
    (sentences from other articles).
    """
    sents = [s for p in paragraphs(text) for s in sentences(p)]
    if len(sents) < 4:
        sents = sents * 2
    n_quotes = min(len(sents) // 3, rng.randint(2, 4)) or 1
    quote_idx = sorted(rng.sample(range(len(sents)), n_quotes))
    rest = [i for i in range(len(sents)) if i not in quote_idx]

    def one() -> str:
        share = rng.uniform(0.3, 0.6)
        chosen = sorted(rng.sample(rest, max(1, int(len(rest) * share)))) if rest else []
        items = sorted(set(chosen) | set(quote_idx))
        out = []
        for i in items:
            if i in quote_idx:
                q = sents[i]
                out.append(q if rng.random() < 0.5 else f"\u201c{q.rstrip('.')}\u201d, the statement said.")
            else:
                out.extend(reword_sentence(sents[i], rng, rng.uniform(0.7, 1.0)))
        if context:
            for c in rng.sample(context, min(len(context), rng.randint(1, 4))):
                out.insert(rng.randint(0, len(out)), c)
        out.insert(0, rng.choice(OWN_LINES))
        # paragraphs of 2-3 sentences
        paras, i = [], 0
        while i < len(out):
            k = rng.randint(2, 3)
            paras.append(" ".join(out[i:i + k]))
            i += k
        return _join(paras)

    return one(), one()


# --------------------------------------------------------------------------------------------
# Hard negatives
# --------------------------------------------------------------------------------------------
_FIGURE = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)")
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_NAME = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})*)")


def _other_figure(m: re.Match, rng: random.Random) -> str:
    """Another value of the same shape (digits, separators and decimals kept)."""
    text = m.group(1)
    for _ in range(5):
        out = "".join(str(rng.randint(1 if k == 0 else 0, 9)) if c.isdigit() else c for k, c in enumerate(text))
        if out != text:
            return out
    return text + "1"


def template_sibling(text: str, rng: random.Random, names: list[str] | None = None,
                     changes: int | None = None) -> str:
    """Another story written from the same template: the next month's index, another company's
    dividend, the Fed's operation on another day.  At least half of its figures get another
    value of the same shape (its month, weekday and number words up to twelve count as figures
    and get other ones), and half the time one to three names are replaced by names from
    ``names`` (other articles' names).  The wording is otherwise kept, so the pair shares most of
    its 5-grams yet reports different facts: a hard negative (real wire archives are full of
    such items; copies and rewrites keep their facts).

    ``changes=k`` changes exactly ``k`` figures and no name instead: a corrected re-issue of the
    same story (the BBC set has one: "£9.4 million" corrected to "£94 million"), a ``duplicate``."""
    out = text
    found = names_in(out)
    change_names = changes is None and rng.random() < 0.5
    if names and found and change_names:
        for old in rng.sample(found, rng.randint(1, min(3, len(found)))):
            new = rng.choice(names)
            if new != old:
                out = re.sub(rf"\b{re.escape(old)}\b", new, out)
    # at least half of the figures change (``changes``: exactly that many)
    distinct = list(dict.fromkeys(m.group(1) for m in _FIGURE.finditer(out)))
    words = [w for group in (MONTHS, _WEEKDAYS, list(_NUM_WORDS)) for w in group
             if re.search(rf"\b{w}\b", out, re.I)]
    slots = distinct + words
    if not slots:
        return out
    k = min(changes, len(slots)) if changes is not None else rng.randint((len(slots) + 1) // 2, len(slots))
    changed = set(rng.sample(slots, k))
    figures: dict[str, str] = {}

    def figure(m: re.Match) -> str:
        key = m.group(1)
        if key not in changed:
            return key
        if key not in figures:
            figures[key] = _other_figure(m, rng)
        return figures[key]

    out = _FIGURE.sub(figure, out)
    for group in (MONTHS, _WEEKDAYS, list(_NUM_WORDS)):
        present = [w for w in group if w in changed]
        for w in present:
            repl = rng.choice([x for x in group if x.lower() != w.lower()])
            out = re.sub(rf"\b{w}\b", lambda m: _match_case(m.group(0), repl.lower()), out, flags=re.I)
    return out


_NOT_NAMES = {w.lower() for w in MONTHS + _WEEKDAYS} | set(_NUM_WORDS)


def names_in(text: str) -> list[str]:
    """Capitalised names inside sentences (not at their start; not months, weekdays or number
    words), for :func:`template_sibling`."""
    out = []
    for m in _NAME.findall(text):
        words = [w for w in m.split() if w.lower() not in _NOT_NAMES]
        if words:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))


def hard_negatives(texts: list[str], topics: list[str], rng: random.Random, n: int,
                   min_cosine: float = 0.15) -> list[tuple[int, int, float]]:
    """``n`` pairs ``(i, j, cosine)`` of *different* articles on the same topic, preferring the
    most similar ones: for randomly drawn articles, the nearest same-topic neighbour by TF-IDF
    cosine (word unigrams and bigrams, English stop words removed) when it reaches ``min_cosine``.
    Near-identical neighbours (cosine > 0.8, real duplicates in the corpora) are skipped."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    by_topic: dict[str, list[int]] = {}
    for i, t in enumerate(topics):
        by_topic.setdefault(t, []).append(i)
    vec = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    matrix = vec.fit_transform(texts)
    order = list(range(len(texts)))
    rng.shuffle(order)
    out: list[tuple[int, int, float]] = []
    seen: set[tuple[int, int]] = set()
    for i in order:
        if len(out) >= n:
            break
        group = by_topic[topics[i]]
        if len(group) < 2:
            continue
        sims = (matrix[group] @ matrix[i].T).toarray().ravel()
        ranked = sorted(zip(sims, group), reverse=True)
        pick = [(s, j) for s, j in ranked if j != i and s <= 0.8][: 3]
        if not pick:
            continue
        s, j = pick[rng.randrange(len(pick))]
        key = (min(i, j), max(i, j))
        if s < min_cosine or key in seen:
            continue
        seen.add(key)
        out.append((key[0], key[1], float(s)))
    return out
