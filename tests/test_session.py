"""The engine under a virtual clock: timing of counts, and every command mid-hold/rep/rest."""

from __future__ import annotations

import time

import pytest
from engine_kit import counts_after, make, of, routine, states

from voicecoach import words
from voicecoach.clock import VirtualClock
from voicecoach.commands import Command, CommandEvent, Inbox
from voicecoach.events import EventLog
from voicecoach.session import Session, State
from voicecoach.speaker import CaptionSpeaker


def hold_windows(events):
    holds = states(events, "hold")
    dones = states(events, "set_done")
    return [(h["t"], d["t"]) for h, d in zip(holds, dones)]


def test_calf_three_holds_counted_on_exact_seconds():
    session, log = make(routine("calf"))
    assert session.run() is True
    ev = log.events
    holds = states(ev, "hold")
    assert len(holds) == 3 and all(h["seconds"] == 20.0 for h in holds)
    for h in holds:
        counts = counts_after(ev, h["t"], h["t"] + 20)
        assert [c["text"] for c in counts] == [words.number(n) for n in range(1, 21)]
        for n, c in enumerate(counts, 1):
            assert c["start"] == pytest.approx(h["t"] + n, abs=1e-6)
    # Rests between holds, with a countdown of the last three seconds.
    rests = states(ev, "rest")
    assert len(rests) == 2
    for r in rests:
        down = counts_after(ev, r["t"], r["t"] + 10)
        assert [c["text"] for c in down] == ["three", "two", "one"]
        assert [c["t"] - r["t"] for c in down] == pytest.approx([7, 8, 9])
    assert ev[-1]["event"] == "session_end" and ev[-1]["completed"] is True
    assert ev[-1]["summary"]["sets_done"] == 3


def test_every_event_has_time_fields_and_time_never_goes_back():
    session, log = make(routine("calf"))
    session.run()
    for e in log.events:
        assert {"t", "wall", "event"} <= set(e)
        assert e["wall"] == pytest.approx(1_700_000_000.0 + e["t"], abs=1e-3)
    says = of(log.events, "say")
    assert all(s["end"] >= s["start"] >= s["at"] - 1e-9 for s in says)
    assert {s["kind"] for s in says} == {"instruction", "count", "cue"}


def test_whole_programme_runs_in_well_under_a_second():
    session, log = make(routine("back-of-knee"))
    t0 = time.perf_counter()
    assert session.run() is True
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    ex = [e["exercise"] for e in states(log.events, "exercise")]
    assert ex == ["massage", "hamstring", "calf", "leg-raise", "balance"]
    assert log.events[-1]["summary"]["sets_done"] == 15


def test_reps_counted_with_tempo_and_last_one():
    session, log = make(routine("leg-raise", sets=1))
    session.run()
    reps = states(log.events, "rep")
    assert [r["rep"] for r in reps] == list(range(1, 11))
    gaps = [b["t"] - a["t"] for a, b in zip(reps, reps[1:])]
    assert gaps == pytest.approx([5.0] * 9)  # lift 2 s, down 2 s, pause 1 s
    cues = [s["text"] for s in of(log.events, "say", kind="cue")]
    assert cues.count("Down.") == 10 and "Last one." in cues


def test_side_both_does_each_leg_with_a_switch_cue():
    session, log = make(routine("calf", side="both", sets=2))
    session.run()
    sides = [s["side"] for s in states(log.events, "set_done")]
    assert sides == ["left", "left", "right", "right"]
    assert any(s["text"].startswith("Switch legs") for s in of(log.events, "say"))


def _first_hold(rt_name="calf", **dose):
    session, log = make(routine(rt_name, **dose))
    session.run()
    return states(log.events, "hold")[0]["t"]


