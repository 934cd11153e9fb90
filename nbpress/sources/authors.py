"""The blog's authors: Material's `site_src/.authors.yml`, read and checked in one place."""

from __future__ import annotations

import yaml

from ..errors import ConfigError
from ..layout import Layout
from ..yamlload import error_line, error_problem, safe_load


def read_authors(layout: Layout) -> dict[str, object]:
    """Return the `authors:` mapping of the authors file ({} if there is none).

    Raises ConfigError (one line, with its line number) if the file is broken.
    """
    path = layout.authors
    if not path.is_file():
        return {}
    rel = layout.rel(path)
    try:
        data = safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        line = error_line(err)
        where = f", line {line + 1}" if line is not None else ""
        raise ConfigError(f"{rel}{where}: {error_problem(err)}; fix the YAML, then build again.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot be read ({err}); fix the file, then build again.", path=rel) from None
    authors = data.get("authors", {}) if isinstance(data, dict) else None
    if not isinstance(authors, dict):
        raise ConfigError(
            "expected a mapping with an 'authors:' mapping of author keys; fix it, then build again.",
            path=rel,
        )
    return authors


def keys_by_name(authors: dict[str, object]) -> dict[str, str]:
    """Return {author name or key: key}: what a post's `author:` may say, and the key it means."""
    table: dict[str, str] = {}
    for key, info in authors.items():
        table[str(key)] = str(key)
        if isinstance(info, dict) and info.get("name"):
            table[str(info["name"])] = str(key)
    return table


def first_author(authors: dict[str, object]) -> str | None:
    """Return the name (else the key) of the first author, or None if there is none."""
    if not authors:
        return None
    key, info = next(iter(authors.items()))
    return str(info.get("name") or key) if isinstance(info, dict) else str(key)
