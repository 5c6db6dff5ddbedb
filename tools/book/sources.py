"""Reading a page source (FORMAT.md): its front matter, its steps, the anchors of its @code, @added
and @omit blocks, every script line in exactly one block, and its links to other pages."""
import re

from tools.book.page import PORTS, Block, Page, Row, Section, port_path, rel, slug
from tools.book.results import BENCH_BLOCKS, bench_block, figure_block, include_block, log_block, numbers
from tools.lessons import ROOT

ANCHOR = r"""("[^"]*"|'[^']*')"""
LINE_LINK = re.compile(rf"\{{\{{line\s+([\w./-]+\.py)\s+{ANCHOR}\s*\}}\}}")
RANGE = re.compile(rf"^@(code|added|omit)\s+{ANCHOR}(?:\s*\.\.\s*({ANCHOR[1:-1]}|\+\d+))?\s*(?::\s*(.*))?$")
PORT = re.compile(rf"^@(port|port-omit)\s+(\w+)\s+{ANCHOR}(?:\s*\.\.\s*({ANCHOR[1:-1]}|\+\d+))?\s*(?::\s*(.*))?$")


# --- reading a page ----------------------------------------------------------------------------

def front_matter(text):
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, lines, 0
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            meta = dict(line.split(":", 1) for line in lines[1:end] if ":" in line)
            return {k.strip(): v.strip() for k, v in meta.items()}, lines[end + 1:], end + 1
    return {}, lines, 0


def find_line(lines, anchor, where, problems, of="the script"):
    hits = [i + 1 for i, line in enumerate(lines) if anchor in line.strip()]
    if len(hits) != 1:
        found = "no line" if not hits else f"{len(hits)} lines ({', '.join(map(str, hits))})"
        problems.add(where, f"anchor {anchor!r} matches {found} of {of}")
        return None
    return hits[0]


def read_page(path, problems):
    before = len(problems)
    name = path.stem
    meta, body, offset = front_matter(path.read_text())
    title = meta.get("title", "")
    for line in body:
        if line.startswith("# "):
            title = title or line[2:].strip()
            break
    page = Page(name, path, meta, title or name)
    if "script" in meta:
        page.script = meta["script"]
        script_path = ROOT / page.script
        if not script_path.is_file():
            problems.add(f"{rel(path)}:2", f"script {page.script} not found")
            page.script = None
        else:
            page.lines = script_path.read_text().splitlines()
            for port in PORTS:  # the lesson in other frameworks: ports/torch/3_net.py, ...
                if (ROOT / port_path(port, page.script)).is_file():
                    page.port_lines[port] = (ROOT / port_path(port, page.script)).read_text().splitlines()
    page.sections = [Section("")]
    fence = None
    for number_, line in enumerate(body, start=offset + 1):
        where = f"{rel(path)}:{number_}"
        section = page.sections[-1]
        row = section.rows[-1] if section.rows else None
        stripped = line.strip()
        if fence is None and re.match(r"^(```|~~~)", stripped):
            fence = stripped[:3]
        elif fence and stripped.startswith(fence):
            fence = None
        elif fence is None and line.startswith("## "):
            page.sections.append(Section(line[3:].strip()))
            continue
        elif fence is None and line.startswith("# "):
            continue  # the title: the page's header shows it
        elif fence is None and re.match(r"^@\w", line):
            word = line.split()[0][1:]
            if word in ("code", "added", "omit"):
                block = read_block(line, page, where, problems)
                if block:
                    page.blocks.append(block)
                    if block.kind != "omit":
                        if row is None:
                            section.rows.append(row := Row())
                        row.blocks.append(block)
                continue
            if word in ("port", "port-omit"):
                block = read_port_block(line, page, where, problems)
                if block:
                    page.port_blocks.append(block)
                    if block.kind != "omit":
                        if row is None:
                            section.rows.append(row := Row())
                        row.ports.append(block)
                continue
            args = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
            if word == "log":
                text = log_block(args.split(), where, problems)
            elif word == "figure":
                text = figure_block(args.strip(), where, problems)
            elif word == "include":
                text = include_block(args, where, problems)
            elif word in BENCH_BLOCKS:
                text = bench_block(word, where, problems)
            else:
                problems.add(where, f"unknown directive @{word}")
                continue
            line = "\n" + text
        if row is None or ((row.blocks or row.ports) and stripped):
            section.rows.append(row := Row())
        row.prose.append(numbers(line_links(line, where, problems), where, problems))
    unresolved = any(re.search(r": (anchor |bad directive|.* comes before |.* runs past )", p) for p in problems[before:])
    if page.lines is not None and not unresolved:  # else its lines' problems follow from the anchors'
        check_coverage(page, problems)
        for port in page.port_lines:
            check_coverage(page, problems, port)
    return page


