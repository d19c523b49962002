"""A Kiln snippet extractor written in Python (world `snippet-extractor`).

Finds fenced code blocks in chat Markdown:

- a fence is a line of 3+ backticks or 3+ tildes, indented by at most 3 spaces;
- the info string (the rest of the opening line) is trimmed; its first word is
  the language; a backtick fence's info string may not contain a backtick;
- the block ends at a fence of the same character, at least as long as the
  opening one, with nothing but spaces after it;
- a fence that is never closed runs to the last line of the document;
- lines are 1-based and counted on "\n", as Kiln's built-in extractor does.

Unlike the bundled Rust plugin (a full CommonMark parser) it does not look
inside lists or block quotes: it shows the contract, it does not replace it.

Kiln meters the plugin in fuel (about one unit per wasm instruction), and one
Python bytecode costs hundreds of them. So the scanning is left to `str.find`
and `str.count`, which run as compiled C: Python code runs once per fence, not
once per line or character. (A `re` search costs ~800 fuel per position it
tries: 820 M fuel for 1 MiB of prose, against 26 M this way.)
"""

from wit_world import exports
from wit_world.exports.snippets import Snippet
from wit_world.imports import host
from wit_world.imports.host import LogLevel


def fence_lines(md: str):
    """Yields (line_start, indent, fence, rest) for each line of `md` that
    starts, after at most 3 spaces, with 3+ backticks or tildes."""
    ticks, tildes = md.find("```"), md.find("~~~")
    while ticks >= 0 or tildes >= 0:
        at = ticks if tildes < 0 or 0 <= ticks < tildes else tildes
        line_start = md.rfind("\n", 0, at) + 1
        line_end = md.find("\n", at)
        if line_end < 0:
            line_end = len(md)
        if at - line_start <= 3 and not md[line_start:at].strip(" "):
            line = md[at:line_end]
            rest = line.lstrip(line[0])
            yield line_start, at - line_start, line[: len(line) - len(rest)], rest
        # One fence per line at most: look again after this line.
        if 0 <= ticks < line_end:
            ticks = md.find("```", line_end)
        if 0 <= tildes < line_end:
            tildes = md.find("~~~", line_end)


# componentize-py instantiates the class named after the exported interface.
class Snippets(exports.Snippets):
    def extract(self, markdown: str) -> list[Snippet]:
        # To fail instead, `raise componentize_py_types.Err("why")`: Kiln reports
        # the string to the user as this plugin's failure.
        found: list[Snippet] = []
        opening = None  # (line, indent, fence, info, offset where the code starts)
        line, counted_to = 1, 0
        for line_start, indent, fence, rest in fence_lines(markdown):
            line += markdown.count("\n", counted_to, line_start)
            counted_to = line_start
            if opening is None:
                info = rest.strip()
                if fence[0] == "`" and "`" in info:
                    continue  # not a fence, e.g. ```inline `code` ```
                code_at = markdown.find("\n", line_start) + 1 or len(markdown)
                opening = (line, indent, fence, info, code_at)
            elif (
                fence[0] == opening[2][0]
                and len(fence) >= len(opening[2])
                and not rest.strip()
            ):
                start, width, _, info, code_at = opening
                code = markdown[code_at:line_start]
                found.append(snippet(info, code, width, start, line))
                opening = None
        if opening is not None:
            start, width, _, info, code_at = opening
            last_line = markdown.count("\n") + (not markdown.endswith("\n"))
            found.append(snippet(info, markdown[code_at:], width, start, last_line))
        host.log(LogLevel.DEBUG, f"python-snippets: {len(found)} code blocks")
        return found


def snippet(info: str, code: str, indent: int, start: int, end: int) -> Snippet:
    if indent:
        # Inside an indented fence, CommonMark removes up to that many spaces.
        lines = code.split("\n")
        code = "\n".join(l[min(indent, len(l) - len(l.lstrip(" "))) :] for l in lines)
    words = info.split()
    return Snippet(
        language=words[0] if words else None,
        info=info,
        code=code,
        start_line=start,
        end_line=end,
    )
