"""A page of the book as the build sees it: its steps, each rows of prose and blocks of script
lines; the problems found; and what the renderings share: block labels, the talk's order, anchors."""
import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.lessons import ROOT, SCRIPTS, UNDERSTANDING

ARC = SCRIPTS[:4] + [UNDERSTANDING] + SCRIPTS[4:]  # the talk's order: the moons slides before the modern net
ADDED_NOTE = "Added by this project, not in the talk:"


class Problems(list):
    def add(self, where, text):
        self.append(f"{where}: {text}")


@dataclass
class Block:
    """Script lines first..last (1-based, inclusive) shown ('code', 'added') or left out ('omit')."""
    kind: str
    first: int
    last: int
    where: str
    reason: str = ""
    port: str = ""  # a port's block (@port, @port-omit): 'torch', 'jax' or 'pytensor'


@dataclass
class Row:
    prose: list = field(default_factory=list)  # Markdown lines
    blocks: list = field(default_factory=list)
    ports: list = field(default_factory=list)  # the same step's port blocks, after the script's


@dataclass
class Section:
    heading: str  # '' for what comes before the first step
    rows: list = field(default_factory=list)


@dataclass
class Page:
    name: str
    path: Path
    meta: dict
    title: str
    script: str = None  # '3_net.py'
    lines: list = None  # the script's lines
    sections: list = field(default_factory=list)
    blocks: list = field(default_factory=list)  # every @code, @added, @omit in page order
    port_lines: dict = field(default_factory=dict)  # {'torch': the port's lines} for each port found
    port_blocks: list = field(default_factory=list)  # every @port, @port-omit in page order


def script_name(text):
    return text[:-3] if text.endswith(".py") else text


def rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- blocks ------------------------------------------------------------------------------------

def lines_label(page, block):
    span = f"line {block.first}" if block.first == block.last else f"lines {block.first}–{block.last}"
    return f"{source_of(page, block)}, {span}"


def source_of(page, block):
    """The file a block's lines come from: the lesson's script, or ports/FRAMEWORK/SCRIPT."""
    return port_path(block.port, page.script) if block.port else page.script


def block_text(page, block):
    lines = page.port_lines[block.port] if block.port else page.lines
    return "\n".join(lines[block.first - 1:block.last])


def omitted(page):
    return [b for b in page.blocks if b.kind == "omit"]


# --- ports -------------------------------------------------------------------------------------

PORTS = {"torch": "PyTorch", "jax": "JAX", "pytensor": "PyTensor"}  # ports/NAME/, shown in this order


def port_path(port, script):
    return f"ports/{port}/{script}"


def by_port(blocks):
    """[(framework, its blocks)] in PORTS' order, for the frameworks with blocks."""
    return [(port, [b for b in blocks if b.port == port]) for port in PORTS if any(b.port == port for b in blocks)]


def port_summary(page, blocks):
    """'PyTorch · ports/torch/3_net.py, lines 12–14, 20' for a step's blocks of one framework."""
    spans = ", ".join(f"{b.first}" if b.first == b.last else f"{b.first}–{b.last}" for b in blocks)
    word = "line" if len(blocks) == 1 and blocks[0].first == blocks[0].last else "lines"
    return f"{PORTS[blocks[0].port]} · {port_path(blocks[0].port, page.script)}, {word} {spans}"


# --- arc and anchors ---------------------------------------------------------------------------

def arc_order(pages):
    """Lesson pages in the talk's order, then the others: index first, then by name."""
    lessons = sorted((p for p in pages if p.script), key=lambda p: (
        ARC.index(script_name(p.script)) if script_name(p.script) in ARC else len(ARC), p.name))
    others = sorted((p for p in pages if not p.script), key=lambda p: (p.name != "index", p.name))
    return lessons, others


def neighbours(page, lessons):
    if page not in lessons:
        return None, None
    i = lessons.index(page)
    return (lessons[i - 1] if i else None), (lessons[i + 1] if i + 1 < len(lessons) else None)


def slug(text):
    """A heading's anchor: lower case, spaces to -, other punctuation dropped (FORMAT.md)."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")
