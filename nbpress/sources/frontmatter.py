"""Front matter: one table of the keys a post may set, as pelican's METADATA_PROCESSORS.

Each key has one entry (`KEYS`): its check (the value's type, normalised, and the one-line
problem when it is wrong), whether it is published in the post's Markdown front matter, and
which key it is part of: the execution key (a change runs the post again), the render key
(a change renders it again from the cache) or neither. Validation, the published front
matter, the render key's payload and the list of known keys are read from it, and nothing
else lists keys. A key not in the table is the author's own (a Material or Jekyll key): it
is published as written and is part of the render key; one that looks like a misspelled
known key is named in a warning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import SourceError
from ..layout import NAME_MAX, SLUG_MAX
from ..notebook import Notebook

# Used with fullmatch: "$" would also accept a name ending in a newline.
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
STDERR_MODES = ("show", "remove", "warn")
# Jekyll's usual order first in the published front matter (notebook metadata comes back with
# sorted keys), then the author's other keys as written.
JEKYLL_ORDER = ("layout", "title", "author", "tags", "categories", "date")


class Part(enum.Enum):
    """Which key a front matter value is part of: what a change to it makes the build do."""

    EXECUTION = "execution"  # run the post again (execution.keys.key_parts reads it)
    RENDER = "render"  # render the post again from its cached outputs
    NONE = "none"  # nothing: it changes neither the outputs nor the Markdown


class Bad(Exception):
    """A value a check refuses; its message is the problem, one clause ("timeout must be ...")."""


class Missing(Bad):
    """A key the post must have and does not: what to add is said as the source's format says it."""

    def __init__(self, key: str, example: str) -> None:
        super().__init__(f"{key} is missing")
        self.key, self.example = key, example


def add_yaml(key: str, example: str) -> str:
    """Return how to add `key` to YAML front matter (a raw cell, a text header, the metadata)."""
    return f"add {key}: {example}"


Check = Callable[[object], object]


@dataclass(frozen=True)
class Entry:
    """One front matter key: its check and default, whether it is published, its key."""

    check: Check  # returns the normalised value, or raises Bad
    default: object = None  # what an absent key means (checked like a written value)
    published: bool = True  # copied into the post's Markdown front matter
    part: Part = Part.RENDER


@dataclass(frozen=True)
class FrontMatter:
    """A post's validated front matter; `data` keeps every key as the author wrote it, in order."""

    title: str
    date: dt.date | dt.datetime
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    timeout: int
    inputs: tuple[str, ...]
    kernel: str
    data: dict[str, object] = field(compare=False)
    stderr: str = "show"
    allow_errors: bool = False
    draft: bool = False
    raw_html: bool = False
    # Packages the outputs depend on that no import shows (a pandas engine, a plugin).
    depends: tuple[str, ...] = ()
    series: str | None = None  # the series' name, spaces collapsed (nbpress.sources.series)
    series_order: int | None = None  # its place in the series; without it, by date then slug
    # Values the source gives where the author wrote none: a dated file name's date, a
    # Julia notebook's kernel. Kept apart from `data`, which holds only what was written.
    implied: dict[str, object] = field(default_factory=dict, compare=False)


def safe_slug(name: str) -> bool:
    """Return True if `name` can be a post's file or URL name without leaving its folder."""
    return bool(SLUG_RE.fullmatch(name)) and ".." not in name


def slug_too_long(slug: str) -> str | None:
    """Return why `slug` is too long to name a post's files and page, or None if it is not.

    Checked when a post is read, so a name the file system refuses fails the post before
    anything is executed or written (not as a failed write that reads like a full disk).
    """
    size = len(slug.encode("utf-8"))
    if size <= SLUG_MAX:
        return None
    return (
        f"nbpress names the post's files after it (.nbpress-writing-<name>.json is the longest) and "
        f"a file system allows {NAME_MAX} bytes in a name, so the name without date or suffix may "
        f"have at most {SLUG_MAX} characters ({size} here)"
    )


# --- The checks: each returns the normalised value or raises Bad with the problem.


def _title(value: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Missing("title", "...")
    if not isinstance(value, (str, int, float)):
        raise Bad("title must be text")
    return str(value)


def _date(value: object) -> dt.date | dt.datetime:
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if value is None:
        raise Missing("date", "YYYY-MM-DD")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value.strip())
            except ValueError:
                pass
    raise Bad(f"date {value!r} is not a date (use YYYY-MM-DD)")


