"""`python -m voicecoach` runs the same command line as `voicecoach`."""

from voicecoach.cli import main

raise SystemExit(main())
