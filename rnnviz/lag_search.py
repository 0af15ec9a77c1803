"""Which (lag, seed) runs a memory-horizon sweep trains next, given the verdicts so far (no Qt, no numpy).

A lag is *remembered* when a strict majority of its seeds pass (reach the target without diverging);
the horizon is the largest remembered lag. Two searches find it:

- `GridSearch` trains every lag on every seed: the exhaustive sweep. It shows the whole accuracy
  curve and finds the largest remembered lag even where the outcomes are not monotone in the lag.
- `Bisection` assumes what the lecture predicts and every sweep so far measured: accuracy falls as
  the lag grows, so if lag L is remembered so is every shorter lag, and if it is not, no longer lag
  is. It keeps the grid index ``low`` of the longest lag known to be remembered (-1: none) and
  ``high`` of the shortest known not to be (``len(lags)``: none), probes the lower middle index
  between them (the shorter lag: a failing run costs its full patience, a longer lag costs more per
  iteration) and stops when they are neighbours: the horizon is ``lags[low]``. That is at most
  ⌈log2(len(lags) + 1)⌉ probes instead of len(lags). On outcomes that are not monotone it still
  returns a remembered lag whose next-longer grid lag is not remembered, but not necessarily the
  largest one (a gap on its path sends it lower); the grid search shows such gaps.

`Bisection` also settles a probe's vote as soon as the remaining seeds cannot change it (`vote`):
it starts only the seeds that can still decide, which gives the same verdict as training them all.
A worker that would otherwise wait for the probe's last run may race one of the held-back seeds
(`spare`): the vote takes whichever runs finish first, and the runs still going are then no longer
`needed`. `GridSearch` trains every seed.

Where to probe changes only the cost, never the answer on monotone outcomes: each verdict narrows
``low``/``high`` the same way wherever it was taken. `Bisection` uses that once per search: when a
probe is remembered and every run that passed there was *fast* (the caller says so, e.g. it reached
the target within a tenth of its budget), the next probe is the longest undecided lag instead of the
middle one. A network that learns a lag that easily usually remembers the whole grid, and then the
search ends after that one probe instead of climbing through the middle lags (with costs ∝ lag, the
top lag alone costs about as much as all the lags below it). If the jump is wrong, the top lag is
forgotten, ``high`` moves down to it, and bisection goes on below: one probe more than without the
jump, which is why it is taken at most once.

A search is used as: `wanted()` lists the runs to start now (none already started), `started()`
marks one as started, `record()` hands back a finished run's verdict (and whether a pass was fast);
`done` says when nothing more will be wanted, and `horizon` is the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SEARCHES = ("bisect", "grid")


def vote(passes: int, fails: int, seeds: int) -> bool | None:
    """A lag's verdict from some of its `seeds` runs: True once a strict majority of all seeds
    passed, False once so many failed that no majority is left, None while the rest could decide.
    This is the same verdict as a strict majority over every seed, whatever the missing runs do."""
    if 2 * passes > seeds:
        return True
    if 2 * fails >= seeds:
        return False
    return None


def _runs_to_decide(passes: int, fails: int, seeds: int) -> int:
    """The fewest further runs that could decide the vote (all passing or all failing)."""
    return min(seeds // 2 + 1 - passes, (seeds + 1) // 2 - fails)


class _Search:
    def __init__(self, lags: Sequence[int], seeds: Sequence[int]) -> None:
        if not lags or not seeds:
            raise ValueError("a lag search needs at least one lag and one seed")
        self.lags, self.seeds = sorted(lags), list(seeds)
        self._started: dict[int, list[int]] = {lag: [] for lag in self.lags}
        self._outcomes: dict[int, list[bool]] = {lag: [] for lag in self.lags}

    def started(self, lag: int, seed: int) -> None:
        self._started[lag].append(seed)

    def record(self, lag: int, seed: int, passed: bool, fast: bool = False) -> None:
        """A finished run's vote; `fast`: it passed well within its budget (see `Bisection`)."""
        self._outcomes[lag].append(passed)

    def verdict(self, lag: int) -> bool | None:
        outcomes = self._outcomes[lag]
        return vote(sum(outcomes), len(outcomes) - sum(outcomes), len(self.seeds))

    def _unstarted(self, lag: int, count: int) -> list[tuple[int, int]]:
        free = [s for s in self.seeds if s not in self._started[lag]]
        return [(lag, seed) for seed in free[:max(count, 0)]]

    def _running(self, lag: int) -> int:
        return len(self._started[lag]) - len(self._outcomes[lag])

    def spare(self) -> list[tuple[int, int]]:
        """Runs that may settle a vote sooner, for workers that would otherwise idle (none)."""
        return []

    def needed(self, lag: int) -> bool:
        """Whether a run at `lag` can still change the search's answer."""
        return True


