"""Series (issue 23): `series:` and `series_order:` make posts the parts of one course.

Each part opens with a box ("Part 2 of 3 · <series>", every part listed, this one marked, the
others linked) and closes with previous/next links; the series has its own page
(site_src/series/<name>.md) and series/index.md lists every series. Real builds, real
`mkdocs build --strict`, Zensical and Chromium.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from nbpress.errors import SourceError
from nbpress.pipeline import Options, PostResult, Results, Status, build
from nbpress.rendering import render_key
from nbpress.sources import read_post
from nbpress.sources.series import index, read_index, series_slug
from tests.helpers import copy_skeleton, launch_chromium, mkdocs, zensical_build
from tests.siteserver import serve

SERIES = "Linear models"
SLUG = series_slug(SERIES)  # linear-models


def write(blog: Path, slug: str, title: str, date: str, front: str = "", code: str = "print('x')") -> Path:
    """Write blog/posts/SLUG.ipynb: front matter, a paragraph, one code cell."""
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(new_raw_cell(f"---\ntitle: {title}\ndate: {date}\n{front}---"))
    nb.cells.append(new_markdown_cell(f"The opening paragraph of {title}."))
    if code:
        nb.cells.append(new_code_cell(code))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    path = blog / "posts" / f"{slug}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def make_course(blog: Path) -> None:
    """Three parts (two ordered by series_order, one by date) and one post outside the series."""
    write(blog, "fit", "Fitting a line", "2024-03-01", f"series: {SERIES}\nseries_order: 2\n", "print('fit')")
    write(
        blog,
        "data",
        "Reading the data",
        "2024-05-01",
        f"series: {SERIES}\nseries_order: 1\n",
        "print('data')",
    )
    write(blog, "errors", "Measuring the error", "2024-01-01", f"series: {SERIES}\n", "print('errors')")
    write(blog, "aside", "An aside", "2024-02-01", "", "print('aside')")


def ok(results: Results) -> Results:
    assert all(r.error is None for r in results), [str(r.error) for r in results]
    return results


def statuses(results: list[PostResult]) -> dict[str, Status]:
    return {r.name: r.status for r in results}


def markdown(blog: Path, slug: str) -> str:
    return (blog / "site_src" / "posts" / f"{slug}.md").read_text(encoding="utf-8")


def box_items(text: str) -> list[str]:
    """Return the list lines of the series box of a generated post."""
    start = text.index('<nav class="nbpress-series"')
    box = text[start : text.index("</nav>", start)]
    return [line for line in box.splitlines() if line[:1].isdigit()]


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog holding the course, built once (its cache shared by the copies tests change)."""
    blog = copy_skeleton(tmp_path_factory.mktemp("series") / "blog")
    make_course(blog)
    ok(build(Options(root=blog, jobs=2)))
    return blog


@pytest.fixture
def course_copy(course: Path, tmp_path: Path) -> Path:
    """Return a copy of the built course (sources, published tree, cache) a test may change."""
    copy = tmp_path / "blog"
    shutil.copytree(course, copy, symlinks=True, ignore=shutil.ignore_patterns("site"))
    return copy


