"""The BBB error vocabulary: every messageKey/message pair bbbfleet can answer with.

The texts are BigBlueButton's own (REFERENCE.md §2.3, §3.2, §5), typos and double spaces included,
because LMS plugins match on them.  Keys that bbbfleet adds (where BBB would crash or has no
equivalent) are marked as such; docs/api-compatibility.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiError:
    """One BBB-style failure: a messageKey and its human-readable message."""

    key: str
    message: str

    def with_message(self, message: str) -> ApiError:
        return ApiError(self.key, message)


# --- checksum (§2.3) -------------------------------------------------------------------------
CHECKSUM_MISMATCH = ApiError("checksumError", "Checksums do not match")
CHECKSUM_MISSING = ApiError("checksumError", "You must provide the checksum")
RECORDING_CHECKSUM = ApiError("checksumError", "You did not pass the checksum security check")
HOOKS_CHECKSUM = ApiError("checksumError", "You did not pass the checksum security check.")

# --- bbb-webhooks API (§11.1): its own keys and texts ----------------------------------------
HOOKS_MISSING_CALLBACK_URL = ApiError(
    "missingParamCallbackURL", "You must specify a callbackURL in the parameters."
)
HOOKS_DUPLICATE_WARNING = ApiError(
    "duplicateWarning", "There is already a hook for this callback URL."
)
HOOKS_CREATE_ERROR = ApiError(
    "createHookError", "An error happened while creating your hook. Check the logs."
)
HOOKS_MISSING_HOOK_ID = ApiError(
    "missingParamHookID", "You must specify a hookID in the parameters."
)
HOOKS_DESTROY_MISSING = ApiError("destroyMissingHook", "The hook informed was not found.")
HOOKS_DESTROY_ERROR = ApiError(
    "destroyHookError", "An error happened while removing your hook. Check the logs."
)
HOOKS_LIST_ERROR = ApiError(
    "listHookError", "An error happened while listing registered hooks. Check the logs."
)
UNSUPPORTED_CONTENT_TYPE = ApiError(
    "unsupportedContentType", "POST request Content-Type is missing or unsupported"
)

# --- meeting IDs and names (§3.2) -------------------------------------------------------------
MEETING_ID_MISSING = ApiError("missingParamMeetingID", "You must provide a meeting ID")
MEETING_ID_SIZE = ApiError("sizeError", "Meeting ID must be between 2 and 256 characters")
MEETING_ID_COMMA = ApiError("validationError", "Meeting ID cannot contain ','")
MEETING_ID_INVALID = ApiError("validationError", "Invalid meeting ID")
MEETING_NAME_NULL = ApiError("nullError", "You must provide a meeting name")
MEETING_NAME_EMPTY = ApiError("emptyError", "You must provide a meeting name")
MEETING_NAME_SIZE = ApiError("sizeError", "Meeting name must be between 2 and 256 characters")
INVALID_PASSWORD = ApiError("invalidPassword", "Invalid password")
VOICE_BRIDGE_NOT_INTEGRAL = ApiError("validationError", "Voice bridge must be an integral value")
BREAKOUT_NOT_BOOLEAN = ApiError(
    "validationError", "You must provide a boolean value (true or false) for the breakout room"
)
RECORD_NOT_BOOLEAN = ApiError("validationError", "Record must be a boolean value (true or false)")
GUEST_NOT_BOOLEAN = ApiError("validationError", "Guest must be a boolean value (true or false)")
AUTH_NOT_BOOLEAN = ApiError("validationError", "Auth must be a boolean value (true or false)")
NOT_INTEGRAL = ApiError("validationError", "Value must be an integral number")

# --- meeting state ---------------------------------------------------------------------------
NOT_FOUND = ApiError("notFound", "A meeting with that ID does not exist")
INVALID_MEETING_IDENTIFIER = ApiError(
    "invalidMeetingIdentifier", "A meeting with that ID does not exist"
)
MEETING_FORCIBLY_ENDED = ApiError(
    "meetingForciblyEnded", "You can not join a meeting that has already been forcibly ended"
)
JOIN_PASSWORD_MISMATCH = ApiError(
    "invalidPassword", "The provided password is neither a moderator or attendee password"
)
FULL_NAME_MISSING = ApiError("missingParamFullName", "You must provide your name")
DUPLICATE_WARNING = ApiError(
    "duplicateWarning",
    "This conference was already in existence and may currently be in progress.",
)
ID_NOT_UNIQUE = ApiError(
    "idNotUnique",
    "A meeting already exists with that meeting ID.  Please use a different meeting ID.",
)
NON_UNIQUE_VOICE_BRIDGE = ApiError(
    "nonUniqueVoiceBridge", "The selected voice bridge is already in use."
)
PARENT_MEETING_ID_MISSING = ApiError(
    "parentMeetingIDMissing", "No parent meeting ID was provided for the breakout room"
)
PARENT_MEETING_DOES_NOT_EXIST = ApiError(
    "parentMeetingDoesNotExist", "No parent meeting exists for the breakout room"
)
PRESENTATION_URL_INVALID = ApiError(
    "validationError", "Param 'presentationUploadExternalUrl' is not a valid URL"
)
MISMATCH_CREATE_TIME = ApiError(
    "mismatchCreateTimeParam",
    "The createTime parameter submitted mismatches with the current meeting.",
)
WRONG_PASSWORD = ApiError("Params required", "You must enter a valid password")
ROLE_REQUIRED_NO_PASSWORDS = ApiError(
    "Params required",
    "You must send the 'role' parameter, since this meeting doesn't have any password.",
)
ROLE_OR_PASSWORD_REQUIRED = ApiError(
    "Params required",
    "You must either send the valid role of the user, or the password, sould the meeting has one.",
)
MAX_PARTICIPANTS_REACHED = ApiError(
    "maxParticipantsReached",
    "The number of participants allowed for this meeting has been reached.",
)
GUEST_DENIED = ApiError(
    "guestDeniedAccess",
    "You have been denied access to this meeting based on the meeting's guest policy",
)
END_REQUEST_SENT = ApiError(
    "sentEndMeetingRequest",
    "A request to end the meeting was sent.  Please wait a few seconds, and then use the "
    "getMeetingInfo or isMeetingRunning API calls to verify that it was ended.",
)
NO_MEETINGS = ApiError("noMeetings", "no meetings were found on this server")
NO_SESSIONS = ApiError("noSessions", "no sessions were found on this serverr")
JOINED = ApiError("successfullyJoined", "You have joined successfully.")

# --- sendChatMessage (§5.13) ------------------------------------------------------------------
CHAT_MESSAGE_NULL = ApiError("nullError", "You must provide the param message")
CHAT_MESSAGE_SIZE = ApiError("sizeError", "Param message must be between 1 and 500 characters")
CHAT_USERNAME_SIZE = ApiError("sizeError", "Param userName must not exceed 255 characters")
CHAT_MEETING_NOT_FOUND = ApiError("meetingNotFound", "Meeting not found")

# --- insertDocument (§5.21): no messageKey, only a message ----------------------------------------
DOCUMENT_UPLOADING = "Presentation is being uploaded"
PRESENTATION_DISABLED = "Presentation feature is disabled, ignoring."


def insert_document_not_found(meeting_id: str) -> str:
    return f"Meeting with id [{meeting_id}] not found."


# --- service ------------------------------------------------------------------------------------
API_NOT_ENABLED = ApiError(
    "apiNotEnabled",
    "The API service and/or controller is not enabled on this server.  "
    "To use it, you must first enable it.",
)

# --- bbbfleet's own keys (where BBB crashes, or a gateway-only condition) -----------------------
PARAMS_NOT_UTF8 = ApiError("validationError", "Request parameters must be valid UTF-8")
BODY_TOO_LARGE = ApiError(
    "requestTooLarge", "The request body exceeds the size this server accepts"
)
UNKNOWN_TENANT = ApiError(
    "checksumError", "Checksums do not match"
)  # an unknown tenant must look exactly like a wrong secret: nothing to probe
BACKEND_UNAVAILABLE = ApiError(
    "serverUnavailable",
    "The BigBlueButton server hosting this meeting is not reachable. Please try again shortly.",
)
ACCOUNT_CAPACITY_EXHAUSTED = ApiError(
    "accountCapacityExhausted",
    "The capacity of this account is exhausted: the meeting would exceed the participants this "
    "account may have in meetings at the same time. End a meeting or ask your provider for more.",
)
NO_SERVER_CAPACITY = ApiError(
    "noServerCapacity",
    "No BigBlueButton server has room for a meeting of this size right now. "
    "Please try again later or reserve fewer participants.",
)
NO_TAGGED_SERVER = ApiError(
    "noServerAvailable",
    "No BigBlueButton server with the required server tag is available right now.",
)
NO_SERVER_AVAILABLE = ApiError(
    "noServerAvailable",
    "No BigBlueButton server is available to host this meeting. Please try again later.",
)
RECORDING_SERVER_UNAVAILABLE = ApiError(
    "serverUnavailable",
    "The BigBlueButton server holding this recording is not reachable. Please try again shortly.",
)
RECORDING_SERVER_REFUSED = ApiError(
    "serverError",
    "The BigBlueButton server holding this recording did not accept the change. Please try again.",
)
BACKEND_INVALID_RESPONSE = ApiError(
    "serverError",
    "The BigBlueButton server hosting this meeting gave an invalid answer. Please try again.",
)
MALFORMED_REQUEST = ApiError(
    "malformedRequest",
    "The HTTP request could not be parsed; percent-encode non-ASCII characters in the URL",
)
INTERNAL_ERROR = ApiError("internalError", "The request could not be processed. Please try again.")
UNKNOWN_CALL = ApiError("unknownCall", "This API call is not known to this server")
METHOD_NOT_ALLOWED = ApiError("methodNotAllowed", "This API call does not accept this HTTP method")

# --- recordings (§5.7-5.10) --------------------------------------------------------------------
MISSING_PARAM_RECORD_ID = ApiError("missingParamRecordID", "You must specify a recordID.")
MISSING_PARAM_PUBLISH = ApiError(
    "missingParamPublish", "You must specify a publish value true or false."
)
RECORDINGS_NOT_FOUND = ApiError("notFound", "We could not find recordings")
NO_RECORDINGS = ApiError("noRecordings", "There are no recordings for the meeting(s).")
NO_RECORDINGS_FETCH_ALL = ApiError(
    "noRecordings",
    "No recordings found. This may occur if you attempt to retrieve all recordings.",
)

# --- session-token calls (§3.2 UserSessionConstraint, §5.14-5.17) --------------------------------
# getJoinUrl, learningDashboard and stuns answer JSON with a message only; the keys matter only
# where the constraint's error would be rendered by ``invalid()``.
SESSION_TOKEN_MISSING = ApiError("missingToken", "You must provide a session token")
SESSION_TOKEN_INVALID = ApiError("missingSession", "Invalid session token")
NO_HTTP_SESSION = "Invalid Session"
ACCESS_DENIED = "Access denied"
SESSION_MEETING_NOT_FOUND = "Meeting not found"
LEARNING_DASHBOARD_DISABLED = "Learning Dashboard disabled for this meeting"
LEARNING_DASHBOARD_NOT_FOUND = "Learning Dashboard data not found"
JOIN_URL_PROVIDED = "Join URL provided successfully."
STUNS_NO_CONFERENCE = "Could not find conference."

# --- webhooks at the gateway: bbbfleet's own keys (docs/webhooks.md) ----------------------------
HOOK_MEETING_ID_REQUIRED = ApiError(
    "missingParamMeetingID",
    "You must specify a meetingID in the parameters: hooks of this account are scoped to one "
    "meeting.",
)
HOOK_INVALID_CALLBACK_URL = ApiError(
    "invalidCallbackURL",
    "The callbackURL must be an absolute http or https URL without user name or password, "
    "reaching a public host.",
)
HOOK_LIMIT_REACHED = ApiError(
    "tooManyHooks", "This account has reached the number of hooks it may register."
)

# --- recording push from a BBB server (bbbfleet's own call, CONTRACTS C2) ------------------------
PUSH_CHECKSUM = ApiError("checksumError", "Checksums do not match")
ARCHIVE_MISMATCH = ApiError(
    "archiveMismatch", "The archive received differs from the size or sha256 the push announced"
)
ARCHIVE_TOO_LARGE = ApiError(
    "archiveTooLarge", "The recording archive exceeds the size this gateway accepts"
)
INVALID_ARCHIVE = ApiError("invalidArchive", "The recording archive is not valid")
IMPORT_FAILED = ApiError(
    "importFailed", "The recording archive could not be stored; it will be retried"
)
# a server may push only recordings the index has as its own (after reading its getRecordings)
UNKNOWN_RECORDING = ApiError(
    "unknownRecording",
    "The server does not list a recording with that ID of a bbbfleet tenant; keep the local copy",
)
NOT_YOUR_RECORDING = ApiError(
    "notYourRecording", "That recording belongs to another server; keep the local copy"
)
