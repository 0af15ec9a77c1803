"""The spectrum's legend names the matrix its title names (W_g for an LSTM)."""

import pytest
from PySide6.QtWidgets import QLabel

from rnnviz.gui.spectrum import SpectrumPlot
from rnnviz.session import Session
from rnnviz.settings import Settings


def session(arch="rnn"):
    return Session(Settings(task="recall", arch=arch, lag=6, hidden=6, batch=2, skip=3))


@pytest.mark.parametrize("arch, matrix", [("rnn", "W_H"), ("lstm", "W_g")])
def test_the_spectrum_legend_names_the_matrix_of_the_title(qtbot, arch, matrix):
    spectrum = SpectrumPlot()
    qtbot.addWidget(spectrum)
    spectrum.show()
    spectrum.restart(session(arch).snapshot().with_spectrum())
    legend = spectrum.findChild(QLabel, "spectrumLegend").text()
    assert f"σ_max = ‖{matrix}‖₂" in legend and f"ρ = max |λ({matrix})|" in legend
    assert matrix in spectrum.findChild(QLabel, "spectrumTitle").text()
    other = "W_H" if matrix == "W_g" else "W_g"
    assert other not in legend

