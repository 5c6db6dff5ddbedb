"""book/NAME.html: a page as HTML, prose beside the lines it explains, with the site's navigation
along the talk's order; and the one stylesheet, style.css beside this file with Pygments' classes."""
import html
import re
from pathlib import Path

from tools.book.page import (ADDED_NOTE, PORTS, block_text, by_port, lines_label, neighbours, omitted, port_summary,
                             script_name, slug)


def md_to_html(text, page_names):
    import markdown
    body = markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "sane_lists"],
                             extension_configs={"toc": {"slugify": lambda value, separator: slug(value)}})

    def link(match):
        target = match[2]
        name, _, anchor = target.partition("#")
        if name.endswith(".md") and "/" not in name and name[:-3] in page_names:
            target = name[:-3] + ".html" + (f"#{anchor}" if anchor else "")
        return f'{match[1]}"{target}"'
    body = re.sub(r'(href=)"([^"]*)"', link, body)
    body = re.sub(r"(\d) (%|±)", "\\1&nbsp;\\2", body)
    body = body.replace("<table>", '<div class="table"><table>').replace("</table>", "</table></div>")
    return body


def code_html(page, block):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    formatter = HtmlFormatter(cssclass="highlight", linenos="inline", linenostart=block.first)
    code = highlight(block_text(page, block) + "\n", PythonLexer(stripnl=False, ensurenl=True), formatter)
    label = html.escape(lines_label(page, block))
    if block.kind == "added":
        return (f'<div class="block added"><p class="label"><span class="tag">{ADDED_NOTE[:-1]}</span> '
                f'<span class="where">{label}</span></p>{code}</div>')
    return f'<div class="block"><p class="label"><span class="where">{label}</span></p>{code}</div>'


def port_html(page, blocks):
    """One framework's lines for a step, in a <details> closed by default (no JavaScript)."""
    name, _, where = port_summary(page, blocks).partition(" · ")
    return (f'<details class="port"><summary><span class="framework">{html.escape(name)}</span> '
            f'<span class="where">{html.escape(where)}</span></summary>'
            + "".join(code_html(page, b) for b in blocks) + "</details>")


def to_html(page, lessons, others, page_names):
    current = ' aria-current="page"'
    nav = " ".join(f'<a href="{p.name}.html"{current if p is page else ""}>{html.escape(short_title(p))}</a>'
                   for p in others[:1] + lessons + others[1:])
    before, after = neighbours(page, lessons)
    arc = ""
    if page in lessons:
        arc = (f'<p class="arc">'
               + (f'<a class="prev" href="{before.name}.html">← {html.escape(before.title)}</a>' if before else "<span></span>")
               + f'<span class="where">{lessons.index(page) + 1} of {len(lessons)} in the talk&rsquo;s order</span>'
               + (f'<a class="next" href="{after.name}.html">{html.escape(after.title)} →</a>' if after else "<span></span>")
               + "</p>")
    parts = [f"<h1>{html.escape(page.title)}</h1>"]
    if page.script:
        parts.append(f'<p class="files">The script: <a href="../{page.script}">{page.script}</a> · '
                     f'as a notebook: <a href="notebooks/{page.name}.ipynb">notebooks/{page.name}.ipynb</a></p>')
    for section in page.sections:
        rows = []
        for row in section.rows:
            prose = md_to_html("\n".join(row.prose), page_names) if "".join(row.prose).strip() else ""
            if row.blocks or row.ports:
                code = "".join(code_html(page, b) for b in row.blocks)
                code += "".join(port_html(page, blocks) for _, blocks in by_port(row.ports))
                rows.append(f'<div class="row"><div class="prose">{prose}</div><div class="code">{code}</div></div>')
            elif prose:
                rows.append(f'<div class="row text"><div class="prose">{prose}</div></div>')
        heading = f'<h2 id="{slug(section.heading)}">{html.escape(section.heading)}</h2>' if section.heading else ""
        if heading or rows:
            parts.append(f'<section class="step">{heading}{"".join(rows)}</section>')
    port_omits = [b for b in page.port_blocks if b.kind == "omit"]
    if omitted(page) or port_omits:
        def items(blocks):
            return "".join(f'<li><p><code>{html.escape(lines_label(page, b))}</code>: '
                           f'{md_to_html(b.reason, page_names)[3:-4]}</p>{code_html(page, b)}</li>' for b in blocks)
        note = f'<p>Lines of {page.script} left out above, and why:</p><ul>{items(omitted(page))}</ul>' \
            if omitted(page) else ""
        if port_omits:
            note += "<p>Lines of the ports left out above, and why:</p>" + "".join(
                f'<details class="port"><summary><span class="framework">{PORTS[port]}</span></summary>'
                f'<ul>{items(blocks)}</ul></details>' for port, blocks in by_port(port_omits))
        parts.append(f'<section class="step omitted"><h2 id="lines-not-shown">Lines not shown</h2>'
                     f'<div class="row text"><div class="prose">{note}</div></div></section>')
    kind = "lesson" if page.script else "text"
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html.escape(page.title)}</title>\n<link rel="stylesheet" href="style.css">\n</head>\n'
            f'<body class="{kind}">\n<header class="site"><nav>{nav}</nav>{arc}</header>\n'
            f'<main>\n{"".join(parts)}\n</main>\n</body>\n</html>\n')


def short_title(page):
    if page.script:
        return script_name(page.script).split("_")[0] + ". " + page.title if script_name(page.script)[0].isdigit() \
            else page.title
    return "Index" if page.name == "index" else page.title


def stylesheet():
    from pygments.formatters import HtmlFormatter
    return (Path(__file__).with_name("style.css").read_text()
            + "\n/* Pygments (style 'default') */\n" + HtmlFormatter(style="default").get_style_defs(".highlight")
            + "\n.highlight .linenos { color: #9a9a9a; user-select: none; padding-right: .8em; }\n")
