"""What pocketsphinx is told about the words: extra pronunciations and the fillers.

The command recognizer (sphinx_recognizer.py) builds its language models from the command
phrases and a few *filler* words that soak up speech that is not a command (FILLERS). Every
word the coach itself says is a filler too (coach_words): the echo of its voice is then heard
as those words and not forced onto a command. VARIANTS adds the pronunciations the acoustic
model hears in command words said in other ways.
"""

from __future__ import annotations

from voicecoach.phrases import DATA_DIR, normalize

#: Extra pronunciations of command words, the way the acoustic model hears them (measured on
#: espeak-ng's voices; both are ordinary in speech too). A vocalized dark L: "help" as "hewp";
#: without it "help" was never heard (it came out as "two"). An aspirated K and a devoiced W in
#: "quit": the model takes that puff for silence and "quit" came out as "wait", which pauses.
#: Other accents (2026-12-05): the American model heard espeak-ng's British, Scottish and
#: Caribbean "pause" as nothing at all (6 of 18 heard, 17 with the long, gliding vowel), "back"
#: with an open A 13 of 36 (33), "stop" with a rounded O 21 of 36 (32), and "hold" with the
#: British diphthong 15 of 18 (18). On the whole set (8 such voices, clean and 10 dB) 826 of
#: 1056 commands against 729; the American set the same (496 of 528 against 495); lone words
#: fire a little more often (185 of 1592 against 158: "almost" and "thousand" as "pause",
#: "but" and "got" as "back"). A second round, the same day, for the words still missed: a
#: closer vowel in "next" (Caribbean, West Midlands: 45 of 54 against 38; "N EY K S T" got 48
#: but made "eight" and "make" said alone skip a step, 6 lone words of 1592 against 1) and
#: "skip" (27 of 27 against 21), a rounder one in "hurts" (23 of 27 against 18) and a closer
#: one in "help" (Lancashire: 24 of 27 against 19). Lone words fired 184 of 1592 against 185.
VARIANTS = {
    "help": ["HH EH OW P", "HH EH UW P", "HH IY L P"],
    "next": ["N IH K S T"],
    "skip": ["S K IY P"],
    "hurts": ["HH AO T S"],
    "quit": ["K HH W IH T"],
    "pause": ["P AO OW Z"],
    "back": ["B AA K"],
    "stop": ["S T AO P"],
    "hold": ["HH AH OW L D"],
}

#: Frequent English words that are not command words: the grammar's "anything else".
FILLERS = """
the a an and of to in is was for are with as i his they be at have this from or had by word
but not all were we when your can there use each which do how their if will up other about out
many then them these so some her would make like him into time has look two more write see
number way could people my than first water been call who its now find long down day did get
come made may part over new sound take only little work know place year live me give most very
after thing our just name good man think great where through much before line right too mean
old any same tell boy follow came want show also around form small set put end does another well
large must big even such because turn here why ask went men read need land different home us
move try kind hand picture change off play spell air away animal house point page letter mother
answer found study still learn should world high every near add food between own below country
plant last school father keep tree never start city earth eye light thought head under story saw
left few while along might close something seem hard open example begin life always those both
paper together got group often run important until children side feet car mile night walk white
sea began grow took river carry state once book hear without second later miss idea enough eat
face watch far really almost let above girl sometimes mountain cut young talk soon list song
being leave family body music color sun question fish area mark dog horse problem complete room
knew since ever piece told usually friends easy heard order red door sure become top ship across
today during short better best however low hours black whole measure remember early listen wind
rock space covered fast several himself toward step morning passed true hundred against pattern
table north slowly money map farm pulled draw voice seen cold cried plan notice south sing war
ground fall king town unit figure certain field travel wood fire upon knee leg muscle stretch
""".split()


#: Lines the engine itself says (plan.py, session.py), beyond counts and the routine's text.
COACH_LINES = """
welcome let's start the say pause next back repeat or stop at any time if pain turns sharp
point and it hurts that's session done well halfway last one paused resuming set of sets reps
rest for seconds second switch legs now same with your leg left right painful and relax you can
resume something hold holds between how bad from zero to ten does did is are when i'm not
talking also help
"""
#: The coach's counts: "one" ... "twenty", then tens.
COUNTS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    " sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty"
).split()


def routine_texts() -> list[str]:
    """Every string of the built-in data files other than the phrase tables: the routine's
    instructions, cues, cautions and the like, as the coach may say them."""
    import tomllib

    texts: list[str] = []

    def strings(node: object) -> None:
        if isinstance(node, str):
            texts.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                strings(value)
        elif isinstance(node, list):
            for value in node:
                strings(value)

    for data in sorted(DATA_DIR.glob("*.toml")):
        if not data.name.startswith("phrases-"):
            with open(data, "rb") as f:
                strings(tomllib.load(f))
    return texts


def coach_words() -> list[str]:
    """Every word the coach itself says: counts, its fixed lines and the built-in routine's text.

    In the language model as fillers, the echo of the coach's "three" is heard as "three";
    without them pocketsphinx forces it onto the nearest phrase ("repeat") and it fires.
    """
    texts = [" ".join(COUNTS), COACH_LINES, *routine_texts()]
    out: list[str] = []
    for word in normalize(" ".join(texts)).split():
        if word not in out and not word.isdigit():
            out.append(word)
    return out
