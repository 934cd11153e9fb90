"""Links and images in Markdown cells, and raw cells: what a course of notebooks needs to publish whole.

The links step of the chain (transform.py), on the Markdown cells of a notebook being rendered:

- a link to another notebook that is a post (`other.ipynb`, `./2024-01-02-other.ipynb#Some-Heading`,
  any suffix, any date prefix) becomes a link to that post's Markdown file
  (`<slug>.md#some-heading`, beside this post's), which MkDocs checks and rewrites to the
  post's page;
- a Jupyter-style heading anchor (`#Some-Heading`: spaces to hyphens, case kept) becomes the
  id Python-Markdown's toc gives that heading (its default `slugify`, which mkdocs.yml keeps);
- a local file a cell shows or links (`![](img/x.png)`, `<img src="figures/x.png">`,
  `[data](data.csv)`), relative to the notebook, is published beside the post's figures and
  linked there; one that is missing or not the blog's own (nbpress.layout.owned_file: a
  regular file inside posts/, outside hidden folders) is an error naming the file and the cell;
- a link without a suffix (`other-page`, `../chapter/other-page`: a Jupyter Book's page) becomes
  the link to the post of that file slug;
- a link to a notebook that is not a post keeps its text, loses its link, and gives a warning.

Every link is decided here, before MkDocs sees it, against what MkDocs will see (`Page`: the
ids of each post's page as Python-Markdown's toc gives them, the first heading that became
the title, whether it is a draft): what is kept, `mkdocs build --strict` accepts. A link that
cannot be resolved (an anchor no heading has, a draft, a post with no page after this build,
a root-absolute path that names no file of the site) gets the one policy of everything
unresolved (nbpress.rendering.unresolved): a warning naming file, cell and target, and its
text published plain. Another post's page holds the anchors its markup step will place
(its targets, figures, tables and equations: markup.source_labels).

Outputs (a Markdown output rendered, an HTML output) go through the same resolution: their
local images and links are published and linked relative to the post's Markdown, marked './'
(Zensical resolves raw HTML's URLs itself; hooks/reader.py does it for MkDocs, which rewrites
nothing in HTML), or left out with a warning. An output is not the author's writing, so an SVG
it shows or links is sanitized and a web page or script it links is not published.

Raw cells: Markdown and HTML formats are published, sanitized as outputs are (Markdown rendered,
then cleaned as HTML) unless the post opts in to raw HTML; other formats (reST, LaTeX, none)
are left out with a warning.

Markdown is parsed with the site's markdown-it-py parser (nbpress.rendering.mdtokens) and HTML
with the standard library's HTMLParser: code and math are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import html as html_lib
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote, urlsplit

from ..errors import NbpressError, cell_place
from ..layout import SITE, Layout, owned_file, read_owned
from ..notebook import Key, Notebook, outputs_of
from ..sources import SOURCE_SUFFIXES, Post
from . import directives
from .figures import MEDIA_ELEMENTS, PLACEHOLDER_SVG, local_name, media_too_large, too_large_file, unreadable
from .sanitize import drop_remote, loads_from_site, remote_problem
from .shown import mark_title_heading, source_copy
from .unresolved import unresolved

MEDIA_FILE = "sound or video file"  # what a warning calls a clip an output names

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_NOTEBOOK_SUFFIXES = SOURCE_SUFFIXES  # every file a post is read from
# Raw cell formats (Jupyter's raw_mimetype) the post shows; any other is left out.
_RAW_SHOWN = {"text/markdown": "markdown", "text/x-markdown": "markdown", "text/html": "html"}


def toc_id(text: str) -> str:
    """Return the id Python-Markdown's toc extension (MkDocs' default) gives a heading `text`."""
    from markdown.extensions.toc import slugify

    return str(slugify(text, "-"))


def jupyter_anchor_id(anchor: str) -> str:
    """Return the site's heading id for a Jupyter-style anchor (`Further-Resources`, case kept)."""
    return toc_id(unquote(anchor).replace("-", " "))


@dataclass
class _Cell:
    """What resolve_links learns about one cell while rewriting it."""

    index: int
    path: str  # the post's source, relative to the blog
    warnings: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """Return "posts/x.ipynb, cell N" (N counting every cell from 1), as warnings name it."""
        return cell_place(self.path, self.index + 1)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "#", "?"))


def _markdown_parser() -> MarkdownIt:
    from .mdtokens import parser

    return parser()


