"""The lag search: bisection finds the exhaustive grid's horizon with fewer runs, and a vote settled
early gives the verdict of every seed."""

import itertools
import math

import pytest

from rnnviz.lag_search import Bisection, GridSearch, make_search, max_runs, vote

LAGS = [5, 10, 20, 40, 80, 160]
SEEDS = [0, 1, 2]


def run(search, passes):
    """Drive `search` to the end, one run at a time in the order it asks; `passes(lag, seed)` is
    the synthetic outcome. Returns the (lag, seed) runs it trained."""
    trained = []
    while not search.done:
        wanted = search.wanted()
        assert wanted, "an unfinished search must want a run"
        lag, seed = wanted[0]
        assert (lag, seed) not in trained
        search.started(lag, seed)
        search.record(lag, seed, passes(lag, seed))
        trained.append((lag, seed))
    assert search.wanted() == []
    return trained


def run_in_batches(search, passes, workers):
    """Like `run`, but with up to `workers` runs in flight, finishing in the order started."""
    trained, flight = [], []
    while not search.done or flight:
        for lag, seed in search.wanted()[:workers - len(flight)]:
            search.started(lag, seed)
            flight.append((lag, seed))
        lag, seed = flight.pop(0)
        search.record(lag, seed, passes(lag, seed))
        trained.append((lag, seed))
    return trained


def exhaustive(passes, lags=LAGS, seeds=SEEDS):
    grid = GridSearch(lags, seeds)
    trained = run(grid, passes)
    assert sorted(trained) == sorted(itertools.product(lags, seeds))
    return grid.horizon


def monotone(horizon_index, noisy_seed=None):
    """Every seed passes up to lags[horizon_index]; `noisy_seed` fails one lag below and passes
    one above it (a minority each time: the vote stays monotone)."""
    def passes(lag, seed):
        ok = LAGS.index(lag) <= horizon_index
        if seed == noisy_seed and LAGS.index(lag) in (horizon_index, horizon_index + 1):
            return not ok
        return ok
    return passes


@pytest.mark.parametrize("horizon_index", range(-1, len(LAGS)))   # -1: none passes; 5: all pass
@pytest.mark.parametrize("noisy_seed", [None, 0, 2])
def test_bisection_finds_the_grid_horizon_on_monotone_outcomes(horizon_index, noisy_seed):
    passes = monotone(horizon_index, noisy_seed)
    expected = LAGS[horizon_index] if horizon_index >= 0 else None
    assert exhaustive(passes) == expected
    search = Bisection(LAGS, SEEDS)
    trained = run(search, passes)
    assert search.horizon == expected
    probed = {lag for lag, _ in trained}
    assert len(probed) <= math.ceil(math.log2(len(LAGS) + 1)) == 3
    assert len(trained) <= max_runs("bisect", len(LAGS), len(SEEDS)) < len(LAGS) * len(SEEDS)
    # Every lag bisection skipped gets the verdict the grid measured.
    grid = GridSearch(LAGS, SEEDS)
    run(grid, passes)
    for lag, ok in search.inferred().items():
        assert grid.verdict(lag) is ok
    assert set(search.inferred()) | probed == set(LAGS)


def test_edge_cases_all_pass_none_pass_single_lag_and_single_seed():
    everything = Bisection(LAGS, SEEDS)
    assert [lag for lag, _ in run(everything, lambda lag, seed: True)] == [20, 20, 80, 80, 160, 160]
    assert everything.horizon == 160
    nothing = Bisection(LAGS, SEEDS)
    assert [lag for lag, _ in run(nothing, lambda lag, seed: False)] == [20, 20, 5, 5]
    assert nothing.horizon is None and nothing.inferred() == {lag: False for lag in LAGS[1:] if lag != 20}
    one = Bisection([40], [7])
    assert run(one, lambda lag, seed: True) == [(40, 7)] and one.horizon == 40
    with pytest.raises(ValueError):
        Bisection([], SEEDS)
    with pytest.raises(ValueError, match="unknown lag search"):
        make_search("linear", LAGS, SEEDS)


def test_on_non_monotone_outcomes_bisection_returns_a_boundary_the_grid_also_sees():
    # Forgotten at 10 (a gap) but remembered up to 40: the gap lies off bisection's path (it probes
    # 20, 80, 40), so it agrees with the grid's largest remembered lag.
    gap_below = {5: True, 10: False, 20: True, 40: True, 80: False, 160: False}
    passes = lambda lag, seed: gap_below[lag]
    bisection = Bisection(LAGS, SEEDS)
    run(bisection, passes)
    assert bisection.horizon == exhaustive(passes) == 40
    # Forgotten at 20 but remembered at 40: bisection probes 20 first and never looks above it.
    # It returns 10, a lag that is remembered while the next grid lag is not; the grid (40) shows
    # the gap. This is the documented limit of assuming accuracy falls with lag.
    gap_on_path = {5: True, 10: True, 20: False, 40: True, 80: False, 160: False}
    passes = lambda lag, seed: gap_on_path[lag]
    bisection = Bisection(LAGS, SEEDS)
    run(bisection, passes)
    assert exhaustive(passes) == 40 and bisection.horizon == 10
    assert gap_on_path[bisection.horizon] and not gap_on_path[LAGS[LAGS.index(10) + 1]]


