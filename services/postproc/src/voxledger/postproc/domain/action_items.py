"""Action items: commitments and requests, found sentence by sentence with hand-written patterns.

Each sentence is cut into comma clauses; leading discourse words ("so", "yes", "good idea", "then") are
dropped, a clause that is only a name ("Maria, ...", "..., Sarah?") names who is addressed, and the first
clause that opens like a task is the item:

- commitment (the speaker is in it): "I'll / I will / I'm going to / I need to <verb>", "I can <task
  verb>", "let me <verb>", "we need to / we should / we'll <verb>", "let's <verb>"
- request (someone else does it): "can / could / would / will you <verb>", "please <verb>",
  "you need to <verb>", "<Name> will / needs to / should <task verb>", "the <x> team will <task verb>",
  "everyone should <verb>", "someone needs to <verb>", and a bare imperative with a task verb when
  someone is addressed or a due date is said in it ("Send the contract to legal before Thursday.").

Known non-items are refused by their verb or phrase: "I'll be honest", "can you believe", "let's move
on", "we'll talk about", "let me share my screen", "we should have ...", conditional orders ("ping me if
it breaks") and the agenda ("Today we will review ..."). A "<Name> will" at the start of a sentence needs
a task verb unless the name is also seen capitalized mid-sentence or addressed ("Storage will grow" is
not an item). Assignee: a name addressed or named as subject; "I" -> the segment's speaker, or "speaker"
when segments carry none; "we", "let's", "everyone" -> "team"; "the design team" -> "design team". The
due phrase is the first time expression said in the sentence, as said ("by Friday", "next week").
"""

import re

from voxledger.contracts.insights import ActionItem, ActionItemKind, ActionItems, TranscriptLine

from .fillers import strip_fillers
from .text import STOP_WORDS, Sentence, split_sentences, word_set

# --- what may open a clause before the task itself ---------------------------------------------------
_LEAD = re.compile(
    r"^(?:(?:good idea|sounds good|no problem|of course|thank you|all right|after that|in that case|"
    r"i think(?: that)?|i guess|i suppose|"
    r"(?:next|this|on|by)\s+(?:week|month|quarter|year|monday|tuesday|wednesday|thursday|friday)|"
    r"tomorrow(?:\s+(?:morning|afternoon))?|today|tonight|later|afterwards|first|next|finally|"
    r"so|ok|okay|alright|right|well|yes|yeah|yep|sure|great|good|fine|perfect|cool|then|and|also|but|now|oh|"
    r"thanks|otherwise|maybe|perhaps|probably|actually|honestly|anyway|hey)\b[\s,]*)+",
    re.IGNORECASE,
)
_SPEAKER = "<speaker>"  # stands for whoever said the sentence, until the sentence's speaker is known
_ADVERBS = r"(?:(?:also|just|definitely|really|quickly|then|still|please|all|both|first|actually)\s+)*"
_TRY = r"(?:(?:make sure to|try to|go ahead and|take care to)\s+)?"

