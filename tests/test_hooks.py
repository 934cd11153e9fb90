"""hooks/reader.py's fixes to the RSS plugin's feed, on a feed file as the plugin writes it.

The built site's feed is checked end to end in tests/test_attacks.py and tests/test_reader.py;
this is the fast tier's check of the rewriting itself.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from hooks.reader import on_post_build

FEED = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"><channel><title>nbpress blog</title>
<item><title>{title}</title><description>{description}</description>
<enclosure url="https://example.org/blog/assets/images/p/output_1_0.png" type="image/png" length="None" />
</item></channel></rss>
"""


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("A &amp; B &amp;lt; C", "A & B < C"),  # front matter HTML text, escaped again by the plugin
        (
            "&amp;lt;/title&amp;gt;&amp;lt;script&amp;gt;x()&amp;lt;/script&amp;gt;",
            "</title><script>x()</script>",
        ),
        ("x&amp;quot; onload=&amp;quot;y", 'x" onload="y'),
        ("Plain title", "Plain title"),
    ],
)
def test_feed_titles_read_as_typed(tmp_path: Path, written: str, typed: str) -> None:
    (tmp_path / "assets" / "images" / "p").mkdir(parents=True)
    (tmp_path / "assets" / "images" / "p" / "output_1_0.png").write_bytes(b"12345")
    feed = tmp_path / "feed_rss_created.xml"
    feed.write_text(FEED.format(title=written, description="Fish &amp; chips &amp;lt; 3"), encoding="utf-8")
    on_post_build({"site_dir": str(tmp_path), "site_url": "https://example.org/blog/"})
    root = ET.parse(feed).getroot()
    [item] = root.iter("item")
    assert item.findtext("title") == typed
    # A description is HTML (RSS 2.0): kept as the plugin wrote it, so a reader shows "<".
    assert item.findtext("description") == "Fish & chips &lt; 3"
    enclosure = item.find("enclosure")
    assert enclosure is not None and enclosure.get("length") == "5"
