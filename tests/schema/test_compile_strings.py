"""Strings: JSON escapes, lengths in code points, ECMA-262 patterns, formats."""

from __future__ import annotations

import json

import pytest

import structgen
from structgen.testing import assert_language


def q(*values: str) -> list[str]:
    """Each value as a JSON string literal, the way ``json.dumps`` writes it."""
    return [json.dumps(v) for v in values]


def raw(*values: str) -> list[str]:
    """Each value as a JSON string literal with non-ASCII characters written raw."""
    return [json.dumps(v, ensure_ascii=False) for v in values]


class TestJsonStrings:
    def test_escapes_and_control_characters(self) -> None:
        assert_language(
            {"type": "string"},
            accepts=['"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"\\u0000"', '"\\u001F"',
                     '"\\uFFFF"', '"/"', '"\'"'],
            rejects=['"\\"', '"\\a"', '"\\x41"', '"\\u12"', '"\\u12G4"', '"\n"', '"\t"',
                     '"\x00"', '"\x1f"', '"a"b"', '"abc'],
            unicode_escapes=True,
        )

    def test_without_unicode_escapes(self) -> None:
        # Short escapes stay; \uXXXX goes, so controls without a short escape cannot
        # be written (a documented trade-off of unicode_escapes=False).
        assert_language(
            {"type": "string"},
            accepts=['"\\""', '"\\\\"', '"\\/"', '"\\b\\f\\n\\r\\t"', '"é😀"'],
            rejects=['"\\u0041"', '"\\u00e9"', '"\\u0000"', '"\x00"', '"\\ud83d\\ude00"'],
            unicode_escapes=False,
        )

    def test_control_escapes_only(self) -> None:
        # Every string stays writable (controls as \u00XX, the rest raw) at a fraction
        # of the states of every \uXXXX form.
        grammar = assert_language(
            {"type": "string", "maxLength": 3},
            accepts=['"\\u0000"', '"\\u001f"', '"\\u001F\\n"', '"é😀"', '"\\"\\/"'],
            rejects=['"\\u0020"', '"\\u0041"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\x01"',
                     '"\\u0001\\u0002ab"'],
            unicode_escapes="controls",
        )
        for value in ["\x01é😀", "\x00\x1f\x7f", "a\"\\"]:
            assert grammar.accepts(grammar.serialize(value)), value
        sizes = {
            mode: structgen.compile({"type": "string", "maxLength": 8},
                                    unicode_escapes=mode).stats.states
            for mode in (False, "controls", True)
        }
        assert sizes[False] < sizes["controls"] < sizes[True]

    def test_unicode_escapes_option_is_checked(self) -> None:
        with pytest.raises(ValueError, match="unicode_escapes"):
            structgen.compile({"type": "string"}, unicode_escapes="some")  # type: ignore[arg-type]

    def test_utf8_is_checked(self) -> None:
        assert_language(
            {"type": "string"},
            accepts=['"é"'.encode(), '"😀"'.encode(), b'"\xef\xbf\xbf"'],
            rejects=[b'"\xff"', b'"\xc3"', b'"\xc0\x80"', b'"\xed\xa0\x80"',
                     b'"\xf4\x90\x80\x80"', b'"\x80"'],
        )


