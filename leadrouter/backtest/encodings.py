"""What text a CSV export is: its encoding (a byte-order mark, UTF-16, UTF-8 or Windows-1252) and its
separator (comma, semicolon, tab or pipe)."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from leadrouter.config import ConfigError

SAMPLE_BYTES = 1 << 20
SEPARATORS = ",;\t|"
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# longest first: a UTF-32 LE mark starts with the UTF-16 LE one
BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def detect_encoding(path: Path) -> str:
    """A byte-order mark decides; else UTF-16 if the sample is a third zero bytes, UTF-8 if the whole file
    decodes as UTF-8 (checked in blocks), else Windows-1252 if the sample decodes as it."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        for bom, encoding in BOMS:
            if sample.startswith(bom):
                return encoding
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if max(odd, even) > len(sample) // 6:  # ASCII text in UTF-16 is every other byte zero
            return "utf-16-le" if odd > even else "utf-16-be"
        decoder, block = codecs.getincrementaldecoder("utf-8")(), sample
        try:
            while block:
                decoder.decode(block)
                block = handle.read(SAMPLE_BYTES * 8)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, "", f"the export is neither UTF-8, UTF-16 nor Windows-1252 ({exc}): "
                          "save it as UTF-8") from exc  # fmt: skip
    return "cp1252"


def encoding_name(encoding: str) -> str:
    names = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "cp1252": "Windows-1252"}
    return names.get(encoding, encoding.upper())


def detect_separator(sample: str) -> str:
    """csv.Sniffer on the first lines; if it cannot tell, the candidate splitting the header into most cells."""
    lines = sample[: sample.rfind("\n") + 1] or sample
    try:
        return csv.Sniffer().sniff(lines, delimiters=SEPARATORS).delimiter
    except csv.Error:
        header = next(csv.reader(io.StringIO(lines)), [""])[0] if lines else ""
        return max(SEPARATORS, key=lambda sep: (header.count(sep), sep == ","))
