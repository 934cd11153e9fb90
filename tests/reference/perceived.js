// What a reader perceives of each output of a post (tests/test_reference.py), in the nbpress
// site ("site") or in nbconvert's HTML of the same executed notebook ("jupyter"): for every
// `# ref: <name>` cell, its text (math replaced by <math>), its math (TeX source and whether it
// shares its block with other text), its pictures (size, loaded, colours of an SVG), its tables,
// a drawn chart's text, and whether its code and its printed output scroll sideways.
(async (mode) => {
  const ctx = document.createElement('canvas').getContext('2d');
  const colour = v => {
    if (!v || v === 'none' || v.startsWith('url(')) return null;
    ctx.fillStyle = '#010203'; ctx.fillStyle = v;
    return ctx.fillStyle === '#010203' && v.replace(/\s/g, '') !== '#010203' ? null : ctx.fillStyle;
  };
  const SHAPES = 'rect, circle, ellipse, path, polygon, polyline, line';
  const shapeColours = (svg, computed) => {
    const found = new Set();
    for (const shape of svg.querySelectorAll(SHAPES)) {
      const style = computed ? getComputedStyle(shape) : shape.style;
      for (const prop of ['fill', 'stroke']) {
        const value = colour(style[prop] || shape.getAttribute(prop) || (prop === 'fill' && !computed ? 'black' : ''));
        const none = computed && prop === 'stroke' && style.strokeWidth === '0px';
        if (value && !none) found.add(value);
      }
    }
    return [...found].sort();
  };
  const visible = el => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const pictures = async els => {
    const found = [];
    for (const root of els) {
      const all = [];
      const walk = node => {  // into shadow roots too (BokehJS draws in one)
        if (node.matches && node.matches('img, svg, canvas')) all.push(node);
        for (const child of [...(node.shadowRoot ? node.shadowRoot.children : []), ...node.children]) walk(child);
      };
      walk(root);
      for (const el of all) {
        if ((el.parentElement && el.parentElement.closest('svg')) || !visible(el)) continue;
        const r = el.getBoundingClientRect();
        const item = {tag: el.tagName.toLowerCase(), width: Math.round(r.width), height: Math.round(r.height)};
        if (item.tag === 'img') {
          item.src = el.getAttribute('src');
          await el.decode().catch(() => null);
          item.loaded = el.complete && el.naturalWidth > 0;
          if (/\.svg($|\?)|^data:image\/svg/.test(item.src) && item.loaded) {
            const text = await (await fetch(el.src)).text();
            const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
            item.colours = shapeColours(doc, false);
          }
        } else if (item.tag === 'svg') {
          item.colours = shapeColours(el, true);
          item.loaded = true;
        } else {
          item.loaded = true;
        }
        found.push(item);
      }
    }
    return found;
  };
  // Text with each typeset formula replaced by its source, and every cell, paragraph or line
  // break ended by a space (so table cells never run together).
  const textOf = els => els.map(el => {
    const clone = el.cloneNode(true);
    clone.querySelectorAll('.katex-display').forEach(d => {
      const tex = d.querySelector('annotation');
      d.replaceWith(`$$${tex ? tex.textContent : ''}$$`);
    });
    clone.querySelectorAll('.katex').forEach(k => {
      const tex = k.querySelector('annotation');
      k.replaceWith(`$${tex ? tex.textContent : ''}$`);
    });
    clone.querySelectorAll('style, script, .nbpress-chart').forEach(e => e.remove());
    clone.querySelectorAll('td, th, p, div, li, br, h1, h2, h3, tr').forEach(e => e.append(' '));
    return clone.textContent;
  }).join(' ').replace(/\s+/g, ' ').trim();
  // Each formula: its source and whether it shares its block with other text (inline) or not.
  const MATH = /\$\$([\s\S]+?)\$\$|\$([^$]+?)\$/g;
  const mathOf = els => {
    const found = [];
    for (const el of els) {
      const blocks = [...(el.matches('p, li, td, th') ? [el] : []), ...el.querySelectorAll('p, li, td, th, div.arithmatex, .jp-RenderedLatex, .nbpress-equation')];
      const seen = new Set();
      for (const block of blocks.length ? blocks : [el]) {
        if ([...seen].some(b => b.contains(block))) continue;
        seen.add(block);
        const text = textOf([block]);
        const rest = text.replace(MATH, '').replace(/\{#eq-[\w-]+\}/, '').trim();
        for (const m of text.matchAll(MATH)) {
          const tex = (m[1] || m[2]).replace(/\\displaystyle|\\tag\{\d+\}/g, '').replace(/\s+/g, '');
          found.push({tex, inline: !m[1] && rest !== ''});
        }
      }
    }
    return found;
  };
  const tables = els => els.flatMap(el => [...el.querySelectorAll('table')]).map(t => {
    const cells = [...t.querySelectorAll('td, th')];
    const styled = cells.filter(c => colour(getComputedStyle(c).backgroundColor) && getComputedStyle(c).backgroundColor !== 'rgba(0, 0, 0, 0)');
    const box = t.getBoundingClientRect();
    return {
      cells: cells.map(c => c.textContent.trim()),
      coloured: styled.map(c => [c.textContent.trim(), colour(getComputedStyle(c).backgroundColor)]),
      width: box.width, scrolls: t.scrollWidth > t.clientWidth + 1,
      cellBorders: cells.filter(c => ['Left', 'Right', 'Bottom'].some(s => parseFloat(getComputedStyle(c)['border' + s + 'Width']) > 0)).length,
      column: (t.closest('.md-content__inner, .jp-OutputArea-output') || t.parentElement).getBoundingClientRect().width,
    };
  });

  const groups = {};
  if (mode === 'site') {
    const article = document.querySelector('article.md-content__inner');
    let name = 'prose';
    groups[name] = [];
    for (const el of article.children) {
      const code = el.matches('div.highlight:not(.nbpress-output)') ? el.textContent.match(/^# ref: ([\w-]+)/) : null;
      if (code) { name = code[1]; groups[name] = []; groups[name].code = el; continue; }
      if (el.matches('.nbpress-provenance')) break;
      if (name === 'prose' && !el.matches('p:not([class]), div.nbpress-equation')) continue;
      groups[name].push(el);
    }
  } else {
    groups.prose = [...document.querySelector('.jp-MarkdownCell .jp-RenderedMarkdown').children].filter(e => !e.matches('h1'));
    for (const cell of document.querySelectorAll('.jp-CodeCell')) {
      const code = cell.querySelector('.jp-InputArea pre').textContent.match(/^# ref: ([\w-]+)/);
      if (!code) continue;
      groups[code[1]] = [...cell.querySelectorAll('.jp-OutputArea-output')];
      groups[code[1]].code = cell.querySelector('.jp-InputArea pre');
    }
  }
  const result = {};
  for (const [name, els] of Object.entries(groups)) {
    const code = els.code ? (els.code.querySelector('code') || els.code) : null;
    const pre = els.flatMap(e => [...e.querySelectorAll('pre')]);
    result[name] = {
      text: textOf(els).replace(MATH, '<math>').replace(/ ?\{#eq-[\w-]+\}/, ''), math: mathOf(els), pictures: await pictures(els), tables: tables(els),
      html: els.map(e => e.outerHTML).join('\n'),
      // Each formula KaTeX typeset, as laid out: inline when it flows in its line.
      mathBoxes: els.flatMap(e => [...e.querySelectorAll('.katex')]).filter(k => !k.parentElement.closest('.katex')).map(k => ({
        inline: !k.closest('.katex-display') && [k, ...[k.closest('.arithmatex')].filter(Boolean)]
          .every(b => getComputedStyle(b).display.startsWith('inline')),
      })),
      // What a drawn chart shows as text (its title, labels, a widget's description).
      chartText: els.filter(e => e.matches('.nbpress-chart')).map(e => {
        const clone = e.cloneNode(true);
        // KaTeX's MathML copy (for screen readers, clipped out of sight) holds the TeX source.
        clone.querySelectorAll('script, style, .katex-mathml').forEach(x => x.remove());
        return clone.textContent;
      }).join(' ').replace(/\s+/g, ' ').trim(),
      codeScrolls: code ? code.scrollWidth > code.clientWidth + 1 : null,
      outputScrolls: pre.some(p => { const c = p.querySelector('code') || p; return c.scrollWidth > c.clientWidth + 1; }),
    };
  }
  result.pageWidth = document.documentElement.scrollWidth;
  return result;
})
