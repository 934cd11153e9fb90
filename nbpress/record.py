"""A generated post's `nbpress:` record: what the build published with it, typed, read and written here.

The build writes it into the post's front matter (nbpress.rendering.render dumps `Record.data()`);
everything that asks what was published (the plan, `--check`, the report, the guard, the
writer, the drift check) reads it back through `read`/`parse`, and the site's templates read
its fields by these names (tests/test_layout.py holds them to the dataclass). A record read
back equals the one written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .filestate import Derived, text_of
from .yamlload import safe_load

# Written into a post's record, then replaced by the digest of the Markdown that holds it: the
# same length and YAML style, so the file can be checked against its own record.
DIGEST_PLACEHOLDER = "sha256:" + "0" * 64


@dataclass(frozen=True)
class Input:
    """A declared input file a reader downloads: its name as the post gives it, and its site URL."""

    name: str
    url: str


@dataclass(frozen=True)
class Figure:
    """The post's first figure, for its card and og:image: site path, alt (HTML text), pixel size."""

    src: str
    alt: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Record:
    """A post's `nbpress:` record, field for field in the order it is written."""

    source: str  # the source notebook, relative to the blog
    exec_key: str = ""
    render_key: str = ""
    executed_with: Mapping[str, object] | None = field(default=None, hash=False)  # cache.KeyParts
    # {BibTeX file: digest} for a post that cites (rendering.markup.bibliography_terms), so a
    # change to one is named; absent for the others.
    bibliography: Mapping[str, str] | None = field(default=None, hash=False)
    digest: str = ""  # DIGEST_PLACEHOLDER until seal()
    downloads: tuple[str, ...] = ()  # names in the post's assets/notebooks/ folder (layout.PostFiles)
    notebook: str = ""  # the executed notebook's site URL
    inputs: tuple[Input, ...] = ()
    figures: tuple[str, ...] = ()  # names in the post's figure folder: the files it owns there
    charts: tuple[str, ...] = ()  # chart libraries the page loads (overrides/partials/nbpress-charts.html)
    warnings: tuple[str, ...] = ()  # kept so that a build leaving the post unchanged reports them again
    figure: Figure | None = None

    def data(self) -> dict[str, object]:
        """Return the record as the YAML mapping it is written as: the one writer.

        Empty fields are left out, except `figures`: an empty list says the post owns no figure.
        """
        data: dict[str, object] = {"source": self.source}
        for name in ("exec_key", "render_key", "executed_with", "bibliography", "digest"):
            if value := getattr(self, name):
                data[name] = value
        if self.downloads:
            data["downloads"] = list(self.downloads)
        if self.notebook:
            data["notebook"] = self.notebook
        if self.inputs:
            data["inputs"] = [{"name": i.name, "url": i.url} for i in self.inputs]
        data["figures"] = list(self.figures)
        if self.charts:
            data["charts"] = list(self.charts)
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.figure is not None:
            figure: dict[str, object] = {"src": self.figure.src, "alt": self.figure.alt}
            if self.figure.width is not None and self.figure.height is not None:
                figure["width"], figure["height"] = self.figure.width, self.figure.height
            data["figure"] = figure
        return data


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _names(value: object) -> tuple[str, ...]:
    return tuple(str(n) for n in value) if isinstance(value, list) else ()


