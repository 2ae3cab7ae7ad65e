"""The recordings' text tracks of a simulated server: BBB's ``/var/bigbluebutton/captions``.

* A recording gets its captions directory (with an empty ``captions.json``) when processing is
  over, as ``process/captions.rb`` leaves it; from then on getRecordingTextTracks lists its
  tracks (none yet), before that it answers ``noRecordings``.  Deleting or unpublishing the
  recording leaves the directory alone, as on a real server.
* putRecordingTextTrack puts the upload in the inbox; ``rap-caption-inbox`` turns it into
  ``<kind>_<lang>.vtt`` a moment later (``text_track_delay_seconds`` on the server's clock),
  replacing a track of the same kind and language.  What ffmpeg could not read is dropped
  silently, as there.
* Each listing hands out single-use tokens (1 hour) for the hrefs
  ``/bigbluebutton/textTrack/<token>/<recordID>/<kind>_<lang>.vtt``; nginx asks bbb-web to
  validate the token before it serves the file, and a token works once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bbbfleet.protocol.text_tracks import TextTrack, to_webvtt

TOKEN_TTL_MS = 60 * 60 * 1000
HEX = "0123456789abcdef"


@dataclass(frozen=True, slots=True)
class PendingUpload:
    record_id: str
    track: TextTrack
    upload: bytes
    ready_at: int


@dataclass
class TextTrackStore:
    captions: dict[str, list[TextTrack]] = field(default_factory=dict)  # record ID -> tracks
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (record ID, file name)
    pending: list[PendingUpload] = field(default_factory=list)
    tokens: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # -> (id, file, expiry)

    def open(self, record_id: str) -> None:
        """Processing is over: the recording's captions directory exists."""
        self.captions.setdefault(record_id, [])

    def tracks(self, record_id: str) -> list[TextTrack] | None:
        """The tracks of captions.json; None when the recording has no captions directory."""
        return self.captions.get(record_id)

    def upload(self, record_id: str, track: TextTrack, data: bytes, ready_at: int) -> None:
        self.pending.append(PendingUpload(record_id, track, data, ready_at))

    def process(self, now: int) -> None:
        """rap-caption-inbox: convert the uploads that are due, in upload order."""
        due = [p for p in self.pending if p.ready_at <= now]
        self.pending = [p for p in self.pending if p.ready_at > now]
        for item in due:
            vtt = to_webvtt(item.upload)
            if vtt is None:
                continue  # "FFmpeg could not read input": the upload is deleted
            tracks = [
                t
                for t in self.captions.setdefault(item.record_id, [])
                if (t.kind, t.lang) != (item.track.kind, item.track.lang)
            ]
            self.captions[item.record_id] = [*tracks, item.track]
            self.files[(item.record_id, item.track.filename)] = vtt

    def issue_token(self, record_id: str, filename: str, now: int, rng: random.Random) -> str:
        token = "".join(rng.choices(HEX, k=40))
        self.tokens[token] = (record_id, filename, now + TOKEN_TTL_MS)
        # forget expired tokens now and then, so the map does not grow without bound
        if len(self.tokens) > 10_000:
            self.tokens = {t: v for t, v in self.tokens.items() if v[2] > now}
        return token

    def take_file(
        self, token: str, record_id: str, filename: str, now: int
    ) -> tuple[bool, bytes | None]:
        """Whether the token is valid for that file (it is used up then), and the file."""
        issued = self.tokens.get(token)
        if issued is None or issued[:2] != (record_id, filename) or issued[2] < now:
            return False, None
        del self.tokens[token]
        return True, self.files.get((record_id, filename))

    def clear(self) -> None:
        self.captions.clear()
        self.files.clear()
        self.pending.clear()
        self.tokens.clear()
