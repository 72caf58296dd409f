"""The dialogue around a session: first-run disclaimer, red flags, pain, history written."""

from __future__ import annotations

import json
import subprocess
import sys

from engine_kit import routine

from voicecoach.care import STOP_QUESTION, Care
from voicecoach.cli import parser
from voicecoach.clock import VirtualClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.events import EventLog
from voicecoach.history import HistoryStore
from voicecoach.session import NullView, Session
from voicecoach.speaker import CaptionSpeaker


def build(tmp_path, answers, no_check=False, can_answer=True):
    clock = VirtualClock()
    inbox = Inbox()
    for at, ev in answers:
        inbox.schedule(CommandEvent(ev[0], source=ev[1], heard=ev[2], at=at))
    log = EventLog(clock.now, clock.wall)
    speaker = CaptionSpeaker(clock.now, report=log.said)
    args = parser().parse_args(["--data-dir", str(tmp_path)] + (["--no-check"] if no_check else []))
    care = Care(args, clock, speaker, inbox, log, NullView(), lambda t: None, can_answer)
    return care, clock, speaker, inbox, log


def said(log):
    return [e["text"] for e in log.events if e["event"] == "say"]


def test_a_yes_by_key_or_by_voice_stops_before_exercise(tmp_path):
    for source, heard, command in (("key", "y", Command.ANSWER), ("voice", "yes", Command.ANSWER)):
        d = tmp_path / source
        care, *_, log = build(d, [(60.0, (command, source, heard))])
        assert care.before(routine("calf")) is None
        care.recorder.close()
        assert any("doctor" in t for t in said(log))
        last = HistoryStore(d / "history.db").last_safety_check()
        assert last is not None and last.flagged


def test_all_no_answers_proceed_and_are_remembered(tmp_path):
    no = (Command.NEXT, "key", "n")  # the "n" key means NEXT in a session and "no" here
    care, *_ = build(tmp_path, [(t, no) for t in (50.0, 70.0, 90.0)])
    assert care.before(routine("calf")) is not None
    care.recorder.close()
    # The next run within the interval is not asked again.
    care, *_, log = build(tmp_path, [])
    assert care.before(routine("calf")) is not None
    assert not any("yes or no" in t for t in said(log))


def test_nobody_to_answer_reads_the_signs_aloud_and_goes_on(tmp_path):
    care, *_, log = build(tmp_path, [], can_answer=False)
    assert care.before(routine("calf")) is not None
    text = " ".join(said(log))
    assert "does not replace" in text and "calf" in text.lower()


def test_a_yes_stands_until_answered_again_even_when_nobody_can_answer(tmp_path):
    """A reported warning sign is not cleared by a run with no terminal and no microphone
    (which would read the signs out and carry on), nor skipped by --no-check: only answering
    the questions again ("no" to each) lets exercise start."""
    care, *_ = build(tmp_path, [(60.0, (Command.ANSWER, "key", "y"))])
    assert care.before(routine("calf")) is None
    care.recorder.close()
    no = (Command.NEXT, "key", "n")
    # (False, True): asked again but nobody answers (the Pi service, nobody at the
    # microphone); then only the first question answered.
    for no_check, can_answer, answers in ((False, False, []), (True, True, []),
                                          (True, False, []), (False, True, []),
                                          (False, True, [(50.0, no)])):
        care, *_, log = build(tmp_path, answers, no_check=no_check, can_answer=can_answer)
        assert care.before(routine("calf")) is None, (no_check, can_answer)
        care.recorder.close()
        text = " ".join(said(log))
        assert "warning sign was reported" in text and "calf that is swollen" in text
        assert "voicecoach check" in text and "carry on" not in text
    care, *_ = build(tmp_path, [(t, no) for t in (50.0, 70.0, 90.0)])
    assert care.before(routine("calf")) is not None  # answered again: all clear
    care.recorder.close()
    care, *_, log = build(tmp_path, [], can_answer=False)
    assert care.before(routine("calf")) is not None