_I = re.compile(
    rf"^i(?:'ll| will| shall| am going to|'m going to|'m gonna| need to| have to|'ve got to| must)\s+"
    rf"{_ADVERBS}{_TRY}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_I_CAN = re.compile(rf"^i can\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$")
_LET_ME = re.compile(rf"^let me\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$")
_WE = re.compile(
    rf"^(?:we(?:'ll| will| need to| have to| must| should| are going to|'re going to|'re gonna|'ve got to)"
    rf"|let's|let us)\s+{_ADVERBS}{_TRY}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_YOU = re.compile(
    rf"^(?:(?:can|could|would|will)\s+(?:you|someone|somebody|anyone|one of you)"
    rf"|(?:you(?: will)? need to|you have to|you'll need to|i need you to|i'd like you to|i want you to))"
    rf"\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_PLEASE = re.compile(rf"^please\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$")
_EVERYONE = re.compile(
    rf"^(?:everyone|everybody|all of you|you all|each of you)\s+(?:should|needs to|need to|must|has to|"
    rf"have to|will)\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_SOMEONE = re.compile(
    rf"^(?:someone|somebody|one of us)\s+(?:should|needs to|must|has to)\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_TEAM = re.compile(
    rf"^(?:the\s+|our\s+)?(?P<team>(?:[a-z]+\s+){{0,2}}team)\s+(?:will|'ll|is going to|needs to|has to|"
    rf"should|must)\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
# "<Name> will ..." anywhere in the clause ("the plan is that Jordan will write ..."); case-sensitive name.
_NAMED = re.compile(
    rf"(?:^|\s)(?P<name>[A-Z][a-z]+(?: and [A-Z][a-z]+)?)\s+(?:will|'ll|is going to|needs to|has to|should|must|"
    rf"can)\s+{_ADVERBS}(?P<verb>[a-z']+)(?P<rest>.*)$"
)
_IMPERATIVE = re.compile(rf"^{_ADVERBS}{_TRY}(?P<verb>[a-z']+)\s+(?P<object>[A-Za-z']+)(?P<rest>.*)$", re.IGNORECASE)

# Verbs that make a clause conversation, not a task, per opening; a verb mapped to a pattern is a task
# after all when what follows matches it ("let's talk to legal" is a task, "let's talk about it" is not).
_Exceptions = dict[str, re.Pattern[str] | None]


def _refuse(verbs: str, **exceptions: str) -> _Exceptions:
    refused: _Exceptions = dict.fromkeys(verbs.split())
    refused.update({verb: re.compile(rf"^\s+(?:{pattern})\b") for verb, pattern in exceptions.items()})
    return refused


_NOT_A_TASK: dict[str, _Exceptions] = {
    "i": _refuse(
        "be admit bet guess say never always pass stop leave go apologize mention confess remember not miss love "
        "hate enjoy regret feel wonder hope"
    ),
    "let_me": _refuse(
        "know explain share show say start begin think see ask be finish just add summarize recap repeat clarify "
        "interrupt jump introduce go pull guess tell put rephrase check get look talk",
        check="with|back|on|in with|into",
        get="back",
        look="into",
        talk="to|with",
    ),
    "we": _refuse(
        "talk discuss start begin move go look take hear see get wrap recap turn continue keep jump dive be face "
        "say not focus skip pause stop break hope agree all never pray",
        talk="to|with",
        look="into|for",
        take="care",
        get="back|in touch",
    ),
    "you": _refuse(
        "believe imagine hear see repeat explain clarify say guess think stop mute unmute elaborate like wait "
        "hold speak walk be"
    ),
    "please": _refuse("note hold wait stop continue mute unmute sit excuse bear go forgive enjoy feel welcome raise"),
    "third": _refuse("be not never probably like love agree"),
}
_NOT_A_TASK_PHRASES = re.compile(
    r"\b(?:be honest|tell you what|give you an example|share my screen|start with|begin with|go first|"
    r"take that as|keep it short|be brief|let you go|hand (?:it )?over|say this|have to say|"
    r"talk about how|let me know if|should have|must have|would have|could have|"
    r"give (?:me|us) a (?:second|sec|minute|moment)|tell (?:me|us) (?:more|about)|remind (?:me|us) (?:what|who|how|why))\b"
)
# "Today we will review the budget": the meeting's agenda, not a task.
_AGENDA = re.compile(
    r"^(?:so,?\s+)?(?:today|in (?:this|today's) (?:meeting|call)),?\s+we(?:'ll| will| are going to|'re going to)\b",
    re.IGNORECASE,
)
# Words that open the object of an imperative ("send the file", "call David"), so that a noun phrase
# starting with a verb-like word ("test results came back") is not taken for an order.
_OBJECT_OPENERS = word_set(
    "the a an me us him her them it this that these those my our your their his everyone everybody all out up "
    "over back in on off round around through some any to with"
)
# Verbs that name work to be done: what a bare imperative or a "<Name> will" subject must use.
TASK_VERBS = word_set(
    """
    send email e-mail mail call phone schedule book update prepare review check share write draft fix finish
    complete set follow reach ping create submit organize organise arrange confirm forward test deploy ship
    release investigate look talk meet contact present deliver build order buy plan circulate collect
    compile coordinate document file handle implement migrate notify publish reply report research respond
    sign study sync upload download visit verify bring add put find make ask tell remind help move change
    cancel approve decide evaluate estimate hire train interview post print renew restart install remove
    clean escalate summarize summarise prioritize prioritise double-check draw design sort fill pay
    invoice merge run take open close
    """
)
# Capitalized words that open a clause but are not names (an "-ly" adverb is never taken for a name).
_NOT_NAMES = word_set(
    """
    i the a an this that these those it he she they we you there here what why how who when where which
    yes no okay ok sure great good thanks thank sorry please well now so then also and but or if
    today tomorrow tonight yesterday monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    everyone everybody team guys folks all someone somebody nobody anyone finally first next maybe hey hi
    hello actually honestly anyway right alright perfect cool fine overall however meanwhile again besides
    otherwise instead still look listen awesome nice interesting exactly absolutely definitely totally wow
    later afterwards anyhow hmm um uh oh ah firstly secondly lastly
    """
)
_GROUP_ADDRESS = word_set("everyone everybody team guys folks all")

# --- due phrases ------------------------------------------------------------------------------------
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_PART = r"(?:\s+(?:morning|afternoon|evening|night|noon))?"
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_PERIOD = r"(?:day|week|month|quarter|year|sprint|business day|working day)"
_EVENT = (
    r"(?:meeting|call|release|launch|demo|review|deadline|sprint|stand-?up|sync|presentation|workshop|"
    r"offsite|kickoff|kick-off|holidays?|weekend|break|board meeting|retro|retrospective|planning)"
)
_DUE = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"\b(?:by|before|until|till|no later than)\s+(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?{_PERIOD}\b",
        rf"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?{_PERIOD}\b",
        r"\b(?:by\s+)?(?:eod|cob|eow)\b",
        rf"\b(?:by|before|on|until|till|no later than)\s+(?:next\s+|this\s+|the\s+)?{_DAY}\b{_PART}",
        rf"\b(?:next|this|coming)\s+(?:{_DAY}|week|month|quarter|year|weekend|sprint)\b{_PART}",
        rf"\b(?:right\s+)?(?:by|before|after|until)\s+(?:the|our|this|next|tomorrow's|today's|the next)\s+"
        rf"(?:next\s+)?{_EVENT}\b",
        r"\b(?:right\s+)?after\s+(?:this|that|lunch)\b",
        rf"\b(?:by|before|until)\s+(?:tomorrow|tonight|today|noon|lunch|midday){_PART}",
        r"\b(?:later\s+)?today\b",
        r"\btonight\b",
        rf"\btomorrow\b{_PART}",
        r"\bthis\s+(?:morning|afternoon|evening)\b",
        rf"\b(?:by|before|in|on|until)\s+{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?\b",
        r"\b(?:by|before|on|until)\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\b",
        r"\bwithin\s+(?:the\s+)?(?:next\s+)?(?:\w+\s+)?(?:hours?|days?|weeks?|months?)\b",
        r"\bin\s+(?:a|an|one|two|three|four|five|a few|a couple of|\d+)\s+(?:hours?|days?|weeks?|months?)\b",
        r"\b(?:asap|as soon as possible|right away|immediately)\b",
        rf"\bon\s+{_DAY}s?\b{_PART}",
    )
)


def find_due(text: str) -> str | None:
    """The first (leftmost, then longest) due phrase in the text, as said."""
    found = [(m.start(), -m.end()) for pattern in _DUE if (m := pattern.search(text))]
    if not found:
        return None
    start, neg_end = min(found)
    return text[start:-neg_end]


def _is_name(word: str, known: frozenset[str]) -> bool:
    bare = word.strip(",.?!;:")
    return (
        bool(bare)
        and bare[0].isupper()
        and bare.isalpha()
        and bare.lower() not in _NOT_NAMES
        and not bare.endswith("ly")
        and (bare in known or bare.lower() not in STOP_WORDS)
    )


def _proper_nouns(sentences: list[Sentence]) -> frozenset[str]:
    """Capitalized words seen where capitals don't come from sentence starts: mid-sentence or addressed."""
    seen: set[str] = set()
    for sentence in sentences:
        tokens = sentence.text.split()
        for i, token in enumerate(tokens):
            bare = token.strip(",.?!;:\"'()")
            if not _is_name(bare, frozenset()):
                continue
            if (i > 0 and not tokens[i - 1].endswith((".", "!", "?"))) or (token.endswith(",") and i == 0):
                seen.add(bare)
    return frozenset(seen)


def _verb_ok(group: str, verb: str, rest: str) -> bool:
    refused = _NOT_A_TASK[group]
    if verb not in refused:
        return True
    exception = refused[verb]
    return exception is not None and exception.match(rest) is not None


def _match_clause(
    clause: str, addressee: str | None, known: frozenset[str]
) -> tuple[ActionItemKind, str | None] | None:
    """(kind, assignee) for a clause that opens like a task, else None; "I" is returned as _SPEAKER."""
    lowered = clause.lower()
    if _NOT_A_TASK_PHRASES.search(lowered):
        return None
    if m := _I.match(lowered):
        if m["verb"] == "be" and m["rest"].split()[:1] and m["rest"].split()[0].endswith("ing"):
            return "commitment", _SPEAKER  # "I'll be sending it"
        return ("commitment", _SPEAKER) if _verb_ok("i", m["verb"], m["rest"]) else None
    if (m := _I_CAN.match(lowered)) and m["verb"] in TASK_VERBS:  # "I can send it", not "I can do that"
        return "commitment", _SPEAKER
    if m := _LET_ME.match(lowered):
        return ("commitment", _SPEAKER) if _verb_ok("let_me", m["verb"], m["rest"]) else None
    if m := _WE.match(lowered):
        return ("commitment", "team") if _verb_ok("we", m["verb"], m["rest"]) else None
    if m := _YOU.match(lowered):
        if m["verb"] == "mind":  # "would you mind sharing ..."
            return "request", addressee
        return ("request", addressee) if _verb_ok("you", m["verb"], m["rest"]) else None
    if m := _PLEASE.match(lowered):
        return ("request", addressee) if _verb_ok("please", m["verb"], m["rest"]) else None
    if m := _EVERYONE.match(lowered):
        return ("request", "team") if _verb_ok("third", m["verb"], m["rest"]) else None
    if m := _SOMEONE.match(lowered):
        return ("request", None) if _verb_ok("third", m["verb"], m["rest"]) else None
    if (m := _TEAM.match(lowered)) and m["verb"] in TASK_VERBS:
        return "request", m["team"]
    if (m := _NAMED.search(clause)) and _verb_ok("third", m["verb"], m["rest"]):
        names = m["name"].split(" and ")
        at_start = clause.startswith(m["name"])
        if all(_is_name(n, known) for n in names) and (
            not at_start or all(n in known for n in names) or m["verb"] in TASK_VERBS
        ):
            return "request", m["name"]
    if (
        (addressee or find_due(clause))
        and (m := _IMPERATIVE.match(clause))
        and m["verb"].lower() in TASK_VERBS
        and (m["object"].lower() in _OBJECT_OPENERS or m["object"][0].isupper())
        and "?" not in clause
        and not re.search(r"\b(?:if|when|whenever|unless)\b", lowered)  # "ping me if anything breaks"
    ):
        return "request", addressee
    return None


def _clauses(sentence: str) -> list[str]:
    return [c.strip() for c in re.split(r"[,;:]\s+|\s+-\s+", sentence) if c.strip()]


def _strip_lead(clause: str) -> str:
    return _LEAD.sub("", clause).strip()


def _item_for(sentence: Sentence, known: frozenset[str]) -> ActionItem | None:
    text, _ = strip_fillers(sentence.text)
    if not text or _AGENDA.match(text):
        return None
    clauses = [_strip_lead(c) for c in _clauses(text)]
    due = find_due(text)

    def address(clause: str) -> str | None:
        bare = clause.strip(" ,.?!;:")
        if bare.lower() in _GROUP_ADDRESS:
            return "team"
        if " " not in bare and _is_name(bare, known):
            return bare
        return None

    trailing = address(clauses[-1]) if len(clauses) > 1 else None
    addressee: str | None = None
    for clause in clauses:
        if not clause:
            continue
        named = address(clause)
        if named:
            addressee = named
            continue
        found = _match_clause(clause, addressee or trailing, known)
        if found:
            kind, assignee = found
            if assignee == _SPEAKER:
                assignee = sentence.speaker or "speaker"
            item_text = text[0].upper() + text[1:]
            return ActionItem(
                text=item_text, kind=kind, assignee=assignee, due=due, start=sentence.start, end=sentence.end
            )
    return None


def extract_action_items(lines: list[TranscriptLine]) -> ActionItems:
    sentences = split_sentences(lines)
    known = _proper_nouns(sentences)
    items = [item for s in sentences if (item := _item_for(s, known)) is not None]
    return ActionItems(items=items)
