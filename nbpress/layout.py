"""Where every file of a blog lives and the URL the site gives it: decided here, once.

Like mkdocs' `File`, which derives a page's `dest_path` and `url` from its source, every
path and URL below comes from the blog's root and a post's *file slug* (its source's name
without suffix and date prefix). A post's *URL slug* (`slug:` in its front matter,
`Post.url_slug`) names only its page; its generated Markdown and figures keep the file slug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOURCES = "posts"
GENERATED = "site_src/posts"
IMAGES = "assets/images"
DOWNLOADS = "assets/notebooks"
CACHE = ".nbpress-cache"
LOCK = "build.lock"
AUTHORS = "site_src/.authors.yml"
REPORT = "site_src/execution"
REPORT_STATE = "report.json"


@dataclass(frozen=True)
class Layout:
    """The folders and files of the blog at `root`."""

    root: Path

    @property
    def sources(self) -> Path:
        """Return posts/, the folder of the source notebooks (and the cells' working directory)."""
        return self.root / SOURCES

    @property
    def generated(self) -> Path:
        """Return site_src/posts/, the folder of the generated Markdown."""
        return self.root / GENERATED

    @property
    def images(self) -> Path:
        """Return assets/images/, which holds a folder of figures per post."""
        return self.root / IMAGES

    @property
    def downloads(self) -> Path:
        """Return assets/notebooks/, which holds a folder of executed-notebook downloads per post."""
        return self.root / DOWNLOADS

    @property
    def cache(self) -> Path:
        """Return the build cache folder (git-ignored): outputs, the lock, the report's state."""
        return self.root / CACHE

    @property
    def lock(self) -> Path:
        """Return the build lock file."""
        return self.cache / LOCK

    @property
    def authors(self) -> Path:
        """Return Material's blog authors file."""
        return self.root / AUTHORS

    @property
    def report_page(self) -> Path:
        """Return the execution report page of the site."""
        return self.root / REPORT / "index.md"

    @property
    def report_state(self) -> Path:
        """Return the report's record of each post's last build."""
        return self.cache / REPORT_STATE

    def log(self, file_slug: str) -> Path:
        """Return the log of a failed post's traceback (linked from the report page)."""
        return self.root / REPORT / log_link(file_slug)

    def rel(self, path: Path) -> str:
        """Return `path` relative to the blog, as messages name files (its name if outside)."""
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path.name


def markdown_name(file_slug: str) -> str:
    """Return the generated post's path relative to the blog: site_src/posts/<file slug>.md."""
    return f"{GENERATED}/{file_slug}.md"


def figure_url(file_slug: str) -> str:
    """Return the site URL of a post's figures folder, as the Markdown links them."""
    return f"/{IMAGES}/{file_slug}/"


def notebook_download(file_slug: str) -> str:
    """Return the name of a post's executed-notebook download in its assets/notebooks/ folder."""
    return f"{file_slug}.ipynb"


def log_link(file_slug: str) -> str:
    """Return a failed post's log relative to the report page."""
    return f"logs/{file_slug}.log"
