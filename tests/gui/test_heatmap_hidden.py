"""A heatmap in a hidden tab keeps the rows it is fed but colours none of them (a recording feeds
the hidden Gradients tab every frame); shown, it draws the image a heatmap on screen all along drew."""

import numpy as np
from PySide6.QtWidgets import QLabel, QTabWidget

from rnnviz.gui.heatmap import ContributionHeatmap
from rnnviz.session import Session
from rnnviz.settings import Settings

ROWS = 5   # fewer than the iterations fed: the ring buffer wraps while the tab is hidden


def batches():
    """A restart snapshot, then 14 iterations in batches of 1 to 4 (a new T halfway: lag 6 → 4)."""
    s = Session(Settings(task="recall", lag=6, hidden=6, batch=2))
    out = [s.snapshot()] + [tuple(s.run(n)) for n in (3, 1, 4)]
    s.apply(s.settings.replace(lag=4))
    return out + [tuple(s.run(n)) for n in (2, 4)]


def shown_heatmap(qtbot) -> ContributionHeatmap:
    heatmap = ContributionHeatmap(rows=ROWS)
    qtbot.addWidget(heatmap)
    heatmap.show()
    return heatmap


def hidden_heatmap(qtbot) -> tuple[QTabWidget, ContributionHeatmap]:
    tabs = QTabWidget(objectName="tabs")
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("another page"), "Training")
    heatmap = ContributionHeatmap(rows=ROWS)
    tabs.addTab(heatmap, "Gradients")
    tabs.show()
    return tabs, heatmap


def feed(heatmap, fed) -> None:
    heatmap.restart(fed[0])
    for batch in fed[1:]:
        heatmap.show_snapshots(batch)


def test_a_hidden_heatmap_colours_nothing_and_shows_what_a_shown_one_drew(qtbot, monkeypatch):
    fed = batches()
    reference = shown_heatmap(qtbot)
    feed(reference, fed)
    tabs, heatmap = hidden_heatmap(qtbot)
    coloured = []
    coords = heatmap.scale.coords
    monkeypatch.setattr(heatmap.scale, "coords", lambda values, *a: coloured.append(len(values)) or coords(values, *a))
    feed(heatmap, fed)
    assert not heatmap.isVisible() and coloured == []
    tabs.setCurrentWidget(heatmap)
    assert heatmap.isVisible() and coloured == [ROWS]    # the newest rows, once
    np.testing.assert_array_equal(heatmap.image.image, reference.image.image)
    np.testing.assert_array_equal(heatmap.rows_in_order()[1], reference.rows_in_order()[1])


def test_a_scale_changed_while_hidden_applies_to_every_row_once_shown(qtbot):
    fed = batches()
    reference = shown_heatmap(qtbot)
    feed(reference, fed[:3])
    tabs, heatmap = hidden_heatmap(qtbot)
    feed(heatmap, fed[:3])
    for each in (reference, heatmap):
        each.set_absolute(True)
        each.show_snapshots(fed[3])
    tabs.setCurrentWidget(heatmap)
    np.testing.assert_array_equal(heatmap.image.image, reference.image.image)



def test_rows_fed_in_a_hidden_tab_are_coloured_when_the_next_rows_are_drawn(qtbot):
    """Rows fed while the tab was hidden, then more while the whole window was hidden (so the
    heatmap is not in a hidden tab and draws at once): every row is coloured, not only the last."""
    fed = batches()[:4]                      # one T, 8 iterations: no row is overwritten
    reference = ContributionHeatmap(rows=20)
    qtbot.addWidget(reference)
    reference.show()
    feed(reference, fed)
    tabs = QTabWidget(objectName="tabs")
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("another page"), "Training")
    heatmap = ContributionHeatmap(rows=20)
    tabs.addTab(heatmap, "Gradients")
    tabs.show()
    heatmap.restart(fed[0])
    for batch in fed[1:3]:                   # the Gradients tab is not the current one
        heatmap.show_snapshots(batch)
    tabs.hide()                              # the window itself is hidden
    heatmap.show_snapshots(fed[3])
    tabs.show()
    tabs.setCurrentWidget(heatmap)
    np.testing.assert_array_equal(heatmap.image.image, reference.image.image)