class _Tags(HTMLParser):
    """Collects the start tags of an HTML fragment: (tag, attributes, exact source text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A browser takes the first of repeated attributes.
        self.tags.append((tag, dict(reversed(attrs)), self.get_starttag_text() or ""))

    handle_startendtag = handle_starttag


def _html_tags(html: str) -> list[tuple[str, dict[str, str | None], str]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def explicit_ids(sources: list[str]) -> set[str]:
    """Return the ids and names that HTML anchors in Markdown sources set (`<a id="x">`)."""
    found: set[str] = set()
    for source in sources:
        for _tag, attrs, _text in _html_tags(source):
            for key in ("id", "name"):
                value = attrs.get(key)
                if value:
                    found.add(value)
    return found


# Types a browser opens as a document that may run script: an output may not publish such a file.
_RUNS_SCRIPT = {
    "text/html",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}
_ATTR_LIST = re.compile(r"\s*\{:?([^}]*)\}\s*$")


def heading_ids(sources: list[str], taken: set[str] | None = None) -> set[str]:
    """Return the toc ids of the headings in Markdown sources, as Python-Markdown's toc gives them.

    In page order, a repeated id gets toc's `_1`, `_2` (ids in `taken`, set explicitly, count
    as used); a heading's attr_list (`{#id}`, `{: .nbpress-h5 }`) is not part of its text.
    """
    from markdown.extensions.toc import unique

    md = _markdown_parser()
    used = set(taken or ())
    ids: set[str] = set()
    for source in sources:
        tokens = md.parse(source)
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and i + 1 < len(tokens):
                inline = tokens[i + 1]
                text = "".join(
                    c.content
                    for c in inline.children or []
                    if c.type in ("text", "code_inline", "math_inline")
                )
                attrs = _ATTR_LIST.search(text)
                own = re.search(r"#([\w-]+)", attrs.group(1)) if attrs else None
                if own is not None:
                    ids.add(own.group(1))
                    continue
                text = text[: attrs.start()] if attrs else text
                ids.add(unique(toc_id(html_lib.unescape(text)), used))
    return ids


@dataclass(frozen=True)
class Page:
    """What MkDocs will see of a post's page: the ids an #anchor may name on it."""

    ids: frozenset[str]
    title: str | None = None  # the id its first heading had before it became the page's title
    draft: bool = False  # left out of `mkdocs build`
    url: str = ""  # its URL slug: the page is posts/<url>/

    def anchor(self, fragment: str) -> str | None:
        """Return the id `fragment` names (as written, or Jupyter's form), "" for the title, else None."""
        if fragment in self.ids:
            return fragment
        mapped = jupyter_anchor_id(fragment)
        if mapped in self.ids:
            return mapped
        return "" if self.title is not None and self.title in (fragment, mapped) else None

    def term(self) -> list[str]:
        """Return what decides how links to this page render (for nbpress.rendering.key's render key)."""
        return [*sorted(self.ids), f"title:{self.title}", f"draft:{self.draft}", f"url:{self.url}"]


def page_of(nb: Notebook, title: str, draft: bool = False, url: str = "") -> Page:
    """Return the Page of a notebook whose hidden cells are marked (Key.REMOVE) as the template skips them."""
    shown = [c.source for c in nb.cells if c.cell_type == "markdown" and not c.metadata.get(Key.REMOVE)]
    html = [  # MkDocs counts the ids of the HTML the page holds too (an output's)
        str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells
        if c.cell_type == "code" and not c.metadata.get(Key.REMOVE)
        for o in outputs_of(c)
    ]
    ids = explicit_ids([*shown, *html]) | _metadata_ids(nb) | set(re.findall(r"\{#([\w-]+)", "".join(shown)))
    ids |= heading_ids(shown, ids)
    titled = any(c.metadata.get(Key.TITLE) for c in nb.cells)
    return Page(frozenset(ids), toc_id(title) if titled else None, draft, url)


def post_page(post: Post) -> Page:
    """Return the Page another post will have: its Markdown cells as the transform chain shows them.

    Hidden as its own hide and title_heading steps hide them (nbpress.rendering.shown), on a
    copy without outputs; its labels placed as its markup step places them (the anchors of its
    targets, figures, tables and equations: nbpress.rendering.markup.source_labels).
    """
    from .markup import source_labels

    nb = source_copy(post)
    labels = source_labels(nb, post)
    mark_title_heading(nb, post.front_matter.title)
    page = page_of(nb, post.front_matter.title, post.front_matter.draft, post.url_slug)
    anchors = {t.anchor for t in labels.values() if t.anchor}
    return Page(page.ids | anchors, page.title, page.draft, page.url)


def suffixless(posts_dir: Path, name: str) -> bool:
    """Return True if a local link `name` is a page named without its suffix, as Jupyter Book links.

    It has no suffix, names no file or folder, and stays inside the blog (posts/ and the folders
    beside it, where a book's chapters were): a path leading out of the blog is a file, which
    the ownership rule refuses in one line (nbpress.layout.owned_file).
    """
    if not name or Path(name).suffix or (posts_dir / name).exists():
        return False
    return (posts_dir / name).resolve().is_relative_to(posts_dir.parent.resolve())


class PostPlace(Protocol):
    """Where a post is: all a Linker needs of a Post."""

    @property
    def path(self) -> Path: ...
    @property
    def file_slug(self) -> str: ...
    @property
    def rel_path(self) -> str: ...


