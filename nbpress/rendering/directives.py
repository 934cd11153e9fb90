"""MyST directives, as Jupyter Book reads them, turned into the Markdown the site renders.

One reader for every directive: a block is a fence whose info is `{name}` (```` ```{note} ````,
`~~~{note}`, MyST's colon fence `:::{note}`) as markdown-it reads the cell (nbpress.rendering.mdtokens,
with colon fences), so a directive shown inside a code fence or an indented code block is code and
is never converted. Each block is read the same way (`parse`): its name, its argument (the rest of
the first line), its options (`:key: value` lines, or a `---` YAML block, either at the start of
the body) and its body; the directive's handler writes the Markdown it becomes, converting a
Markdown body the same way (nested directives, in any container: a list, a quote, a tab).

What each becomes (README "Coming from Jupyter Book or Quarto"):

- admonitions (`note`, `tip`, ..., `admonition` with `:class:`) and `dropdown`: Material admonitions,
  `???` when collapsible;
- `figure` (and `figure-md`): Quarto's `![caption](path){#name}` (markup.py numbers it), or an
  image and its caption;
  `image`: an image with its size; `math`: a `$$` block labelled `(label)`;
- `tab-set`/`tab-item` and `tabbed`: pymdownx.tabbed's `=== "Title"` tabs;
- `margin` and `sidebar`: an `<aside class="nbpress-aside">` whose body stays Markdown;
- `code-block`/`code`/`code-cell` shown: a fenced block (`:caption:` as its title, `:linenos:`,
  `:emphasize-lines:` as highlighted lines); `epigraph`/`pull-quote`/`highlights`: a quote;
  `list-table`: a Markdown table; `raw` html: the HTML; sphinx-design's `card` (and
  `grid-item-card`): a boxed block with its title; `grid`, `grid-item`, `div`: their content;
  `only` html: its body (any other output's: nothing); `button-ref`/`button-link`: a link;
- `toctree` and `contents`: left out, with a warning; `bibliography` and `glue:*`: left as written
  for the references and values steps;
- any other directive: its argument and body as Markdown, with a warning naming it.

MyST comments (a line starting with `%`, outside code and math) are left out.

A `:name:` on a directive other than a figure or an equation becomes a MyST target `(name)=`
before the block, read by the references step. Quarto's `::: {.callout-x}` blocks become
admonitions here too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import cell_place
from ..notebook import Key, Notebook
from . import mdtokens

if TYPE_CHECKING:
    from markdown_it.token import Token

# MyST admonition names -> Material's. Material has no "important" or "caution".
ADMONITIONS = {
    "note": "note",
    "tip": "tip",
    "hint": "tip",
    "important": "info",
    "seealso": "info",
    "warning": "warning",
    "caution": "warning",
    "attention": "warning",
    "danger": "danger",
    "error": "failure",
    "admonition": "note",
    "dropdown": "note",
    "topic": "abstract",
}
# The title MyST shows for an admonition whose Material kind reads otherwise.
_TITLES = {
    "hint": "Hint",
    "important": "Important",
    "seealso": "See also",
    "caution": "Caution",
    "attention": "Attention",
    "error": "Error",
}
# Directives left as written for a later step: the references step's bibliography marker, the
# values step's glue directives.
LEFT_FOR_LATER = ("bibliography",)
_LATER_PREFIX = "glue"
# Directives with no place in a post: left out, with a warning.
_LEFT_OUT = ("toctree", "contents", "tableofcontents")

_NAME = re.compile(r"^\{(?P<name>[A-Za-z][\w:.+-]*)\}(?P<arg>.*)$", re.S)
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_LABEL = re.compile(r"^[A-Za-z0-9_][\w:.+-]*$")


@dataclass
class Directive:
    """A MyST directive as written: `{name} argument`, its options and its body."""

    name: str
    argument: str
    options: dict[str, str]
    body: str


def parse(info: str, content: str) -> Directive | None:
    """Return the directive a fence's info and content hold, or None if the info names none.

    Options are read in both MyST syntaxes: `:key: value` lines, or a YAML block between `---`
    lines; either starts the body. A flag option (`:open:`) has the value "".
    """
    found = _NAME.match(info.strip())
    if found is None:
        return None
    lines = content.split("\n")
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
        if end is not None:
            options = _yaml_options("\n".join(lines[1:end]))
            lines = lines[end + 1 :]
    else:
        while lines and (option := _OPTION.match(lines[0])):
            options[option.group("key")] = _scalar(option.group("value") or "")
            lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return Directive(found.group("name"), found.group("arg").strip(), options, "\n".join(lines).rstrip())


def _scalar(value: str) -> str:
    """Return a `:key: value` option's value as MyST reads it: a quoted YAML string is unquoted.

    (`:name: "fig-boot"` names fig-boot, as in a `---` YAML block.) Anything else is as written.
    """
    if len(value) < 2 or value[0] not in "'\"" or value[-1] != value[0]:
        return value
    import yaml

    try:
        data = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return data if isinstance(data, str) else value


def _yaml_options(text: str) -> dict[str, str]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    values: dict[str, str] = {}
    for key, value in data.items():
        if value is None or value is True:
            values[str(key)] = ""
        elif value is not False:
            values[str(key)] = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return values


@dataclass
class _Context:
    """Where the directives are (for warnings) and the warnings found so far."""

    where: str
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        message = f"{self.where}: {text}"
        if message not in self.warnings:
            self.warnings.append(message)


def apply(nb: Notebook, rel: str) -> list[str]:
    """Turn the MyST directives and Quarto callouts of the visible Markdown cells into the site's Markdown.

    Returns a warning per unsupported or left-out directive, naming the file and the cell.
    """
    warnings: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or cell.metadata.get(Key.REMOVE):
            continue
        context = _Context(cell_place(rel, index + 1))
        cell.source = convert(cell.source, context)
        warnings += context.warnings
    return warnings


def markdown(source: str) -> str:
    """Return a Markdown cell as the site renders it, its directives converted (warnings dropped).

    For readers of the source (the local files a post shows) that must see inside directives.
    """
    return convert(source, _Context(""))


def convert(source: str, context: _Context) -> str:
    """Return Markdown with its MyST directives (outside code) and Quarto callouts converted."""
    if "{" in source:
        source = _myst(source, context)
    if "%" in source:
        source = _comments(source)
    if ":::" in source:
        source = _quarto_callouts(source, context)
    return source


def _myst(source: str, context: _Context) -> str:
    lines = source.split("\n")
    tokens = [
        t
        for t in mdtokens.read(source, myst=True).tokens
        if t.type == "fence" and t.map is not None and (_NAME.match(t.info.strip()) or _colon_code(t))
    ]
    for token in reversed(tokens):  # from the end, so the lines of those before stay where they are
        assert token.map is not None
        start, end = token.map
        directive = parse(token.info, token.content)
        if directive is None:
            written: str | None = _shown_code(token.info.strip(), token.content)
        else:
            written = _write(directive, context)
        if written is None:
            continue
        head = lines[start]
        prefix = head[: head.find(token.markup)]
        rest = _continuation(prefix)
        new = written.strip("\n").split("\n")
        block = [prefix + new[0], *[(rest + line) if line.strip() else rest.rstrip() for line in new[1:]]]
        before = [rest.rstrip()] if start > 0 and lines[start - 1].strip(" >") else []
        after = [rest.rstrip()] if end < len(lines) and lines[end].strip(" >") else []
        lines[start:end] = before + block + after
    return "\n".join(lines)


def _colon_code(token: Token) -> bool:
    """Return True for MyST's colon fence naming a language (`:::md`): a code block, as mystmd reads it."""
    return token.markup.startswith(":") and mdtokens.COLON_CODE.match(token.markup + token.info) is not None