# --- Front matter and the index: no kernel ---------------------------------------------------


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ("series: [a, b]\n", "series must be the series' name"),
        ("series: ''\n", "series must be the series' name"),
        (f"series: {SERIES}\nseries_order: two\n", "series_order 'two' must be a whole number"),
        (f"series: {SERIES}\nseries_order: true\n", "series_order True must be a whole number"),
        (f"series: {SERIES}\nseries_order: 1.5\n", "series_order 1.5 must be a whole number"),
    ],
)
def test_a_bad_series_value_is_one_line_naming_the_file_and_key(
    tmp_path: Path, front: str, problem: str
) -> None:
    path = write(tmp_path, "bad", "Bad", "2024-01-01", front)
    with pytest.raises(SourceError) as caught:
        read_post(path, tmp_path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("posts/bad.ipynb"), message
    assert problem in message, message


def test_series_order_without_series_is_a_warning(tmp_path: Path) -> None:
    post = read_post(write(tmp_path, "lonely", "Lonely", "2024-01-01", "series_order: 2\n"), tmp_path)
    assert post.warnings == (
        "posts/lonely.ipynb: series_order 2 does nothing without series: name the series the post is "
        "a part of (series: <name>), or remove series_order.",
    )


def test_parts_are_ordered_by_series_order_then_date_then_slug(tmp_path: Path) -> None:
    front = f"series: {SERIES}\n"
    paths = [
        write(tmp_path, "z-late", "Z", "2024-06-01", front),
        write(tmp_path, "b-same-day", "B", "2024-02-01", front),
        write(tmp_path, "a-same-day", "A", "2024-02-01", front),
        write(tmp_path, "first", "First", "2030-01-01", front + "series_order: 1\n"),
        write(tmp_path, "zero", "Zero", "2031-01-01", front + "series_order: 0\n"),
        write(tmp_path, "other", "Other", "2024-01-01", "series: Another course\n"),
        write(tmp_path, "none", "None", "2024-01-01"),
    ]
    found = index([read_post(p, tmp_path) for p in paths])
    assert [p.file_slug for p in found.series[SLUG].parts] == [
        "zero",
        "first",
        "a-same-day",
        "b-same-day",
        "z-late",
    ]
    assert [p.file_slug for p in found.series["another-course"].parts] == ["other"]
    assert "none" not in found.of_post and not found.problems
    # The index of the whole blog reads what it was not given.
    assert read_index(tmp_path / "posts", tmp_path).series == found.series


def test_a_post_outside_any_series_keeps_its_render_key(tmp_path: Path) -> None:
    """The series term is added only for a part: every other post's key is as it was."""
    outside = read_post(write(tmp_path, "aside", "An aside", "2024-01-01"), tmp_path)
    part = read_post(write(tmp_path, "part", "A part", "2024-01-01", f"series: {SERIES}\n"), tmp_path)
    found = index([outside, part])
    assert found.listing(outside) is None
    assert render_key(outside, "e", "r", series=found.listing(outside)) == render_key(outside, "e", "r")
    listing = found.listing(part)
    assert listing is not None
    assert render_key(part, "e", "r", series=listing) != render_key(part, "e", "r")


def test_two_parts_with_one_series_order_fail_in_one_line_each(blog: Path) -> None:
    """Neither is executed: the build refuses them when it decides what to do."""
    write(blog, "one", "One", "2024-01-01", f"series: {SERIES}\nseries_order: 3\n")
    write(blog, "two", "Two", "2024-01-02", f"series: {SERIES}\nseries_order: 3\n")
    results = build(Options(root=blog, jobs=1))
    errors = {r.name: str(r.error) for r in results}
    assert statuses(results) == {"posts/one.ipynb": Status.FAILED, "posts/two.ipynb": Status.FAILED}
    assert errors["posts/one.ipynb"] == (
        "posts/one.ipynb: front matter: series_order 3 is also that of posts/two.ipynb in the series "
        f"{SERIES!r}; give each part its own number."
    )
    assert "\n" not in errors["posts/two.ipynb"] and "posts/one.ipynb" in errors["posts/two.ipynb"]
    assert not (blog / "site_src" / "series").exists()


def test_two_spellings_of_one_series_fail_the_second(tmp_path: Path) -> None:
    first = read_post(write(tmp_path, "a", "A", "2024-01-01", f"series: {SERIES}\n"), tmp_path)
    second = read_post(write(tmp_path, "b", "B", "2024-01-02", "series: linear   MODELS\n"), tmp_path)
    found = index([first, second])
    assert list(found.problems) == ["posts/b.ipynb"]
    message = str(found.problems["posts/b.ipynb"])
    assert (
        message.startswith("posts/b.ipynb: front matter: series 'linear MODELS' is spelled")
        and "\n" not in message
    )
    assert [p.file_slug for p in found.series[SLUG].parts] == ["a"]


# --- The built course --------------------------------------------------------------------------


@pytest.mark.slow
def test_each_part_shows_the_whole_series_in_order(course: Path) -> None:
    for number, slug in enumerate(["data", "fit", "errors"], 1):
        text = markdown(course, slug)
        head = f"Part {number} of 3 \u00b7 [{SERIES}](../series/{SLUG}.md)"
        assert head in text, text
        items = box_items(text)
        assert len(items) == 3
        for i, (other, title) in enumerate(
            [("data", "Reading the data"), ("fit", "Fitting a line"), ("errors", "Measuring the error")], 1
        ):
            if other == slug:
                assert (
                    items[i - 1]
                    == f'{i}. <span class="nbpress-series__current" aria-current="page">{title}</span>'
                )
            else:
                assert items[i - 1] == f"{i}. [{title}]({other}.md)"
        # The box opens the post; the summary is still the post's own first paragraph.
        body = text.split("\n---\n", 1)[1]
        assert body.lstrip().startswith('<nav class="nbpress-series"')
        assert "description: The opening paragraph of" in text
    assert "nbpress-series" not in markdown(course, "aside")


@pytest.mark.slow
def test_previous_and_next_at_the_ends(course: Path) -> None:
    first, middle, last = (markdown(course, s) for s in ("data", "fit", "errors"))
    assert (
        'rel="prev"' not in first
        and '[<span class="nbpress-series-nav__label">Next</span> Fitting a line](fit.md)' in first
    )
    assert (
        "Previous</span> Reading the data](data.md)" in middle
        and "Next</span> Measuring the error](errors.md)" in middle
    )
    assert 'rel="next"' not in last and "Previous</span> Fitting a line](fit.md)" in last
    # The links close the post, after the provenance line.
    assert middle.rstrip().endswith("</nav>") and middle.index("nbpress-provenance") < middle.index(
        'rel="prev"'
    )


@pytest.mark.slow
def test_the_series_page_lists_the_parts_with_dates_and_summaries(course: Path) -> None:
    page = (course / "site_src" / "series" / f"{SLUG}.md").read_text(encoding="utf-8")
    assert page.startswith(f"---\ntitle: {SERIES}\n")
    order = [
        page.index(f"[{t}](../posts/{s}.md)")
        for s, t in [
            ("data", "Reading the data"),
            ("fit", "Fitting a line"),
            ("errors", "Measuring the error"),
        ]
    ]
    assert order == sorted(order), page
    assert '<time datetime="2024-05-01">' in page and "    The opening paragraph of Fitting a line." in page
    assert "An aside" not in page
    listing = (course / "site_src" / "series" / "index.md").read_text(encoding="utf-8")
    assert f"- [{SERIES}]({SLUG}.md) \u00b7 3 parts" in listing


@pytest.mark.slow
def test_mkdocs_strict_and_zensical_build_the_course_and_links_land(course: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = mkdocs(course, "build", "--strict", "--site-dir", str(site))
    assert proc.returncode == 0, proc.stderr
    assert (site / "series" / SLUG / "index.html").is_file() and (site / "series" / "index.html").is_file()
    # The box and links are out of the search index: a part is found by its own words only.
    search = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    fit = " ".join(d["text"] for d in search["docs"] if d["location"].startswith("posts/fit/"))
    assert "Part 2 of 3" not in fit and "Reading the data" not in fit and "Measuring" not in fit
    assert "opening paragraph" in fit
    with serve(site, "/") as url, launch_chromium() as browser:
        for width in (390, 1280):
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.goto(f"{url}/posts/data/")
            assert page.locator(".nbpress-series__head").inner_text().startswith("Part 1 of 3")
            assert page.locator(".nbpress-series [aria-current=page]").inner_text() == "Reading the data"
            assert page.locator("a[rel=prev]").count() == 0
            page.locator("a[rel=next]").click()
            page.wait_for_url(f"{url}/posts/fit/")
            assert page.locator("h1").first.inner_text() == "Fitting a line"
            assert page.locator(".nbpress-series [aria-current=page]").inner_text() == "Fitting a line"
            page.locator("a[rel=next]").click()
            page.wait_for_url(f"{url}/posts/errors/")
            assert page.locator("a[rel=next]").count() == 0
            page.locator(".nbpress-series a", has_text="Reading the data").click()
            page.wait_for_url(f"{url}/posts/data/")
            page.locator(".nbpress-series__head a").click()
            page.wait_for_url(f"{url}/series/{SLUG}/")
            assert [a.inner_text() for a in page.locator("article ol > li a").all()] == [
                "Reading the data",
                "Fitting a line",
                "Measuring the error",
            ]
            # Neither box nor links make the page scroll sideways on a phone.
            page.goto(f"{url}/posts/fit/")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.goto(f"{url}/series/{SLUG}/")
            page.locator("article ol > li a", has_text="Fitting a line").click()
            page.wait_for_url(f"{url}/posts/fit/")
            page.context.close()
    zensical = zensical_build(course)
    text = (zensical / "posts" / "fit" / "index.html").read_text(encoding="utf-8")
    assert 'href="../data/"' in text and 'rel="next"' in text and f'href="../../series/{SLUG}/"' in text
    assert (zensical / "series" / SLUG / "index.html").is_file()


# --- Changes: renamed, drafted, removed ------------------------------------------------------


def edit_front(blog: Path, slug: str, old: str, new: str) -> None:
    """Replace `old` by `new` in the front matter of blog/posts/SLUG.ipynb."""
    path = blog / "posts" / f"{slug}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert old in nb.cells[0].source
    nb.cells[0].source = nb.cells[0].source.replace(old, new)
    nbformat.write(nb, path)


def retitle(blog: Path, slug: str, old: str, new: str) -> None:
    edit_front(blog, slug, f"title: {old}", f"title: {new}")


@pytest.mark.slow
def test_renaming_a_part_renders_its_siblings_again_without_running_them(course_copy: Path) -> None:
    blog = course_copy
    retitle(blog, "errors", "Measuring the error", "Measuring the errors")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results) == {
        "posts/data.ipynb": Status.CACHED,
        "posts/fit.ipynb": Status.CACHED,
        "posts/errors.ipynb": Status.CACHED,
        "posts/aside.ipynb": Status.UNCHANGED,
    }
    assert "3. [Measuring the errors](errors.md)" in box_items(markdown(blog, "data"))
    assert "Next</span> Measuring the errors](errors.md)" in markdown(blog, "fit")
    assert (
        "[Measuring the errors](../posts/errors.md)"
        in (blog / "site_src" / "series" / f"{SLUG}.md").read_text()
    )
    # A second build has nothing to do.
    assert set(statuses(build(Options(root=blog, jobs=2))).values()) == {Status.UNCHANGED}
    # A date that does not reorder the parts renders only its own post; one that does, all three.
    edit_front(blog, "errors", "date: 2024-01-01", "date: 2024-01-09")
    assert statuses(build(Options(root=blog, jobs=2)))["posts/data.ipynb"] is Status.UNCHANGED
    edit_front(blog, "fit", f"series: {SERIES}\nseries_order: 2\n", f"series: {SERIES}\n")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results)["posts/data.ipynb"] is Status.CACHED
    assert [item.split("]")[0] for item in box_items(markdown(blog, "data"))[1:]] == [
        "2. [Measuring the errors",
        "3. [Fitting a line",
    ]


