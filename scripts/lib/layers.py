#!/usr/bin/env python3
"""The layer rule of docs/ARCHITECTURE.md, checked over the sources.

Reads the layer table (the ```layers block of docs/ARCHITECTURE.md: per
crate, its layers from the bottom up, each with the modules it holds),
finds every path a file names inside its crate (`use crate::...`,
`use super::...`, `crate::a::f()` in code, names re-exported at the crate
root followed to where they are defined), and fails when

  * a file names a module of a higher layer than its own (imports point
    down, never up), or
  * files name each other in a circle (a child naming its own parent
    module, `super::` of a file in a folder, does not count: a folder's
    mod.rs is that folder's interface).

  scripts/lib/layers.py [--root DIR] [--architecture FILE]   check the tree
  scripts/lib/layers.py --graph CRATE_SRC                     print the file graph
  scripts/lib/layers.py --self-test                           the check on trees
                                                              made to break it
"""

import os
import re
import sys
import tempfile


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def module_files(src):
    """{module path tuple: file} for every .rs file under src."""
    out = {}
    for dp, _, fns in os.walk(src):
        for f in fns:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dp, f), src)
            parts = rel[:-3].split(os.sep)
            if parts == ["main"] and os.path.exists(os.path.join(src, "lib.rs")):
                continue  # the binary: a crate of its own over the library
            if parts[-1] in ("lib", "main") and len(parts) == 1:
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            elif parts[0] == "bin":
                continue
            out[tuple(parts)] = rel
    return out


def expand(path):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e']."""
    path = re.sub(r"\s+", "", path)
    m = re.search(r"\{", path)
    if not m:
        return [path]
    head = path[: m.start()]
    depth, j = 0, m.start()
    while True:
        if path[j] == "{":
            depth += 1
        elif path[j] == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    inner, tail = path[m.start() + 1 : j], path[j + 1 :]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    out = []
    for p in parts:
        if p in ("", "self"):
            out.append(head.rstrip(":") + tail)
        else:
            out.extend(expand(head + p + tail))
    return out


def paths_in(text):
    """Every crate-relative path named: from use declarations (with
    braces) and from code (crate::a::b)."""
    text = strip_comments(text)
    found = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)\b[^;]*);", text):
        for p in expand(m.group(1)):
            p = re.sub(r"\bas\b.*$", "", p.replace(" as ", " as "))
            found.append(p.split(" as ")[0])
    for m in re.finditer(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text):
        found.append(m.group(1))
    return found


def reexports(text):
    """Names a module re-exports: {name: (base, path segments)} where base
    is "crate", "super" or "self" (what the path is relative to) or
    "extern" (another crate's), and the modules it glob-re-exports."""
    names, globs = {}, []
    text = strip_comments(text)
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]*);", text):
        for p in expand(m.group(1)):
            segs = p.split(" as ")[0].split("::")
            base = segs[0] if segs[0] in ("crate", "super", "self") else "self"
            if segs[0] in ("crate", "super", "self"):
                segs = segs[1:]
            elif segs[0] in ("vlanmac_core", "std", "core", "serde", "futures", "ipnet"):
                base = "extern"
            if segs and segs[-1] == "*":
                globs.append((base, tuple(segs[:-1])))
            elif len(segs) >= 2:
                alias = p.split(" as ")[1] if " as " in p else segs[-1]
                names[alias] = (base, tuple(segs[:-1]))
    return names, globs


class Crate:
    def __init__(self, src):
        self.src = src
        self.mods = module_files(src)
        self.exports = {}
        for mod, rel in self.mods.items():
            with open(os.path.join(src, rel)) as f:
                self.exports[mod] = reexports(f.read())

    def resolve(self, base, segs):
        """The module a path names, from module `base`; names re-exported
        by a module are followed to where they come from. None: another
        crate's."""
        mod = base
        for s in segs:
            if mod + (s,) in self.mods:
                mod = mod + (s,)
                continue
            names, globs = self.exports.get(mod, ({}, []))
            if s in names:
                how, target = names[s]
                if how == "extern":
                    return None
                start = {"crate": (), "super": mod[:-1], "self": mod}[how]
                return self.resolve(start, list(target))
            own = [g for g in globs if g[0] != "extern"]
            if s[:1].isupper() and len(own) == 1:
                how, target = own[0]
                start = {"crate": (), "super": mod[:-1], "self": mod}[how]
                return self.resolve(start, list(target))
            return mod
        return mod

    def edges(self):
        """[(from module, to module)] for every path a file names."""
        out = []
        for mod, rel in self.mods.items():
            with open(os.path.join(self.src, rel)) as f:
                text = f.read()
            # A file's `super` is its parent module (a mod.rs: its own folder's parent).
            parent = mod[:-1]
            for p in paths_in(text):
                segs = p.split("::")
                if segs[0] == "crate":
                    base, rest = (), segs[1:]
                elif segs[0] == "self":
                    base, rest = mod, segs[1:]
                else:
                    base, rest = parent, segs
                    while rest and rest[0] == "super":
                        rest = rest[1:]
                        if rest and rest[0] == "super":
                            base = base[:-1]
                if rest and rest[-1] == "*":
                    rest = rest[:-1]
                target = self.resolve(base, [s for s in rest if s])
                # The crate root is every module's parent: not an edge.
                if target is not None and target != mod and target != ():
                    out.append((mod, target))
        return out


