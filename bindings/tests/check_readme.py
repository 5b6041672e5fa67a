"""Checks that the quick starts in bindings/README.md are the code the tests
run: the Python and Kotlin blocks must equal the marked regions of the
tests, and every method the Swift block calls must exist in the generated
lynchpin.swift (there is no Swift compiler here).

Usage: python3 check_readme.py README.md SWIFT_FILE
"""

import re
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).parent


def readme_block(readme, language):
    match = re.search(
        rf"<!-- quick start: {language} -->\n```{language}\n(.*?)```", readme, re.S)
    if not match:
        sys.exit(f"README has no {language} quick start")
    return match.group(1)


def test_region(path, comment):
    text = path.read_text()
    start = text.index(f"{comment} --- quick start (bindings/README.md) ---\n")
    start = text.index("\n", start) + 1
    end = text.index(f"{comment} --- end of quick start ---")
    end = text.rindex("\n", 0, end) + 1
    return textwrap.dedent(text[start:end])


def main():
    readme = Path(sys.argv[1]).read_text()
    swift = Path(sys.argv[2]).read_text()
    failed = False
    for language, path, comment in [
        ("python", HERE / "python" / "test_lynchpin.py", "#"),
        ("kotlin", HERE / "kotlin" / "LynchpinTest.kt", "//"),
    ]:
        if readme_block(readme, language) != test_region(path, comment):
            print(f"README's {language} quick start differs from {path.name}")
            failed = True
    calls = set(re.findall(r"\.(\w+)\(", readme_block(readme, "swift")))
    calls -= {"appendingPathComponent"}  # Foundation
    def exists(name):  # a method, or an enum case (`LynchpinError.InvalidInput(…)`)
        pattern = rf"case {name}\b" if name[0].isupper() else rf"func `?{name}`?\("
        return re.search(pattern, swift)

    absent = sorted(c for c in calls if not exists(c))
    if absent:
        print("README's Swift quick start calls what lynchpin.swift lacks:", absent)
        failed = True
    if failed:
        sys.exit(1)
    print(f"README quick starts: python and kotlin match the tests; "
          f"the {len(calls)} methods and cases the swift one calls exist")


main()