@pytest.mark.slow
def test_a_draft_part_is_left_out_of_the_published_listing(course_copy: Path, tmp_path: Path) -> None:
    blog = course_copy
    write(blog, "extra", "An extra part", "2024-06-01", f"series: {SERIES}\ndraft: true\n")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results)["posts/extra.ipynb"] is Status.EXECUTED
    assert statuses(results)["posts/data.ipynb"] is Status.UNCHANGED  # a draft changes no published listing
    assert len(box_items(markdown(blog, "data"))) == 3
    assert "extra" not in (blog / "site_src" / "series" / f"{SLUG}.md").read_text()
    draft = markdown(blog, "extra")
    assert "Part 4 of 4" in draft and box_items(draft)[3].endswith('aria-current="page">An extra part</span>')
    assert "Previous</span> Measuring the error](errors.md)" in draft
    site = tmp_path / "site"
    assert mkdocs(blog, "build", "--strict", "--site-dir", str(site)).returncode == 0
    assert "An extra part" not in (site / "posts" / "errors" / "index.html").read_text(encoding="utf-8")
    # Published, it joins every part's listing, each rendered again without running.
    edit_front(blog, "extra", "draft: true\n", "")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results)["posts/data.ipynb"] is Status.CACHED
    assert box_items(markdown(blog, "data"))[3] == "4. [An extra part](extra.md)"


