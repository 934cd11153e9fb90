"""Sound and video outputs: <audio>, <video> and <source> are kept, their clips made files.

Every way those elements run script or load another document: error and play handlers on the
element and its sources, javascript: and data:text/html as a clip or a poster, a <track>, a
clip's type that is no sound or video, a file name that breaks out of its attribute. The
clips that are sound and video (IPython.display.Audio's own markup) are kept and must load
from the site with nothing run.
"""

from __future__ import annotations

import base64

from tests.attack_kit import Posts, pwn, show

WAV = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()
HTML_PAGE = base64.b64encode(f"<script>{pwn('media-data-html-run')}</script>".encode()).decode()

MEDIA = [
    f'<video src="missing.mp4" onerror="{pwn("media-video-onerror")}" controls></video>',
    f'<audio controls onloadstart="{pwn("media-audio-onloadstart")}">'
    f'<source src="data:audio/wav;base64,{WAV}" onerror="{pwn("media-source-onerror")}" '
    'type="audio/wav"></audio>',
    f'<video controls src="javascript:{pwn("media-video-javascript")}"></video>',
    f'<video controls poster="javascript:{pwn("media-poster-javascript")}"></video>',
    f'<video controls><source src="data:text/html;base64,{HTML_PAGE}"></video>',
    f'<audio controls src="data:audio/wav;base64,{WAV}&quot; '
    f'onplay=&quot;{pwn("media-quote-breakout")}"></audio>',
    f'<video controls><track kind="captions" src="data:text/vtt;base64,V0VCVlRU" '
    f'onload="{pwn("media-track-onload")}"></video>',
    f'<video controls><source src="data:video/mp4;base64,AAAA" type="video/mp4" '
    f'onerror="{pwn("media-embedded-onerror")}"></video>',
]

POSTS: Posts = {}
POSTS["media-outputs"] = (
    {},
    [
        (show("HTML", *MEDIA), []),
        (
            "import numpy as np\nfrom IPython.display import Audio\nAudio(np.zeros(800), rate=8000)",
            [],
        ),
    ],
)
CLICKS = {"media-outputs": "audio, video"}
