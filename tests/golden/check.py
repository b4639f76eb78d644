"""Runs every golden script and checks that the Rust test it names embeds exactly its values.

Each `tests/golden/*_golden.py` starts with "Independent reference for tests/NAME.rs" and prints
one record per line (a Rust constant or a tuple). A record passes when its numbers, in order,
appear as one contiguous run of the numbers of that Rust file, each within 1e-12 relative (the
Rust side may be formatted differently). Exit status 1 names every record that is missing.

    python3 tests/golden/check.py
"""
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.\d*|\d+|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
TARGET = re.compile(r"Independent reference for (tests/\S+\.rs)")


def numbers(text):
    return [float(m.group(0)) for m in NUMBER.finditer(text)]


def close(a, b):
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def contains(haystack, needle):
    n = len(needle)
    return any(
        all(close(haystack[i + k], needle[k]) for k in range(n))
        for i in range(len(haystack) - n + 1)
    )


def check(script):
    head = script.read_text()
    target = TARGET.search(head)
    if target is None:
        return [f"{script.name}: its docstring must name the Rust test it feeds"]
    rust = numbers((ROOT / target.group(1)).read_text())
    out = subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True)
    failures = []
    records = [line for line in out.stdout.splitlines() if numbers(line)]
    if not records:
        failures.append(f"{script.name} printed no values")
    for line in records:
        if not contains(rust, numbers(line)):
            failures.append(f"{script.name} → {target.group(1)}: not embedded: {line[:120]}")
    print(f"{script.name}: {len(records)} records checked against {target.group(1)}")
    return failures


def main():
    scripts = sorted(HERE.glob("*_golden.py"))
    failures = [f for s in scripts for f in check(s)]
    for f in failures:
        print(f, file=sys.stderr)
    sys.exit(1 if failures or not scripts else 0)


if __name__ == "__main__":
    main()
