"""Sound and video outputs: IPython.display.Audio and Video, matplotlib's to_html5_video.

Jupyter plays an output's <audio> and <video>. The site's policy loads media from the site
only (`media-src 'self'`), so each clip an output embeds as data: becomes a file of the post
(output_<cell>_<n><ext>, as a figure does), a clip beside the notebook is published as a
local image is, and one from another host is left out with a warning, as an image is. The
sanitizer keeps the elements and their harmless attributes only.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from nbpress.rendering.sanitize import sanitize_html
from tests.helpers import build_cli, launch_chromium, mkdocs, watch_policy, zensical_build
from tests.siteserver import serve

WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()


@pytest.mark.parametrize(
    ("html", "kept", "remote"),
    [
        # IPython.display.Audio's markup
        (
            f'<audio controls="controls"><source src="data:audio/wav;base64,{WAV}" type="audio/wav" />'
            "Your browser does not support the audio element.</audio>",
            f'<audio controls="controls"><source src="data:audio/wav;base64,{WAV}" type="audio/wav">'
            "Your browser does not support the audio element.</audio>",
            [],
        ),
        # matplotlib's to_html5_video: autoplay is not kept (nothing plays unasked)
        (
            '<video width="432" height="288" controls autoplay loop><source type="video/mp4" '
            'src="data:video/mp4;base64,AAAAGGZ0eXA="></video>',
            '<video width="432" height="288" controls="" loop=""><source type="video/mp4" '
            'src="data:video/mp4;base64,AAAAGGZ0eXA="></video>',
            [],
        ),
        ('<video src="clip.mp4" controls></video>', '<video src="clip.mp4" controls=""></video>', []),
        # handlers, other hosts, script and other data: types are taken out
        (
            '<audio src="data:audio/wav;base64,AA==" onplay="alert(1)"></audio>',
            '<audio src="data:audio/wav;base64,AA=="></audio>',
            [],
        ),
        (
            '<video poster="http://example.invalid/p.png" src="javascript:alert(1)"></video>',
            "<video></video>",
            ["http://example.invalid/p.png", "javascript:alert(1)"],
        ),
        (
            '<audio><source src="http://example.invalid/a.mp3">'
            '<source src="data:text/html;base64,PHNjcmlwdD4="><track src="t.vtt"></audio>',
            "<audio><source><source></audio>",
            ["http://example.invalid/a.mp3", "data:text/html;base64,PHNjcmlwdD4="],
        ),
    ],
)
def test_the_sanitizer_keeps_sound_and_video_from_the_site_or_embedded(
    html: str, kept: str, remote: list[str]
) -> None:
    found: list[str] = []
    assert sanitize_html(html, found) == kept
    assert found == remote


CELLS = [
    "import numpy as np\nfrom IPython.display import HTML, Audio, Video\n"
    "rate = 8000\nt = np.linspace(0, 0.5, rate // 2, endpoint=False)\n"
    "Audio(np.sin(2 * np.pi * 440 * t), rate=rate)",
    "Video(b'\\x00\\x00\\x00\\x18ftypmp42' + bytes(64), embed=True, mimetype='video/mp4')",
    "Video('clip.mp4')",
    'HTML(\'<video controls><source src="clip.mp4" type="video/mp4"></video>\')',  # no text: still shown
    "HTML('<audio controls src=\"http://example.invalid/tone.mp3\"></audio>')",
    # matplotlib's JavaScript player (rc animation.html = jshtml): its frames, an animated PNG
    "import matplotlib.pyplot as plt\nfrom matplotlib import animation, rc\nrc('animation', html='jshtml')\n"
    "fig, ax = plt.subplots(figsize=(2, 2))\nline, = ax.plot([0, 1], [0, 0])\n"
    "def step(i):\n    line.set_ydata([0, i / 4])\n    return (line,)\n"
    "anim = animation.FuncAnimation(fig, step, frames=5, interval=120)\nplt.close(fig)\nanim",
]


@pytest.fixture(scope="module")
def media_blog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a blog whose one post plays a sound and shows videos, built (no site yet)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_raw_cell

    from tests.skeleton import copy_skeleton

    root = copy_skeleton(tmp_path_factory.mktemp("media") / "blog")
    posts = root / "posts"
    for old in posts.glob("*.ipynb"):
        old.unlink()
    (posts / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [new_raw_cell("---\ntitle: Sound\ndate: 2024-01-01\n---")]
    nb.cells += [new_code_cell(source) for source in CELLS]
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"c{n}"
    nbformat.write(nb, posts / "sound.ipynb")
    proc = build_cli(root)
    assert proc.returncode == 0, proc.stderr
    (root / "build.txt").write_text(proc.stderr, encoding="utf-8")
    return root


@pytest.mark.slow
def test_embedded_clips_become_files_and_a_clip_from_elsewhere_a_warning(media_blog: Path) -> None:
    figures = media_blog / "assets" / "images" / "sound"
    assert sorted(p.name for p in figures.iterdir()) == [
        "clip.mp4",
        "output_1_0.wav",
        "output_2_0.mp4",
        "output_6_0.png",
    ]
    assert (figures / "output_1_0.wav").read_bytes()[:4] == b"RIFF"
    assert (figures / "output_2_0.mp4").read_bytes() == (figures / "clip.mp4").read_bytes()
    markdown = (media_blog / "site_src" / "posts" / "sound.md").read_text(encoding="utf-8")
    assert '<source src="./../assets/images/sound/output_1_0.wav" type="audio/wav">' in markdown
    assert '<source src="./../assets/images/sound/output_2_0.mp4" type="video/mp4">' in markdown
    assert '<video src="./../assets/images/sound/clip.mp4" controls="">' in markdown
    assert '<source src="./../assets/images/sound/clip.mp4" type="video/mp4">' in markdown
    assert "data:audio" not in markdown and "data:video" not in markdown
    warnings = [line for line in (media_blog / "build.txt").read_text().splitlines() if "warning" in line]
    assert len(warnings) == 2, warnings  # the remote clip, and the output it leaves empty
    assert warnings[0].startswith("warning: posts/sound.ipynb, cell 6: 'http://example.invalid/tone.mp3'")
    from PIL import Image

    with Image.open(figures / "output_6_0.png") as animated:  # each frame of the player, in order
        assert (animated.is_animated, animated.n_frames) == (True, 5)
        assert abs(animated.info["duration"] - 120) <= 1  # the player's interval, as matplotlib wrote it
    assert "![Sound, figure 1](../assets/images/sound/output_6_0.png)" in markdown
    # The download keeps its clips embedded: it plays in Jupyter, away from the site.
    download = next((media_blog / "assets" / "notebooks" / "sound").glob("*.ipynb"))
    assert "data:audio/wav;base64," in json.dumps(json.loads(download.read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("renderer", ["mkdocs", "zensical"])
def test_the_sound_plays_from_the_site_under_its_policy(
    media_blog: Path, renderer: str, tmp_path: Path
) -> None:
    if renderer == "mkdocs":
        site = tmp_path / "site"
        built = mkdocs(media_blog, "build", "--strict", "--site-dir", str(site))
        assert built.returncode == 0, built.stderr
    else:
        site = zensical_build(media_blog)
    with serve(site) as base, launch_chromium() as browser:
        context = browser.new_context()
        violations = watch_policy(context)
        page = context.new_page()
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(base + "posts/sound/")
        # The browser read the sound file: its length is the half second the cell made.
        duration = page.wait_for_function(
            "() => { const a = document.querySelector('audio');"
            " return a && a.readyState >= 1 && a.duration; }"
        ).json_value()
        assert abs(duration - 0.5) < 0.01
        sources = page.eval_on_selector_all(
            "video source, video[src]",
            "els => els.map(e => new URL(e.src || e.getAttribute('src'), location).pathname)",
        )
        assert sorted(sources) == ["/assets/images/sound/clip.mp4"] * 2 + [
            "/assets/images/sound/output_2_0.mp4"
        ]
        for path in sources:
            assert page.request.get(base + path.lstrip("/")).ok, path
        context.close()
    assert violations == [] and failed == [], (violations, failed)


def test_a_clip_too_large_to_publish_is_left_out_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from nbpress.rendering import figures
    from nbpress.rendering.transform import _media_files

    monkeypatch.setattr(figures, "MAX_MEDIA_BYTES", 10)
    res = SimpleNamespace(files={}, image_base="../assets/images/p/")
    small, large = base64.b64encode(b"RIFF").decode(), base64.b64encode(b"RIFF" * 10).decode()
    html = (
        f'<audio controls=""><source src="data:audio/wav;base64,{small}" type="audio/wav"></audio>'
        f'<audio controls=""><source src="data:audio/wav;base64,{large}" type="audio/wav"></audio>'
    )
    warnings: list[str] = []
    out = _media_files(html, 3, 0, res, "posts/p.ipynb, cell 4", warnings)  # type: ignore[arg-type]
    assert out == (
        '<audio controls=""><source src="./../assets/images/p/output_3_0.wav" type="audio/wav"></audio>'
        '<audio controls=""><source type="audio/wav"></audio>'
    )
    assert res.files == {"output_3_0.wav": b"RIFF"}
    assert warnings == [
        "posts/p.ipynb, cell 4: the embedded clip is 0.0 MB, over the 0 MB a clip may be, so it is "
        "left out; show a shorter or smaller one."
    ]


def _player(*frames: bytes, interval: float = 100.0) -> str:
    """Return the part of matplotlib's player markup the build reads: its frames and interval."""
    lines = [
        f'  frames[{n}] = "data:image/png;base64,{base64.b64encode(f).decode()}"'
        for n, f in enumerate(frames)
    ]
    return "\n".join(lines) + f"\nanim1 = new Animation(frames, img_id, slider_id, {interval},\n"


def test_an_animation_that_cannot_be_an_image_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from PIL import Image

    from nbpress.rendering import figures

    def png_of(colour: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (20, 10), colour).save(buffer, format="PNG")
        return buffer.getvalue()

    frame, other = png_of("white"), png_of("black")
    png, why = figures.animation_png(_player(frame, other, interval=50.0))
    assert why is None and png is not None
    with Image.open(io.BytesIO(png)) as animated:
        assert (animated.n_frames, animated.info["duration"], animated.size) == (2, 50, (20, 10))
    assert figures.animation_png(_player(frame, b"not an image")) == (
        None,
        "has a frame that is not an image",
    )
    assert figures.animation_png(_player(frame, frame[:40])) == (None, "has a frame that is not an image")
    monkeypatch.setattr(figures, "MAX_FIGURE_PIXELS", 300)  # two 200-pixel frames: over
    assert figures.animation_png(_player(frame, frame)) == (
        None,
        "holds 2 frames, over the 0 megapixels a figure may have",
    )
    assert figures.animation_png("<div>no player</div>") == (None, None)
