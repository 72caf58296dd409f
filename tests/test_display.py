"""The terminal view's progress bar follows the step's own counts, whatever happened before."""

from __future__ import annotations

import io

from engine_kit import routine

from voicecoach import plan
from voicecoach.display import TerminalView
from voicecoach.speaker import estimate_seconds


def calf_hold() -> plan.Plan:
    """The plan of the calf stretch's first hold, as the views are shown it."""
    return plan.build(plan.Step("work", routine("calf").exercises[0], "painful", 1),
                      estimate_seconds)


def shown(out: object, keys: bool = True, voice: bool = True,
          anchor: float = 0.0) -> tuple[plan.Plan, TerminalView]:
    """A terminal view writing to `out`, showing the calf hold from `anchor`."""
    hold = calf_hold()
    view = TerminalView(out, keys=keys, voice=voice)  # type: ignore[arg-type]
    view.step(hold, 0, 1, anchor=anchor)
    return hold, view


def test_the_bar_re_anchors_on_each_count_after_a_rewind():
    hold, view = shown(io.StringIO(), keys=False, anchor=100.0)
    # A repeat took 7 s without the view hearing of it; "three" then fires 7 s late.
    three = [c for c in hold.cues if c.kind == "count"][2]
    view.cue(three, 100.0 + three.at + 7.0)
    assert view.anchor == 107.0 and view.count == "three"
    view.close()


def test_while_a_question_waits_the_key_line_shows_its_answer_keys():
    """"n" means "next" in a set and "no" at a yes/no question: the screen says which."""
    from voicecoach.display import ANSWER_KEYS_LINES, KEYS_LINE

    out = io.StringIO()
    _, view = shown(out)
    assert out.getvalue().rstrip().endswith(KEYS_LINE)
    for section in ("numbers", "yes_no"):
        view.asking(section)
        screen = out.getvalue().rsplit("\x1b[2J", 1)[1]
        assert ANSWER_KEYS_LINES[section] in screen and KEYS_LINE not in screen
    view.asking(None)
    assert out.getvalue().rstrip().endswith(KEYS_LINE)
    view.end({"completed": True, "sets_done": 1, "sets_planned": 1})
    # After the session: the question is asked after the view hears of it; the keys' line
    # comes under the question.
    view.asking("numbers")
    view.cue(plan.Cue(0.0, "How is your knee now, from zero to ten?", "instruction"), 1.0)
    assert out.getvalue().endswith("How is your knee now, from zero to ten?\n"
                                    f"({ANSWER_KEYS_LINES['numbers']})\n")
    view.asking(None)
    view.close()


def test_a_screen_that_cannot_be_written_is_said_once_and_dropped(capsys):
    """A closed terminal (EIO) or a full disk: the session must go on, so the view says so
    once on stderr and draws no more."""

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    hold, view = shown(Closed())
    view.cue(hold.cues[0], 0.0)
    view.end({"completed": False, "sets_done": 0, "sets_planned": 1})
    view.close()
    err = capsys.readouterr().err
    assert err == ("voicecoach: cannot write the captions (Input/output error); the session "
                   "goes on without them\n")


def test_the_paused_line_names_only_the_ways_to_carry_on_there_are():
    for keys, voice, line in ((True, True, "PAUSED — press space or say resume"),
                              (True, False, "PAUSED — press space"),
                              (False, True, "PAUSED — say resume")):
        out = io.StringIO()
        _, view = shown(out, keys=keys, voice=voice)
        view.paused(True, 1.0)
        screen = out.getvalue().rsplit("\x1b[2J", 1)[1]
        assert f"\x1b[7m {line} \x1b[0m" in screen, screen
        view.close()


def test_a_long_caption_wraps_on_a_narrow_terminal(monkeypatch):
    """Cut at the width, the welcome's "...or q to" lost its "stop" in 80 columns."""
    import os

    from voicecoach.display import CAPTION_LINES

    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((60, 24)))
    out = io.StringIO()
    _, view = shown(out)
    text = ("Press space to pause or carry on, n for next, b for back, r to repeat, "
            "or q to stop.")
    view.cue(plan.Cue(0.0, text, "instruction"), 0.5)
    screen = out.getvalue().rsplit("\x1b[2J", 1)[1].splitlines()
    assert screen[2] + " " + screen[3] == text and all(len(x) <= 58 for x in screen[2:4])
    short = out.getvalue()
    view.cue(plan.Cue(0.0, "word " * 200, "instruction"), 1.0)
    screen = out.getvalue()[len(short):].rsplit("\x1b[2J", 1)[1].splitlines()
    assert screen[2 + CAPTION_LINES - 1].endswith(" ...") and screen[2 + CAPTION_LINES] == ""
    view.close()


def test_the_bar_stands_still_while_a_question_waits():
    """The pain questions mid-set: the bar ran on to 100 % while the person answered."""
    out = io.StringIO()
    hold, view = shown(out)
    three = [c for c in hold.cues if c.kind == "count"][2]
    view.cue(three, three.at)
    bar = view._bar(three.at, 40)
    view.asking("numbers")
    view.cue(plan.Cue(0.0, "How bad is the pain, from zero to ten?", "instruction"), three.at + 9)
    assert view._bar(three.at + 9, 40) == bar
    view.close()