class Linker:
    """Rewrites the links and images of one post's Markdown cells; gathers files and warnings."""

    def __init__(
        self, post: PostPlace, image_base: str, draft: bool = False, gone: frozenset[str] = frozenset()
    ) -> None:
        self.post = post
        self.draft = draft  # a draft may link to drafts: both are left out of the built site
        self.gone = gone  # posts with no page after this build: they failed
        self.posts_dir: Path = post.path.parent
        self.root: Path = self.posts_dir.parent
        # Relative to the post's Markdown file (site_src/posts/<slug>.md, layout.PostFiles.figure_url), so
        # MkDocs checks and rewrites the link both in the post and in its excerpt on the index.
        self.image_base = image_base
        # As an output's HTML holds it (_from_page): relative to the Markdown, marked './'.
        self.page_base = "./" + image_base
        self.files: dict[str, bytes] = {}
        self.names: dict[Path, str] = {}
        self.warnings: list[str] = []
        self._sources: dict[str, Path] | None = None
        self._pages: dict[str, Page | None] = {}
        self.page = Page(frozenset())  # this post's own page, set before its cells are rewritten
        self.made: set[str] = set()  # links the HTML block being rewritten now holds, made from <a>

    # -- what a link points at -------------------------------------------------------------

    def _post_sources(self) -> dict[str, Path]:
        """Return {slug: source path} of the posts beside this one (read once, when needed)."""
        if self._sources is None:
            from ..sources import discover, name_slug

            self._sources = {name_slug(p): p for p in discover(self.posts_dir)}
        return self._sources

    def post_target(self, path: str) -> str | None:
        """Return the slug of the post a relative link `path` names, or None if it is no post."""
        from ..sources import name_slug

        if self._suffixless(path):
            # A Jupyter Book's link to a page without its suffix, from any folder: the post of that name.
            from .markup import doc_slug

            slug = doc_slug(unquote(path))
            return slug if slug in self._post_sources() else None
        target = (self.post.path.parent / unquote(path)).resolve()
        if target.suffix not in _NOTEBOOK_SUFFIXES or target.parent != self.posts_dir.resolve():
            return None
        slug = name_slug(target)
        found = self._post_sources().get(slug)
        if found is None:
            return None
        # A .md or .py link must name the very file; a notebook link matches any suffix and date.
        if target.suffix != ".ipynb" and found.resolve() != target:
            return None
        return slug

    def _suffixless(self, path: str) -> bool:
        """Return True if `path` has no suffix and names no file or folder: a page, as Jupyter Book links."""
        return suffixless(self.posts_dir, unquote(path))

    def page_for(self, slug: str) -> Page | None:
        """Return the Page the post `slug` will have (this post's own included); None if it cannot be read."""
        if slug == self.post.file_slug:
            return self.page
        if slug in self.gone or slug not in self._post_sources():
            return None
        if slug not in self._pages:
            from ..sources import read_post

            try:
                self._pages[slug] = post_page(read_post(self._post_sources()[slug], self.root))
            except NbpressError:
                self._pages[slug] = None  # the post fails on its own, naming its problem
        return self._pages[slug]

    def _post_link(self, slug: str, written: str, fragment: str, cell: _Cell) -> str | None:
        """Return the link to the post `slug` (#`fragment` on it), or None with a warning if none holds."""
        page = self.page_for(slug)
        anchor = page.anchor(fragment) if page is not None and fragment else ""
        if page is None:
            problem = "names a post that has no page after this build (its own error says why)"
        elif page.draft and not self.draft:
            problem = "names a draft, which the built site leaves out"
        elif anchor is None:
            problem = f"names no heading or anchor of {'this' if page is self.page else 'that'} post"
        else:
            problem = ""
        if problem:
            cell.warnings.append(
                unresolved(cell.where, f"the link to {written!r}", problem, "fix the link or its target")
            )
            return None
        suffix = f"#{anchor}" if anchor else ""
        if slug == self.post.file_slug:
            return suffix or "#"
        return Layout(self.root).post(slug).markdown_link + suffix

    def _site_file(self, url: str, cell: _Cell) -> str | None:
        """Return a root-absolute `url` if it names a file of the site (as MkDocs reads it), else None."""
        parts = urlsplit(url)
        name = unquote(parts.path).lstrip("/")
        docs = (self.root / SITE).resolve()
        target = (docs / name).resolve()
        hidden = any(part.startswith(".") for part in Path(name).parts)
        if name and not parts.fragment and not hidden and target.is_relative_to(docs) and target.is_file():
            return url
        cell.warnings.append(
            unresolved(
                cell.where,
                f"the link to {url!r}",
                "is root-absolute and names no file of the site",
                "link to a post or file relative to the notebook",
            )
        )
        return None

    def _local_file(self, path: str, cell: _Cell, what: str) -> str:
        """Return the published URL of a local file a cell shows or links.

        The file must be the blog's own (nbpress.layout.owned_file: a regular file inside
        posts/, outside hidden folders); anything else fails the post, naming the cell.
        """
        rel = unquote(path)
        try:
            target = owned_file(self.posts_dir, rel, f"the {what}")
            known = self.names.get(target)
            if known is not None:
                return f"{self.image_base}{quote(known)}"
            if what == "image":  # read only if it may be published
                why = too_large_file(target)
            elif what == MEDIA_FILE:
                why = media_too_large(target.stat().st_size)
                if why is not None:
                    raise NbpressError(f"the {what} {path!r} {why}; show a shorter or smaller one")
            else:
                why = None
            data = read_owned(self.posts_dir, rel, f"the {what}")[1] if why is None else b""
        except NbpressError as err:
            if err.cell is None:
                err.cell = cell.index + 1
            raise err.at(cell.path) from None
        name = local_name(target.relative_to(self.posts_dir.resolve()).parts, self.files)
        broken = unreadable(data, target.name) if what == "image" and why is None else None
        if why is not None or broken is not None:
            advice = "show a smaller copy of it" if why is not None else "replace it with the image itself"
            cell.warnings.append(
                f"{cell.where}: the image {path!r} {why or broken}, so a placeholder is shown "
                f"instead; {advice}"
            )
            name, data = f"{name}-left-out.svg", PLACEHOLDER_SVG
        self.names[target] = name
        self.files[name] = data
        return f"{self.image_base}{quote(name)}"

    def url(self, url: str, cell: _Cell, image: bool) -> str | None:
        """Return the URL to publish for `url`, the same `url` to keep it, or None to unlink it."""
        if url in self.made:
            return url  # a link this Linker wrote (an HTML block's <a>, read again as Markdown)
        if url.startswith("#"):
            return self._post_link(self.post.file_slug, url, url[1:], cell) if len(url) > 1 else url
        if self.image_base and url.startswith(self.image_base):
            return url  # published already (an earlier step's link)
        if url.startswith("/") and not url.startswith("//"):
            return self._site_file(url, cell)
        if not _is_local(url):
            return url  # not a local file
        parts = urlsplit(url)
        if not parts.path:
            return url
        suffix = Path(unquote(parts.path)).suffix
        if not image and self._suffixless(parts.path):
            slug = self.post_target(parts.path)
            if slug is None:
                from .markup import doc_slug

                sphinx = doc_slug(unquote(parts.path)) in ("genindex", "modindex", "search", "py-modindex")
                problem = (
                    "names a page Sphinx generates, which a blog does not have"
                    if sphinx
                    else "names no post of this blog (a link without a suffix names a post by its file name)"
                )
                fix = "remove the link" if sphinx else "fix the name, or add that post to posts/"
                cell.warnings.append(unresolved(cell.where, f"the link to {parts.path!r}", problem, fix))
                return None
            return self._post_link(slug, url, parts.fragment, cell)
        if not image and suffix in _NOTEBOOK_SUFFIXES:
            slug = self.post_target(parts.path)
            if slug is None:
                if suffix != ".ipynb" and (self.posts_dir / unquote(parts.path)).is_file():
                    return self._local_file(parts.path, cell, "linked file")
                cell.warnings.append(
                    unresolved(
                        cell.where,
                        f"the link to {parts.path!r}",
                        "is not a post in posts/",
                        "add that notebook to posts/, or link to its address",
                    )
                )
                return None
            return self._post_link(slug, url, parts.fragment, cell)
        target = (self.posts_dir / unquote(parts.path)).resolve()
        if not image and target.is_dir():
            cell.warnings.append(
                unresolved(
                    cell.where,
                    f"the link to the folder {parts.path!r}",
                    "cannot be published",
                    "link to a file in it",
                )
            )
            return None
        return self._local_file(parts.path, cell, "image" if image else "linked file")

    def output_html(self, html: str, cell: _Cell) -> str:
        """Return an output's HTML with its local images and links resolved as a cell's are.

        What is kept is linked as _from_page says. An image that is not the blog's own file is
        left out, a link that leads nowhere loses its href; each with a warning.
        """
        for tag, attrs, raw in _html_tags(html):
            if tag == "img" and attrs.get("src"):
                html = self._output_image(html, str(attrs["src"]), raw, cell)
            elif tag in MEDIA_ELEMENTS and attrs.get("src"):  # a sound or video file beside the notebook
                html = self._output_image(html, str(attrs["src"]), raw, cell, MEDIA_FILE)
            elif tag == "a" and attrs.get("href"):
                href = str(attrs["href"])
                if urlsplit(href).scheme or href.startswith("//") or href.startswith(self.page_base):
                    continue
                new = self._output_link(href, cell)
                if new != href:
                    value = f'"{html_lib.escape(new)}"' if new is not None else None
                    html = html.replace(raw, _with_attr(raw, "href", value), 1)
        return html

    def _output_link(self, href: str, cell: _Cell) -> str | None:
        """Return what an output's link `href` becomes on the page, or None (with a warning) for none.

        An output is not the author's writing (its code may have written the file it links), so
        a local file a browser would run script in is not published: an SVG is sanitized as an
        output's SVG is, a web page or script is refused.
        """
        path = unquote(urlsplit(href).path)
        kind = mimetypes.guess_type(path)[0] if _is_local(href) and path else None
        if kind in _RUNS_SCRIPT:
            cell.warnings.append(
                f"{cell.where}: the link to {href!r} names a web page or script, which an output may not "
                "publish, so the link is text; link to it from a Markdown cell."
            )
            return None
        try:
            new = self.url(href, cell, image=False)
        except NbpressError as err:  # not the blog's own file
            cell.warnings.append(f"{cell.where}: {err.message.split('; ')[0]}, so the link is text.")
            return None
        if new is None:
            return None
        name = unquote(new[len(self.image_base) :]) if new.startswith(self.image_base) else ""
        if name.endswith(".svg") and not self._svg_shown(name):
            cell.warnings.append(
                f"{cell.where}: the file {href!r} cannot be read as SVG, so the link is text."
            )
            return None
        return self._from_page(new)

    def _output_image(self, html: str, src: str, raw: str, cell: _Cell, kind: str = "image") -> str:
        """Return an output's HTML with the element `raw`'s local file `src` (an `kind`) published
        and linked, or the element left out with a warning when it is not the blog's own file."""
        if not _is_local(src) or src.startswith(self.page_base):
            return html
        try:
            url = self._local_file(urlsplit(src).path, cell, kind)
        except NbpressError as err:
            problem = err.message.split("; ")[0]
            cell.warnings.append(f"{cell.where}: {problem}, so the output shows no {kind} there.")
            return html.replace(raw, "", 1)
        name = unquote(url[len(self.image_base) :])
        if name.endswith(".svg") and not self._svg_shown(name):
            cell.warnings.append(
                f"{cell.where}: the image {src!r} cannot be read as SVG, so the output shows no image there."
            )
            return html.replace(raw, "", 1)
        return html.replace(raw, _with_attr(raw, "src", f'"{html_lib.escape(self._from_page(url))}"'), 1)

    def _from_page(self, url: str) -> str:
        """Return a URL `url()` made for the post's Markdown file as an output's HTML holds it.

        Still relative to the Markdown file, as Zensical reads every relative URL of a page,
        raw HTML's included; marked by a leading './' (which MkDocs never writes) so that
        hooks/reader.py resolves it for MkDocs, which leaves raw HTML as written.
        """
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            return url
        if url.startswith("/"):  # a file of the site (_site_file): from site_src/posts/ up to it
            return "./.." + url
        return "./" + url

    def _svg_shown(self, name: str) -> bool:
        """Sanitize the published SVG file `name` as an output's SVG is (an output is not the author's
        writing: its code may have written the file); return False if it cannot be read as SVG."""
        from .sanitize import sanitize_svg

        remote: list[str] = []
        clean = sanitize_svg(self.files[name].decode("utf-8", "replace"), remote)
        if clean is not None:
            self.files[name] = clean.encode("utf-8")
        return clean is not None

    # -- rewriting Markdown ------------------------------------------------------------------

    def rewrite(self, source: str, cell: _Cell) -> str:
        """Return a Markdown cell's source with its links, images and HTML tags rewritten."""
        md = _markdown_parser()
        env: dict[str, object] = {}
        tokens = md.parse(source, env)
        refs = _references(env)
        lines = _lines(source)
        for token in tokens:
            if token.map is None or token.type not in ("inline", "html_block", "math_block"):
                continue
            start, end = token.map
            block = "".join(lines[start:end])
            self.made = set()
            if token.type == "inline":
                new = self._inline(block, token, cell, refs)
            elif token.type == "math_block":  # as the HTML it would be if the site did not read it as math
                new = self._html(block, cell, block=False)
            else:
                new = self._html(block, cell, block=True)
                if re.search(r"\bmarkdown=", new):
                    # md_in_html renders the Markdown inside (markup's <figure markdown="span">).
                    new = self._inline(new, md.parseInline(new)[0], cell)
            if new != block:
                lines[start:end] = [new] + [""] * (end - start - 1)
        text = "".join(lines)
        for label, href in refs.items():
            text = self._reference(text, label, href, cell)
        return text

    def _inline(self, text: str, token: Token, cell: _Cell, refs: dict[str, str] | None = None) -> str:
        refs = refs or {}
        depth = 0  # links open around the token: an image inside one becomes text, never a link in a link
        for child in _walk(token.children or []):
            depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                new = self.url(href, cell, image=False)
                replaced = self._replace_destination(text, href, new, cell)
                if new is None and replaced == text:
                    replaced = _unlink_references(text, [lbl for lbl, ref in refs.items() if ref == href])
                text = replaced
            elif child.type == "image":
                src = str(child.attrGet("src") or "")
                if not loads_from_site(src):
                    cell.warnings.append(f"{cell.where}: {remote_problem(src)}.")
                    text = _image_to_link(text, child.content, src, inside_link=depth > 0)
                    continue
                text = self._replace_destination(text, src, self.url(src, cell, image=True), cell)
        pieces = "".join(c.content for c in _walk(token.children or []) if c.type in _HTML_OR_MATH)
        return self._html(text, cell, block=False, html=pieces) if pieces else text

    def _replace_destination(self, text: str, url: str, new: str | None, cell: _Cell) -> str:
        """Return `text` with the inline link or image to `url` pointed at `new` (None: unlinked)."""
        if new == url:
            return text
        spans = _code_spans(text)  # the same link shown in a code span (`[x](y)`) is left as written
        for raw in dict.fromkeys((url, unquote(url))):
            for opener in ("](<", "]("):
                at = text.find(opener + raw)
                while at >= 0:
                    after = at + len(opener) + len(raw)
                    if (
                        after < len(text)
                        and text[after] in ")> \t\n\"'"
                        and not any(a <= at < b for a, b in spans)
                    ):
                        if new is not None:
                            return text[: at + len(opener)] + new + text[after:]
                        return _unlink(text, at, after)
                    at = text.find(opener + raw, at + 1)
        return text

    def _reference(self, text: str, label: str, href: str, cell: _Cell) -> str:
        new = self.url(href, cell, image=False)
        if new == href:
            return text
        pattern = re.compile(r"^( {0,3}\[[^\]]+\]:[ \t]*<?)" + re.escape(href) + r"(?=[>\s]|$)", re.M | re.I)
        if new is None:  # its uses lost their link (_inline): the definition goes too
            return re.compile(pattern.pattern + r".*\n?", re.M | re.I).sub("", text, count=1)
        return pattern.sub(lambda m: m.group(1) + new, text, count=1)

    def _html(self, text: str, cell: _Cell, block: bool, html: str | None = None) -> str:
        """Return `text` with the tags of its HTML (`html`, else all of it) rewritten.

        MkDocs checks and rewrites only Markdown links, so a local <img> becomes a Markdown image
        and an <a> leading to another post or a published file a Markdown link (in an HTML
        block, whose content md_in_html is then told to read as Markdown); an in-page anchor
        is mapped in place, and a link to a notebook that is not a post loses its href.
        """
        markdown = False
        # The same rule as for outputs (nbpress.rendering.sanitize): nothing loads from another host.
        text, remote = drop_remote(text, html)
        cell.warnings += [f"{cell.where}: {remote_problem(url)}." for url in remote]
        for tag, attrs, raw in _html_tags(text if html is None else html):
            at = text.find(raw)
            if at < 0 or not loads_from_site(str(attrs.get("src") or "")):
                continue
            if tag == "img" and attrs.get("src") and _is_local(str(attrs["src"])):
                url = self.url(str(attrs["src"]), cell, image=True) or ""
                text = text[:at] + _markdown_image(url, attrs) + text[at + len(raw) :]
                markdown = True
            elif tag == "a" and attrs.get("href"):
                href = str(attrs["href"])
                new = self.url(href, cell, image=False)
                if new == href:
                    continue
                close = re.compile(r"</a\s*>", re.I).search(text, at + len(raw))
                if new is not None and not new.startswith("#") and close is not None:
                    self.made.add(new)
                    inner = text[at + len(raw) : close.start()]
                    text = f"{text[:at]}[{inner}]({new}){text[close.end() :]}"
                    markdown = True
                else:
                    replacement = "<a>" if new is None else raw.replace(href, new)
                    text = text[:at] + replacement + text[at + len(raw) :]
        if markdown and block:
            text = _markdown_inside(text)
        return text


