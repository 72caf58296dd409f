"""The terminal view's progress bar follows the step's own counts, whatever happened before."""

from __future__ import annotations

import io

from engine_kit import routine

from voicecoach import plan
from voicecoach.display import TerminalView
from voicecoach.speaker import estimate_seconds


def test_the_bar_re_anchors_on_each_count_after_a_rewind():
    ex = routine("calf").exercises[0]
    hold = plan.build(plan.Step("work", ex, "painful", 1), estimate_seconds)
    view = TerminalView(io.StringIO(), keys=False)
    view.step(hold, 0, 1, anchor=100.0)
    # A repeat took 7 s without the view hearing of it; "three" then fires 7 s late.
    three = [c for c in hold.cues if c.kind == "count"][2]
    view.cue(three, 100.0 + three.at + 7.0)
    assert view.anchor == 107.0 and view.count == "three"
    view.close()
