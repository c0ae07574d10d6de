#!/usr/bin/env python3
"""Counts the public API of compiled classes as javap -public prints it: public types (a nested one only when every
enclosing type is public too) and their public methods and constructors. Usage:
    api-surface.py CLASSES_DIR [--list] [--skip PACKAGE_PREFIX]...
Two counts: 'declared' leaves out what every class has or the compiler writes (equals, hashCode and toString
overrides, record equals/hashCode/toString, enum values/valueOf); 'all' also counts those and public fields."""
import os, re, subprocess, sys

root, args = sys.argv[1], sys.argv[2:]
skip = [args[i + 1] for i, a in enumerate(args) if a == '--skip']
classes = sorted(os.path.relpath(os.path.join(d, f), root)[:-6].replace(os.sep, '.')
                 for d, _, fs in os.walk(root) for f in fs if f.endswith('.class') and f != 'package-info.class')
classes = [c for c in classes if not any(c.startswith(p) for p in skip)]
out = subprocess.run(['javap', '-public', '-cp', root] + classes, capture_output=True, text=True, check=True).stdout
public, declared, every = set(), {}, {}
current = None
for line in out.splitlines():
    m = re.match(r'public .*?(?:class|interface|enum|record|@interface) ([\w.$]+)', line)
    if m:
        current = m.group(1); public.add(current); declared[current] = []; every[current] = 0; continue
    if not line.startswith('  '):
        current = None; continue
    if current and line.startswith('  public'):
        every[current] += 1
        if '(' not in line:
            continue  # a field
        name = re.search(r'([\w$]+)\(', line).group(1)
        if name in ('equals', 'hashCode', 'toString') or (name in ('values', 'valueOf') and ' static ' in line):
            continue
        declared[current].append(line.strip().rstrip(';'))
types = sorted(t for t in public if all('$'.join(t.split('$')[:i + 1]) in public for i in range(t.count('$') + 1)))
if '--list' in args:
    for t in types:
        print(f'{t}  ({len(declared[t])})')
        for s in declared[t]:
            print('    ' + s)
print(f'{len(types)} public types; {sum(len(declared[t]) for t in types)} declared public methods and constructors; '
      f'{sum(every[t] for t in types)} public members in all (with fields and compiler-written ones)')
