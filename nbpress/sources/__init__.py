"""Sources: what authors write (notebooks, text notebooks, front matter, authors), read into Posts.

The stage's public face: the other stages import these names from here.
"""

from .authors import keys_by_name, read_authors
from .posts import FASTPAGES, SOURCE_SUFFIXES, Post, discover, name_slug, read_post
from .scaffold import new_post

__all__ = [
    "FASTPAGES",
    "SOURCE_SUFFIXES",
    "Post",
    "discover",
    "keys_by_name",
    "name_slug",
    "new_post",
    "read_authors",
    "read_post",
]
