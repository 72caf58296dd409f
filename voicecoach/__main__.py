"""`python -m voicecoach` runs the same command line as `voicecoach`."""

from voicecoach.cli import main

if __name__ == "__main__":  # not in a recognizer's child process (spawn)
    raise SystemExit(main())