def test_pause_mid_hold_freezes_remaining_time_and_resumes_count():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 7.5, Command.PAUSE), (h + 37.5, Command.RESUME)])
    session.run()
    ev = log.events
    paused = states(ev, "paused")[0]
    resumed = states(ev, "resumed")[0]
    assert paused["t"] == pytest.approx(h + 7.5) and resumed["t"] == pytest.approx(h + 37.5)
    counts = counts_after(ev, h, h + 200)[:20]
    assert [c["text"] for c in counts] == [words.number(n) for n in range(1, 21)]
    eight = counts[7]
    # Nothing is counted while paused; "eight" comes 0.5 s of hold time after the resume cue.
    assert not counts_after(ev, paused["t"], resumed["t"])
    resume_cue = of(ev, "say", text="Resuming.")[0]
    assert eight["t"] == pytest.approx(resume_cue["end"] + 0.35 + 0.5, abs=1e-3)
    assert ev[-1]["completed"] is True


def test_space_toggles_pause_and_resume():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 3.2, Command.TOGGLE), (h + 9, Command.TOGGLE)])
    session.run()
    assert len(states(log.events, "paused")) == 1 and len(states(log.events, "resumed")) == 1


def test_next_mid_hold_skips_to_rest_and_records_partial_set():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 5.5, Command.NEXT)])
    session.run()
    done = states(log.events, "set_done")
    assert done[0]["skipped"] is True and done[0]["hold"] == pytest.approx(5.5)
    assert states(log.events, "rest")[0]["t"] == pytest.approx(h + 5.5)
    assert len(done) == 3 and log.events[-1]["completed"] is True


def test_next_mid_rep_and_mid_rest():
    session, log = make(routine("leg-raise", sets=2))
    session.run()
    rep3 = states(log.events, "rep")[2]["t"]
    rest = states(log.events, "rest")[0]["t"]
    session, log = make(routine("leg-raise", sets=2), [(rep3 + 1, Command.NEXT)])
    session.run()
    done = states(log.events, "set_done")[0]
    assert done["skipped"] is True and done["reps"] == 3
    session, log = make(routine("leg-raise", sets=2), [(rest + 2, Command.NEXT)])
    session.run()
    assert states(log.events, "set")[1]["t"] == pytest.approx(rest + 2)
    assert [d["skipped"] for d in states(log.events, "set_done")] == [False, False]


def test_back_mid_hold_restarts_the_set_and_early_back_goes_to_previous_step():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 8, Command.BACK)])
    session.run()
    sets = states(log.events, "set")
    assert [s["set"] for s in sets[:2]] == [1, 1]  # set one again
    assert states(log.events, "hold")[1]["t"] > h + 8
    # "back" in the first seconds of set 2 goes back to set 1, skipping the rest between.
    session, log = make(routine("calf"))
    session.run()
    set2 = states(log.events, "set")[1]["t"]
    session, log = make(routine("calf"), [(set2 + 1, Command.BACK)])
    session.run()
    assert [s["set"] for s in states(log.events, "set")][:3] == [1, 2, 1]


def test_back_mid_rest_returns_to_the_set_just_done():
    session, log = make(routine("calf"))
    session.run()
    rest = states(log.events, "rest")[0]["t"]
    session, log = make(routine("calf"), [(rest + 1, Command.BACK)])
    session.run()
    assert [s["set"] for s in states(log.events, "set")][:3] == [1, 1, 2]


def test_repeat_mid_hold_says_the_cue_and_delays_the_count():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 4.5, Command.REPEAT)])
    session.run()
    said = of(log.events, "say", kind="instruction")
    rep = [s for s in said if s["t"] == pytest.approx(h + 4.5)]
    assert rep and "calf" in rep[0]["text"]
    counts = counts_after(log.events, h, h + 100)[:20]
    assert [c["text"] for c in counts] == [words.number(n) for n in range(1, 21)]
    assert counts[4]["t"] == pytest.approx(rep[0]["end"] + 0.35 + 0.5, abs=1e-3)


