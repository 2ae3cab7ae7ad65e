"""Recording text tracks: getRecordingTextTracks and putRecordingTextTrack (REFERENCE.md §5.11,
§5.12), as bbb-web 3.0's RecordingController and RecMetaXmlHelper answer them.

* Results come from Gson: compact JSON, fields in declaration order, HTML-unsafe characters
  escaped (``< > & = '`` as ``\\u003c`` …).
* putRecordingTextTrack's parameter errors come from Groovy's JsonBuilder (pretty, 4 spaces).
* ``lang`` is parsed like commons-lang3 ``LocaleUtils.toLocale`` and written back as
  ``Locale.toLanguageTag()``; ``label`` defaults to ``Locale.getDisplayLanguage()`` (English).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final

from bbbfleet.protocol.xml import render_pretty_json

KINDS: Final = ("subtitles", "captions")
SOURCE_UPLOAD: Final = "upload"
SOURCE_LIVE: Final = "live"
TRACK_PATH: Final = "/bigbluebutton/textTrack"


@dataclass(frozen=True, slots=True)
class TextTrack:
    """One entry of ``captions.json``, and the track getRecordingTextTracks lists."""

    kind: str
    label: str
    lang: str  # a language tag: en-US
    source: str

    @property
    def filename(self) -> str:
        """``<kind>_<lang>.vtt``: the file rap-caption-inbox writes and the href names."""
        return f"{self.kind}_{self.lang}.vtt"


# --- Gson ---------------------------------------------------------------------------------------

_GSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "=": "\\u003d", "'": "\\u0027"}


def gson(data: object) -> str:
    """``new Gson().toJson``: compact, non-ASCII kept, HTML characters escaped."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return re.sub("[<>&=']", lambda m: _GSON_ESCAPES[m.group(0)], text)


def text_tracks_json(tracks: list[tuple[str, TextTrack]]) -> str:
    """Success: ``(href, track)`` pairs in captions.json order."""
    return gson(
        {
            "response": {
                "returncode": "SUCCESS",
                "tracks": [
                    {
                        "href": href,
                        "kind": t.kind,
                        "label": t.label,
                        "lang": t.lang,
                        "source": t.source,
                    }
                    for href, t in tracks
                ],
            }
        }
    )


def text_tracks_failed_json(key: str, record_id: str) -> str:
    """``noRecordings`` (no captions directory) or ``noCaptionsFound`` (no captions.json)."""
    message = {
        "noRecordings": f"No recording found for {record_id}",
        "noCaptionsFound": f"No captions found for {record_id}",
    }[key]
    return gson({"response": {"returncode": "FAILED", "messageKey": key, "message": message}})


def put_result_json(record_id: str, success: bool) -> str:
    """The Gson answer once the upload was handed to the caption inbox (or could not be)."""
    if success:
        result = ("SUCCESS", "upload_text_track_success", "Text track uploaded successfully")
    else:
        result = ("FAILED", "upload_text_track_failed", "Text track upload failed.")
    return gson(
        {
            "response": {
                "returncode": result[0],
                "recordId": record_id,
                "messageKey": result[1],
                "message": result[2],
            }
        }
    )


def put_error_json(key: str, message: str) -> str:
    """``respondWithError``: JsonBuilder's pretty form."""
    return render_pretty_json(
        {"response": {"returncode": "FAILED", "messageKey": key, "message": message}}
    )


MISSING_CHECKSUM: Final = ("paramError", "Missing param checksum.")
MISSING_RECORD_ID: Final = ("paramError", "Missing param recordID.")
MISSING_KIND: Final = ("paramError", "Missing param kind.")
MISSING_LANG: Final = ("paramError", "Missing param lang.")
EMPTY_TRACK: Final = ("empty_uploaded_text_track", "Empty uploaded text track.")


def no_recording(record_id: str) -> tuple[str, str]:
    return ("noRecordings", f"No recording was found for {record_id}")


def invalid_kind(kind: str) -> tuple[str, str]:
    return ("invalidKind", f"Invalid kind parameter, expected='subtitles|captions' actual={kind}")


def invalid_lang(lang: str) -> tuple[str, str]:
    return ("invalidLang", f"Malformed lang param, received={lang}")


# --- locales ------------------------------------------------------------------------------------

_LANGUAGE = re.compile(r"[a-z]{2,3}")
_ALPHA_COUNTRY = re.compile(r"[A-Z]{2}")
_AREA = re.compile(r"\d{3}")
_COUNTRY = re.compile(r"[A-Z]{2}|\d{3}")
_VARIANT_TAG = re.compile(r"[0-9a-zA-Z]{5,8}|\d[0-9a-zA-Z]{3}")
_PRIVATE_TAG = re.compile(r"[0-9a-zA-Z]{1,8}")


class MalformedLocale(ValueError):
    """``LocaleUtils.toLocale`` throws: bbb-web answers ``invalidLang``."""


@dataclass(frozen=True, slots=True)
class Locale:
    language: str
    country: str = ""
    variant: str = ""

    def language_tag(self) -> str:
        """``Locale.toLanguageTag``: ``en-US``.  Leading well-formed variant subtags are kept,
        the rest goes into a private use ``x-lvariant`` part when every piece is 1-8 letters or
        digits, and is dropped otherwise (so ``en__../x`` is plain ``en``)."""
        # the Locale constructor lower-cases the language and upper-cases the country
        parts = [self.language.lower() or "und"]
        if self.country:
            parts.append(self.country.upper())
        if self.variant:
            subtags = self.variant.replace("_", "-").split("-")
            kept = 0
            while kept < len(subtags) and _VARIANT_TAG.fullmatch(subtags[kept]):
                kept += 1
            parts += subtags[:kept]
            rest = subtags[kept:]
            if rest and all(_PRIVATE_TAG.fullmatch(v) for v in rest):
                parts += ["x", "lvariant", *rest]
        return "-".join(parts)

    def display_language(self) -> str:
        """``getDisplayLanguage()`` in an English JVM: the language's English name, or the
        code itself where Java has none."""
        language = self.language.lower()
        return LANGUAGE_NAMES.get(language, language)


def to_locale(text: str) -> Locale:
    """commons-lang3 ``LocaleUtils.toLocale`` (3.12+): ``ll``, ``ll_CC``, ``ll-CC``,
    ``ll_CC_variant``, ``ll__variant``, ``_CC``, ``_CC_variant``; anything else is malformed."""
    if "#" in text or len(text) < 2:
        raise MalformedLocale(text)
    if text[0] in "_-":
        # "_GB" or "_GB_variant": a country of two upper-case letters right after
        if len(text) < 3 or not (text[1].isupper() and text[2].isupper()):
            raise MalformedLocale(text)
        if len(text) == 3:
            return Locale("", text[1:3])
        if len(text) < 5 or text[3] != text[0]:
            raise MalformedLocale(text)
        return Locale("", text[1:3], text[4:])
    if _LANGUAGE.fullmatch(text):
        return Locale(text)
    separator = "_" if "_" in text else "-"
    segments = text.split(separator)
    language = segments[0]
    if len(segments) == 2:
        country = segments[1]
        # Java's precedence: (language and two-letter country) or a numeric area code
        if (_LANGUAGE.fullmatch(language) and _ALPHA_COUNTRY.fullmatch(country)) or (
            _AREA.fullmatch(country)
        ):
            return Locale(language, country)
    elif len(segments) == 3:
        country, variant = segments[1], segments[2]
        if (
            _LANGUAGE.fullmatch(language)
            and (not country or _COUNTRY.fullmatch(country))
            and variant
        ):
            return Locale(language, country, variant)
    raise MalformedLocale(text)


LANGUAGE_NAMES: Final = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian",
    "bg": "Bulgarian", "bn": "Bangla", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fil": "Filipino", "fr": "French", "ga": "Irish", "gl": "Galician",
    "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian",
    "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese",
    "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean",
    "ku": "Kurdish", "ky": "Kyrgyz", "lo": "Lao", "lt": "Lithuanian", "lv": "Latvian",
    "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay",
    "mt": "Maltese", "my": "Burmese", "nb": "Norwegian Bokmål", "ne": "Nepali", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "pa": "Punjabi", "pl": "Polish",
    "ps": "Pashto", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "zh": "Chinese",
    "zu": "Zulu",
}  # fmt: skip


# --- what an uploaded file becomes ----------------------------------------------------------------

_SRT_TIME = re.compile(r"(\d{2}:\d{2}:\d{2}),(\d{3})")


def to_webvtt(upload: bytes) -> bytes | None:
    """What rap-caption-inbox's ``ffmpeg -f webvtt`` makes of an upload: WebVTT stays WebVTT,
    SubRip is converted, anything ffmpeg could not read (not UTF-8 text with at least one cue)
    is None, and the upload is dropped."""
    try:
        text = upload.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "-->" not in text:
        return None
    if text.startswith("WEBVTT"):
        return text.encode()
    return ("WEBVTT\n\n" + _SRT_TIME.sub(r"\1.\2", text).strip() + "\n").encode()