class GridSearch(_Search):
    """Every lag on every seed, the longest lags first (they take longest: fewer idle workers at the
    end). The horizon is the largest remembered lag; gaps below it are possible."""

    @staticmethod
    def max_runs(lags: int, seeds: int) -> int:
        return lags * seeds

    def wanted(self) -> list[tuple[int, int]]:
        return [job for lag in reversed(self.lags) for job in self._unstarted(lag, len(self.seeds))]

    @property
    def done(self) -> bool:
        return all(len(self._outcomes[lag]) == len(self.seeds) for lag in self.lags)

    @property
    def horizon(self) -> int | None:
        kept = [lag for lag in self.lags if self.verdict(lag)]
        return max(kept) if kept else None


class Bisection(_Search):
    """Bisection on the lag grid, each probe a seed vote that starts only the runs that can decide it."""

    @staticmethod
    def max_runs(lags: int, seeds: int) -> int:
        """⌈log2(lags + 1)⌉ probes, one more for a jump that fails, at most every lag."""
        return min(math.ceil(math.log2(lags + 1)) + 1, lags) * seeds

    def __init__(self, lags: Sequence[int], seeds: Sequence[int]) -> None:
        super().__init__(lags, seeds)
        self.low, self.high = -1, len(self.lags)
        self._fast_passes: dict[int, list[bool]] = {lag: [] for lag in self.lags}
        self._jump: int | None = None     # the grid index of the jump probe, while it is undecided
        self._jumped = False

    def _probe(self) -> int | None:
        """The grid index to decide next (the jump's, while it is undecided), or None when `low`
        and `high` are neighbours."""
        if self.high - self.low <= 1:
            return None
        if self._jump is not None and self.low < self._jump < self.high:
            return self._jump
        return (self.low + self.high) // 2

    def wanted(self) -> list[tuple[int, int]]:
        index = self._probe()
        if index is None:
            return []
        lag = self.lags[index]
        passes = sum(self._outcomes[lag])
        fails = len(self._outcomes[lag]) - passes
        return self._unstarted(lag, _runs_to_decide(passes, fails, len(self.seeds))
                               - self._running(lag))

    def spare(self) -> list[tuple[int, int]]:
        """The probe's seeds that `wanted` holds back, to race on workers that would otherwise
        idle: while one seed has passed and another still runs, a third may pass first. The
        vote is settled by whichever runs finish first, the same verdict as every seed's
        (`vote`); runs still going then are no longer `needed`."""
        index = self._probe()
        if index is None or self.verdict(self.lags[index]) is not None:
            return []
        return self._unstarted(self.lags[index], len(self.seeds))

    def needed(self, lag: int) -> bool:
        return self.verdict(lag) is None

    def record(self, lag: int, seed: int, passed: bool, fast: bool = False) -> None:
        super().record(lag, seed, passed)
        if passed:
            self._fast_passes[lag].append(fast)
        index = self.lags.index(lag)
        verdict = self.verdict(lag)
        if verdict is True and index > self.low:
            self.low = index
        elif verdict is False and index < self.high:
            self.high = index
        if verdict is not None and index == self._jump:
            self._jump = None
        if verdict is True and not self._jumped and all(self._fast_passes[lag]):
            top = self.high - 1
            if top > (self.low + self.high) // 2:    # else the middle is the top, or next to it
                self._jump, self._jumped = top, True

    @property
    def done(self) -> bool:
        return self._probe() is None

    @property
    def horizon(self) -> int | None:
        return self.lags[self.low] if self.low >= 0 else None

    def inferred(self) -> dict[int, bool]:
        """The verdict bisection assumes for every lag it has not decided by training."""
        return {lag: i <= self.low for i, lag in enumerate(self.lags)
                if self.verdict(lag) is None and (i <= self.low or i >= self.high)}


def make_search(kind: str, lags: Sequence[int], seeds: Sequence[int]) -> GridSearch | Bisection:
    if kind not in SEARCHES:
        raise ValueError(f"unknown lag search {kind!r}; known: {', '.join(SEARCHES)}")
    return (Bisection if kind == "bisect" else GridSearch)(lags, seeds)


def max_runs(kind: str, lags: int, seeds: int) -> int:
    """The most runs a search of `lags` lags × `seeds` seeds can train (for a progress bar)."""
    return (Bisection if kind == "bisect" else GridSearch).max_runs(lags, seeds)
