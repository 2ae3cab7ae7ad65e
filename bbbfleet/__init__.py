"""bbbfleet: one BigBlueButton API endpoint in front of a fleet of BBB servers."""

__version__ = "0.1.0"