@pytest.mark.slow
def test_removing_the_series_from_every_part_removes_its_pages(course_copy: Path) -> None:
    blog = course_copy
    for slug, order in (("data", "series_order: 1\n"), ("fit", "series_order: 2\n"), ("errors", "")):
        edit_front(blog, slug, f"series: {SERIES}\n{order}", "")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results)["posts/aside.ipynb"] is Status.UNCHANGED
    assert {statuses(results)[f"posts/{s}.ipynb"] for s in ("data", "fit", "errors")} == {Status.CACHED}
    assert not (blog / "site_src" / "series").exists()
    assert all("nbpress-series" not in markdown(blog, s) for s in ("data", "fit", "errors"))
    assert results.changes.removed >= {f"site_src/series/{SLUG}.md", "site_src/series/index.md"}


@pytest.mark.slow
def test_a_series_page_nbpress_did_not_write_is_never_overwritten(course_copy: Path) -> None:
    blog = course_copy
    page = blog / "site_src" / "series" / f"{SLUG}.md"
    page.write_text("# My own page\n")
    results = build(Options(root=blog, jobs=2))
    failed = [r for r in results if r.status is Status.FAILED]
    assert [str(r.error) for r in failed] == [
        f"site_src/series/{SLUG}.md: exists and was not generated by nbpress, which would write a series' "
        "page there; move it away or rename the series."
    ]
    assert page.read_text() == "# My own page\n"
    # A generated page edited by hand is kept too, and removing the series does not delete it.
    page.unlink()
    ok(build(Options(root=blog, jobs=2)))
    page.write_text(page.read_text() + "\nMy note.\n")
    retitle(blog, "fit", "Fitting a line", "Fitting lines")
    results = build(Options(root=blog, jobs=2))
    assert any("was edited by hand" in str(r.error) for r in results if r.status is Status.FAILED)
    assert page.read_text().endswith("\nMy note.\n")