def line_links(text, where, problems):
    """{{line PATH "ANCHOR"}} in prose: a link to the one line of PATH (from the repository's top)
    that contains ANCHOR, shown as the anchor in code: [`ANCHOR`](../PATH#LN "PATH, line N")."""
    def one(match):
        path, anchor = match[1], match[2][1:-1]
        if not (ROOT / path).is_file():
            problems.add(where, f"{{{{line}}}}: no file {path}")
            return f"`{anchor}`"  # not left as {{...}}: that would be a second problem, an unknown number
        n = find_line((ROOT / path).read_text().splitlines(), anchor, where, problems, of=path)
        return f"`{anchor}`" if n is None else f'[`{anchor}`](../{path}#L{n} "{path}, line {n}")'
    return LINE_LINK.sub(one, text)


def read_block(line, page, where, problems):
    match = RANGE.match(line.strip())
    if not match or (match[1] == "omit") != (match[4] is not None):
        problems.add(where, "bad directive; write @code \"FIRST\" .. \"LAST\", @added the same, "
                            "or @omit \"FIRST\" .. \"LAST\": REASON")
        return None
    if page.lines is None:
        problems.add(where, f"@{match[1]} on a page without a script")
        return None
    first = find_line(page.lines, match[2][1:-1], where, problems)
    if first is not None and match[3] and match[3].startswith("+"):
        last = first + int(match[3][1:])  # "FIRST" .. +N: FIRST and the N lines after it
        if last > len(page.lines):
            problems.add(where, f"{match[2]} .. {match[3]} runs past the end of {page.script}")
            return None
    else:
        last = find_line(page.lines, match[3][1:-1], where, problems) if match[3] else first
    if first is None or last is None:
        return None
    if last < first:
        problems.add(where, f"{match[3]} (line {last}) comes before {match[2]} (line {first})")
        return None
    return Block(match[1], first, last, where, (match[4] or "").strip())


def read_port_block(line, page, where, problems):
    """@port FRAMEWORK "FIRST" .. "LAST" and @port-omit FRAMEWORK "FIRST" .. "LAST": REASON, lines of
    ports/FRAMEWORK/SCRIPT with the anchors' rules of @code."""
    match = PORT.match(line.strip())
    if not match or (match[1] == "port-omit") != (match[5] is not None):
        problems.add(where, "bad directive; write @port FRAMEWORK \"FIRST\" .. \"LAST\" "
                            "or @port-omit FRAMEWORK \"FIRST\" .. \"LAST\": REASON")
        return None
    port = match[2]
    if page.lines is None or port not in page.port_lines:
        known = port in PORTS and page.lines is not None
        problems.add(where, f"@{match[1]}: no {port_path(port, page.script)}" if known else
                     f"@{match[1]} {port}: no such port here (the ports: {', '.join(PORTS)})")
        return None
    lines, path = page.port_lines[port], port_path(port, page.script)
    first = find_line(lines, match[3][1:-1], where, problems, of=path)
    if first is not None and match[4] and match[4].startswith("+"):
        last = first + int(match[4][1:])
        if last > len(lines):
            problems.add(where, f"{match[3]} .. {match[4]} runs past the end of {path}")
            return None
    else:
        last = find_line(lines, match[4][1:-1], where, problems, of=path) \
            if match[4] and not match[4].startswith("+") else first
    if first is None or last is None:
        return None
    if last < first:
        problems.add(where, f"{match[4]} (line {last}) comes before {match[3]} (line {first})")
        return None
    return Block("omit" if match[1] == "port-omit" else "code", first, last, where, (match[5] or "").strip(), port)


def check_coverage(page, problems, port=""):
    """Every non-blank line of the script (or of one of its ports) in exactly one block."""
    seen = {}
    lines = page.port_lines[port] if port else page.lines
    name = port_path(port, page.script) if port else page.script
    for block in (b for b in (page.port_blocks if port else page.blocks) if b.port == port):
        for n in range(block.first, block.last + 1):
            if not lines[n - 1].strip():
                continue
            if n in seen:
                problems.add(block.where, f"{name} line {n} is already in the block of {seen[n].where}: "
                                          f"{lines[n - 1].strip()}")
            else:
                seen[n] = block
    for n, line in enumerate(lines, start=1):
        if line.strip() and n not in seen:
            problems.add(rel(page.path), f"{name} line {n} is neither shown nor omitted: {line.strip()}")


def coverage(page):
    """{line number: kind} of the page's blocks (the build's model; tests recompute it)."""
    return {n: b.kind for b in page.blocks for n in range(b.first, b.last + 1) if page.lines[n - 1].strip()}


def check_links(pages, problems):
    """Links between pages, [text](NAME.md#anchor): the page and its heading exist."""
    anchors = {p.name: {slug(s.heading) for s in p.sections if s.heading} | {"lines-not-shown"} for p in pages}
    for page in pages:
        for number_, line in enumerate(page.path.read_text().splitlines(), start=1):
            for target, anchor in re.findall(r"\]\(([\w.-]+)\.md(?:#([\w-]*))?\)", line):
                if target not in anchors:
                    problems.add(f"{rel(page.path)}:{number_}", f"link to {target}.md: no such page in the page sources")
                elif anchor and anchor not in anchors[target]:
                    problems.add(f"{rel(page.path)}:{number_}", f"link to {target}.md#{anchor}: no such heading there")
