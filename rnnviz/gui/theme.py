"""Colours, colour maps and fonts for every view, in a light and a dark theme.

Line colours come from the Okabe–Ito palette and images use cividis/viridis, so all of it reads for
colour-blind viewers. Views take a `Theme` in `apply_theme(theme)`; nothing else hard-codes a colour.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable with any colour vision.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}


@dataclass(frozen=True)
class Theme:
    """One look for the whole window: Qt palette colours, plot colours and colour maps."""

    name: str
    window: str          # panel background
    base: str            # text-field / plot background
    text: str            # foreground text and axes
    muted: str           # secondary text, grid lines
    highlight: str       # selection and focus
    loss_raw: str        # loss per iteration (thin)
    loss_smooth: str     # smoothed loss (thick)
    grad_before: str     # ‖g‖ before clipping
    grad_after: str      # ‖g‖ after clipping
    threshold: str       # the clipping threshold τ
    clip_event: str      # an iteration that was clipped
    diverged: str        # divergence marker
    crosshair: str
    banner_background: str
    banner_text: str
    colormap: str = "cividis"        # sequential map for magnitudes (log |gradient|, activations)
    alt_colormap: str = "viridis"

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Theme(
    name="light", window="#EEF0F3", base="#FFFFFF", text="#1F2328", muted="#8C959F",
    highlight=OKABE_ITO["blue"],
    loss_raw="#9EC9E8", loss_smooth=OKABE_ITO["blue"],
    grad_before=OKABE_ITO["blue"], grad_after=OKABE_ITO["orange"], threshold="#57606A",
    clip_event=OKABE_ITO["vermillion"], diverged=OKABE_ITO["vermillion"], crosshair="#6E7781",
    banner_background="#FDE7DC", banner_text="#7A2600",
)

DARK = Theme(
    name="dark", window="#23262B", base="#181A1E", text="#E6E6E6", muted="#7D8590",
    highlight=OKABE_ITO["sky"],
    loss_raw="#3D6E8F", loss_smooth=OKABE_ITO["sky"],
    grad_before=OKABE_ITO["sky"], grad_after=OKABE_ITO["orange"], threshold="#AAB2BD",
    clip_event=OKABE_ITO["vermillion"], diverged="#FF7A45", crosshair="#9BA3AE",
    banner_background="#5C1F05", banner_text="#FFE3D6",
)

THEMES: dict[str, Theme] = {"light": LIGHT, "dark": DARK}


def get_theme(name: str) -> Theme:
    """The theme called `name`, or the light one if the name is unknown (e.g. from old settings)."""
    return THEMES.get(name, LIGHT)


def colormap(name: str = "cividis"):
    """A pyqtgraph ColorMap (cividis and viridis are perceptually uniform and colour-blind safe)."""
    import pyqtgraph as pg

    return pg.colormap.get(name)


def lookup_table(name: str = "cividis", points: int = 256):
    """(points, 4) uint8 RGBA lookup table for `ImageItem.setLookupTable`."""
    return colormap(name).getLookupTable(0.0, 1.0, points, alpha=True)


def qt_palette(theme: Theme):
    """A QPalette for the Fusion style in this theme."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: theme.window, role.WindowText: theme.text, role.Base: theme.base,
        role.AlternateBase: theme.window, role.Text: theme.text, role.Button: theme.window,
        role.ButtonText: theme.text, role.ToolTipBase: theme.base, role.ToolTipText: theme.text,
        role.Highlight: theme.highlight, role.HighlightedText: "#FFFFFF", role.Link: theme.highlight,
        role.PlaceholderText: theme.muted,
    }
    for r, colour in colours.items():
        palette.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor(theme.muted))
    return palette


def apply_to_application(app, theme: Theme) -> None:
    """Fusion style with the theme's palette, so light and dark look the same on every platform."""
    app.setStyle("Fusion")
    app.setPalette(qt_palette(theme))
