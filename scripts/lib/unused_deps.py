#!/usr/bin/env python3
"""Fails when a workspace crate declares a dependency its code never names.

For each member's Cargo.toml, every key of [dependencies] must be named
(`crate::`, `use crate`, `crate!`) in the sources that build the library and
binaries (src/, build.rs), and every key of [dev-dependencies] in those plus
tests/, benches/ and examples/. A dependency used only for its side effects
(a feature switched on for another crate) is listed with the reason under
[package.metadata.vlanmac] used-without-naming = ["name"].

    python3 scripts/lib/unused_deps.py        # from the repository root
"""

import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIB_DIRS = ["src", "build.rs"]
DEV_DIRS = LIB_DIRS + ["tests", "benches", "examples"]


def sources(crate: pathlib.Path, dirs: list[str], skip: list[pathlib.Path]) -> str:
    text = []
    for d in dirs:
        p = crate / d
        files = [p] if p.is_file() else sorted(p.rglob("*.rs")) if p.is_dir() else []
        for f in files:
            if not any(f.is_relative_to(s) for s in skip):
                src = f.read_text(errors="replace")
                text.append(src)
                # A module shared with another crate through #[path = "..."].
                for rel in re.findall(r'#\[path\s*=\s*"([^"]+)"\]', src):
                    shared = (f.parent / rel).resolve()
                    if shared.is_file() and not shared.is_relative_to(crate):
                        text.append(shared.read_text(errors="replace"))
    return "\n".join(text)


def named(ident: str, text: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(ident)}(::|!|\s*;|\s+as\b)", text) is not None


def main() -> int:
    ws = tomllib.loads((ROOT / "Cargo.toml").read_text())
    members = ws["workspace"]["members"]
    # The root package's sources must not count the members' directories.
    others = [(ROOT / m).resolve() for m in members if m != "."]
    bad = []
    for m in members:
        crate = (ROOT / m).resolve()
        manifest = tomllib.loads((crate / "Cargo.toml").read_text())
        allowed = set(manifest.get("package", {}).get("metadata", {}).get("vlanmac", {}).get("used-without-naming", []))
        skip = others if m == "." else []
        lib = sources(crate, LIB_DIRS, skip)
        dev = sources(crate, DEV_DIRS, skip)
        for table, text in (("dependencies", lib), ("dev-dependencies", dev), ("build-dependencies", lib)):
            for key in manifest.get(table, {}):
                if key in allowed:
                    continue
                if not named(key.replace("-", "_"), text):
                    bad.append(f"{m}/Cargo.toml [{table}] {key}: never named in its sources")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
