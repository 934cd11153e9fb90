"""Publishing: the only writer of the published tree (site_src/posts/, assets/images/)."""