@pytest.mark.parametrize("seeds", [1, 2, 3, 4, 5])
def test_an_early_vote_is_the_vote_of_every_seed(seeds):
    """For every order of outcomes, the vote settled from a prefix equals the strict majority of
    all of them, and the prefix is no longer than needed."""
    for outcomes in itertools.product([True, False], repeat=seeds):
        majority = 2 * sum(outcomes) > seeds
        settled = None
        for count in range(1, seeds + 1):
            prefix = outcomes[:count]
            settled = vote(sum(prefix), count - sum(prefix), seeds)
            if settled is not None:
                break
        assert settled is majority
        if count < seeds:
            # One run fewer would not have settled it.
            previous = outcomes[:count - 1]
            assert vote(sum(previous), len(previous) - sum(previous), seeds) is None


def test_a_probe_starts_only_the_seeds_that_can_decide_it():
    search = Bisection(LAGS, SEEDS)
    assert search.wanted() == [(20, 0), (20, 1)]           # two of three can make a majority
    for lag, seed in search.wanted():
        search.started(lag, seed)
    assert search.wanted() == []                           # nothing more until they report
    search.record(20, 0, True)
    search.record(20, 1, False)
    assert search.wanted() == [(20, 2)]                    # split: the third seed decides
    search.started(20, 2)
    search.record(20, 2, True)
    assert search.low == 2 and search.wanted() == [(80, 0), (80, 1)]


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("horizon_index", [-1, 1, 3, 5])
def test_runs_in_flight_do_not_change_the_answer(workers, horizon_index):
    passes = monotone(horizon_index, noisy_seed=1)
    search = Bisection(LAGS, SEEDS)
    trained = run_in_batches(search, passes, workers)
    assert search.horizon == exhaustive(passes)
    assert len(trained) == len(set(trained)) <= 9


def test_grid_search_trains_everything_longest_lag_first():
    grid = GridSearch([10, 5, 20], [0, 1])
    assert grid.wanted() == [(20, 0), (20, 1), (10, 0), (10, 1), (5, 0), (5, 1)]
    assert max_runs("grid", 3, 2) == 6


def run_fast(search, passes, fast):
    """Like `run`, but every pass is reported fast when `fast(lag, seed)` says so."""
    trained = []
    while not search.done:
        lag, seed = search.wanted()[0]
        search.started(lag, seed)
        ok = passes(lag, seed)
        search.record(lag, seed, ok, fast=ok and fast(lag, seed))
        trained.append((lag, seed))
    return trained


def test_a_fast_pass_sends_bisection_to_the_longest_lag_once():
    everything = Bisection(LAGS, SEEDS)
    trained = run_fast(everything, lambda lag, seed: True, lambda lag, seed: True)
    assert trained == [(20, 0), (20, 1), (160, 0), (160, 1)] and everything.horizon == 160
    assert everything.inferred() == {5: True, 10: True, 40: True, 80: True}
    # Remembered up to 40 only: the jump to 160 fails, bisection goes on below it (40, then 80;
    # no second jump although 40's passes were fast).
    up_to_40 = Bisection(LAGS, SEEDS)
    trained = run_fast(up_to_40, lambda lag, seed: lag <= 40, lambda lag, seed: True)
    assert [lag for lag, _ in trained] == [20, 20, 160, 160, 40, 40, 80, 80]
    assert up_to_40.horizon == 40
    # A slow pass (or a probe that fails) does not jump.
    slow = Bisection(LAGS, SEEDS)
    trained = run_fast(slow, lambda lag, seed: True, lambda lag, seed: seed == 0)
    assert [lag for lag, _ in trained] == [20, 20, 80, 80, 160, 160]


@pytest.mark.parametrize("horizon_index", range(-1, len(LAGS)))
@pytest.mark.parametrize("noisy_seed", [None, 0, 2])
@pytest.mark.parametrize("fast_lags", [(), (5,), (20,), (5, 10, 20, 40, 80, 160)])
def test_jumps_never_change_the_horizon(horizon_index, noisy_seed, fast_lags):
    passes = monotone(horizon_index, noisy_seed)
    search = Bisection(LAGS, SEEDS)
    trained = run_fast(search, passes, lambda lag, seed: lag in fast_lags)
    assert search.horizon == exhaustive(passes)
    probes = len({lag for lag, _ in trained})
    assert probes <= math.ceil(math.log2(len(LAGS) + 1)) + 1
    assert len(trained) <= max_runs("bisect", len(LAGS), len(SEEDS)) == 12


def test_a_worker_that_would_idle_races_a_held_back_seed_and_the_first_to_settle_wins():
    search = Bisection(LAGS, SEEDS)
    assert search.spare() == [(20, 0), (20, 1), (20, 2)]
    for lag, seed in search.wanted():
        search.started(lag, seed)
    search.record(20, 0, True)                      # seed 1 still runs: seed 2 may pass first
    assert search.wanted() == [] and search.spare() == [(20, 2)]
    search.started(20, 2)
    assert search.needed(20)
    search.record(20, 2, True)                      # settled: seed 1 is no longer needed
    assert search.verdict(20) is True and not search.needed(20)
    assert search.spare() == [(80, 0), (80, 1), (80, 2)] and search.wanted() == [(80, 0), (80, 1)]
    grid = GridSearch(LAGS, SEEDS)
    assert grid.spare() == [] and grid.needed(20)
