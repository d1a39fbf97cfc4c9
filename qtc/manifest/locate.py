"""Locate key paths in TOML source text.

Python's TOML parsers return plain dicts without positions. `locate_keys` scans an
already-valid TOML document once and records, for every key path, where the key and
its value are written, so schema errors can be reported as file:line:col.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from typing import TypeAlias

KeyPath: TypeAlias = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BARE_VALUE = re.compile(r"[^\s,\]}#]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_AFTER_SPACE = re.compile(r" \d{2}:[^\s,\]}#]*")
_INLINE_SPACE = " \t"
_BLANK = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a source: 1-based line and column, length in characters (on that line)."""

    line: int
    col: int
    length: int


@dataclass(frozen=True, slots=True)
class KeyLocation:
    """Where a key path is written.

    Attributes:
        key: Span of the key text: the last segment of a dotted key, the name inside a
            table header's brackets, or the value itself for array elements.
        value: Span of the value, cut at the end of its first line. For tables made by
            headers or by intermediate dotted-key segments it equals `key`.
    """

    key: Span
    value: Span


def locate_keys(source: str) -> dict[KeyPath, KeyLocation]:
    """Map every key path in a valid TOML document to where it is written.

    Args:
        source: TOML text that `tomllib.loads` accepts.

    Returns:
        A dict from key paths (keys as the parsed dict indexes them, array indices as
        ints) to locations. The first place a path is written wins, except that an
        explicit table header replaces a table only implied by a longer key.
    """
    return _Scanner(source).run()