def test_repeat_mid_rest_and_help_say_something_useful():
    session, log = make(routine("calf"))
    session.run()
    rest = states(log.events, "rest")[0]["t"]
    session, log = make(routine("calf"), [(rest + 1, Command.REPEAT), (rest + 20, Command.HELP)])
    session.run()
    texts = [s["text"] for s in of(log.events, "say")]
    assert texts.count("Rest for ten seconds. Next, set two of three.") == 2
    assert any(t.startswith("You can say") for t in texts)

    # With keys and no listening, help names the keys.
    session, log = make(routine("calf"), [(rest + 20, Command.HELP)])
    session.controls = "keys"
    session.run()
    texts = [s["text"] for s in of(log.events, "say")]
    assert any(t.startswith("Press space to pause") and "press x" in t for t in texts)
    assert not any(t.startswith(("You can say", "Say pause")) for t in texts)


def test_pause_mid_rest_and_mid_rep_then_stop():
    session, log = make(routine("leg-raise"))
    session.run()
    rep = states(log.events, "rep")[4]["t"]
    script = [(rep + 0.5, Command.PAUSE), (rep + 60, Command.STOP)]
    session, log = make(routine("leg-raise"), script)
    assert session.run() is False
    end = log.events[-1]
    assert end["event"] == "session_end" and end["completed"] is False
    assert end["summary"]["sets_done"] == 0 and end["t"] == pytest.approx(rep + 60)
    assert of(log.events, "command", name="stop", source="script")


def test_a_stop_mid_set_keeps_what_was_done_of_it():
    """A stop (here by script, and by Ctrl-C: a STOP from the signal) after 6 of 10 leg
    raises lost all six, while "next" kept them (a user's run-through, 2026-12-06)."""
    session, log = make(routine("leg-raise"))
    session.run()
    rep6 = states(log.events, "rep")[5]["t"]
    for source in ("script", "signal"):
        session, log = make(routine("leg-raise"), [(rep6 + 0.5, Command.STOP, source)])
        assert session.run() is False
        done = states(log.events, "set_done")
        assert [(d["skipped"], d["reps"]) for d in done] == [(True, 6)], source


def test_stop_mid_hold_ends_session_with_summary():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 30 + 20 + 10 + 3, Command.STOP)])
    assert session.run() is False
    end = log.events[-1]
    assert end["completed"] is False and end["summary"]["sets_done"] >= 1
    assert end["summary"]["commands"] == {"stop": 1}


def test_a_spoken_stop_pauses_at_once_and_ends_only_when_confirmed():
    h = _first_hold()
    for confirmed in (True, False):
        session, log = make(routine("calf"), [(h + 3.5, Command.STOP, "voice")])
        asked: list[tuple[float, object, bool]] = []

        def ask(s: Session, confirmed: bool = confirmed,
                asked: list[tuple[float, object, bool]] = asked) -> bool:
            asked.append((s.clock.now(), s.state, s.speaker.busy_until() <= s.clock.now()))
            return confirmed

        session.on_stop = ask
        assert session.run() is (not confirmed)
        # Asked the moment it was heard, paused and with the coach already quiet.
        assert asked == [(pytest.approx(h + 3.5), State.PAUSED, True)]
        assert states(log.events, "paused")[0]["t"] == pytest.approx(h + 3.5)
        assert not of(log.events, "say", text="Paused.")  # the question says it all
        if confirmed:
            assert session.stopped_by == "voice"
            assert log.events[-1]["t"] == pytest.approx(h + 3.5)
        else:  # carried on: the hold counted on from where it was, every number once
            assert states(log.events, "resumed")
            counts = [c["text"] for c in counts_after(log.events, h, h + 40)][:20]
            assert counts == [words.number(n) for n in range(1, 21)]


def test_a_stop_by_key_or_script_ends_at_once_without_asking():
    h = _first_hold()
    for source in ("key", "script"):
        session, log = make(routine("calf"), [(h + 3.5, Command.STOP, source)])
        session.on_stop = lambda s: pytest.fail("asked")
        assert session.run() is False and session.stopped_by == source