def _shown_code(lang: str, content: str) -> str:
    """Return a backtick fence showing `content` as code of `lang`, longer than any fence inside it."""
    longest = max((len(run) for run in re.findall(r"^[ \t]*(`{3,})", content, re.M)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{lang}\n{content.rstrip(chr(10))}\n{fence}\n"


_COMMENT = re.compile(r"^[ \t]{0,3}%")


def _comments(source: str) -> str:
    """Return Markdown without its MyST comments: lines starting with `%` outside code, math and HTML."""
    lines = source.split("\n")
    kept = mdtokens.read(source).lines((mdtokens.CODE, mdtokens.DIRECTIVE, mdtokens.MATH, mdtokens.HTML))
    return "\n".join(line for n, line in enumerate(lines) if n in kept or not _COMMENT.match(line))


def _continuation(prefix: str) -> str:
    """Return the prefix of a block's next lines: a list item's marker becomes spaces, a quote's stays."""
    return re.sub(r"[-*+]|\d{1,9}[.)]", lambda m: " " * len(m.group(0)), prefix)


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line.strip() else "" for line in text.split("\n"))


def _target(directive: Directive) -> str:
    """Return a MyST target `(name)=` line for a directive's :name: (the references step reads it)."""
    name = directive.options.get("name", "").strip()
    return f"({name})=\n" if name and _LABEL.match(name) else ""


def _write(directive: Directive, context: _Context) -> str | None:
    """Return the Markdown a directive becomes, or None to leave it as written."""
    name = directive.name
    if name in LEFT_FOR_LATER or name.startswith(_LATER_PREFIX):
        return None
    if name in _LEFT_OUT:
        context.warn(f"the MyST directive {{{name}}} has no place in a blog post, so it is left out")
        return ""
    writer = _WRITERS.get(name)
    if writer is None and name in ADMONITIONS:
        writer = _admonition
    if writer is None:
        context.warn(
            f"the MyST directive {{{name}}} is not supported here, so its content is shown as plain text"
        )
        writer = _unknown
    return writer(directive, context)


# -- the writers ---------------------------------------------------------------------------------


def _callout_head(kind: str, title: str, collapse: str) -> str:
    marker = {"": "!!!", "closed": "???", "open": "???+"}[collapse]
    title = " ".join(title.split()).replace('"', "&quot;")
    return f'{marker} {kind} "{title}"' if title else f"{marker} {kind}"


def _admonition(d: Directive, context: _Context) -> str:
    """An admonition: a note's argument starts its body; {admonition}'s and {dropdown}'s is the title."""
    titled = d.name in ("admonition", "dropdown", "topic")
    title = d.argument if titled else _TITLES.get(d.name, "")
    body = d.body if titled or not d.argument else f"{d.argument}\n{d.body}"
    classes = d.options.get("class", "").split()
    collapse = "closed" if d.name == "dropdown" or "dropdown" in classes else ""
    if collapse and "open" in d.options:
        collapse = "open"
    kind = ADMONITIONS[d.name]
    if d.name == "admonition":
        kind = next((ADMONITIONS[c] for c in classes if c in ADMONITIONS and c != "dropdown"), "note")
    return f"{_target(d)}{_callout_head(kind, title, collapse)}\n\n{_indent(convert(body, context))}\n"


def _attributes(d: Directive, keys: tuple[str, ...]) -> str:
    """Return attr_list attributes (`width="60%"`) of a figure's or image's size options."""
    parts = []
    for key in keys:
        value = d.options.get(key, "").strip()
        if value and re.fullmatch(r"[\w.%-]+", value):
            parts.append(f'{key}="{value}"')
    return " ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("]", ")").replace("[", "(")


def _figure(d: Directive, context: _Context) -> str:
    """A figure: named, Quarto's `![caption](path){#name}` that markup numbers; else image and caption."""
    paragraphs = re.split(r"\n[ \t]*\n", d.body.strip(), maxsplit=1) if d.body.strip() else []
    caption = _one_line(paragraphs[0]) if paragraphs else ""
    legend = convert(paragraphs[1], context) if len(paragraphs) > 1 else ""
    attrs = _attributes(d, ("width", "height"))
    alt = d.options.get("alt", "")
    if alt:
        attrs += f' alt="{html.escape(" ".join(alt.split()))}"'
    name = d.options.get("name", "").strip()
    if name and re.fullmatch(r"[\w-]+", name):
        figure = f"![{caption}]({d.argument}){{#{name} .myst-figure{' ' + attrs.strip() if attrs else ''}}}"
    else:
        image = f"![{_one_line(alt) or caption}]({d.argument})" + (f"{{{attrs.strip()}}}" if attrs else "")
        figure = _target(d) + image + (f"\n\n{caption}" if caption else "")
    return figure + (f"\n\n{legend}" if legend else "") + "\n"


_IMG = re.compile(r"^\s*<img\b(?P<attrs>[^>]*)/?>\s*(?:\n|$)", re.I)
_IMG_ATTR = re.compile(r"""\b(src|alt|width|height)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_MD_IMAGE = re.compile(r"^\s*!\[(?P<alt>[^\]\n]*)\]\((?P<src>[^)\s]+)\)\s*(?:\n|$)")


def _figure_md(d: Directive, context: _Context) -> str:
    """MyST's Markdown figure (`{figure-md} name`, an image then its caption): read as a {figure}."""
    html_image, md_image = _IMG.match(d.body), _MD_IMAGE.match(d.body)
    if html_image:
        attrs = {k.lower(): a or b for k, a, b in _IMG_ATTR.findall(html_image.group("attrs"))}
        source, caption = attrs.pop("src", ""), d.body[html_image.end() :]
    elif md_image:
        attrs = {"alt": md_image.group("alt")}
        source, caption = md_image.group("src"), d.body[md_image.end() :]
    else:
        return _unknown(d, context)
    options = {k: v for k, v in {**d.options, **attrs}.items() if v}
    if d.argument:
        options["name"] = d.argument.split()[0]
    return _figure(Directive("figure", source, options, caption.strip()), context)


def _image(d: Directive, context: _Context) -> str:
    attrs = _attributes(d, ("width", "height"))
    image = f"![{_one_line(d.options.get('alt', ''))}]({d.argument})" + (f"{{{attrs}}}" if attrs else "")
    target = d.options.get("target", "").strip()
    return _target(d) + (f"[{image}]({target})" if target else image) + "\n"


def _math(d: Directive, context: _Context) -> str:
    label = (d.options.get("label") or d.options.get("name") or "").strip()
    body = "\n".join(part for part in (d.argument, d.body.strip()) if part)
    if label and re.fullmatch(r"[A-Za-z][\w-]*", label):
        return f"$$\n{body}\n$$ ({label})\n"
    return f"$$\n{body}\n$$\n"


def _tab_set(d: Directive, context: _Context) -> str:
    """A tab set: its tab items, the first starting a new set of tabs (`===!`)."""
    body = convert(d.body, context)
    return _target(d) + re.sub(r"^===(\+?) ", r"===!\1 ", body, count=1, flags=re.M) + "\n"


def _tab_item(d: Directive, context: _Context) -> str:
    marker = "===" + ("!" if "new-group" in d.options else "") + ("+" if "selected" in d.options else "")
    title = " ".join(d.argument.split()).replace('"', "&quot;") or "Tab"
    return f'{_target(d)}{marker} "{title}"\n\n{_indent(convert(d.body, context))}\n'


def _aside(d: Directive, context: _Context) -> str:
    """A margin note or sidebar: an aside beside the text on a wide screen, a box in the flow on a phone."""
    title = " ".join(d.argument.split())
    head = f'<p class="nbpress-aside-title" markdown="span">{title}</p>\n\n' if title else ""
    return (
        f'{_target(d)}<aside class="nbpress-aside nbpress-{d.name}" markdown="1">\n\n'
        f"{head}{convert(d.body, context)}\n\n</aside>\n"
    )


def _code(d: Directive, context: _Context) -> str:
    """Code shown: a fence; :caption: its title, :linenos: line numbers, :emphasize-lines: highlighted."""
    language = d.argument.split()[0] if d.argument else ""
    options = []
    if d.options.get("caption"):
        options.append(f'title="{" ".join(d.options["caption"].split()).replace(chr(34), "")}"')
    start = d.options.get("lineno-start", "").strip()
    if "linenos" in d.options or "number-lines" in d.options or start:
        options.append(f'linenums="{start if start.isdigit() else "1"}"')
    lines = re.findall(r"\d+(?:-\d+)?", d.options.get("emphasize-lines", ""))
    if lines:
        options.append(f'hl_lines="{" ".join(lines)}"')
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`{3,}", d.body))])
    info = " ".join([language or "text", *options]) if options else language
    return f"{_target(d)}{fence}{info}\n{d.body}\n{fence}\n"


def _quote(d: Directive, context: _Context) -> str:
    body = convert("\n".join(part for part in (d.argument, d.body) if part), context)
    return _target(d) + "\n".join(f"> {line}" if line.strip() else ">" for line in body.split("\n")) + "\n"


def _list_table(d: Directive, context: _Context) -> str:
    """A list table: a Markdown table (the first :header-rows: row its head, else an empty head)."""
    rows = _list_rows(d.body)
    if not rows:
        return _unknown(d, context)
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    header = rows.pop(0) if d.options.get("header-rows", "0").strip() not in ("", "0") else [""] * width
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    caption = f"**{d.argument}**\n\n" if d.argument else ""
    return _target(d) + caption + "\n".join(lines) + "\n"


def _list_rows(body: str) -> list[list[str]]:
    """Return the cells of a list table's body: a list of rows, each a list of cells."""
    tokens = mdtokens.read(body).tokens
    lines = body.split("\n")
    rows: list[list[str]] = []
    depth = 0
    for token in tokens:
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
        elif token.type == "list_item_open" and depth == 1:
            rows.append([])
        elif token.type == "list_item_open" and depth == 2 and rows and token.map:
            text = "\n".join(lines[token.map[0] : token.map[1]]).strip()
            text = re.sub(r"^(?:[-*+][ \t]+)+", "", text)
            if re.match(r"^[-*+][ \t]*$", text):
                text = ""
            rows[-1].append(" ".join(text.split()).replace("|", "\\|"))
    return [row for row in rows if row]


def _card(d: Directive, context: _Context) -> str:
    """A sphinx-design card: a box with its title (a link with :link:), its header and footer in the flow."""
    title = " ".join(d.argument.split())
    link = d.options.get("link", "").strip()
    if title and link and not link.startswith(("javascript:", "data:", "vbscript:")) and " " not in link:
        title = f"[{title}]({link})"
    head = f'<p class="nbpress-card-title" markdown="span">{title}</p>\n\n' if title else ""
    body = re.sub(r"(?m)^[ \t]*(?:\^\^\^|\+\+\+)[ \t]*$", "", d.body)  # header and footer marks
    return (
        f'{_target(d)}<div class="nbpress-card" markdown="1">\n\n{head}{convert(body, context)}\n\n</div>\n'
    )


def _raw(d: Directive, context: _Context) -> str:
    if d.argument.strip().lower() == "html":
        return d.body + "\n"
    context.warn(f"the MyST directive {{raw}} {d.argument} is for another output, so it is left out")
    return ""


def _container(d: Directive, context: _Context) -> str:
    return _target(d) + convert(d.body, context) + "\n"


def _only(d: Directive, context: _Context) -> str:
    """Sphinx's `{only} html`: its body when the expression names html (a web page), else nothing."""
    words = set(re.findall(r"[\w-]+", d.argument))
    if "html" in words and "not" not in words:
        return _target(d) + convert(d.body, context) + "\n"
    return ""


def _button(d: Directive, context: _Context) -> str:
    """sphinx-design's `{button-ref} target` / `{button-link} url`: a link whose text is the body.

    A `button-ref` names a label or a page as MyST's `[text](target)` does, which the references
    step resolves (or warns about); a `button-link` is an address, checked by the links step.
    """
    target = d.argument.split()[0] if d.argument.split() else ""
    text = " ".join(d.body.split()) or target
    if not target or target.lower().startswith(("javascript:", "data:", "vbscript:")):
        return _target(d) + convert(d.body, context) + "\n"
    return f"{_target(d)}[{text}]({target})\n"


def _unknown(d: Directive, context: _Context) -> str:
    title = f"**{' '.join(d.argument.split())}**\n\n" if d.argument else ""
    return _target(d) + title + convert(d.body, context) + "\n"


_WRITERS: dict[str, Callable[[Directive, _Context], str]] = {
    "figure": _figure,
    "figure-md": _figure_md,
    "image": _image,
    "math": _math,
    "tab-set": _tab_set,
    "tab-item": _tab_item,
    "tabbed": _tab_item,
    "margin": _aside,
    "sidebar": _aside,
    "code-block": _code,
    "code": _code,
    "sourcecode": _code,
    "code-cell": _code,
    "epigraph": _quote,
    "pull-quote": _quote,
    "highlights": _quote,
    "list-table": _list_table,
    "raw": _raw,
    "only": _only,
    "button-ref": _button,
    "button-link": _button,
    "card": _card,
    "grid-item-card": _card,
    "grid": _container,
    "grid-item": _container,
    "div": _container,
    "container": _container,
}


# -- Quarto callouts -------------------------------------------------------------------------------

# Pandoc's div: `::: {.callout-x ...}`, or its one-class short form `::: callout-x`.
_OPEN_QUARTO = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>:{3,})[ \t]*"
    r"(?:\{(?P<attrs>[^}]*\.callout-[^}]*)\}|(?P<bare>callout-[\w-]+)[ \t]*:*)[ \t]*$"
)
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")


def _quarto_callouts(source: str, context: _Context) -> str:
    """Return Markdown with Quarto's `::: {.callout-x}` blocks (outside code) as Material admonitions.

    Every other Pandoc div is its content: `panel-tabset` as tabs (one per heading), any other
    (a layout, a `{#fig-x}` or plain `{}` block) without its fences, its `#id` a target, with a
    warning naming it: its `:::` lines never show on the page.
    """
    lines = source.split("\n")
    code = mdtokens.read(source).lines((mdtokens.CODE, mdtokens.DIRECTIVE))
    out: list[str] = []
    i = 0
    while i < len(lines):
        quarto = None if i in code else _OPEN_QUARTO.match(lines[i])
        div = None if quarto is not None or i in code else _OPEN_DIV.match(lines[i])
        if div is not None and (div.group("attrs") or "").strip() == "#refs":
            div = None  # Pandoc's place for the bibliography: the references step's (markup's marker)
        if div is not None:
            end = _closing(lines, i + 1, div.group("fence"), code)
            if end < len(lines):
                out += _pandoc_div(div, lines[i + 1 : end], context)
                i = end + 1
                continue
        if quarto is None:
            out.append(lines[i])
            i += 1
            continue
        attrs_text = quarto.group("attrs") or "." + quarto.group("bare")
        kind_match = re.search(r"\.callout-([\w-]+)", attrs_text)
        name = kind_match.group(1) if kind_match else "note"
        attrs = {k: a or b or c for k, a, b, c in _ATTR.findall(attrs_text)}
        end = _closing(lines, i + 1, quarto.group("fence"), code)
        body = lines[i + 1 : end]
        title = attrs.get("title", "")
        while body and not body[0].strip():
            body.pop(0)
        if not title and body and re.match(r"^#{1,6}\s", body[0].strip()):
            title = body.pop(0).strip().lstrip("#").strip()
        collapse = {"true": "closed", "false": "open"}.get(attrs.get("collapse", "").lower(), "")
        kind = ADMONITIONS.get(name, "note")
        indent = quarto.group("indent")
        inner = _quarto_callouts(
            "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in body), context
        )
        text = inner.strip("\n").split("\n")
        out += [indent + _callout_head(kind, title, collapse), ""]
        out += [(indent + "    " + line) if line.strip() else "" for line in text] + [""]
        i = end + 1
    return "\n".join(out)


# Any other Pandoc div: `::: {attributes}` or `::: one-class` (a MyST `:::{name}` is no div).
_OPEN_DIV = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>:{3,})"
    r"(?:[ \t]*\{(?P<attrs>[ \t]*(?:[.#][^}]*|[\w-]+[ \t]*=[^}]*)?)\}|[ \t]+(?P<bare>[A-Za-z][\w-]*))"
    r"[ \t]*:*[ \t]*$"
)
_FIGURE_IMAGE = re.compile(r"^!\[[^\]\n]*\]\((?P<src>[^)\s]+)\)$")


def _pandoc_div(div: re.Match[str], body: list[str], context: _Context) -> list[str]:
    """Return a Pandoc div's lines as the site shows them (see _quarto_callouts)."""
    indent = div.group("indent")
    attrs = div.group("attrs") if div.group("attrs") is not None else "." + div.group("bare")
    inner = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in body)
    inner = _quarto_callouts(inner, context)
    classes = re.findall(r"(?<![\w-])\.([\w-]+)", attrs)
    if "panel-tabset" in classes:
        return [indent + line if line else "" for line in _tabset(inner).split("\n")]
    named = re.search(r"(?<![\w-])#([A-Za-z][\w:.-]*)", attrs)
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", inner.strip()) if p.strip()]
    image = _FIGURE_IMAGE.match(paragraphs[0]) if len(paragraphs) == 2 else None
    if named and named.group(1).startswith("fig-") and image:
        # Quarto's figure div (an image, then its caption): the figure markup numbers.
        caption = _one_line(paragraphs[1])
        return ["", f"{indent}![{caption}]({image.group('src')}){{#{named.group(1)}}}", ""]
    target = [f"{indent}({named.group(1)})=", ""] if named else []
    if attrs.strip():
        shown = " ".join(attrs.split())
        context.warn(
            f"the Pandoc block ::: {{{shown}}} is not supported here, so its content is shown as plain text"
        )
    return ["", *target, *(indent + line if line else "" for line in inner.strip("\n").split("\n")), ""]


def _tabset(body: str) -> str:
    """Return a Quarto `panel-tabset`'s body as tabs: each heading of its highest level starts one."""
    code = mdtokens.read(body).lines((mdtokens.CODE, mdtokens.DIRECTIVE))
    lines = body.split("\n")
    heads = [
        (n, len(m.group(1)), m.group(2))
        for n, line in enumerate(lines)
        if n not in code and (m := re.match(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$", line))
    ]
    if not heads:
        return body
    level = min(h[1] for h in heads)
    starts = [(n, title) for n, depth, title in heads if depth == level]
    out = lines[: starts[0][0]]
    for index, (n, title) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        marker = "===!" if index == 0 else "==="
        title = " ".join(title.split()).replace('"', "&quot;") or "Tab"
        out += [f'{marker} "{title}"', "", _indent("\n".join(lines[n + 1 : end]).strip("\n")), ""]
    return "\n".join(out)


def _closing(lines: list[str], start: int, fence: str, code: set[int]) -> int:
    """Return the index of the line closing a Pandoc div's `fence`, or len(lines).

    A line of three colons or more closes the innermost open block, whatever its length (Pandoc's
    rule); a colon fence with attributes (`::: {.x}`) or one class (`::: x`) opens a nested
    block. Lines of code are not read.
    """
    depth = 0
    for j in range(start, len(lines)):
        if j in code:
            continue
        stripped = lines[j].strip()
        if re.match(r"^:{3,}[ \t]*(?:\{|[A-Za-z])", stripped):  # a div opens: {attributes} or one class
            depth += 1
        elif len(stripped) >= 3 and stripped.rstrip(":") == "":  # any length closes the innermost
            if depth == 0:
                return j
            depth -= 1
    return len(lines)


# A glued figure: MyST-NB's {glue:figure} name, its options and caption (values renders it).
_GLUE_FIGURE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{glue:figure\}[ \t]*(?P<arg>[^\n]*?)[ \t]*\n"
    r"(?P<body>(?:.*?\n)??)(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)


def source_figures(source: str) -> str:
    """Return a Markdown cell with each {glue:figure} (outside code) as the {figure} the values step
    renders it to (nbpress.rendering.values).

    For the label index read from sources (markup.source_labels), where no value exists yet: the
    figure's :name: is a label other posts may reference, numbered as the render numbers it.
    """
    if "{glue:figure}" not in source:
        return source
    reading = mdtokens.read(source)

    def block(match: re.Match[str]) -> str:
        if not reading.outside(match.start(), match.end()):
            return match.group(0)
        head = f"{match.group('indent')}{match.group('fence')}{{figure}} {match.group('arg').strip()}\n"
        return head + match.group("body") + match.group("indent") + match.group("fence")

    return _GLUE_FIGURE.sub(block, source)
