"""Everything bbbfleet knows about the BigBlueButton HTTP API: checksums, parameters, validation,
error vocabulary and the exact XML/JSON renderings.  Gateway and simulator both use it."""