class TestLength:
    def test_min_and_max_length(self) -> None:
        assert_language(
            {"type": "string", "minLength": 2, "maxLength": 3},
            accepts=q("ab", "abc", "  ", "a\u00e9"),
            rejects=q("", "a", "abcd", "abcde"),
            unicode_escapes=True,
        )

    def test_length_counts_code_points_not_bytes(self) -> None:
        # "é" is 2 UTF-8 bytes, "€" 3, "😀" 4 (and a surrogate pair when escaped): one each.
        assert_language(
            {"type": "string", "minLength": 2, "maxLength": 2},
            accepts=raw("éé", "€€", "😀😀", "a😀") + q("éé", "😀😀", "a😀"),
            rejects=raw("é", "😀", "ééé", "😀😀😀") + q("é", "😀", "😀😀😀"),
            unicode_escapes=True,
        )

    def test_length_of_raw_text_without_unicode_escapes(self) -> None:
        assert_language(
            {"type": "string", "minLength": 2, "maxLength": 2},
            accepts=raw("éé", "€€", "😀😀", "a😀", "\n\t"),
            rejects=raw("é", "😀", "ééé", "😀😀😀", "abc"),
            unicode_escapes=False,
        )

    def test_escapes_count_as_one_character(self) -> None:
        assert_language(
            {"type": "string", "maxLength": 1},
            accepts=['"\\n"', '"\\u0041"', '"\\\\"', '"\\""', '"\\ud83d\\ude00"', '""'],
            rejects=['"\\n\\n"', '"\\u0041\\u0041"', '"ab"'],
            unicode_escapes=True,
        )
        assert_language(
            {"type": "string", "minLength": 2},
            accepts=['"\\n\\t"', '"\\u00e9\\u00e9"'],
            rejects=['"\\n"', '"\\ud83d\\ude00"'],
            unicode_escapes=True,
        )

    def test_zero_max_length(self) -> None:
        assert_language({"type": "string", "maxLength": 0}, accepts=['""'], rejects=['"a"'])


class TestPattern:
    def test_pattern_is_an_unanchored_search(self) -> None:
        assert_language(
            {"type": "string", "pattern": "a"},
            accepts=[*q("a", "xax", "aaa", "ba", "ab"), '"\\u0061"'],
            rejects=q("", "b", "xyz", "A"),
            unicode_escapes=True,
        )

    def test_anchored_both_ends(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^a+$"},
            accepts=q("a", "aaaa"),
            rejects=q("", "ab", "ba", "xaax"),
        )

    def test_anchored_at_one_end(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^/"},
            accepts=q("/", "/a/b"),
            rejects=q("a/", ""),
        )
        assert_language(
            {"type": "string", "pattern": "\\.(png|jpe?g)$"},
            accepts=q("a.png", "x.jpg", ".jpeg"),
            rejects=q("a.png.txt", "png", "a.gif"),
        )

    def test_alternation_binds_looser_than_anchors(self) -> None:
        # ^a|b$ is (^a)|(b$): starts with a, or ends with b.
        assert_language(
            {"type": "string", "pattern": "^a|b$"},
            accepts=q("a", "b", "ax", "xb", "axb"),
            rejects=q("xa", "bx", "", "x"),
        )

    def test_dot_does_not_match_line_terminators(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^a.b$"},
            accepts=q("axb", "a b", "a\tb", "aéb", "a😀b") + raw("aéb", "a😀b"),
            rejects=q("ab", "a\nb", "a\rb", "a\u2028b", "a\u2029b", "axxb"),
            unicode_escapes=True,
        )
        assert_language(
            {"type": "string", "pattern": "^a.b$"},
            accepts=raw("axb", "aéb", "a😀b"),
            rejects=raw("a\nb", "a\rb", "a\u2028b", "a\u2029b"),
        )

    def test_digit_class_is_ascii(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^\\d{3}$"},
            accepts=q("123", "000"),
            rejects=q("12", "1234", "12a", "١٢٣") + raw("١٢٣"),
            unicode_escapes=True,
        )

    def test_word_and_space_classes(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^\\w+\\s\\w+$"},
            accepts=q("ab cd", "a_1\tz"),
            rejects=q("ab  cd", "a-b c", "ab"),
        )

    def test_character_classes_and_negation(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^[a-c]+[^x]$"},
            accepts=q("abcd", "ab\n", "aé", "aa"),
            rejects=q("abx", "a", "dd"),
            unicode_escapes=True,
        )

    def test_quantifiers(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^(ab){2,3}c?$"},
            accepts=q("abab", "ababc", "ababab", "abababc"),
            rejects=q("ab", "abababab", "ababcc"),
        )

    def test_pattern_matches_decoded_characters(self) -> None:
        # The pattern sees the decoded string, whatever the JSON spelling.
        assert_language(
            {"type": "string", "pattern": '^"[é]\\\\$'},
            accepts=['"\\"é\\\\"', '"\\u0022\\u00e9\\u005c"', '"\\"\\u00E9\\\\"'],
            rejects=['"\\"e\\\\"', '"\\"é\\\\x"', '"é\\\\"'],
            unicode_escapes=True,
        )

    def test_unicode_escape_in_pattern(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^\\u00e9+$"},
            accepts=q("é", "éé") + raw("é"),
            rejects=q("e", ""),
            unicode_escapes=True,
        )

    def test_pattern_together_with_length(self) -> None:
        assert_language(
            {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 4},
            accepts=q("ab", "abcd"),
            rejects=q("a", "abcde", "AB", "a1"),
        )

    def test_two_patterns_under_allof_both_apply(self) -> None:
        assert_language(
            {"allOf": [{"type": "string", "pattern": "a"}, {"pattern": "b"}]},
            accepts=q("ab", "ba", "xaxbx"),
            rejects=q("a", "b", ""),
        )

    def test_named_group_is_a_plain_group(self) -> None:
        # ECMA-262 named groups (?<name>...) are valid regexes; Python spells them (?P<...>).
        assert_language(
            {"type": "string", "pattern": "^(?<year>[0-9]{4})-(?<month>[0-9]{2})$"},
            accepts=q("2024-01"),
            rejects=q("2024-1", "24-01"),
        )


