"""MkDocs hook: a post nbpress built is not converted again for each listing that shows it.

Material's blog renders a post's excerpt for every listing page it appears on (the blog's
index, its archive year, each category, its author) by converting the post's whole Markdown
again and cutting the HTML at `<!-- more -->`: for a notebook post, every code block is
highlighted once more per listing. That was 38 % of `mkdocs build` for five lecture notebooks
(2.1 of 5.5 s), more than rendering the posts' own pages, and most of a preview's partial
render of a long post.

The card of a post nbpress built (`nbpress:` in its front matter) shows its title, summary,
figure and a link (overrides/partials/post.html): none of the excerpt's HTML. What the
listing reads from its excerpt is the first entry of the excerpt's table of contents, which
comes from the first heading: the title Material puts first, or, when the post's own first
element is a heading (MkDocs takes its title from it, `_title_from_render`), that heading. So
such a post's excerpt is rendered, with Material's own `Excerpt.render`, from that heading
alone: the title, or the post's first line when it is a `# ` heading (converted first either
way, its id is the same). Anything else, and any other post (an author's own Markdown post,
whose card shows its excerpt), is rendered as Material does. tests/test_course.py builds a
course with and without this hook and compares the sites file by file.
"""

from __future__ import annotations

from typing import Any

from mkdocs.plugins import event_priority


@event_priority(-100)  # after the blog plugin's own on_page_markdown, which makes the excerpt
def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Return `markdown`; a post nbpress built gets an excerpt rendered from its first heading alone."""
    excerpt = getattr(page, "excerpt", None)
    meta = getattr(page, "meta", None) or {}
    if excerpt is not None and meta.get("nbpress"):  # the card's own test (overrides/partials/post.html)
        excerpt.render = _HeadingOnly(excerpt)
    return markdown


class _HeadingOnly:
    """`Excerpt.render` of one excerpt, converting only the heading its listing reads (see the module)."""

    def __init__(self, excerpt: Any) -> None:
        self.excerpt = excerpt

    def __call__(self, page: Any, separator: str) -> None:
        excerpt, post = self.excerpt, self.excerpt.post
        render = type(excerpt).render
        markdown = post.markdown
        heading: str | None
        if not post._title_from_render:
            heading = ""  # render() converts "# {title}" followed by this
        else:  # render() converts the post's own Markdown: its first line, if that is the heading
            first = markdown.lstrip("\n").split("\n", 1)[0]
            heading = first + "\n" if first.startswith("# ") else None
        if heading is None:
            render(excerpt, page, separator)
            return
        post.markdown = heading
        try:
            render(excerpt, page, separator)
        finally:
            post.markdown = markdown
        if post._title_from_render and [i.title for i in excerpt.toc.items[:1]] != [post._title_from_render]:
            render(excerpt, page, separator)  # not the heading MkDocs took the title from: the whole post