def test_a_history_that_cannot_be_read_does_not_let_no_check_skip_a_yes(tmp_path):
    """A yes is in the history; the history is then damaged. --no-check cannot know whether
    a sign stands, so the questions are asked all the same, and said why (a physiotherapist's
    run-through, 2026-12-08: the session ran)."""
    care, *_ = build(tmp_path, [(60.0, (Command.ANSWER, "key", "y"))])
    assert care.before(routine("calf")) is None
    care.recorder.close()
    for leftover in tmp_path.glob("history.db*"):
        leftover.write_bytes(b"this is not sqlite at all" * 100)
    notices: list[str] = []
    care, *_, log = build(tmp_path, [(60.0, (Command.ANSWER, "key", "y"))], no_check=True)
    care.notice = notices.append
    assert care.before(routine("calf")) is None
    assert "doctor" in " ".join(said(log))
    assert any("red-flag questions are asked despite --no-check" in n for n in notices)


def test_the_standing_sign_is_read_even_where_the_coach_could_not_write(tmp_path):
    """A full disk: the coach does not open the history to write, but a yes in it stands."""
    from voicecoach import safety

    path = tmp_path / "history.db"
    assert safety.standing_sign(None, path) == (None, True)  # a first run: nothing to know
    care, *_ = build(tmp_path, [(60.0, (Command.ANSWER, "key", "y"))])
    assert care.before(routine("calf")) is None
    care.recorder.close()
    sign, known = safety.standing_sign(None, path)
    assert known and sign is not None and "calf" in sign
    path.write_bytes(b"junk" * 1000)
    for wal in tmp_path.glob("history.db-*"):
        wal.unlink()
    assert safety.standing_sign(None, path) == (None, False)


def test_only_the_calf_sign_says_to_call_emergency_services(tmp_path):
    """Breathlessness or chest pain matters after a calf that may hold a clot, not after a
    knee that will not take weight."""
    for answers, urgent in (("y", True), ("nny", False)):
        d = tmp_path / answers
        keys = [(50.0 + 20 * i, (Command.ANSWER, "key", "y") if a == "y"
                 else (Command.NEXT, "key", "n")) for i, a in enumerate(answers)]
        care, *_, log = build(d, keys)
        assert care.before(routine("calf")) is None
        care.recorder.close()
        advice = said(log)[-1]
        assert "see a doctor" in advice and ("emergency" in advice) == urgent, advice


def test_pain_mid_session_asks_and_skips_and_history_has_the_sets(tmp_path):
    care, clock, speaker, inbox, log = build(tmp_path, [], no_check=True)
    rt = routine("back-of-knee", sets=1)
    care.before(rt)
    # "it hurts" during the calf stretch, then "four" (a number key), then pain after: 2.
    inbox.schedule(CommandEvent(Command.PAIN, source="voice", heard="it hurts", at=230.0))
    inbox.schedule(CommandEvent(Command.ANSWER, source="key", heard="4", at=240.0))
    session = Session(rt, clock, speaker, inbox, log, NullView(), care.on_pain)
    assert session.run() is True
    # After the session the coach asks how the knee is: answered by voice.
    inbox.schedule(CommandEvent(Command.ANSWER, "voice", heard="two", at=clock.now() + 3))
    care.after(session)
    stored = HistoryStore(tmp_path / "history.db").sessions()
    assert len(stored) == 1 and stored[0].pain_after == 2
    assert any("How bad is the pain" in t for t in said(log))
    # The events file has the answers and the pain scores too (a run-through found neither).
    assert stored[0].pain_stops[0].value == 4
    pains = [(e["when"], e["value"]) for e in log.events if e["event"] == "pain"]
    assert pains == [("before", None), ("during", 4), ("after", 2)]  # none answered before
    assert [(e["heard"], e["source"]) for e in log.events if e["event"] == "answer"] == [
        ("4", "key"), ("two", "voice")]


def test_stop_during_the_pain_question_ends_the_session_and_is_on_record(tmp_path):
    """"stop" while the coach asks how bad the pain is: the session ends, and the history has
    the exercise as stopped for pain (unscored), so the next session does not step it up."""
    care, clock, speaker, inbox, log = build(tmp_path, [], no_check=True)
    rt = routine("back-of-knee", sets=1)
    care.before(rt)
    inbox.schedule(CommandEvent(Command.PAIN, source="voice", heard="it hurts", at=230.0))
    inbox.schedule(CommandEvent(Command.STOP, source="key", heard="q", at=236.0))
    session = Session(rt, clock, speaker, inbox, log, NullView(), care.on_pain)
    session.run()
    stored = HistoryStore(tmp_path / "history.db").sessions()
    assert [(p.value, p.skipped) for p in stored[0].pain_stops] == [(None, True)]
    assert stored[0].pain_stops[0].exercise == session.current_exercise