def remote_free_markdown(source: str) -> tuple[str, list[str]]:
    """Return (Markdown `source` in which nothing loads from another host, the URLs taken out).

    For Markdown published as written that no Linker rewrites (a trusted post's Markdown
    outputs): an image from elsewhere becomes a link to it, HTML as in drop_remote.
    """
    md = _markdown_parser()
    lines = _lines(source)
    found: list[str] = []
    for token in md.parse(source):
        if token.map is None or token.type not in ("inline", "html_block", "math_block"):
            continue
        start, end = token.map
        block = "".join(lines[start:end])
        inline = token if token.type == "inline" else md.parseInline(block)[0]
        new = block
        depth = 0
        for child in _walk(inline.children or []):
            depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            src = str(child.attrGet("src") or "") if child.type == "image" else ""
            if src and not loads_from_site(src):
                found.append(src)
                new = _image_to_link(new, child.content, src, inside_link=depth > 0)
        pieces = "".join(c.content for c in _walk(inline.children or []) if c.type in _HTML_OR_MATH)
        new, urls = drop_remote(new, pieces if token.type == "inline" else None)
        found += urls
        if new != block:
            lines[start:end] = [new] + [""] * (end - start - 1)
    return "".join(lines), list(dict.fromkeys(found))


def _lines(source: str) -> list[str]:
    """Return Markdown's lines, ends kept, as markdown-it numbers them (str.splitlines also cuts at
    characters such as U+2028, which would shift every token's line after them)."""
    return re.findall(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z", source)


# What may hold tags to check: inline HTML, and math (mdtokens reads `$...$` as arithmatex does; were
# the two to disagree, a tag in it would be HTML on the page).
_HTML_OR_MATH = ("html_inline", "math_inline")


def _with_attr(tag: str, name: str, value: str | None) -> str:
    """Return the start tag `tag` with attribute `name` set to `value` (quoted), or removed (None)."""
    pattern = re.compile(rf"""(\s{name}\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
    found = pattern.search(tag)
    if found is None:
        return tag
    if value is None:
        return tag[: found.start()] + tag[found.end() :]
    return tag[: found.start(2)] + value + tag[found.end(2) :]


def _unlink_references(text: str, labels: list[str]) -> str:
    """Return Markdown `text` with its reference links to `labels` (`[x][l]`, `[l][]`, `[l]`) as text."""
    for label in labels:
        name = r"\s+".join(re.escape(word) for word in label.split())
        text = re.sub(r"\[((?:[^\[\]\\]|\\.)*)\]\s?\[" + name + r"\]", r"\1", text, flags=re.I)
        text = re.sub(r"\[(" + name + r")\](?:\[\])?(?![(\[:])", r"\1", text, flags=re.I)
    return text


def _image_to_link(text: str, alt: str, src: str, inside_link: bool = False) -> str:
    """Return Markdown `text` with the image `![alt](src)` (or `![alt][ref]`) made a link.

    Its text is the alt text, or the address when there is none (as sanitize.remote_image_link
    does for HTML): a link with no text could be neither seen nor followed. An image `inside_link`
    (a badge: `[![alt](src)](href)`) becomes that text alone, the link around it kept: a link
    inside a link is no Markdown, and would show its brackets.
    """
    opener = f"![{alt}]"
    shown = f"[{alt}]" if alt.strip() else "[" + re.sub(r"([\\`*_\[\]<>])", r"\\\1", src) + "]"
    if inside_link:
        destination = re.compile(
            r"[ \t]*\(<?" + re.escape(src) + r">?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\)(?:\{[^}\n]*\})?"
        )
        for found in re.finditer(re.escape(opener), text):
            after = destination.match(text, found.end())
            if after:
                return text[: found.start()] + shown[1:-1] + text[after.end() :]
    starts = [m.start() for m in re.finditer(re.escape(opener), text)]
    for at in starts:
        rest = text[at + len(opener) :].lstrip()
        if rest.startswith(("(" + src, "(<" + src)):
            return text[:at] + shown + text[at + len(opener) :]
    return text[: starts[0]] + shown + text[starts[0] + len(opener) :] if starts else text


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _unlink(text: str, at: int, after: int) -> str:
    """Return `text` with the inline link whose `](` is at `at` replaced by its text."""
    depth = 0
    start = at
    while start > 0:
        start -= 1
        ch = text[start]
        if start > 0 and text[start - 1] == "\\":
            continue
        if ch == "]":
            depth += 1
        elif ch == "[":
            if depth == 0:
                break
            depth -= 1
    end = text.find(")", after)
    if text[start] != "[" or end < 0:
        return text
    return text[:start] + text[start + 1 : at] + text[end + 1 :]


_SIZE = re.compile(r"\d+(?:\.\d+)?(?:px|%)?")


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of the code spans of inline Markdown `text`, as CommonMark pairs them.

    A run of backticks opens a span that the next run of the same length closes; offsets are the
    text's own (an indented block of lines, such as an admonition's, is read as inline text).
    """
    runs = [m for m in re.finditer(r"(?<!\\)`+", text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        opener = runs[i]
        close = next(
            (j for j in range(i + 1, len(runs)) if len(runs[j].group()) == len(opener.group())), None
        )
        if close is None:
            i += 1
            continue
        spans.append((opener.start(), runs[close].end()))
        i = close + 1
    return spans


def _markdown_image(url: str, attrs: dict[str, str | None]) -> str:
    """Return a Markdown image (attr_list for its size and class) for an HTML <img>."""
    alt = (attrs.get("alt") or "").translate(str.maketrans("[]{}", "()()"))
    # Values become attr_list text: a quote or brace in one would start another attribute.
    sizes = [f'{k}="{v}"' for k, v in attrs.items() if k in ("width", "height") and v and _SIZE.fullmatch(v)]
    title = re.sub(r'["{}\\]', "", attrs.get("title") or "")
    extra = sizes + ([f'title="{title}"'] if title else [])
    cls = [f".{c}" for c in (attrs.get("class") or "").split() if re.fullmatch(r"[\w-]+", c)]
    suffix = "{: " + " ".join(cls + extra) + " }" if cls or extra else ""
    return f"![{alt}]({url}){suffix}"


# Elements md_in_html reads Markdown inside when asked (code and preformatted text never are).
_MARKDOWN_CONTAINERS = re.compile(
    r"<(?:p|div|li|ul|ol|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|blockquote|figure|figcaption|section|"
    r"article|aside|header|footer|details|summary|h[1-6])\b(?![^>]*\bmarkdown=)[^>]*?(?=/?>)",
    re.I,
)


def _markdown_inside(html: str) -> str:
    """Return an HTML block whose block elements ask md_in_html to parse their content as Markdown.

    Every one, not only the first: an image made Markdown inside a <p> (a raw cell's HTML)
    would otherwise show as its Markdown text.
    """
    if not re.match(r"\s*<[A-Za-z]", html):
        return html
    return _MARKDOWN_CONTAINERS.sub(lambda m: m.group(0) + ' markdown="1"', html)


def resolve_links(
    nb: Notebook, post: Post, image_base: str, raw_html: bool = False, gone: frozenset[str] = frozenset()
) -> tuple[dict[str, bytes], list[str]]:
    """Rewrite the notebook's Markdown and raw cells in place; return (files to publish, warnings).

    `gone`: the file slugs of posts that will have no page after this build (they failed).
    """
    from .sanitize import markdown_html, sanitize_html

    linker = Linker(post, image_base, post.front_matter.draft, gone)
    warnings: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get(Key.REMOVE) or cell.cell_type != "raw":
            continue
        fmt = str(cell.metadata.get("raw_mimetype") or cell.metadata.get("format") or "").lower()
        kind = _RAW_SHOWN.get(fmt)
        if kind is None:
            cell.metadata[Key.REMOVE] = True
            if cell.source.strip():
                what = f"format {fmt}" if fmt else "no format"
                warnings.append(
                    f"{cell_place(post.rel_path, index + 1)}: a raw cell with {what} cannot be shown "
                    "and was left out; make it a Markdown cell, or set its format to Markdown or HTML."
                )
            continue
        cell.cell_type = "markdown"
        if not raw_html:
            # Published markup that is not the author's Markdown cell: the outputs' sanitizer,
            # inside one HTML block nothing re-reads as Markdown.
            remote: list[str] = []
            clean = (
                sanitize_html(cell.source, remote) if kind == "html" else markdown_html(cell.source, remote)
            )
            cell.source = f'<div class="nbpress-raw">\n{clean}\n</div>' if clean.strip() else ""
            warnings += [f"{cell_place(post.rel_path, index + 1)}: {remote_problem(url)}." for url in remote]
    linker.page = page_of(nb, post.front_matter.title, post.front_matter.draft, post.url_slug)
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get(Key.REMOVE) or cell.cell_type not in ("markdown", "code"):
            continue
        info = _Cell(index, post.rel_path)
        if cell.cell_type == "markdown":
            cell.source = linker.rewrite(cell.source, info)
        for output in outputs_of(cell) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "text/html" in data:
                data["text/html"] = linker.output_html(str(data["text/html"]), info)
            if "text/markdown" in data:  # a trusted post's Markdown output: read as a cell's
                data["text/markdown"] = linker.rewrite(str(data["text/markdown"]), info)
        warnings += info.warnings
    return linker.files, list(dict.fromkeys(warnings))  # one warning per link, however often it is used


def _metadata_ids(nb: Notebook) -> set[str]:
    """Return the ids other steps keep in cell and output metadata (markup's figure labels)."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "id" and isinstance(item, str):
                    found.add(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for cell in nb.cells:
        walk(dict(cell.get("metadata", {})))
        for output in outputs_of(cell):
            walk(dict(output.get("metadata", {})))
    return found


def _local_targets(post: Post) -> Iterator[tuple[str, str]]:
    """Yield (path as written, what it names: "notebook", "file" or "site") for each local link or image."""
    md = None
    posts_dir: Path = post.path.parent
    for cell in post.notebook.cells:
        if cell.cell_type not in ("markdown", "raw"):
            continue
        source = cell.source
        if cell.cell_type == "markdown" and "{download}" in source:
            from .markup import download_paths

            yield from ((path, "file") for path in download_paths(source))  # published as a linked file
        if cell.cell_type == "markdown":
            # A Markdown cell as the site shows it: a directive's image, an image inside a directive.
            source = directives.markdown(source)
        if not any(mark in source for mark in ("](", "<", "]:", "{figure}")):
            continue
        md = md or _markdown_parser()
        for url in _urls(md, source):
            parts = urlsplit(url)
            if url.startswith("/") and not url.startswith("//"):
                yield url, "site"
            elif _is_local(url) and parts.path:
                name = unquote(parts.path)
                notebook = Path(name).suffix in _NOTEBOOK_SUFFIXES or suffixless(posts_dir, name)
                yield parts.path, "notebook" if notebook else "file"


def local_files(post: Post) -> list[Path]:
    """Return the local files (not notebooks) the post's Markdown cells show or link, resolved.

    Only the blog's own (nbpress.layout.owned_file); the others fail the post when it renders.
    """
    posts_dir: Path = post.path.parent
    found = []
    for path, kind in _local_targets(post):
        if kind == "file":
            with contextlib.suppress(NbpressError):
                found.append(owned_file(posts_dir, unquote(path), "the linked file"))
    return found


def linked_posts(post: Post) -> set[str]:
    """Return the file slugs of the other posts the post's Markdown cells link to."""
    from .markup import referenced_posts

    linker = Linker(post, "")
    found = {linker.post_target(path) for path, kind in _local_targets(post) if kind == "notebook"}
    found |= referenced_posts(post)  # cross-references to other posts' labels, {doc}
    return {slug for slug in found if slug is not None and slug != post.file_slug}


def render_term(post: Post, gone: frozenset[str] = frozenset()) -> list[list[str | None]]:
    """Return what, besides the post's own cells, decides how its links render.

    The local files its Markdown cells show or link (their digests), which linked notebooks
    are posts and what their pages hold (Page.term), which root-absolute paths name a file of
    the site: a changed image, a new post or a renamed heading re-renders the post without
    running it. A post in `gone` (no page after this build) counts as no page.
    """
    linker = Linker(post, "", gone=gone)
    term: list[list[str | None]] = []
    for path, kind in _local_targets(post):
        if kind == "site":
            term.append([path, str(linker._site_file(path, _Cell(0, "")) is not None)])
            continue
        if kind == "notebook":
            slug = linker.post_target(path)
            if slug is None or slug == post.file_slug:
                term.append([path, slug])
            else:
                page = linker.page_for(slug)
                term.append([path, slug, *(page.term() if page is not None else ["no page"])])
            continue
        try:
            _, data = read_owned(linker.posts_dir, unquote(path), "the linked file")
        except NbpressError:
            term.append([path, None])  # rendering refuses it, naming the cell
            continue
        term.append([path, hashlib.sha256(data).hexdigest()])
    return sorted(term, key=str)


def _urls(md: MarkdownIt, source: str) -> Iterator[str]:
    env: dict[str, object] = {}
    for token in _walk(md.parse(source, env)):
        if token.type == "link_open":
            yield str(token.attrGet("href") or "")
        elif token.type == "image":
            yield str(token.attrGet("src") or "")
        elif token.type == "fence" and token.info.strip().startswith("{figure}"):
            yield token.info.strip()[len("{figure}") :].strip()  # MyST's figure directive
        elif token.type in ("html_inline", "html_block"):
            if token.type == "html_block" and "markdown=" in token.content:
                for inner in _walk(md.parseInline(token.content)):
                    if inner.type in ("link_open", "image"):
                        yield str(inner.attrGet("href") or inner.attrGet("src") or "")
            for tag, attrs, _raw in _html_tags(token.content):
                value = attrs.get("src") if tag == "img" else attrs.get("href") if tag == "a" else None
                if value:
                    yield str(value)
    yield from _references(env).values()


def _references(env: dict[str, object]) -> dict[str, str]:
    """Return {label: URL} of the reference definitions (`[label]: URL`) markdown-it put in `env`."""
    found = env.get("references")
    if not isinstance(found, dict):
        return {}
    return {str(label): str(ref.get("href", "")) for label, ref in found.items() if isinstance(ref, dict)}
