"""Sources: what authors write (notebooks, text notebooks, front matter, authors), read into Posts."""
