#!/usr/bin/env python3
"""Fail when Cargo.toml declares a dependency that no source file names.

What `cargo machete` does, without installing it: a [dependencies] crate must be named
in src/ (`name::`, `use name`, `extern crate name`), a [dev-dependencies] crate in
src/, tests/ or benches/. A crate needed only for its features (never named in code)
goes in [package.metadata.unused-deps] ignore = ["name"], with a comment saying why.
"""

import pathlib
import re
import sys
import tomllib

root = pathlib.Path(__file__).resolve().parent.parent
manifest = tomllib.loads((root / "Cargo.toml").read_text())
ignore = set(
    manifest.get("package", {}).get("metadata", {}).get("unused-deps", {}).get("ignore", [])
)


def sources(*dirs):
    text = []
    for d in dirs:
        for path in sorted((root / d).rglob("*.rs")):
            text.append(path.read_text(errors="replace"))
    return "\n".join(text)


def named(crate, text):
    ident = re.escape(crate.replace("-", "_"))
    return re.search(rf"(\b{ident}::|\buse\s+{ident}\b|\bextern\s+crate\s+{ident}\b)", text)


unused = []
for table, dirs in (("dependencies", ("src",)), ("dev-dependencies", ("src", "tests", "benches"))):
    text = sources(*dirs)
    for crate in manifest.get(table, {}):
        if crate not in ignore and not named(crate, text):
            unused.append(f"{crate} ([{table}], not named in {', '.join(d + '/' for d in dirs)})")

if unused:
    print("unused dependencies: remove them from Cargo.toml (or list one in")
    print("[package.metadata.unused-deps] ignore, saying why):")
    for u in unused:
        print(f"  {u}")
    sys.exit(1)
print("unused-deps: every dependency of Cargo.toml is used")
