"""What the spectrum readout and the ρ / σ_max cards claim: σ_max bounds one step, ρ only the
typical rate of long products, and nothing for an LSTM's candidate block."""

from PySide6.QtWidgets import QFrame

from rnnviz.gui.live_numbers import LSTM_TITLES, LiveNumbers
from rnnviz.gui.spectrum import _verdict
from rnnviz.session import Session
from rnnviz.settings import Settings


def test_the_verdict_uses_sigma_max_for_one_step_and_rho_for_long_products():
    tanh = Settings(activation="tanh")
    assert "every backward step shrinks" in _verdict(0.5, 0.9, tanh)
    assert "tend to shrink" in _verdict(0.5, 1.5, tanh)           # σ_max ≥ 1: no per-step bound
    assert "tend to grow" in _verdict(1.2, 1.3, tanh)
    assert "every backward step shrinks" in _verdict(1.2, 3.0, Settings(activation="sigmoid"))  # f' ≤ 1/4
    assert "no verdict" in _verdict(1.2, 1.3, Settings(arch="lstm"))


def test_the_cards_say_when_they_describe_only_the_lstm_block(qtbot):
    numbers = LiveNumbers()
    qtbot.addWidget(numbers)
    session = Session(Settings(arch="lstm", hidden=4, batch=2, lag=3))
    numbers.restart(session.snapshot())
    titles = [label.text() for label in numbers._titles]
    assert set(LSTM_TITLES.values()) <= set(titles)
    assert "no verdict" in numbers.findChild(QFrame, "radiusCard").toolTip()
    numbers.restart(Session(Settings(hidden=4, batch=2, lag=3)).snapshot())
    assert "ρ(W_H)" in [label.text() for label in numbers._titles]
    assert "not a bound on one backward step" in numbers.findChild(QFrame, "radiusCard").toolTip()
