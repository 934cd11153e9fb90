"""Figure file names (issue 22): an output may not name the file its figure is published as.

nbconvert names an extracted figure after its output's `metadata.filename` when it has one,
and the template writes that name into a Markdown image link: an output naming its figure
`a) <img onerror=...> (` closed the link and put its own HTML on the page. The chain's
figures step names every figure itself (output_<cell>_<n>.<ext>, nbpress.rendering.figures).
"""

from __future__ import annotations

from tests.attack_kit import Posts, pwn

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4IScHAAK2AQU0pnWqAAAAAElFTkSuQmCC"


def named(*names: str) -> str:
    """Return a cell that displays a PNG figure under each file name its metadata asks for."""
    return "from IPython.display import display\n" + "".join(
        f"display({{'image/png': {PNG!r}}}, raw=True, metadata={{'filename': {name!r}}})\n" for name in names
    )


def script(tag: str) -> str:
    """Return pwn(tag) without a "/" (nbconvert keeps only a name's last path part), as HTML text."""
    return pwn(tag).replace("/", "&#47;")


POSTS: Posts = {
    # The name closes the image link, then shows an <img> that runs script.
    "figurenames-html": ({}, [(named(f'a) <img src="x" onerror="{script("figurenames-html")}"> ('), [])]),
    # The name closes the link and gives the image attributes of its own (attr_list).
    "figurenames-attrs": (
        {},
        [(named(f'b){{: onload="{script("figurenames-attrs")}" }} ('), [])],
    ),
    # Two outputs asking for one name (and one asking for another figure's): each keeps its own file.
    "figurenames-collide": ({}, [(named("same", "same", "output_1_0"), [])]),
}
