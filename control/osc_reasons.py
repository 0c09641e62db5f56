"""Why the OSC server rejected a message or could not answer it: a fixed set of codes.

The counters (``osc_rejections`` in ``/status``) are keyed by these codes only,
so they stay bounded whatever clients send; the detail, which may quote the
client's own text (an address, a prompt id), goes to the log and the ``/error``
reply, never into a counter key.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    NOT_ALLOWED = "not_allowed"  # source address outside osc.allow
    RATE_LIMITED = "rate_limited"  # the source's token bucket is empty
    OVERSIZED = "oversized"  # datagram larger than osc.max_datagram
    MALFORMED = "malformed"  # not valid OSC
    UNKNOWN_ADDRESS = "unknown_address"  # no such address, or a pattern that matches none
    BAD_PATTERN = "bad_pattern"  # invalid pattern, too long, or matching too many addresses
    BAD_SECRET = "bad_secret"  # shared secret missing or wrong (osc.secret without osc.keys)
    BAD_KEY = "bad_key"  # client key missing or matching none (osc.keys)
    KEY_FORBIDDEN = "key_forbidden"  # a right key for an address outside its prefixes
    BAD_ARITY = "bad_arity"  # wrong number of arguments
    BAD_TYPE = "bad_type"  # an argument of the wrong type
    OUT_OF_RANGE = "out_of_range"  # a number outside the address's range
    BAD_CHOICE = "bad_choice"  # a string that is not one of the choices
    TOO_LONG = "too_long"  # a string longer than allowed
    TOO_FAR_AHEAD = "too_far_ahead"  # bundle timetag beyond osc.max_schedule_ahead_seconds
    SCHEDULE_FULL = "schedule_full"  # osc.max_scheduled messages already waiting
    HANDLER_ERROR = "handler_error"  # the handler refused the values (ValueError, LookupError)
    INTERNAL_ERROR = "internal_error"  # an unexpected exception while handling a datagram
    REPLY_BUDGET = "reply_budget"  # the datagram used up its reply budget
    REPLY_TOO_LARGE = "reply_too_large"  # a reply larger than osc.max_reply was not sent
    SEND_FAILED = "send_failed"  # the socket refused a reply


REASONS: tuple[str, ...] = tuple(r.value for r in Reason)