@pytest.mark.slow
def test_building_one_part_builds_the_parts_that_show_it(course_copy: Path) -> None:
    """`build.py errors` (or --watch seeing errors.ipynb change) renders its siblings again too."""
    blog = course_copy
    retitle(blog, "errors", "Measuring the error", "Errors")
    results = ok(build(Options(root=blog, slugs=("errors",), jobs=2)))
    assert statuses(results) == {
        "posts/errors.ipynb": Status.CACHED,
        "posts/data.ipynb": Status.CACHED,
        "posts/fit.ipynb": Status.CACHED,
    }
    assert "3. [Errors](errors.md)" in box_items(markdown(blog, "data"))
    # A post that joins the series is built with the parts it joins.
    edit_front(blog, "aside", "date: 2024-02-01\n", f"date: 2024-02-01\nseries: {SERIES}\n")
    results = ok(build(Options(root=blog, slugs=("aside",), jobs=2)))
    assert set(statuses(results)) == {f"posts/{s}.ipynb" for s in ("aside", "data", "fit", "errors")}
    assert "Part 4 of 4" in markdown(blog, "aside") and len(box_items(markdown(blog, "fit"))) == 4


def test_watch_rebuilds_every_part_when_one_changes(tmp_path: Path) -> None:
    from nbpress.watch import affected, inputs_by_path

    copy_skeleton(tmp_path)
    make_course(tmp_path)
    posts = (tmp_path / "posts").resolve()
    table = inputs_by_path(tmp_path)
    slugs, full = affected([("modified", posts / "errors.ipynb")], posts, table)
    assert (slugs, full) == ({"data", "fit", "errors"}, False)
    assert affected([("modified", posts / "aside.ipynb")], posts, table) == ({"aside"}, False)


