"""MkDocs hook for what readers and feeds see around the posts.

- `repo_url` and `site_url`, when mkdocs.yml leaves them unset, come from the git remote
  `origin` of a GitHub repository (https://github.com/<owner>/<name> and its Pages address);
  without such a remote they stay unset and no link to a repository is shown.
- glightbox's stylesheet and scripts stay only on pages with a figure it opens, started by a
  file of the site, not an inline script (the Content Security Policy allows none).
- The RSS feed names no image it does not have (mkdocs-rss-plugin writes `<url>None</url>`), and
  names authors with <dc:creator>; pages advertise the feeds only when the build writes them.
- The links and images of an output's HTML, which the build writes relative to the post's
  Markdown and marks with a leading './' (nbpress.rendering.links), resolve from the page as MkDocs
  resolves Markdown links: MkDocs leaves raw HTML as written (Zensical resolves it itself).
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
import subprocess
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import unescape as xml_unescape

from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url

_GITHUB_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$"
)
_GLIGHTBOX = re.compile(
    r'<link[^>]*glightbox\.min\.css"?[^>]*>|<script[^>]*glightbox\.min\.js"?[^>]*></script>'
    r'|<style id="?glightbox-style"?>.*?</style>|<script id="?init-glightbox"?>.*?</script>',
    re.S,
)
# What the plugin's inline script holds (mkdocs-glightbox 0.5, Material without its privacy
# plugin): the options, read here as JSON, and the reload on instant navigation.
_GLIGHTBOX_OPTIONS = re.compile(
    r"const lightbox = GLightbox\((\{[^{}]*\})\);"
    r"\s*(?:document\$\.subscribe\(\(\)=>\{ lightbox\.reload\(\); \}\);)?"
)
log = logging.getLogger("mkdocs.hooks.reader")
_ENCLOSURE = re.compile(r'<enclosure url="([^"]*)" type="[^"]*" (length="None")')
_NO_IMAGE = re.compile(r"\s*<image>\s*<url>None</url>.*?</image>", re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
# RSS 2.0's <author> and <managingEditor> hold an e-mail address; the plugin writes the name.
_AUTHOR = re.compile(r"<(author|managingEditor)>(.*?)</\1>", re.S)
_DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'


def _plain_title(match: re.Match[str]) -> str:
    """Return a feed <title> holding the post's title as typed.

    Front matter titles are HTML text (nbpress.rendering.sanitize.front_matter_text: `<` as `&lt;`), which
    the RSS plugin escapes again; an RSS title is plain text, so a reader would show `&lt;`.
    """
    return f"<title>{xml_escape(html.unescape(xml_unescape(match.group(1))))}</title>"


def _creator(match: re.Match[str]) -> str:
    """Return an author's name as Dublin Core's <dc:creator>, as typed (RSS names no one by name)."""
    return f"<dc:creator>{xml_escape(html.unescape(xml_unescape(match.group(2))))}</dc:creator>"


def github_repository(root: Path) -> tuple[str, str] | None:
    """Return (owner, name) of the GitHub repository `origin` names in the git checkout `root`."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    match = _GITHUB_REMOTE.match(proc.stdout.strip()) if proc.returncode == 0 else None
    return (match.group(1), match.group(2)) if match else None


@event_priority(100)  # before the plugins read site_url (rss, blog)
def on_config(config: Any) -> Any:
    """Fill repo_url, repo_name and site_url from the git remote when mkdocs.yml leaves them unset."""
    if config.get("repo_url") and config.get("site_url"):
        _advertise_written_feeds(config)
        return config
    found = github_repository(Path(config["config_file_path"]).resolve().parent)
    if found is None:
        if not config.get("site_url") and "rss" in config["plugins"]:
            # A feed is absolute URLs or nothing: no site address, no feed (and no error).
            log.info("nbpress: no site_url and no GitHub remote 'origin': the RSS feed is not written")
            config["plugins"]["rss"].config.enabled = False
        _advertise_written_feeds(config)
        return config
    owner, name = found
    if not config.get("repo_url"):
        config["repo_url"] = f"https://github.com/{owner}/{name}"
        config["repo_name"] = config.get("repo_name") or f"{owner}/{name}"
    if not config.get("site_url"):
        user_site = name.lower() == f"{owner.lower()}.github.io"
        config["site_url"] = f"https://{owner.lower()}.github.io/" + ("" if user_site else f"{name}/")
    _advertise_written_feeds(config)
    return config