class TestFormats:
    @pytest.mark.parametrize(
        ("fmt", "valid", "invalid"),
        [
            (
                "date",
                ["2024-02-29", "2000-02-29", "2023-02-28", "2024-12-31", "0001-01-01",
                 "2023-04-30"],
                ["2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2024-04-31",
                 "2024-13-01", "2024-00-10", "2024-01-00", "2024-1-01", "24-01-01",
                 "2024/01/01", "2024-01-01T00:00:00Z"],
            ),
            (
                "time",
                ["12:34:56Z", "00:00:00z", "23:59:59+02:00", "12:34:56.123456-05:30",
                 "23:59:60Z"],
                ["12:34:56", "24:00:00Z", "12:60:00Z", "12:00:60Z", "1:00:00Z",
                 "12:34:56+2:00", "12:34:56+24:00", "12:34Z"],
            ),
            (
                "date-time",
                ["2024-01-01T12:00:00Z", "2024-02-29t12:00:00+01:00",
                 "1999-12-31T23:59:59.5-08:00"],
                ["2024-01-01 12:00:00Z", "2024-01-01T12:00:00", "2023-02-29T00:00:00Z",
                 "2024-01-01", "2024-01-01T25:00:00Z"],
            ),
            (
                "uuid",
                ["123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
                 "00000000-0000-0000-0000-000000000000"],
                ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g",
                 "123e4567-e89b-12d3-a456-4266141740000", "{123e4567-e89b-12d3-a456-426614174000}"],
            ),
            (
                "email",
                ["a@b.com", "first.last+tag@example.org", "x@[127.0.0.1]", "o'neil@ex.co"],
                ["a@", "@b.com", "a b@c.com", "a@b@c.com", "a..b@c.com", ".a@b.com", "ab"],
            ),
            (
                "uri",
                ["https://example.com/a?b=c#d", "urn:isbn:0451450523", "mailto:a@b.com",
                 "http://x.org/%20"],
                ["example.com", "/relative/path", "http://exa mple.com", "1http://x",
                 "http://x.org/%2"],
            ),
            (
                "ipv4",
                ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.20.30.40"],
                ["256.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1.2.3", "1.2.3.4.5",
                 "1.2.3.-1", "a.b.c.d", " 1.2.3.4"],
            ),
            (
                "ipv6",
                ["::1", "::", "2001:db8::1", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1",
                 "fe80::1:2", "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789"],
                ["1:2:3:4:5:6:7:8:9", "12345::1", "1::2::3", ":1", "1:", "g::1",
                 "1:2:3:4:5:6:7", "::256.0.0.1"],
            ),
            (
                "hostname",
                ["example.com", "a", "a-b.c", "xn--bcher-kva.example", "a" * 63 + ".com"],
                ["-a.com", "a-.com", "a" * 64 + ".com", "a..b", "exa_mple.com", ".a", "a b"],
            ),
        ],
    )
    def test_format(self, fmt: str, valid: list[str], invalid: list[str]) -> None:
        assert_language({"type": "string", "format": fmt}, accepts=q(*valid), rejects=q(*invalid))

    def test_leap_second_only_at_utc_midnight(self) -> None:
        # RFC 3339 puts a leap second at 23:59:60 UTC, written in local time with any
        # offset. Tracking the local minute against the offset costs about 1,440 states
        # per time field, so by default structgen accepts a leap second only as 23:59:60
        # with Z or a zero offset: a documented departure (docs/json_schema.md, "Formats")
        # that rejects the rare leap second written with another offset, and never accepts
        # a wrong one. leap_seconds="any_offset" pays for the exact language.
        assert_language(
            {"type": "string", "format": "time"},
            accepts=q("23:59:60Z", "23:59:60+00:00", "23:59:60.5z"),
            rejects=q("22:59:60Z", "23:58:60Z", "23:59:60+01:00", "23:59:60+00:30",
                      "23:59:60-01:00", "23:59:60-00:30", "15:59:60+08:00",
                      # valid RFC 3339, outside the departure:
                      "01:29:60+01:30", "15:59:60-08:00"),
        )
        assert_language(
            {"type": "string", "format": "date-time"},
            accepts=q("1998-12-31T23:59:60Z"),
            rejects=q("1998-12-31T15:59:60+08:00", "1998-12-31T15:59:60.123-08:00"),
        )

    def test_leap_second_in_any_offset(self) -> None:
        wrong = ["22:59:60Z", "23:58:60Z", "23:59:60+01:00", "23:59:60+00:30",
                 "23:59:60-01:00", "23:59:60-00:30", "15:59:60+08:00", "00:29:60+23:30",
                 "24:59:60+01:00", "23:59:61Z", "12:00:60+12:00", "12:00:60-12:00"]
        grammar = assert_language(
            {"type": "string", "format": "time"},
            accepts=q("23:59:60Z", "23:59:60-00:00", "01:29:60+01:30", "23:29:60+23:30",
                      "15:59:60-08:00", "00:29:60-23:30", "00:00:60+00:01",
                      "23:58:60.25-00:01", "12:00:60+12:01", "12:00:60-11:59",
                      "10:11:12+05:45"),
            rejects=q(*wrong),
            leap_seconds="any_offset",
        )
        # Every local minute: the leap second is accepted exactly with the offsets that
        # put it at 23:59:60 UTC.
        for local in range(0, 1440, 7):
            text = f"{local // 60:02d}:{local % 60:02d}:60"
            east = (local + 1) % 1440
            for offset in range(-1439, 1440, 61):
                sign = "+" if offset >= 0 else "-"
                spelled = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
                assert grammar.accepts(f'"{text}{spelled}"') == ((offset - east) % 1440 == 0)
        assert_language(
            {"type": "string", "format": "date-time"},
            accepts=q("1998-12-31T15:59:60.123-08:00", "1998-12-31T23:59:60Z"),
            rejects=q("1998-12-31T15:59:60+08:00", "2016-12-31T24:59:60+01:00"),
            leap_seconds="any_offset",
        )

    def test_leap_seconds_option_is_checked(self) -> None:
        with pytest.raises(ValueError, match="leap_seconds"):
            structgen.compile({"type": "string", "format": "time"}, leap_seconds="exact")  # type: ignore[arg-type]

    def test_unknown_format_is_an_annotation(self) -> None:
        grammar = assert_language(
            {"type": "string", "format": "favourite-colour"}, accepts=q("anything", "")
        )
        assert [(u.pointer, u.keyword, u.post_validated) for u in grammar.unenforced] == [
            ("/format", "format", False)
        ]

    def test_format_with_length(self) -> None:
        assert_language(
            {"type": "string", "format": "hostname", "maxLength": 5},
            accepts=q("a.bc", "abcde"),
            rejects=q("abcdef", "a.b.cd"),
        )