@pytest.mark.slow
def test_a_part_that_has_no_page_is_named_unlinked(blog: Path, tmp_path: Path) -> None:
    """A part whose code fails is never published: its siblings name it without a link, and
    link over it; once it builds, they link it (rendered again, not run)."""
    write(blog, "p1", "Part one", "2024-01-01", f"series: {SERIES}\n")
    write(blog, "p2", "Part two", "2024-01-02", f"series: {SERIES}\n", "raise ValueError('not yet')")
    write(blog, "p3", "Part three", "2024-01-03", f"series: {SERIES}\n")
    results = build(Options(root=blog, jobs=2))
    assert statuses(results) == {
        "posts/p1.ipynb": Status.EXECUTED,
        "posts/p2.ipynb": Status.FAILED,
        "posts/p3.ipynb": Status.CACHED,  # its code is p1's: rendered from p1's run
    }
    first = markdown(blog, "p1")
    assert box_items(first)[1] == "2. Part two" and "Next</span> Part three](p3.md)" in first
    assert "Previous</span> Part one](p1.md)" in markdown(blog, "p3")
    page = (blog / "site_src" / "series" / f"{SLUG}.md").read_text(encoding="utf-8")
    assert "Part two" not in page.split("---\n", 2)[2] and "A series in 2 parts." in page
    proc = mkdocs(blog, "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(blog / "posts" / "p2.ipynb", as_version=4)
    nb.cells[-1].source = "print('now')"
    nbformat.write(nb, blog / "posts" / "p2.ipynb")
    results = ok(build(Options(root=blog, jobs=2)))
    assert statuses(results)["posts/p1.ipynb"] is Status.CACHED
    assert box_items(markdown(blog, "p1"))[1] == "2. [Part two](p2.md)"
    assert "Next</span> Part two](p2.md)" in markdown(blog, "p1")


@pytest.mark.slow
def test_a_part_that_fails_while_rendering_is_named_unlinked(blog: Path, tmp_path: Path) -> None:
    """The parts of a series wait for each other (a ring) and are published together at the end:
    one whose code runs but which cannot be rendered (a figure label on a cell that shows no figure)
    fails before any sibling is written, so none links its missing page."""
    for n, title in enumerate(("Part one", "Part two", "Part three", "Part four"), 1):
        code = "#| label: fig-none\nprint('no figure')" if n == 2 else "print('x')"
        write(blog, f"p{n}", title, f"2024-01-0{n}", f"series: {SERIES}\n", code)
    results = build(Options(root=blog, jobs=2))
    assert {r.name for r in results if r.status is Status.FAILED} == {"posts/p2.ipynb"}
    for slug in ("p1", "p3", "p4"):
        assert "p2.md" not in markdown(blog, slug), slug
        assert box_items(markdown(blog, slug))[1] == "2. Part two"
    assert "Previous</span> Part one](p1.md)" in markdown(blog, "p3")
    proc = mkdocs(blog, "build", "--strict", "--site-dir", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_check_names_a_series_page_the_build_would_change(course_copy: Path) -> None:
    from nbpress.check import Problem, find_stale

    blog = course_copy
    assert find_stale(blog) == (4, [])
    page = blog / "site_src" / "series" / f"{SLUG}.md"
    text = page.read_text(encoding="utf-8")
    page.unlink()
    findings = find_stale(blog)[1]
    assert [(f.name, f.problem) for f in findings] == [(f"site_src/series/{SLUG}.md", Problem.MISSING)]
    page.write_text(text.replace("A series in 3 parts.", "A series in 2 parts."), encoding="utf-8")
    assert [f.problem for f in find_stale(blog)[1]] == [Problem.EDITED]
    results = build(Options(root=blog, jobs=2))  # refused: the edit is kept
    assert [r.name for r in results if r.status is Status.FAILED] == [f"site_src/series/{SLUG}.md"]
    assert page.read_text(encoding="utf-8") != text
    page.unlink()
    ok(build(Options(root=blog, jobs=2)))
    assert page.read_text(encoding="utf-8") == text and find_stale(blog) == (4, [])
