"""Compile the translations with Babel, so a fresh machine needs no GNU gettext.

    python -m branch_ops.i18n compile   # locale/*/LC_MESSAGES/django.po -> .mo (when newer)
    python -m branch_ops.i18n check     # every message translated in every language?
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def _catalogs():
    yield from sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def compile_all(force: bool = False) -> int:
    count = 0
    for po in _catalogs():
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        with mo.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        count += 1
    return count


def untranslated() -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for po in _catalogs():
        with po.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple | list) else [message.string]
            if message.fuzzy or not all(strings):
                missing.setdefault(po.parent.parent.name, []).append(
                    message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        n = compile_all(force="--force" in argv)
        if n:
            print(f"compiled {n} translation catalog(s)")
        return 0
    if command == "check":
        missing = untranslated()
        for lang, ids in missing.items():
            print(f"{lang}: {len(ids)} untranslated, e.g. {ids[:3]}")
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
