"""The built site of the real blog: blog pages, per-post links, meta, feed, search index, deploy."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from nbpress.pipeline import Options, build
from tests.helpers import GITHUB_REMOTE, GITHUB_REPO_URL, GITHUB_SITE_URL, mkdocs

TITLES = {
    "SLR_NN": "Simple Linear Regression Model in PyTorch and Tensorflow",
    "Linear_Regression_SciPy_vs_Torch": "Linear Regression with SciPy and PyTorch",
}
pytestmark = pytest.mark.slow


class _Tags(HTMLParser):
    """Collects every start tag as (tag, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def tags_of(html: str) -> list[tuple[str, dict[str, str]]]:
    """Return the start tags of an HTML document."""
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def page(root: Path, path: str) -> str:
    """Return the text of a built page (a path in the site, as in its URL)."""
    return (root / "site" / path).read_text(encoding="utf-8")


def site_config(root: Path) -> dict[str, object]:
    """Return mkdocs.yml as a mapping (its !! tags are not used)."""
    data = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_blog_views_list_the_posts(real_site: Path) -> None:
    home = page(real_site, "index.html")
    for title in TITLES.values():
        assert title in home
    assert home.count("min read") == 2
    archive = page(real_site, "archive/2024/index.html")
    assert all(title in archive for title in TITLES.values())
    # Both posts are in the NN category, tagged Python, by Steve Han.
    category = page(real_site, "category/nn/index.html")
    assert all(title in category for title in TITLES.values())
    tags = page(real_site, "tags/index.html")
    assert "Python" in tags and all(f"posts/{slug}/" in tags for slug in TITLES)
    author = page(real_site, "author/steve-han/index.html")
    assert "Steve Han" in author and all(title in author for title in TITLES.values())
    assert "404" in page(real_site, "404.html")
    assert "Jupyter notebooks" in page(real_site, "about/index.html")


@pytest.mark.parametrize("slug", sorted(TITLES))
def test_post_links_colab_download_and_source(real_site: Path, slug: str) -> None:
    html = page(real_site, f"posts/{slug}/index.html")
    config = site_config(real_site)
    repo = GITHUB_REPO_URL  # from the git remote (mkdocs.yml leaves it unset)
    branch = config["extra"]["source_branch"]  # type: ignore[index]
    links = {a.get("class", ""): a.get("href", "") for tag, a in tags_of(html) if tag == "a"}
    owner_repo = repo.removeprefix("https://github.com/")
    source = f"blob/{branch}/posts/{slug}.ipynb"
    assert (
        links["md-button nbpress-colab"] == f"https://colab.research.google.com/github/{owner_repo}/{source}"
    )
    assert links["md-button nbpress-source"] == f"{repo}/{source}"
    # The download link is relative, resolves inside the site, and serves the executed notebook.
    href = links["md-button nbpress-download"]
    assert not href.startswith(("/", "http"))
    served = urljoin(f"http://site/posts/{slug}/", href).removeprefix("http://site/")
    executed = json.loads((real_site / "site" / served).read_bytes())
    written = json.loads((real_site / "posts" / f"{slug}.ipynb").read_bytes())
    assert [c["source"] for c in executed["cells"]] == [c["source"] for c in written["cells"]]
    assert any(c["outputs"] for c in executed["cells"] if c["cell_type"] == "code")
    # The links sit under the post's title, before its first code block.
    assert html.index("<h1") < html.index("nbpress-links") < html.index('class="highlight"')


def test_social_meta_og_image_is_the_first_figure(real_site: Path) -> None:
    site_url = GITHUB_SITE_URL
    for slug, title in TITLES.items():
        meta = {
            a["property"]: a.get("content", "")
            for tag, a in tags_of(page(real_site, f"posts/{slug}/index.html"))
            if tag == "meta" and "property" in a
        }
        assert meta["og:title"] == title and meta["og:type"] == "article" and meta["og:description"]
        markdown = (real_site / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")
        first = re.search(r"\]\(\.\./(assets/images/[^)]+)\)", markdown)
        assert first is not None
        assert meta["og:image"] == site_url + first.group(1)
        assert (real_site / "site" / first.group(1)).is_file()
        assert meta["og:url"] == f"{site_url}posts/{slug}/"


def test_feed_is_valid_rss_with_both_posts(real_site: Path) -> None:
    site_url = GITHUB_SITE_URL
    channel = ET.parse(real_site / "site" / "feed_rss_created.xml").getroot().find("channel")
    assert channel is not None
    items = {item.findtext("title"): item.findtext("link") for item in channel.findall("item")}
    assert items == {title: f"{site_url}posts/{slug}/" for slug, title in TITLES.items()}
    # Every page points feed readers at it (the plugin adds the link).
    for path in ("", "posts/SLR_NN/"):
        tags = tags_of(page(real_site, f"{path}index.html"))
        hrefs = [
            urljoin(site_url + path, a["href"])
            for tag, a in tags
            if tag == "link" and a.get("rel") == "alternate"
        ]
        assert f"{site_url}feed_rss_created.xml" in hrefs


def test_drafts_stay_out_of_the_site_and_feed(real_site: Path, tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    ignore = shutil.ignore_patterns("site", ".nbpress-cache", ".cache", ".git")
    shutil.copytree(real_site, blog, symlinks=True, ignore=ignore)
    # origin is a local repository here, so the site's address is set by hand (the feed needs it).
    with (blog / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("site_url: https://nbpress.github.io/nbpress-blog/\n")
    draft = "---\ntitle: Half-written\ndate: 2024-07-01\ndraft: true\n---\n\n# Half-written\n\nSoon.\n"
    (blog / "site_src" / "posts" / "half-written.md").write_text(draft, encoding="utf-8")
    proc = mkdocs(blog, "build", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert not (blog / "site" / "posts" / "half-written").exists()
    assert "Half-written" not in (blog / "site" / "feed_rss_created.xml").read_text(encoding="utf-8")
    assert "Half-written" not in (blog / "site" / "index.html").read_text(encoding="utf-8")
    # The same file without the flag is published: the flag, not the file, kept it out.
    (blog / "site_src" / "posts" / "half-written.md").write_text(draft.replace("draft: true\n", ""))
    assert mkdocs(blog, "build", "--strict").returncode == 0
    assert "Half-written" in (blog / "site" / "feed_rss_created.xml").read_text(encoding="utf-8")


def test_provenance_line_names_python_and_imported_packages(real_site: Path) -> None:
    markdown = (real_site / "site_src" / "posts" / "SLR_NN.md").read_text(encoding="utf-8")
    last = markdown.rstrip("\n").splitlines()[-2]
    match = re.fullmatch(
        r"\*Executed (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC with Python ([\d.]+), (.*)\.\*", last
    )
    assert match, last
    packages = dict(item.rsplit(" ", 1) for item in match.group(3).split(", "))
    for name in ("numpy", "torch", "matplotlib", "seaborn"):
        assert packages[name] == importlib.metadata.version(name)
    assert any(name.startswith("tensorflow") for name in packages)
    assert "nbpress-provenance" in page(real_site, "posts/SLR_NN/index.html")


def test_katex_is_served_by_the_site_and_loaded_only_with_math(real_site: Path) -> None:
    html = page(real_site, "posts/SLR_NN/index.html")
    # The seed has no math: no KaTeX on its page (tests/test_reader.py typesets a page with math).
    assert 'class="arithmatex"' not in html and "katex" not in html
    css = (real_site / "site" / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = set(re.findall(r"url\(fonts/([^)]+)\)", css))
    assert fonts and all(f.endswith(".woff2") for f in fonts)
    assert all((real_site / "site" / "vendor" / "katex" / "fonts" / f).is_file() for f in fonts)


def test_search_index_has_prose_and_code_of_both_posts(real_site: Path) -> None:
    docs = json.loads(page(real_site, "search/search_index.json"))["docs"]
    text = {
        slug: " ".join(d["text"] + d["title"] for d in docs if d["location"].startswith(f"posts/{slug}/"))
        for slug in TITLES
    }
    for slug in TITLES:
        assert "PyTorch" in text[slug] and "MSELoss" in text[slug]


def test_long_outputs_fold_and_stay_out_of_search(blog: Path, add_post: Callable[..., Path]) -> None:
    add_post("long", "for i in range(60):\n    print(f'log line {i} of 60')", "print('short output')")
    assert {r.status for r in build(Options(root=blog, jobs=1))} == {"executed"}
    proc = mkdocs(blog, "build", "--strict")
    assert proc.returncode == 0, proc.stderr
    html = (blog / "site" / "posts" / "long" / "index.html").read_text(encoding="utf-8")
    folded = re.search(r'<details class="nbpress-fold" data-search-exclude="">(.*?)</details>', html, re.S)
    assert folded and "Output (60 lines)" in folded.group(1) and "log line 59 of 60" in folded.group(1)
    assert "short output" in html and "short output" not in folded.group(1)
    index = (blog / "site" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "log line 59" not in index and "range(60)" in index and "short output" in index


def test_gh_deploy_pushes_the_site_to_a_local_bare_repository(real_site: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    blog = tmp_path / "blog"
    ignore = shutil.ignore_patterns("site", ".nbpress-cache", ".cache", ".git")
    shutil.copytree(real_site, blog, symlinks=True, ignore=ignore)
    # origin is a local repository here, so the site's address is set by hand (the feed needs it).
    with (blog / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("site_url: https://nbpress.github.io/nbpress-blog/\n")
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }

    def git(*args: str, cwd: Path = blog) -> str:
        out = subprocess.run(
            ["git", *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=True
        )
        return out.stdout

    git("init", "--bare", "--quiet", str(remote), cwd=tmp_path)
    git("init", "--quiet", "-b", "main")
    git("add", "-A")
    git("commit", "--quiet", "-m", "blog")
    git("remote", "add", "origin", str(remote))
    proc = mkdocs(blog, "gh-deploy", "--strict", "--force", "--remote-name", "origin", env=env)
    assert proc.returncode == 0, proc.stderr
    files = set(git("--git-dir", str(remote), "ls-tree", "-r", "--name-only", "gh-pages").split())
    for path in (
        "index.html",
        ".nojekyll",
        "posts/SLR_NN/index.html",
        "assets/notebooks/SLR_NN/SLR_NN.ipynb",
        "assets/images/SLR_NN/output_3_1.png",
        "feed_rss_created.xml",
        "404.html",
    ):
        assert path in files


def test_a_text_source_gets_view_source_only(tmp_path: Path) -> None:
    from tests.test_formats import as_percent, built_markdown

    built_markdown(tmp_path / "blog", as_percent)
    subprocess.run(["git", "init", "-q", str(tmp_path / "blog")], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path / "blog"), "remote", "add", "origin", GITHUB_REMOTE], check=True
    )
    proc = mkdocs(tmp_path / "blog", "build", "--strict")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "blog" / "site" / "posts" / "same" / "index.html").read_text(encoding="utf-8")
    classes = [a.get("class", "") for tag, a in tags_of(html) if tag == "a"]
    assert "md-button nbpress-source" in classes
    # Colab opens notebooks only; the executed notebook is served for every post.
    assert not any("nbpress-colab" in c for c in classes) and "md-button nbpress-download" in classes
    assert "/blob/main/posts/same.py" in html


@pytest.mark.slow
def test_a_list_of_author_names_shows_each_name(blog: Path) -> None:
    # Jupyter Book's `author:` may be a list; Jekyll's is a name. Neither is in .authors.yml here.
    posts = blog / "posts"
    (posts / "two.md").write_text(
        "---\ntitle: Two\ndate: 2024-01-01\nauthor: [Ada Lovelace, '<b>Grace</b> Hopper']\n---\n\nText.\n",
        encoding="utf-8",
    )
    (posts / "one.md").write_text(
        "---\ntitle: One\ndate: 2024-01-02\nauthor: Ada Lovelace\n---\n\nText.\n", encoding="utf-8"
    )
    assert all(r.error is None for r in build(Options(root=blog, jobs=1)))
    site = mkdocs(blog, "build", "--strict")
    assert site.returncode == 0, site.stderr
    names = re.compile(r'<span class="nbpress-byline__author">([^<]*)</span>')
    meta = re.compile(r'<meta property="article:author" content="([^"]*)">')
    two = (blog / "site" / "posts" / "two" / "index.html").read_text(encoding="utf-8")
    one = (blog / "site" / "posts" / "one" / "index.html").read_text(encoding="utf-8")
    shown = ["Ada Lovelace", "&lt;b&gt;Grace&lt;/b&gt; Hopper"]
    assert (names.findall(two), meta.findall(two)) == (shown, shown)
    assert (names.findall(one), meta.findall(one)) == (["Ada Lovelace"], ["Ada Lovelace"])