def parse_layers(text):
    """{crate: [(layer name, [module prefixes])]} from the ```layers block."""
    m = re.search(r"```layers\n(.*?)```", text, re.S)
    if not m:
        raise SystemExit("docs/ARCHITECTURE.md has no ```layers block")
    table, crate = {}, None
    for line in m.group(1).splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        if not line.startswith(" "):
            crate = line.strip().rstrip(":")
            table[crate] = []
        else:
            name, _, mods = line.strip().partition(":")
            table[crate].append((name.strip(), [tuple(x.split("/")) for x in mods.split()]))
    return table


def layer_of(layers, mod):
    """The index of the layer holding module `mod` (the longest prefix
    listed), or None."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(layers):
        for p in prefixes:
            if p == ("(root)",):
                p = ()
            if mod[: len(p)] == p and len(p) > best_len:
                best, best_len = i, len(p)
    return best


def show(mod):
    return "::".join(mod) or "(root)"


def check(root, architecture):
    with open(architecture) as f:
        table = parse_layers(f.read())
    problems = []
    seen = set()
    for crate, layers in table.items():
        src = os.path.join(root, crate, "src")
        if not os.path.isdir(src):
            problems.append(f"{crate}: no such crate (in {architecture})")
            continue
        c = Crate(src)
        for mod in c.mods:
            if layer_of(layers, mod) is None:
                problems.append(f"{crate}: {c.mods[mod]} is in no layer of {architecture}")
        graph = {}
        for a, b in c.edges():
            la, lb = layer_of(layers, a), layer_of(layers, b)
            if la is not None and lb is not None and lb > la and (a, b) not in seen:
                seen.add((a, b))
                problems.append(
                    f"{crate}: {c.mods[a]} ({layers[la][0]}) imports {show(b)} ({layers[lb][0]}): "
                    "imports point down, never up"
                )
            if b != a[: len(b)]:
                graph.setdefault(a, set()).add(b)
        for cycle in cycles(graph):
            problems.append(f"{crate}: files import each other in a circle: " + " -> ".join(c.mods.get(m, show(m)) for m in cycle))
    return problems


def cycles(graph):
    """One cycle per strongly connected component of more than one node."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp) + [sorted(comp)[0]])

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


SELF_TEST_ARCH = """```layers
demo:
  spec: spec
  ops: ops
  (root): (root)
```
"""


def self_test():
    """The check on a small crate, then on the same crate broken twice."""
    good = {
        "lib.rs": "pub mod spec;\npub mod ops;\npub use spec::Name;\n",
        "spec.rs": "pub struct Name;\n",
        "ops/mod.rs": "mod a;\nmod b;\nuse crate::Name;\n",
        "ops/a.rs": "use super::b::f;\nuse crate::spec::Name;\n",
        "ops/b.rs": "pub fn f() {}\n",
    }
    broken = {
        "an import up": ({"spec.rs": "use crate::ops::a;\npub struct Name;\n"}, "imports point down, never up"),
        "a circle": ({"ops/b.rs": "use super::a::g;\npub fn f() {}\n"}, "in a circle"),
    }
    failures = []
    for label, (changes, expect) in [("the good tree", ({}, None))] + list(broken.items()):
        with tempfile.TemporaryDirectory() as d:
            files = dict(good, **changes)
            for rel, text in files.items():
                path = os.path.join(d, "demo", "src", rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
            arch = os.path.join(d, "ARCHITECTURE.md")
            with open(arch, "w") as f:
                f.write(SELF_TEST_ARCH)
            problems = check(d, arch)
            if expect is None and problems:
                failures.append(f"{label}: {problems}")
            if expect is not None and not any(expect in p for p in problems):
                failures.append(f"{label}: not found ({problems})")
            print(f"self-test {label}: {'; '.join(problems) or 'ok'}")
    return failures


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    architecture = os.path.join(root, "docs", "ARCHITECTURE.md")
    if argv[:1] == ["--self-test"]:
        failures = self_test()
        for f in failures:
            print("FAILED " + f)
        return 1 if failures else 0
    if argv[:1] == ["--graph"]:
        c = Crate(argv[1])
        for a, b in sorted(set(c.edges())):
            print(f"{c.mods[a]} -> {show(b)}")
        return 0
    while argv:
        if argv[0] == "--root":
            root = argv[1]
        elif argv[0] == "--architecture":
            architecture = argv[1]
        argv = argv[2:]
    problems = check(root, architecture)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