def test_severe_pain_before_the_session_is_met_with_a_question(tmp_path):
    """A 10 of 10 before the session once led straight into the exercises (a user's
    run-through): at 7 or more the coach says so and goes on only on a yes."""
    def before(answers: list[tuple[str, str]], d: str) -> tuple[object, list[str]]:
        events = [(30.0 + 15 * i, (Command.ANSWER, "key", a)) for i, (a, _) in
                  enumerate(answers)]
        care, *_, log = build(tmp_path / d, events, no_check=True)
        out = care.before(routine("calf"))
        care.recorder.close()
        return out, said(log)

    ran, text = before([("8", "pain"), ("y", "go on")], "yes")
    assert ran is not None and "That is a lot of pain to start with." in " ".join(text)
    ran, text = before([("8", "pain"), ("n", "rest")], "no")
    assert ran is None and text[-1].startswith("Then rest today.")
    ran, text = before([("8", "pain")], "silence")  # nobody answers: rest
    assert ran is None
    ran, text = before([("6", "pain")], "six")
    assert ran is not None and "lot of pain" not in " ".join(text)


def test_after_carrying_on_in_pain_the_count_waits_for_the_person(tmp_path):
    """The counting came back 0.08 s after "carry on gently" (a user's run-through): the
    person gets a few seconds to get back into position first."""
    from voicecoach.session import PAIN_SETTLE

    care, clock, speaker, inbox, log = build(tmp_path, [], no_check=True)
    rt = routine("calf", sets=1)
    care.before(rt)
    start = clock.now()
    inbox.schedule(CommandEvent(Command.PAIN, source="voice", heard="it hurts", at=start + 60))
    inbox.schedule(CommandEvent(Command.ANSWER, source="key", heard="3", at=start + 70))
    inbox.schedule(CommandEvent(Command.NEXT, source="key", heard="n", at=start + 80))
    session = Session(rt, clock, speaker, inbox, log, NullView(), care.on_pain)
    session.run()
    says = [e for e in log.events if e["event"] == "say"]
    gently = next(e for e in says if e["text"].startswith("All right, carry on gently"))
    after = [e for e in says if e["t"] > gently["t"]]
    assert after, says
    end = gently["t"] + speaker.duration(gently["text"])
    assert after[0]["t"] >= end + PAIN_SETTLE - 0.01, (gently, after[0])
    care.recorder.close()


