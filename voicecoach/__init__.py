"""voicecoach: an offline, hands-free voice coach for a back-of-knee home programme."""

__version__ = "0.1.0"