def test_a_spoken_stop_while_paused_asks_too_and_no_carries_on():
    h = _first_hold()
    script = [(h + 2, Command.PAUSE, "key"), (h + 6, Command.STOP, "voice")]
    session, log = make(routine("calf"), script)
    asked: list[float] = []
    session.on_stop = lambda s: asked.append(s.clock.now()) is None and False
    assert session.run() is True
    assert asked == [pytest.approx(h + 6)]
    assert [e["change"] for e in log.events if e["event"] == "state"
            and e["change"] in ("paused", "resumed")] == ["paused", "resumed"]


def test_paused_with_nobody_to_resume_ends_instead_of_hanging():
    h = _first_hold()
    session, log = make(routine("calf"), [(h + 2, Command.PAUSE)])
    assert session.run() is False


def test_a_long_pause_is_reminded_once_how_to_carry_on():
    """A pause taken by mistake (a word misheard) left the coach silent until spoken to."""
    from voicecoach.session_pause import PAUSE_REMINDER, REMINDERS

    h = _first_hold()
    later = h + 2 + PAUSE_REMINDER * 3
    session, log = make(routine("calf"), [(h + 2, Command.PAUSE), (later, Command.RESUME)])
    assert session.run() is True
    told = of(log.events, "say", text=REMINDERS["voice"])
    assert [e["t"] for e in told] == [pytest.approx(h + 2 + PAUSE_REMINDER)]
    assert states(log.events, "resumed")[0]["t"] == pytest.approx(later)
    # A pause shorter than that: nothing said.
    session, log = make(routine("calf"), [(h + 2, Command.PAUSE),
                                          (h + 1 + PAUSE_REMINDER, Command.RESUME)])
    session.run()
    assert not of(log.events, "say", text=REMINDERS["voice"])


def test_pause_during_instruction_replays_that_sentence_on_resume():
    session, log = make(routine("calf"))
    session.run()
    first = of(log.events, "say", kind="instruction")[4]
    mid = (first["start"] + first["end"]) / 2
    session, log = make(routine("calf"), [(mid, Command.PAUSE), (mid + 5, Command.RESUME)])
    session.run()
    same = of(log.events, "say", text=first["text"])
    assert len(same) == 2 and same[1]["t"] > mid + 5


def test_pain_while_paused_asks_and_skips_the_exercise():
    h = _first_hold()
    asked = []
    session, log = make(routine("back-of-knee", sets=1),
                        [(h + 2, Command.PAUSE), (h + 5, Command.PAIN)])
    session.on_pain = lambda s: asked.append(s.current_exercise) or "skip"
    assert session.run() is True
    assert asked == ["massage"] and states(log.events, "pain")
    assert [e["exercise"] for e in states(log.events, "exercise")][:2] == ["massage", "hamstring"]


def test_pain_answer_stop_ends_the_session_at_once():
    h = _first_hold()
    session, log = make(routine("back-of-knee", sets=1), [(h + 2, Command.PAIN)])
    session.on_pain = lambda s: "stop"
    assert session.run() is False
    assert session.stopped_by == "pain"
    assert [e["exercise"] for e in states(log.events, "exercise")] == ["massage"]


def test_pain_then_carry_on_continues_the_count():
    h = _first_hold("calf")
    session, log = make(routine("calf"), [(h + 3.5, Command.PAIN)])
    session.on_pain = lambda s: "continue"
    assert session.run() is True
    counts = [c["text"] for c in counts_after(log.events, h, h + 30)][:20]
    assert counts == [words.number(n) for n in range(1, 21)]


class LeadSpeaker(CaptionSpeaker):
    lead = 0.3  # like the audio speaker: words are handed over ahead of their deadline


