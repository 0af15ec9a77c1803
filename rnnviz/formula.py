"""The stepper's formulas as written once and shown two ways: plain text and typeset (no Qt).

Formulas are written in a small TeX-like markup so they read like the lecture:

    "J_t = diag(f′(a_t)) W_H^T"        "δ_{t−1} ← δ_t J_t"        "Σ_{s=t}^{T} h_{s−1}^T δ_s"

``_x`` / ``^x`` put one character (or ``_{…}`` / ``^{…}`` a group) below or above the line; ``^T``
is the transpose. `plain` gives one line of text ("h_(t−1) W_Hᵀ") for the terminal and the tests,
`rich` the HTML subset Qt's rich text draws (<sub>, <sup>, italic single-letter variables), so no
image renderer or TeX installation is needed and the text stays selectable and follows the font.
"""

from __future__ import annotations

import html
import re

#: Upright words inside formulas (function names and words); single letters are variables, set in italics.
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|[α-ω]")       # "mean's" is one word
_SUPERSCRIPTS = str.maketrans("0123456789-−+T()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻⁺ᵀ⁽⁾")


def _parse(text: str) -> list[tuple[str, str]]:
    """Split markup into (where, text) pieces, where is "" (on the line), "_" or "^"."""
    pieces: list[tuple[str, str]] = []
    i, n = 0, len(text)
    plain_start = 0
    while i < n:
        char = text[i]
        if char in "_^" and i + 1 < n:
            if plain_start < i:
                pieces.append(("", text[plain_start:i]))
            if text[i + 1] == "{":
                end = text.index("}", i + 2)
                pieces.append((char, text[i + 2:end]))
                i = end + 1
            else:
                pieces.append((char, text[i + 1]))
                i += 2
            plain_start = i
        else:
            i += 1
    if plain_start < n:
        pieces.append(("", text[plain_start:]))
    return pieces


def plain(text: str) -> str:
    """One line of plain text: h_{t−1} → h_(t−1), W_H^T → W_Hᵀ, δ_t stays δ_t."""
    out = []
    for where, piece in _parse(text):
        if where == "_":
            out.append(f"_{piece}" if len(piece) == 1 else f"_({piece})")
        elif where == "^":
            raised = piece.translate(_SUPERSCRIPTS)
            out.append(raised if all(c in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵀ⁽⁾" for c in raised) else f"^({piece})")
        else:
            out.append(piece)
    return "".join(out)


def _italic_variables(text: str, labels_upright: bool = False) -> str:
    """HTML-escape `text` and set single-letter variables (x, h, W, δ …) in italics, words upright.
    In subscripts (`labels_upright`) capitals are names, not variables: the I, H of W_I, W_H."""
    out, last = [], 0
    for match in _TOKEN.finditer(text):
        out.append(html.escape(text[last:match.start()], quote=False))
        word = match.group()
        variable = len(word) == 1 and not (labels_upright and word.isupper())
        out.append(f"<i>{word}</i>" if variable else html.escape(word, quote=False))
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def rich(text: str) -> str:
    """Qt rich text: subscripts and superscripts as <sub>/<sup>, variables in italics, ᵀ for ^T."""
    out = []
    for where, piece in _parse(text):
        if where == "^" and piece == "T":
            out.append("ᵀ")
        elif where:
            tag = "sub" if where == "_" else "sup"
            out.append(f"<{tag}>{_italic_variables(piece, labels_upright=True)}</{tag}>")
        else:
            out.append(_italic_variables(piece))
    return "".join(out)
