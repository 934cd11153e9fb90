"""MkDocs hooks (mkdocs.yml `hooks:`); a package so tests import them as hooks.reader."""