def _advertise_written_feeds(config: Any) -> None:
    """Let pages advertise the RSS feeds only when the build writes them.

    Material links both feeds (feed_rss_created.xml, feed_rss_updated.xml) from every page's
    <head> whenever the rss plugin is in the configuration, enabled or not. A plugin that
    writes no RSS feed leaves the configuration the templates read, so no page names a feed
    that is not there; its events, registered already, do nothing while it is disabled.
    """
    plugins = config["plugins"]
    rss = plugins.get("rss")
    if rss is not None and not (rss.config.enabled and rss.config.rss_feed_enabled):
        rss.config.enabled = False
        del plugins["rss"]


# A relative URL in raw HTML that the build marked './' (MkDocs' own rewriting never writes one).
_RAW_HTML_URL = re.compile(r'(\s(?:src|href)=")\./([^"#?]+)([^"]*)"')


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    """Return the page's HTML with each URL the build marked './' made relative to the page."""

    def resolve(match: re.Match[str]) -> str:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page.file.src_uri), match[2]))
        target = files.get_file_from_path(html.unescape(path))
        url = target.url if target is not None else path
        return f'{match[1]}{get_relative_url(url, page.url)}{match[3]}"'

    return _RAW_HTML_URL.sub(resolve, html_text)


def on_post_page(output: str, page: Any, config: Any) -> str:
    """Drop glightbox's files from a page that has no figure for it; elsewhere load them late.

    The plugin puts its script and stylesheet in <head> and starts the lightbox with an inline
    script, which the Content Security Policy refuses (overrides/partials/nbpress-csp.html).
    Both are replaced by the site's javascripts/lightbox.js, given the plugin's options as JSON
    data: it fetches the stylesheet and script after the page has loaded (the `load` event),
    as the lightbox matters only once a reader opens a figure, and starts the lightbox then.
    """
    if 'class="glightbox"' not in output:
        return _GLIGHTBOX.sub("", output)
    script = re.search(
        r'<script(?: defer)? src="([^"]*)assets/javascripts/glightbox\.min\.js"></script>\n?', output
    )
    sheet = re.search(r'<link href="([^"]*glightbox\.min\.css)" rel="stylesheet"[^>]*>\n?', output)
    init = re.search(r'<script id="?init-glightbox"?>(.*?)</script>', output, flags=re.S)
    options = _GLIGHTBOX_OPTIONS.fullmatch(init.group(1).strip()) if init else None
    if script is None or sheet is None or init is None or options is None:
        log.warning(
            "nbpress: %s: glightbox's script is not the one this hook knows; figures open as plain links",
            page.file.src_uri,
        )
        return _GLIGHTBOX.sub("", output)
    root = script.group(1)  # the site's root, relative to the page
    late = (
        f'<script src="{root}javascripts/lightbox.js" data-css="{html.escape(sheet.group(1))}"'
        f' data-js="{html.escape(root)}assets/javascripts/glightbox.min.js"'
        f' data-options="{html.escape(json.dumps(json.loads(options.group(1))))}"></script>'
    )
    # Replace from the end so the earlier matches' offsets stay valid.
    for match, text in sorted(((init, late), (sheet, ""), (script, "")), key=lambda m: -m[0].start()):
        output = output[: match.start()] + text + output[match.end() :]
    return output


def on_post_build(config: Any) -> None:
    """Fix the RSS plugin's feeds: no image when it has none, each enclosure's length, titles as
    typed, authors named by <dc:creator> (RSS 2.0's <author> is an e-mail address)."""
    site = Path(config["site_dir"])
    base = str(config.get("site_url") or "")

    def length(match: re.Match[str]) -> str:
        url = match.group(1)
        path = site / url[len(base) :] if base and url.startswith(base) else None
        size = path.stat().st_size if path is not None and path.is_file() else 0
        return f'{match.group(0)[: -len(match.group(2))]}length="{size}"'

    for feed in site.glob("feed_rss_*.xml"):
        text = feed.read_text(encoding="utf-8")
        fixed = _TITLE.sub(_plain_title, _ENCLOSURE.sub(length, _NO_IMAGE.sub("", text)))
        fixed = _AUTHOR.sub(_creator, fixed)
        if "<dc:creator>" in fixed and _DC not in fixed:
            fixed = fixed.replace("<rss ", f"<rss {_DC} ", 1)
        if fixed != text:
            feed.write_text(fixed, encoding="utf-8")