def test_with_a_lead_states_fire_on_the_deadline_once_even_if_paused_in_the_lead():
    clock = VirtualClock()
    rt = routine("leg-raise", sets=1)
    probe, plog = make(rt)
    probe.run()
    rep2 = states(plog.events, "rep")[1]["t"]
    inbox = Inbox()
    for at, cmd in [(rep2 - 0.1, Command.PAUSE), (rep2 + 3, Command.RESUME)]:
        inbox.schedule(CommandEvent(cmd, source="script", at=at))
    log = EventLog(clock.now, clock.wall)
    session = Session(rt, clock, LeadSpeaker(clock.now, report=log.said), inbox, log)
    assert session.run() is True
    reps = states(log.events, "rep")
    assert [r["rep"] for r in reps] == list(range(1, 11))
    ts = [e["t"] for e in log.events if e["event"] == "state"]
    assert ts == sorted(ts)


def test_the_listener_is_told_each_change_of_state_however_a_pause_ends():
    """The recognizer leaves out the command that means nothing in the state it is told: a
    pause ended by "next" (no "resumed" event) must still put "pause" back in play."""
    h = _first_hold()
    script = [(h + 2, Command.PAUSE), (h + 4, Command.RESUME), (h + 6, Command.TOGGLE),
              (h + 8, Command.NEXT), (h + 30, Command.PAUSE), (h + 32, Command.STOP)]
    session, log = make(routine("calf"), script)
    told: list[tuple[float, bool | None]] = []
    session.on_state = lambda paused: told.append((session.clock.now(), paused))
    assert session.run() is False
    assert [p for _, p in told] == [False, True, False, True, False, True, False, None]
    # Told the moment the state changes: at the pause, and at the "next" that ends one.
    assert told[1][0] == pytest.approx(h + 2) and told[4][0] == pytest.approx(h + 8)


def test_a_pause_ended_by_next_is_not_shown_as_resumed():
    """A run-through's captions read "resumed" as the pain question began after a pause: the
    session had moved on, not carried on."""
    import io

    from voicecoach.display import LineView

    h = _first_hold()
    script = [(h + 2, Command.PAUSE), (h + 4, Command.NEXT), (h + 30, Command.PAUSE),
              (h + 32, Command.RESUME), (h + 34, Command.STOP)]
    session, _ = make(routine("calf"), script)
    out = io.StringIO()
    session.view = LineView(out)
    session.run()
    shown = [line.split()[-1] for line in out.getvalue().splitlines() if "state" in line.split()]
    assert shown == ["paused", "paused", "resumed"], out.getvalue()


def test_a_session_run_to_its_end_says_how_many_sets_were_skipped():
    """A run-through ended "completed: 0 of 3 sets" after its only exercise was skipped."""
    import io

    from voicecoach.display import LineView

    h = _first_hold()
    session, _ = make(routine("calf"), [(h + 2, Command.NEXT)])
    out = io.StringIO()
    session.view = LineView(out)
    assert session.run() is True
    assert out.getvalue().rstrip().endswith("completed: 2 of 3 sets (1 skipped)"), out.getvalue()
    session, _ = make(routine("calf"))
    out = io.StringIO()
    session.view = LineView(out)
    session.run()
    assert out.getvalue().rstrip().endswith("completed: 3 of 3 sets")


def test_a_session_with_every_set_skipped_is_not_praised():
    """A user's run-through: every exercise skipped, 0 of 15 sets, and the coach still said
    "Well done"."""
    h = _first_hold(sets=1)
    session, log = make(routine("calf", sets=1), [(h + 2, Command.NEXT)])
    assert session.run() is True
    said = [e["text"] for e in log.events if e["event"] == "say"]
    assert log.events[-1]["summary"]["sets_done"] == 0
    assert said[-1] == ("That's the end of the session, with nothing done today. Rest, and "
                        "try it another time.")
    session, log = make(routine("calf", sets=1))
    session.run()
    assert [e["text"] for e in log.events if e["event"] == "say"][-1] == (
        "That's the session done. Well done.")
