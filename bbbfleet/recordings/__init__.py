"""Recordings: the index of every server's recordings, and central storage of imported ones."""
