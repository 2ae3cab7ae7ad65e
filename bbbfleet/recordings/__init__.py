"""The gateway's recordings: the index of every tenant's recordings across the fleet
(``index``), from which the recording API is answered, and central storage of imported
recordings (``archive``, ``storage``, ``imports``, ``playback``)."""