class _Scanner:
    """A single-pass character scanner over TOML text that records key positions."""

    def __init__(self, source: str) -> None:
        """Prepare to scan `source`.

        Args:
            source: The TOML text.
        """
        self.src = source
        self.pos = 0
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]
        self.found: dict[KeyPath, KeyLocation] = {}
        self.implicit: set[KeyPath] = set()
        self.aot_counts: dict[KeyPath, int] = {}
        self.table: KeyPath = ()

    def run(self) -> dict[KeyPath, KeyLocation]:
        """Scan the whole document.

        Returns:
            The locations found, by key path.
        """
        while True:
            self.skip_blank()
            if self.pos >= len(self.src):
                return self.found
            start = self.pos
            if self.peek() == "[":
                self.parse_header()
            else:
                self.parse_key_value(self.table)
            if self.pos == start:  # never stall, whatever the input
                self.pos += 1

    def peek(self) -> str:
        """Return the current character, or "" at the end of the source."""
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def span(self, start: int, end: int) -> Span:
        """Build the span of `src[start:end]`, cut at the end of its first line.

        Args:
            start: Index of the first character.
            end: Index just past the last character.

        Returns:
            The span, with a 1-based line and column.
        """
        line = bisect.bisect_right(self.line_starts, start) - 1
        eol = self.src.find("\n", start)
        eol = len(self.src) if eol < 0 else eol
        if eol > start and self.src[eol - 1] == "\r":
            eol -= 1
        length = max(0, min(end, eol) - start)
        return Span(line + 1, start - self.line_starts[line] + 1, length)

    def record(self, path: KeyPath, key: Span, value: Span, *, implicit: bool = False) -> None:
        """Remember where `path` is written, unless it is already known.

        Args:
            path: The key path.
            key: Span of the key text.
            value: Span of the value.
            implicit: Whether the path is a table only implied by a longer key; an
                explicit record later replaces it.
        """
        if path in self.found and (implicit or path not in self.implicit):
            return
        self.found[path] = KeyLocation(key, value)
        if implicit:
            self.implicit.add(path)
        else:
            self.implicit.discard(path)

    def skip_inline_space(self) -> None:
        """Skip spaces and tabs."""
        while self.pos < len(self.src) and self.src[self.pos] in _INLINE_SPACE:
            self.pos += 1

    def skip_blank(self) -> None:
        """Skip whitespace, newlines and comments."""
        while self.pos < len(self.src):
            ch = self.src[self.pos]
            if ch == "#":
                eol = self.src.find("\n", self.pos)
                self.pos = len(self.src) if eol < 0 else eol
            elif ch in _BLANK:
                self.pos += 1
            else:
                return

    def parse_header(self) -> None:
        """Parse a `[table]` or `[[array.of.tables]]` header and make it current."""
        is_array = self.src.startswith("[[", self.pos)
        self.pos += 2 if is_array else 1
        parts = self.parse_key()
        path: KeyPath = ()
        for name, span in parts[:-1]:
            path += (name,)
            self.record(path, span, span, implicit=True)
            if path in self.aot_counts:
                path += (self.aot_counts[path] - 1,)
        name, span = parts[-1]
        path += (name,)
        if is_array:
            self.record(path, span, span)
            count = self.aot_counts.get(path, 0)
            self.aot_counts[path] = count + 1
            path += (count,)
        self.record(path, span, span)
        self.table = path
        self.skip_inline_space()
        while self.peek() == "]":
            self.pos += 1

    def parse_key(self) -> list[tuple[str, Span]]:
        """Parse a possibly dotted key.

        Returns:
            The key's segments, each with the span of its text.
        """
        parts: list[tuple[str, Span]] = []
        while True:
            self.skip_inline_space()
            start = self.pos
            name = self.parse_key_part()
            parts.append((name, self.span(start, self.pos)))
            self.skip_inline_space()
            if self.peek() != ".":
                return parts
            self.pos += 1

    def parse_key_part(self) -> str:
        """Parse one bare or quoted key segment.

        Returns:
            The segment's name, with quotes removed and escapes decoded.
        """
        start = self.pos
        if self.peek() in ('"', "'"):
            self.scan_string()
            return str(tomllib.loads("k = " + self.src[start : self.pos])["k"])
        match = _BARE_KEY.match(self.src, self.pos)
        self.pos = match.end() if match else self.pos + 1
        return match.group() if match else ""

    def parse_key_value(self, prefix: KeyPath) -> None:
        """Parse `key = value` and record its key paths.

        Args:
            prefix: Path of the table the pair belongs to.
        """
        parts = self.parse_key()
        path = prefix
        for name, span in parts[:-1]:
            path += (name,)
            self.record(path, span, span, implicit=True)
        name, key_span = parts[-1]
        path += (name,)
        self.skip_inline_space()
        if self.peek() == "=":
            self.pos += 1
        self.skip_inline_space()
        self.record(path, key_span, self.parse_value(path))

    def parse_value(self, path: KeyPath) -> Span:
        """Parse any value, recording the paths nested inside it.

        Args:
            path: The value's own key path.

        Returns:
            The value's span.
        """
        start = self.pos
        ch = self.peek()
        if ch in ('"', "'"):
            self.scan_string()
        elif ch == "[":
            self.parse_array(path)
        elif ch == "{":
            self.parse_inline_table(path)
        else:
            self.scan_bare()
        return self.span(start, self.pos)

    def parse_array(self, path: KeyPath) -> None:
        """Parse an array, recording each element under its index.

        Args:
            path: The array's key path.
        """
        self.pos += 1
        index = 0
        while True:
            self.skip_blank()
            if self.peek() in ("]", ""):
                self.pos += 1
                return
            element = (*path, index)
            span = self.parse_value(element)
            self.record(element, span, span)
            index += 1
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1

    def parse_inline_table(self, path: KeyPath) -> None:
        """Parse an inline table, recording its keys.

        Args:
            path: The table's key path.
        """
        self.pos += 1
        while True:
            self.skip_blank()
            if self.peek() in ("}", ""):
                self.pos += 1
                return
            self.parse_key_value(path)
            self.skip_blank()
            if self.peek() == ",":
                self.pos += 1

    def scan_string(self) -> None:
        """Skip a basic, literal or multi-line string starting at the current quote."""
        quote = self.peek()
        escapes = quote == '"'
        if self.src.startswith(quote * 3, self.pos):
            self.pos += 3
            while self.pos < len(self.src):
                ch = self.src[self.pos]
                if ch == "\\" and escapes:
                    self.pos += 2
                elif ch == quote:
                    end = self.pos
                    while end < len(self.src) and self.src[end] == quote:
                        end += 1
                    run, self.pos = end - self.pos, end
                    if run >= 3:
                        return
                else:
                    self.pos += 1
            return
        self.pos += 1
        while self.pos < len(self.src) and self.src[self.pos] not in (quote, "\n"):
            self.pos += 2 if self.src[self.pos] == "\\" and escapes else 1
        self.pos += 1

    def scan_bare(self) -> None:
        """Skip a number, boolean, date or time, including `date time` with a space."""
        match = _BARE_VALUE.match(self.src, self.pos)
        if match is None:
            self.pos += 1
            return
        self.pos = match.end()
        if _DATE.fullmatch(match.group()):
            time = _TIME_AFTER_SPACE.match(self.src, self.pos)
            if time is not None:
                self.pos = time.end()