def _names(key: str) -> Check:
    def check(value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return (str(value),)
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            return tuple(str(v) for v in value)
        raise Bad(f"{key} must be a list of names or one name")

    return check


def _timeout(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Bad(f"timeout {value!r} must be a whole number of seconds above 0")
    return value


def _kernel(value: object) -> str:
    if not isinstance(value, str):
        raise Bad("kernel must be a kernel name such as python3")
    return value


def _stderr(value: object) -> str:
    if value not in STDERR_MODES:
        raise Bad(f"stderr {value!r} must be one of {', '.join(STDERR_MODES)}")
    return str(value)


def _flag(key: str) -> Check:
    def check(value: object) -> bool:
        if not isinstance(value, bool):
            raise Bad(f"{key} must be true or false")
        return value

    return check


def _slug(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not safe_slug(value):
        raise Bad(f"slug {value!r} is not a safe URL part (letters, digits, '.', '_' and '-' only)")
    problem = slug_too_long(value)
    if problem:
        raise Bad(f"slug is too long: {problem}")
    return value


def _authors(value: object) -> object:
    # Whether each key is in the authors file is check_authors' (it needs the file).
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(n, str) for n in value):
        return value
    raise Bad("authors must be a list of author keys")


SERIES_MAX = 200  # characters of a series' name: it is a page's title, not a paragraph


def _series(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise Bad("series must be the series' name, a line of text (series: My course)")
    name = " ".join(value.split())
    if len(name) > SERIES_MAX:
        raise Bad(f"series is {len(name)} characters long; a series' name may have at most {SERIES_MAX}")
    return name


def _series_order(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise Bad(f"series_order {value!r} must be a whole number (the part's place: 1, 2, ...)")
    return value


def _any(value: object) -> object:
    return value


# Material's and Jekyll's own keys: published as written, known (so never "misspelled").
THEIRS = (
    "layout", "hide", "search", "comments", "links", "readtime", "pin", "icon",
    "status", "subtitle", "template", "social", "permalink", "excerpt",
)  # fmt: skip

# The one table. Its order is the order problems are listed in when several keys are wrong.
KEYS: dict[str, Entry] = {
    "title": Entry(_title),
    "date": Entry(_date),
    "tags": Entry(_names("tags")),
    "categories": Entry(_names("categories")),
    # How long a cell may run: no output shows it.
    "timeout": Entry(_timeout, default=600, published=False, part=Part.NONE),
    # Files the post reads (by content) and packages no import shows (their versions).
    "inputs": Entry(_names("inputs"), published=False, part=Part.EXECUTION),
    "depends": Entry(_names("depends"), published=False, part=Part.EXECUTION),
    "kernel": Entry(_kernel, default="python3", published=False, part=Part.EXECUTION),
    "stderr": Entry(_stderr, default="show", published=False),
    "allow_errors": Entry(_flag("allow_errors"), default=False, published=False, part=Part.EXECUTION),
    "draft": Entry(_flag("draft"), default=False),
    "slug": Entry(_slug),  # the URL part (by default the file's name)
    "raw_html": Entry(_flag("raw_html"), default=False, published=False),  # outputs' HTML unsanitized
    "authors": Entry(_authors),  # keys of site_src/.authors.yml
    "author": Entry(_any),  # Jekyll's; a name or key of the authors file
    "description": Entry(_any),  # the summary (else the first paragraph)
    "bibliography": Entry(_any),  # BibTeX files (nbpress.rendering.markup)
    "image": Entry(_any),  # the feed's image (else the first figure)
    # A course: the series' name and the part's place in it (else by date). The render key
    # also holds the whole listing the post shows (nbpress.rendering.key, nbpress.sources.series).
    "series": Entry(_series, published=False),
    "series_order": Entry(_series_order, published=False),
    # nbpress's own record, written by the build: an author's value is dropped.
    "nbpress": Entry(_any, published=False, part=Part.NONE),
    **{key: Entry(_any) for key in THEIRS},
}
_FIELDS = {f.name for f in dataclasses.fields(FrontMatter)} - {"data", "implied"}


def validate_front_matter(
    data: dict[str, object],
    where: str,
    implied: dict[str, object] | None = None,
    add: Callable[[str, str], str] = add_yaml,
) -> FrontMatter:
    """Return the validated FrontMatter; raise SourceError listing all problems at once.

    `implied` holds values the source gives for keys the author left out (implied_values);
    `add(key, example)` says how to add a missing key in the source's own format.
    """
    implied = implied or {}
    problems: list[str] = []
    values: dict[str, object] = {}
    for key, entry in KEYS.items():
        value = implied[key] if key in implied else data.get(key, entry.default)
        try:
            values[key] = entry.check(value)
        except Missing as missing:
            problems.append(f"{missing} ({add(missing.key, missing.example)})")
        except Bad as bad:
            problems.append(str(bad))
    if problems:
        raise SourceError(f"{where}: front matter: " + "; ".join(problems) + ".")
    typed = {k: v for k, v in values.items() if k in _FIELDS}
    return FrontMatter(data=data, implied=implied, **typed)  # type: ignore[arg-type]


def implied_values(
    data: dict[str, object], name_date: dt.date | None, notebook: Notebook
) -> dict[str, object]:
    """Return {key: value} the source gives where the front matter says nothing.

    `date` from a `YYYY-MM-DD-slug` file name (fastpages, Jekyll); `kernel` from the notebook's
    own kernelspec when it is for another language (Julia, R). A Python notebook keeps the
    default python3 whatever its kernelspec is called (kernel names such as "conda-env-x-py"
    exist only on their author's machine).
    """
    implied: dict[str, object] = {}
    if name_date is not None and data.get("date") is None:
        implied["date"] = name_date.isoformat()
    metadata = notebook.get("metadata", {})
    spec = metadata.get("kernelspec") or {}
    language = spec.get("language") or (metadata.get("language_info") or {}).get("name")
    name = spec.get("name")
    other = isinstance(language, str) and language.lower() not in ("python", "python3", "ipython")
    if "kernel" not in data and isinstance(name, str) and other:
        implied["kernel"] = name
    return implied


def check_authors(front_matter: FrontMatter, authors: dict[str, object], where: str) -> None:
    """Raise SourceError if `authors:` names a key the authors file does not define.

    Material's blog plugin looks each key up in site_src/.authors.yml and stops `mkdocs build`
    with a KeyError for one it lacks: refused here, when the post is read.
    """
    from ..layout import AUTHORS

    value = front_matter.data.get("authors")
    names = [] if value is None else value if isinstance(value, list) else [value]
    unknown = [n for n in names if n not in authors]
    if unknown:
        known = ", ".join(str(k) for k in authors) or "none yet"
        raise SourceError(
            f"{where}: front matter: the author {unknown[0]!r} is not in {AUTHORS} "
            f"(its authors: {known}); add it there, or name one of them."
        )


def likely_key(key: str) -> str | None:
    """Return the known key `key` is probably a misspelling of ("tgas", "Tags" -> "tags"), or None.

    Compared without case: every key nbpress or Material reads is lower case, so "Title" is
    read by none of them. A key far from every known one is the author's own (a theme's or
    another tool's): it is published as written, with no warning, since nbpress cannot tell
    it from a typo and warning on every such key would drown the ones that are.
    """
    if key in KEYS:
        return None
    lowered = {known.lower(): known for known in KEYS}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


def misspelled_keys(data: dict[str, object], where: str) -> list[str]:
    """Return a warning for each key that is not known but looks like a known one."""
    warnings = []
    for key in data:
        likely = likely_key(str(key))
        if likely is not None:
            warnings.append(
                f"{where}: the front matter key {key!r} is not one nbpress knows; did you mean "
                f"{likely!r}? Rename it (an unknown key is published as written and does nothing else)."
            )
    return warnings


def unpaired_keys(front_matter: FrontMatter, where: str) -> list[str]:
    """Return a warning for a key that means nothing without another (series_order without series)."""
    if front_matter.series_order is not None and front_matter.series is None:
        return [
            f"{where}: series_order {front_matter.series_order} does nothing without series: name the "
            "series the post is a part of (series: <name>), or remove series_order."
        ]
    return []


def is_published(key: str) -> bool:
    """Return True if `key` is copied into the published front matter (an unknown key is)."""
    entry = KEYS.get(key)
    return entry is None or entry.published


def part_of(key: str) -> Part:
    """Return which key `key` is part of (an unknown key is published, so part of the render key)."""
    entry = KEYS.get(key)
    return Part.RENDER if entry is None else entry.part


def published(front_matter: FrontMatter) -> dict[str, object]:
    """Return the author's keys that are published, as written: Jekyll's order first, then the rest."""
    data = {**front_matter.data, **front_matter.implied}
    ordered = [k for k in JEKYLL_ORDER if k in data] + [k for k in data if k not in JEKYLL_ORDER]
    return {k: data[k] for k in ordered if is_published(k)}


def render_values(front_matter: FrontMatter) -> dict[str, object]:
    """Return the front matter values the render key covers: every key that is part of it.

    The execution key's values reach the render key through the execution key itself.
    """
    data = {**front_matter.data, **front_matter.implied}
    return {k: v for k, v in data.items() if part_of(str(k)) is Part.RENDER}
