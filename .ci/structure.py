#!/usr/bin/env python3
"""Structure limits of issue 12: commands/ files <= 200 lines, no fn > 120 lines,
no source file > 800 lines of code (tests aside), no cycle between top-level modules,
no target-name string comparison outside src/targets/ (and the registry)."""
import os, re, sys, collections
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
root = os.path.normpath(root)
bad = []

def files():
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith('.rs'):
                yield os.path.join(d, f)

def strip_tests(text):
    # Drop `#[cfg(test)] mod … { … }` blocks (brace-matched).
    out, i = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{', text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            c = text[j]
            depth += (c == '{') - (c == '}')
            j += 1
        i = j
    out.append(text[i:])
    return ''.join(out)

def code_lines(text):
    n = 0
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith('//'):
            n += 1
    return n

def rel(p):
    return os.path.relpath(p, os.path.dirname(root))

fn_re = re.compile(r'^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')
for path in sorted(files()):
    text = open(path, encoding='utf-8').read()
    lines = text.splitlines()
    if '/commands/' in path and len(lines) > 200:
        bad.append(f"{rel(path)}: {len(lines)} lines (commands/ files: at most 200)")
    body = strip_tests(text)
    loc = code_lines(body)
    if loc > 800:
        bad.append(f"{rel(path)}: {loc} lines of code (at most 800, tests aside)")
    # Function lengths: from the `fn` line to its closing brace at the same indent.
    blines = body.splitlines()
    for k, line in enumerate(blines):
        m = fn_re.match(line)
        if not m or line.rstrip().endswith(';'):
            continue
        indent = m.group(1)
        for e in range(k + 1, len(blines)):
            if blines[e] == indent + '}' :
                if e - k + 1 > 120:
                    bad.append(f"{rel(path)}:{k+1}: fn {m.group(7)} is {e-k+1} lines (at most 120)")
                break
    if '/targets/' not in path:
        for k, line in enumerate(lines):
            if re.search(r'(==|!=|eq_ignore_ascii_case\(|matches!\().{0,40}"(trackfinity|fatura|salesmania)"', line, re.I) \
               or re.search(r'"(trackfinity|fatura|salesmania)"\s*(=>|==|!=)', line, re.I):
                bad.append(f"{rel(path)}:{k+1}: compares a target name: {line.strip()[:80]}")

# Top-level module graph from `crate::X` paths (tests aside).
graph = collections.defaultdict(set)
for path in files():
    r = os.path.relpath(path, root)
    top = r.split(os.sep)[0].removesuffix('.rs')
    if top in ('main', 'lib'):
        continue
    body = strip_tests(open(path, encoding='utf-8').read())
    body = re.sub(r'//[^\n]*', '', body)
    for m in re.finditer(r'crate::(\w+)', body):
        if m.group(1) != top:
            graph[top].add(m.group(1))
    for m in re.finditer(r'use crate::\{([^}]*)\}', body):
        for name in re.findall(r'(?:^|,)\s*(\w+)', m.group(1)):
            if name != top:
                graph[top].add(name)
state = {}
def visit(n, stack):
    state[n] = 1; stack.append(n)
    for m in sorted(graph.get(n, ())):
        if state.get(m) == 1:
            bad.append("module cycle: " + " → ".join(stack[stack.index(m):] + [m]))
        elif m not in state:
            visit(m, stack)
    stack.pop(); state[n] = 2
for n in sorted(graph):
    if n not in state:
        visit(n, [])
for b in bad:
    print(b)
print(f"structure: {len(bad)} problem(s)")
sys.exit(1 if bad else 0)
