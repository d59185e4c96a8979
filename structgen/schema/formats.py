"""`format` values structgen enforces, each as an anchored ECMA-262 regex.

Dates are exact (month lengths and leap years); times follow RFC 3339 with a leap second
only at 23:59:60 UTC (``Z`` or a zero offset; every offset with ``leap_seconds="any_offset"``,
at about 11,000 states per field); hostnames check label syntax and label length (63) but not the
253-byte total, which is a documented departure; emails follow RFC 5321 (dot-atoms or
quoted local parts, domain names or address literals); durations follow RFC 3339's ABNF.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["FORMATS", "PARTIAL_FORMATS", "STANDARD_FORMATS", "format_regex"]

_D = "[0-9]"
_YEAR = f"{_D}{{4}}"
_DAY_31 = "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
_DAY_30 = "(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
_FEB = "02-(?:0[1-9]|1[0-9]|2[0-8])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_DATE = f"(?:{_YEAR}-(?:{_DAY_31}|{_DAY_30}|{_FEB})|{_LEAP_YEAR}-02-29)"
_OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_FRACTION = "(?:\\.[0-9]+)?"
_SECOND = f"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]{_FRACTION}{_OFFSET}"
_TIME = f"(?:{_SECOND}|23:59:60{_FRACTION}(?:[Zz]|[+-]00:00))"
_HEX = "[0-9a-fA-F]"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = f"(?:{_OCTET}\\.){{3}}{_OCTET}"
_H16 = f"{_HEX}{{1,4}}"
_LS32 = f"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = "(?:" + "|".join(
    [
        f"(?:{_H16}:){{6}}{_LS32}",
        f"::(?:{_H16}:){{5}}{_LS32}",
        f"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        f"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
        f"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
        f"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        f"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        f"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        f"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
) + ")"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = f"{_LABEL}(?:\\.{_LABEL})*"
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_QUOTED_LOCAL = '"(?:[ !#-\\[\\]-~]|\\\\[ -~])*"'
_EMAIL = (
    f"(?:{_ATEXT}+(?:\\.{_ATEXT}+)*|{_QUOTED_LOCAL})"
    f"@(?:{_HOSTNAME}|\\[{_IPV4}\\]|\\[IPv6:{_IPV6}\\])"
)
_DIGITS = "[0-9]+"
_DUR_TIME = (
    f"T(?:{_DIGITS}H(?:{_DIGITS}M(?:{_DIGITS}S)?)?|{_DIGITS}M(?:{_DIGITS}S)?|{_DIGITS}S)"
)
_DUR_DATE = (
    f"(?:{_DIGITS}D|{_DIGITS}M(?:{_DIGITS}D)?|{_DIGITS}Y(?:{_DIGITS}M(?:{_DIGITS}D)?)?)"
)
_DURATION = f"P(?:{_DUR_DATE}(?:{_DUR_TIME})?|{_DUR_TIME}|{_DIGITS}W)"
# RFC 3986, collected ABNF, as regexes.
_UNRESERVED = "[A-Za-z0-9._~-]"
_PCT = "%[0-9A-Fa-f]{2}"
_SUB_DELIMS = "[!$&'()*+,;=]"
_PCHAR = f"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|[:@])"
_USERINFO = f"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|:)*"
_IP_LITERAL = (
    f"\\[(?:{_IPV6}|v{_HEX}+\\.(?:{_UNRESERVED}|{_SUB_DELIMS}|:)+)\\]"
)
_REG_NAME = f"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS})*"
_AUTHORITY = f"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?"
_SEGMENT = f"{_PCHAR}*"
_SEGMENT_NZ = f"{_PCHAR}+"
_SEGMENT_NZ_NC = f"(?:{_UNRESERVED}|{_PCT}|{_SUB_DELIMS}|@)+"
_PATH_ABEMPTY = f"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = f"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_PATH_ROOTLESS = f"{_SEGMENT_NZ}(?:/{_SEGMENT})*"
_PATH_NOSCHEME = f"{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*"
_QUERY = f"(?:{_PCHAR}|[/?])*"
_TAIL = f"(?:\\?{_QUERY})?(?:#{_QUERY})?"
_SCHEME = "[A-Za-z][A-Za-z0-9+.-]*"
_URI = (
    f"{_SCHEME}:(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS})?{_TAIL}"
)
_RELATIVE = f"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME})?{_TAIL}"

FORMATS: dict[str, str] = {
    "date": f"^{_DATE}$",
    "time": f"^{_TIME}$",
    "date-time": f"^{_DATE}[Tt]{_TIME}$",
    "uuid": f"^{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}$",
    "ipv4": f"^{_IPV4}$",
    "ipv6": f"^{_IPV6}$",
    "hostname": f"^{_HOSTNAME}$",
    "email": f"^{_EMAIL}$",
    "uri": f"^{_URI}$",
    "uri-reference": f"^(?:{_URI}|{_RELATIVE})$",
    "duration": f"^{_DURATION}$",
}



def _hh_mm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=1)
def _leap_any_offset() -> str:
    """Every local time whose UTC time is 23:59:60, with the one offset that makes it so:
    a DFA must remember the local hour and minute (1,440 states) until the offset."""
    by_hour: dict[int, list[str]] = {}
    for local in range(1440):
        east = (local + 1) % 1440  # minutes ahead of UTC for local hh:mm:60 to be 23:59:60Z
        offsets = (
            "[Zz]|[+-]00:00" if east == 0
            else f"\\+{_hh_mm(east)}|-{_hh_mm(1440 - east)}"
        )
        by_hour.setdefault(local // 60, []).append(
            f"{local % 60:02d}:60{_FRACTION}(?:{offsets})"
        )
    return "(?:" + "|".join(
        f"{hour:02d}:(?:{'|'.join(minutes)})" for hour, minutes in by_hour.items()
    ) + ")"


def format_regex(name: str, leap_seconds: str = "utc") -> str:
    """The anchored regex of an enforced format; ``leap_seconds="any_offset"`` widens
    ``time`` and ``date-time`` to leap seconds written in any time zone."""
    if leap_seconds == "any_offset" and name in ("time", "date-time"):
        time = f"(?:{_SECOND}|{_leap_any_offset()})"
        return f"^{time}$" if name == "time" else f"^{_DATE}[Tt]{time}$"
    return FORMATS[name]


# Enforced as far as a regular language goes; the rest is checked after generation.
PARTIAL_FORMATS: dict[str, str] = {
    "hostname": "the 253-character total and A-label (punycode) validity",
}

# Formats the JSON Schema specification defines. A name outside this set is a custom
# annotation that no validator checks, so it is never treated as an assertion.
STANDARD_FORMATS = frozenset({
    "date-time", "date", "time", "duration", "email", "idn-email", "hostname",
    "idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid",
    "uri-template", "json-pointer", "relative-json-pointer", "regex",
})
