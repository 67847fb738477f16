#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

Layers are only real if nothing reaches back up: a resource may import the
services, never the reverse. For every crate under crates/, this lists which
module (one file, or a directory's mod.rs with its files) imports which,
from `use crate::…`, `use super::…` and paths such as `crate::a::b` in code,
and reports every cycle between modules. A parent module that only declares
its children (`mod x;`, `pub use x::…`) is not an import of the child:
re-exports point down, and would make every parent/child pair a cycle.

Usage: scripts/check-layers.py [--graph]   (--graph prints the edges)
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CRATES = os.path.join(ROOT, "crates")

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)


def module_of(src, path):
    """The module path of a file: crate::a::b for src/a/b.rs or src/a/b/mod.rs."""
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def strip_tests(text):
    """Drops `#[cfg(test)] mod tests { … }`: tests may reach anywhere."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def expand_use(tree):
    """`a::{b, c::d}` -> ["a::b", "a::c::d"]."""
    tree = tree.replace(" ", "").replace("\n", "")
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [tree]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p:
            out.extend(expand_use(prefix + p))
    return out


def resolve(current, is_dir_module, path):
    """An absolute module path for a `crate::`/`super::`/`self::` path."""
    segs = path.split("::")
    head, rest = segs[0], segs[1:]
    if head == "crate":
        base = []
    elif head == "self":
        base = list(current)
    else:
        base = list(current)
        # `super` of a file module is its parent; each further super climbs.
        n = 0
        while True:
            n += 1
            if rest and rest[0] == "super":
                rest = rest[1:]
                continue
            break
        base = base[: max(0, len(base) - n)]
    return tuple(base + [r for r in rest if r not in ("self", "*")])


def crate_graph(crate_dir):
    src = os.path.join(crate_dir, "src")
    files = {}
    for dirpath, _, names in os.walk(src):
        for n in names:
            if n.endswith(".rs"):
                p = os.path.join(dirpath, n)
                files[module_of(src, p)] = p
    modules = set(files)
    edges = {}
    for mod, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = strip_comments(strip_tests(f.read()))
        is_dir = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")
        targets = set()
        paths = []
        for u in USE_RE.finditer(text):
            if re.match(r"^\s*pub", u.group(0)) and u.group(1).startswith("self::"):
                continue  # re-export of a child: points down
            for item in expand_use(u.group(1)):
                paths.append(item)
        body = USE_RE.sub("", text)
        paths.extend(m.group(0) for m in PATH_RE.finditer(body))
        for p in paths:
            if not p.startswith(("crate", "super", "self")):
                continue
            target = resolve(mod, is_dir, p)
            # The longest module prefix of the target path.
            while target and target not in modules:
                target = target[:-1]
            if target == () and "lib" not in path and "main" not in path:
                target = ()
            if target == mod:
                continue
            # A module importing its own descendants is its business.
            if target[: len(mod)] == mod:
                continue
            targets.add(target)
        edges[mod] = targets
    return edges


def cycles(edges):
    """Strongly connected components with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def name(mod):
    return "crate" + "".join("::" + m for m in mod)


def main():
    graph = "--graph" in sys.argv
    failed = False
    for crate in sorted(os.listdir(CRATES)):
        d = os.path.join(CRATES, crate)
        if not os.path.isdir(os.path.join(d, "src")):
            continue
        edges = crate_graph(d)
        if graph:
            for m in sorted(edges):
                for t in sorted(edges[m]):
                    print(f"{crate}: {name(m)} -> {name(t)}")
        found = cycles(edges)
        for comp in found:
            failed = True
            print(f"{crate}: import cycle between {', '.join(name(m) for m in comp)}")
            for m in comp:
                back = sorted(t for t in edges[m] if t in comp)
                print(f"    {name(m)} imports {', '.join(name(t) for t in back)}")
        if not found:
            print(f"{crate}: {len(edges)} modules, no import cycle")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