def _size(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_data(data: Mapping[str, object]) -> Record:
    """Return the Record of a mapping read back from YAML; a field of the wrong type reads as empty.

    A record may be old (written by an earlier nbpress) or edited by hand: nothing in it is trusted.
    """
    inputs = data.get("inputs")
    figure = data.get("figure")
    executed_with = data.get("executed_with")
    bibliography = data.get("bibliography")
    return Record(
        source=_text(data.get("source")),
        exec_key=_text(data.get("exec_key")),
        render_key=_text(data.get("render_key")),
        executed_with=executed_with if isinstance(executed_with, dict) else None,
        bibliography=(
            {str(k): str(v) for k, v in bibliography.items()} if isinstance(bibliography, dict) else None
        ),
        digest=_text(data.get("digest")),
        downloads=_names(data.get("downloads")),
        notebook=_text(data.get("notebook")),
        inputs=tuple(
            Input(_text(i.get("name")), _text(i.get("url")))
            for i in (inputs if isinstance(inputs, list) else [])
            if isinstance(i, dict)
        ),
        figures=_names(data.get("figures")),
        charts=_names(data.get("charts")),
        warnings=_names(data.get("warnings")),
        figure=(
            Figure(
                _text(figure.get("src")),
                _text(figure.get("alt")),
                _size(figure.get("width")),
                _size(figure.get("height")),
            )
            if isinstance(figure, dict)
            else None
        ),
    )


def _head(text: str) -> str | None:
    """Return the front matter block of a page's text, `---` lines included (None if it has none)."""
    end = text.find("\n---\n", 4) if text.startswith("---\n") else -1
    return text[: end + 5] if end >= 0 else None


def _front_matter(head: str | None) -> dict[str, object] | None:
    """Return the mapping of a front matter block (_head), None if there is none or it is not YAML."""
    if head is None:
        return None
    try:
        data = safe_load(head[4:-5])
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _record_of(data: dict[str, object] | None) -> Record | None:
    record = data.get("nbpress") if data is not None else None
    return from_data(record) if isinstance(record, dict) else None


def parse(text: str) -> Record | None:
    """Return the record of a generated post's Markdown text, or None if its front matter has none."""
    return _record_of(_front_matter(_head(text)))


@dataclass(frozen=True)
class _Read:
    """One generated page as read: its front matter's mapping and record."""

    data: dict[str, object] | None
    record: Record | None


def _parsed(text: bytes) -> _Read:
    try:
        head = _head(text_of(text))
    except UnicodeDecodeError:
        head = None
    data = _front_matter(head)
    return _Read(data, _record_of(data))


# Each generated page's front matter is parsed once per file state (nbpress.filestate):
# everything asking what was published (the plan, the writer, the orphans, the guard, the
# report, the series pages) asks `read` or `front_matter`, several times a build.
PAGES: Derived[_Read] = Derived()


def _read(markdown: Path) -> _Read | None:
    """Return the generated page `markdown` as read (None if it cannot be), parsed once per file state."""
    try:
        return PAGES.get(markdown, _parsed)
    except (OSError, ValueError):
        return None


def front_matter(markdown: Path) -> dict[str, object] | None:
    """Return the front matter of the generated page `markdown`, None if it has none or cannot be read."""
    found = _read(markdown)
    return found.data if found is not None else None


def read(markdown: Path) -> Record | None:
    """Return the record of the generated post `markdown`, or None if it has none or cannot be read."""
    found = _read(markdown)
    return found.record if found is not None else None


def generated(posts_dir: Path) -> list[tuple[Path, Record]]:
    """Return (Markdown path, record) of every generated post in `posts_dir`, by name.

    Markdown without a record is the author's own page, not listed.
    """
    if not posts_dir.is_dir():
        return []
    found = []
    for md in sorted(posts_dir.glob("*.md")):
        record = read(md)
        if record is not None:
            found.append((md, record))
    return found


def seal(markdown: str) -> str:
    """Return `markdown` with its record's digest placeholder replaced by the text's digest."""
    if DIGEST_PLACEHOLDER not in markdown:
        return markdown
    digest = hashlib.sha256(markdown.encode("utf-8")).hexdigest()
    return markdown.replace(DIGEST_PLACEHOLDER, f"sha256:{digest}", 1)


def edited(markdown: Path, record: Record | None) -> bool:
    """Return True if a generated post's Markdown is no longer what the build wrote (its digest).

    A post written before digests were recorded cannot tell, and counts as not edited.
    """
    digest = record.digest if record is not None else ""
    if not digest.startswith("sha256:"):
        return False
    try:
        text = markdown.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    unsealed = text.replace(digest, DIGEST_PLACEHOLDER, 1)
    return digest != "sha256:" + hashlib.sha256(unsealed.encode("utf-8")).hexdigest()
