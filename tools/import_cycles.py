#!/usr/bin/env python3
"""List import circles between the modules of a package, function-level imports included.

Usage: python tools/import_cycles.py [PACKAGE_DIR]   (default: sksoft; run by tests/test_layout.py)

Vendored from the developers' shared tooling so that the check needs nothing outside the
repository.

Exit 0 and print "no import circles" when there are none; else print each circle and exit 1.

A name imported from a package (``from .metrics import ece``) is followed through the
package's ``__init__.py`` to the submodule that defines or re-exports it, so a package's
face does not make circles of its own.
"""
import ast
import os
import sys


def module_name(root, path):
    rel = os.path.relpath(path, os.path.dirname(root))[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def main(pkg="sksoft"):
    pkg = os.path.abspath(pkg)
    files = {}
    for d, _, names in os.walk(pkg):
        for n in names:
            if n.endswith(".py"):
                p = os.path.join(d, n)
                files[module_name(pkg, p)] = p
    trees = {m: ast.parse(open(p, encoding="utf-8").read(), p) for m, p in files.items()}
    is_pkg = {m: files[m].endswith("__init__.py") for m in files}

    def absolute(mod, node):
        if node.level == 0:
            return node.module or ""
        base = mod.split(".") if is_pkg[mod] else mod.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def face(pkgmod, name, seen=()):
        """Where a package's __init__ gets `name` from (one module), else the package itself."""
        if pkgmod in seen:
            return pkgmod
        for node in ast.walk(trees[pkgmod]):
            if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
                src = absolute(pkgmod, node)
                if src + "." + name in files:
                    return src + "." + name
                if src in files:
                    return face(src, name, seen + (pkgmod,)) if is_pkg[src] else src
        return pkgmod

    edges = {m: set() for m in files}
    for m, tree in trees.items():
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = absolute(m, node)
                for a in node.names:
                    if src + "." + a.name in files:
                        targets.append(src + "." + a.name)
                    elif src in files and is_pkg[src] and src != m:
                        targets.append(face(src, a.name))
                    else:
                        targets.append(src)
            for t in targets:
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != m and not (is_pkg[m] and t.startswith(m + ".")):
                    edges[m].add(t)
    # Tarjan's strongly connected components
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            strong(v)
    if not comps:
        print("no import circles")
        return 0
    for c in comps:
        inner = [f"{a} -> {b}" for a in c for b in sorted(edges[a]) if b in c]
        print(f"circle of {len(c)} modules: " + "; ".join(inner))
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