def test_cli_first_run_unattended_reads_flags_then_runs(tmp_path):
    env = {"VOICECOACH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    events = tmp_path / "e.jsonl"
    r = subprocess.run([sys.executable, "-m", "voicecoach", "--exercise", "calf", "--speed",
                        "1000", "--save", "--no-voice", "--no-listen", "--events", str(events)],
                       capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "does not replace" in r.stdout
    ev = [json.loads(x) for x in events.read_text().splitlines()]
    assert ev[-1]["completed"] is True
    stored = HistoryStore(tmp_path / "history.db").sessions()
    assert len(stored) == 1 and stored[0].status == "completed"


def test_stop_during_a_question_aborts_the_dialogue(tmp_path):
    care, *_ = build(tmp_path, [(45.0, (Command.STOP, "key", "q"))])
    assert care.before(routine("calf")) is None and care.aborted


def test_a_pause_while_a_question_waits_is_no_answer_and_gets_no_hint(tmp_path):
    # The person says "hold on" (or a barge-in fires) while a red-flag question waits, then
    # answers: the question just goes on waiting, with no "please answer yes or no" over it.
    pause = (Command.PAUSE, "voice", "stop")
    no = (Command.ANSWER, "voice", "no")
    care, *_, log = build(tmp_path, [(45.0, pause), (46.0, (Command.RESUME, "voice", "go on")),
                                     (47.0, no), (70.0, no), (90.0, no)])
    assert care.before(routine("calf")) is not None
    care.recorder.close()
    assert not any("press y or n" in t for t in said(log)), said(log)


def test_the_listener_is_told_which_answers_to_expect_only_while_asking(tmp_path):
    clock = VirtualClock()
    inbox = Inbox()
    for at in (50.0, 70.0, 90.0):
        inbox.schedule(CommandEvent(Command.ANSWER, source="voice", heard="no", at=at))
    inbox.schedule(CommandEvent(Command.ANSWER, source="voice", heard="three", at=110.0))
    log = EventLog(clock.now, clock.wall)
    speaker = CaptionSpeaker(clock.now, report=log.said)
    args = parser().parse_args(["--data-dir", str(tmp_path)])
    expected: list[str | None] = []
    care = Care(args, clock, speaker, inbox, log, NullView(), lambda t: None, True,
                expect=expected.append)
    assert care.before(routine("calf")) is not None
    care.recorder.close()
    # Three red-flag questions, then pain before: each opened and closed again.
    assert expected == ["yes_no", None] * 3 + ["numbers", None]
    stored = HistoryStore(tmp_path / "history.db").last_safety_check()
    assert stored is not None and not stored.flagged


def test_a_spoken_stop_is_confirmed_by_yes_or_stop_again_or_silence(tmp_path):
    yes = (Command.ANSWER, "voice", "yes")
    again = (Command.STOP, "voice", "stop")
    no = (Command.ANSWER, "voice", "no")
    go_on = (Command.RESUME, "voice", "go on")
    key_n = (Command.NEXT, "key", "n")
    for reply, ends in ((yes, True), (again, True), (None, True),
                        (no, False), (go_on, False), (key_n, False)):
        d = tmp_path / str(reply)
        care, clock, speaker, inbox, log = build(d, [], no_check=True)
        rt = routine("calf", sets=1)
        care.before(rt)
        session = Session(rt, clock, speaker, inbox, log, NullView(), on_stop=care.confirm_stop)
        start = clock.now()
        inbox.schedule(CommandEvent(Command.STOP, source="voice", heard="stop", at=start + 60))
        if reply is not None:
            inbox.schedule(CommandEvent(reply[0], source=reply[1], heard=reply[2],
                                        at=start + 65))
        assert session.run() is (not ends), reply
        care.recorder.close()
        asked = [t for t in said(log) if t == STOP_QUESTION]
        # Nobody answering is asked twice, then the session ends as asked.
        assert len(asked) == (2 if reply is None else 1), reply
        assert session.stopped_by == ("voice" if ends else None)


def test_the_hints_name_only_the_ways_to_answer_there_are():
    """"Please say a number" with nothing listening sent people talking to a deaf coach."""
    from voicecoach.answers import Answer, ask_number, ask_yes_no

    def hint(ask, **kw):
        out, answers = [], iter([Answer("maybe"), Answer("y"), Answer("3")])
        ask("Question?", out.append, lambda t: next(answers), **kw)
        return out[1]

    assert hint(ask_yes_no) == "Please answer yes or no. You can also press y or n."
    assert hint(ask_yes_no, keys=False) == "Please answer yes or no."
    assert hint(ask_yes_no, voice=False) == "Please answer y for yes or n for no."
    assert hint(ask_number) == ("Please say a number from zero to ten. "
                                "Or type it: for ten, press 1 then 0.")
    assert hint(ask_number, digit_gap=None) == "Please say a number from zero to ten."
    assert hint(ask_number, voice=False) == ("Please type a number from zero to ten: "
                                             "for ten, press 1 then 0.")
    assert hint(ask_number, voice=False, high=5) == "Please type a number from zero to five."


def test_a_key_pressed_before_a_question_is_no_answer_to_it(tmp_path):
    """A review (2026-12-07): "n" pressed to get on through the introduction (it means next)
    waited in the inbox and answered "no" to the first warning sign as soon as it was asked.
    What came before a question is dropped; a stop still stops."""
    no = (Command.ANSWER, "voice", "no")
    care, *_, log = build(tmp_path / "n", [(5.0, (Command.NEXT, "key", "n")), (50.0, no),
                                           (70.0, no), (90.0, no)])
    assert care.before(routine("calf")) is not None
    care.recorder.close()
    answers = [e for e in log.events if e["event"] == "answer"]
    assert [(e["heard"], e["source"]) for e in answers] == [("no", "voice")] * 3
    care, *_ = build(tmp_path / "q", [(5.0, (Command.STOP, "key", "q"))])
    assert care.before(routine("calf")) is None and care.aborted


def test_the_talked_over_line_comes_only_before_the_question_is_asked_again() -> None:
    """After the last try the session moves on: the line outlasted the session's end (a
    run-through, 2026-12-07: a `say` event after `session_end`)."""
    from voicecoach.answers import TALK_OVER, ask_yes_no

    said: list[str] = []
    assert ask_yes_no("Is it swollen?", said.append, lambda timeout: None, timeout=0.01,
                      keys=False, talked=lambda since: True) is None
    assert said == ["Is it swollen?", TALK_OVER, "Is it swollen?"]
