"""Native tests of app.py's rules: `python3 test_app.py <bindings dir>`.

The bindings come from `componentize-py ... bindings <dir>` (build.sh makes
them); `host.log` is replaced by a stub, so no wasm runtime is needed.
"""

import os
import sys

sys.path[:0] = [sys.argv[1], os.path.dirname(os.path.abspath(__file__))]

from wit_world.imports import host  # noqa: E402

host.log = lambda level, message: None
import app  # noqa: E402

CASES = [
    # The cases of Kiln's own snippet rules (plugins/snippet-rules).
    ('intro\n```rust title="a.rs"\nfn a() {}\n```\ntext\n~~~\nplain\n~~~\n',
     [("rust", 'rust title="a.rs"', "fn a() {}\n", 2, 4), (None, "", "plain\n", 6, 8)]),
    ("````markdown\n```rust\nx\n```\n````\n",
     [("markdown", "markdown", "```rust\nx\n```\n", 1, 5)]),
    ("a\n```py\nprint(1)\nprint(2)", [("py", "py", "print(1)\nprint(2)", 2, 4)]),
    ("    indented\n", []),
    # Fences and their edges.
    ("```\n```\n", [(None, "", "", 1, 2)]),
    ("``\nx\n``\n", []),  # two characters are not a fence
    ("```a`b\nx\n```\n", [(None, "", "", 3, 3)]),  # line 1 is no fence; line 3 opens one
    ("~~~a`b\nx\n~~~\n", [("a`b", "a`b", "x\n", 1, 3)]),  # tildes allow backticks
    ("```\nx\n~~~\n```\n", [(None, "", "x\n~~~\n", 1, 4)]),  # other character
    ("```\nx\n``` y\n```\n", [(None, "", "x\n``` y\n", 1, 4)]),  # text after a fence
    ("  ```js\n  a\n    b\nc\n  ```\n", [("js", "js", "a\n  b\nc\n", 1, 5)]),  # indent
    ("    ```\nx\n    ```\n", []),  # 4 spaces: indented code, not a fence
    ("a\n```py\nx\n", [("py", "py", "x\n", 2, 3)]),  # unterminated, final newline
    ("```", [(None, "", "", 1, 1)]),
    ("", []),
    ("```\r\nx\r\n```\r\n", [(None, "", "x\r\n", 1, 3)]),
    ("```  rust   extra \nx\n```", [("rust", "rust   extra", "x\n", 1, 3)]),
    ("é\n```py\nñ\n```\n", [("py", "py", "ñ\n", 2, 4)]),
    ("use ``` inline\n```\nx\n```\n", [(None, "", "x\n", 2, 4)]),
    ("a ~~~\n```\nb ```\n```\n", [(None, "", "b ```\n", 2, 4)]),
]

failed = 0
for markdown, expected in CASES:
    got = [(s.language, s.info, s.code, s.start_line, s.end_line)
           for s in app.Snippets().extract(markdown)]
    if got != expected:
        failed += 1
        print(f"FAIL {markdown!r}\n  got      {got}\n  expected {expected}")
print(f"{len(CASES) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
