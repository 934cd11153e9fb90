// Typeset the math that pymdownx.arithmatex (generic mode) wraps in .arithmatex, with the
// KaTeX copy the site serves itself. document$ also fires after Material's instant navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
  });
});
