"""The memory-horizon sweep: the definition on synthetic results, early stopping, the CLI."""

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rnnviz import horizon as hz
from rnnviz import worker_processes
from rnnviz.cli import main
from rnnviz.horizon import RunResult, Sweep, horizon, remembered, run_one
from rnnviz.presets import load_preset
from rnnviz.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent

#: A configuration that learns a short lag within a few dozen iterations.
EASY = Settings(task="recall", lag=2, arch="rnn", activation="tanh", hidden=16, batch=32,
                optimizer="adam", lr=0.02, clip="norm", clip_threshold=1.0, seed=0)
CONFIG = hz.default_config()


def budget(steps, target, eval_every=10):
    return hz.Budget(steps=steps, target=target, eval_every=eval_every, eval_batch=256,
                     early_stop=CONFIG.early_stop)


def result(lag, seed, accuracy, arch="a", diverged=False):
    return RunResult(arch=arch, lag=lag, seed=seed, accuracy=accuracy, loss=0.5, iterations=100,
                     reached=accuracy >= 0.9 and not diverged, diverged=diverged,
                     stopped="reached" if accuracy >= 0.9 else "budget", seconds=0.1, chance=0.25)


# ----------------------------------------------------------------------------- the definition
def test_horizon_is_the_largest_lag_most_seeds_remember():
    runs = [result(5, s, 1.0) for s in range(3)]
    runs += [result(10, 0, 0.95), result(10, 1, 0.91), result(10, 2, 0.3)]   # 2 of 3: remembered
    runs += [result(20, 0, 0.95), result(20, 1, 0.5), result(20, 2, 0.3)]    # 1 of 3: not
    assert remembered(runs, 0.9) == {5: True, 10: True, 20: False}
    assert horizon(runs, 0.9) == 10
    assert horizon(runs, target=0.92) == 5 and horizon(runs, target=0.2) == 20


def test_no_lag_remembered_gives_none_and_a_tie_is_not_a_majority():
    assert horizon([result(5, 0, 0.3), result(5, 1, 0.2)], 0.9) is None
    assert horizon([result(5, 0, 0.95), result(5, 1, 0.2)], 0.9) is None
    assert horizon([], 0.9) is None


def test_diverged_runs_never_count_and_gaps_are_reported():
    runs = [result(5, 0, 0.95, diverged=True), result(10, 0, 0.95), result(20, 0, 0.97)]
    assert remembered(runs, 0.9) == {5: False, 10: True, 20: True}
    assert horizon(runs, 0.9) == 20 and hz.gaps(runs, 0.9) == [5]


def test_horizons_group_by_architecture():
    runs = [result(5, 0, 1.0, "tanh"), result(10, 0, 0.3, "tanh"), result(10, 0, 1.0, "lstm")]
    assert hz.horizons(runs, 0.9) == {"tanh": 5, "lstm": 10}


# ----------------------------------------------------------------------------- configuration
def test_architectures_come_from_the_data_file_and_are_valid_settings():
    keys = [a.key for a in CONFIG.architectures]
    assert keys == ["tanh", "relu", "irnn", "skip", "lstm"]
    configs = hz.default_configs(CONFIG, "sentence")
    assert len(configs) == 5 and all(s.task == "sentence" for s in configs.values())
    assert configs["LSTM"].arch == "lstm" and configs["IRNN"].init == "identity"
    assert "memory horizon" in CONFIG.definition and "held-out" in CONFIG.definition


def test_importing_the_module_reads_no_toml():
    import subprocess
    import sys

    probe = ("import tomllib; read = []\n"
             "tomllib.loads = lambda *a, **k: read.append(a) or {}\n"
             "tomllib.load = lambda *a, **k: read.append(a) or {}\n"
             "import rnnviz.horizon, rnnviz.bench.horizon\n"
             "print(len(read))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_the_budget_comes_from_the_config_with_explicit_changes():
    b = CONFIG.budget()
    assert (b.steps, b.target, b.eval_every) == (CONFIG.sweep.steps, CONFIG.sweep.target,
                                                  CONFIG.sweep.eval_every)
    changed = CONFIG.budget(steps=100, target=0.8)
    assert (changed.steps, changed.target, changed.early_stop) == (100, 0.8, CONFIG.early_stop)
    assert hz.default_config() is CONFIG


def test_a_bad_config_file_names_itself(tmp_path):
    path = tmp_path / "horizon.toml"
    path.write_text(hz.CONFIG_PATH.read_text().replace('dtype = "float64"', 'dtype = "float16"'))
    with pytest.raises(SettingsError, match="horizon.toml.*dtype"):
        hz.load_config(path)
    path.write_text(hz.CONFIG_PATH.read_text().replace('preset = "relu"', 'preset = "nope"'))
    with pytest.raises(SettingsError, match="horizon.toml.*unknown preset 'nope'"):
        hz.load_config(path)


def test_architectures_take_their_recipe_from_the_lesson_presets():
    from rnnviz.presets import load_preset

    base = Settings.from_dict(CONFIG.base)
    for arch in CONFIG.architectures:
        preset = load_preset(arch.preset).settings
        mine = arch.settings(base)
        assert (mine.arch, mine.optimizer, mine.lr) == (preset.arch, preset.optimizer, preset.lr)


# ----------------------------------------------------------------------------- one run
def test_run_one_stops_as_soon_as_it_reaches_the_target():
    r = run_one(EASY, budget(1000, 0.9), label="easy")
    assert r.reached and r.stopped == "reached" and not r.diverged
    assert r.accuracy >= 0.9 and r.iterations < 1000 and r.iterations % 10 == 0
    assert (r.arch, r.lag, r.seed, r.chance) == ("easy", 2, 0, 0.25)


def test_run_one_stops_at_divergence():
    exploding = Settings(task="recall", lag=20, activation="relu", init="normal", init_scale=3.0,
                         optimizer="sgd", lr=0.1, momentum=0.9, clip="none", hidden=32)
    r = run_one(exploding, budget(500, 0.9, eval_every=50))
    assert r.diverged and r.stopped == "diverged" and not r.reached and r.iterations < 50


def test_run_one_can_be_cancelled():
    r = run_one(EASY.replace(lag=40), budget(10_000, 0.99), should_stop=lambda: True)
    assert r.stopped == "cancelled" and r.iterations == 0


def test_run_one_refuses_a_task_without_a_lag():
    with pytest.raises(SettingsError, match="no lag"):
        run_one(Settings(task="adding"), budget(10, 0.9))


RULE = hz.EarlyStop(min_fraction=0.5, patience_fraction=0.25, accuracy_margin=0.1, loss_margin=0.01)


def test_plateau_rule_stops_only_a_flat_run_at_chance_late_in_the_budget():
    flat = [(i, 0.26, 1.386) for i in range(50, 1001, 50)]
    assert hz._plateaued(flat, 1000, 2000, 0.25, RULE)
    assert not hz._plateaued(flat[:15], 750, 2000, 0.25, RULE)           # before half the budget
    descending = [(i, 0.26, 1.386 - 0.0005 * i) for i in range(50, 1001, 50)]
    assert not hz._plateaued(descending, 1000, 2000, 0.25, RULE)         # loss still falling
    learning = flat[:-1] + [(1000, 0.4, 1.38)]
    assert not hz._plateaued(learning, 1000, 2000, 0.25, RULE)           # above chance


# ----------------------------------------------------------------------------- the sweep
def test_sweep_yields_every_run_and_cancel_returns_promptly():
    configs = {"easy": EASY, "lstm": EASY.replace(arch="lstm", lr=0.01)}
    results = list(hz.sweep(configs, [2, 3], 2, budget(30, 0.99), search="grid"))
    assert sorted((r.arch, r.lag, r.seed) for r in results) == sorted(
        (a, lag, s) for a in configs for lag in (2, 3) for s in range(2))

    slow = Sweep({"slow": EASY.replace(lag=60)}, [60], 4, budget(100_000, 1.01), search="grid",
                 max_workers=2)
    threading.Timer(1.0, slow.cancel).start()
    start = time.perf_counter()
    assert list(slow.results()) == []
    # Uncancelled, each run would train 100,000 iterations (minutes); usually this takes ~1.5 s,
    # the bound is loose because the shared machine may be loaded.
    assert time.perf_counter() - start < 30.0


def test_a_real_bisection_finds_the_grid_horizon_with_fewer_runs():
    """A small tanh RNN with the vanishing preset's recipe learns lag 2 within 50 iterations on
    seeds 0-2 and sits at chance at lag 10 and beyond: both searches put the horizon at 2, bisection
    after probing lag 10 and lag 2 on two seeds each (a third may race on an idle worker)."""
    small = EASY.replace(init="xavier", init_scale=0.5, optimizer="sgd", lr=0.05, momentum=0.9)
    found = {}
    for search in ("grid", "bisect"):
        run = Sweep({"small": small}, [2, 10, 20, 40], 3, budget(150, 0.9, eval_every=25),
                    search=search)
        results = list(run.results())
        found[search] = (horizon(results, 0.9), run.horizons()["small"], len(results))
    assert found["grid"] == (2, 2, 12)
    assert found["bisect"][:2] == (2, 2) and found["bisect"][2] <= 6


def test_the_command_line_forks_its_workers_and_trains_the_same_runs_as_the_worker_server():
    """`rnnviz horizon` (a fresh process, no other thread, OpenBLAS) forks its workers from itself
    after loading the engine with the kernels of the architectures it trains, only the RNN's for an
    RNN preset: each worker's parent is the command line's process, and the workers load nothing
    more. They train exactly what they train forked after warming every architecture, and what the
    worker server's workers train."""
    def command_line(warm_all: bool):
        argv = ["horizon", "--preset", "vanishing", "--set", "hidden=8", "--lags", "2,3",
                "--seeds", "2", "--steps", "30", "--search", "grid", "--json"]
        code = ("import os, sys, rnnviz.horizon as hz\n"
                + ("context = hz.process_context  # as if it trained every architecture\n"
                   "hz.process_context = lambda fork, archs: context(fork)\n" if warm_all else "") +
                "from rnnviz.cli import main\n"
                "from rnnviz.engine_warm_up import warmed\n"
                "run_job = hz._run_job\n"
                "def noting_parent(*args):  # one write: two workers share the pipe\n"
                "    result = run_job(*args)\n"
                "    loaded = ','.join(sorted(warmed()))\n"
                "    os.write(2, f'worker parent {os.getppid()} warmed {loaded}\\n'.encode())\n"
                "    return result\n"
                "noting_parent.__module__, noting_parent.__qualname__ = hz.__name__, '_run_job'\n"
                "hz._run_job = noting_parent  # a forked worker has it; a served one imports its own\n"
                "code = main(sys.argv[1:])\n"
                "print('command line', os.getpid(), 'warmed', ','.join(sorted(warmed())),\n"
                "      file=sys.stderr, flush=True)\n"
                "sys.exit(code)\n")
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True,
                              text=True, check=True)
        said = [line.rsplit(" ", 3) for line in done.stderr.splitlines()
                if line.startswith(("command line ", "worker parent "))]
        command_line = {(pid, loaded) for who, pid, _, loaded in said if who == "command line"}
        parents = {(pid, loaded) for who, pid, _, loaded in said if who == "worker parent"}
        assert len(command_line) == 1 and parents == command_line, done.stderr
        runs = {(r["lag"], r["seed"]): (r["accuracy"], r["loss"], r["iterations"])
                for r in json.loads(done.stdout)["runs"]}
        return command_line.pop()[1], runs

    loaded, forked = command_line(warm_all=False)
    loaded_all, forked_after_all = command_line(warm_all=True)
    assert (loaded, loaded_all) == ("rnn", "lstm,rnn,skip")
    assert forked == forked_after_all
    settings = load_preset("vanishing").settings.replace(hidden=8)
    config = hz.default_config()
    served = Sweep({"vanishing": settings}, [2, 3], [0, 1], config.budget(steps=30), search="grid")
    assert forked == {(r.lag, r.seed): (r.accuracy, r.loss, r.iterations) for r in served.results()}


@pytest.fixture
def lone_thread(monkeypatch):
    """`process_context` as in a process that runs one thread (the tests' process runs more),
    with the engine loaded already (it asks threadpoolctl for BLAS's path as it loads)."""
    import rnnviz.engine_preload  # noqa: F401

    monkeypatch.setattr(worker_processes, "_only_thread", lambda: True)


def pools(*internal_apis):
    return lambda: [{"internal_api": api, "user_api": "blas", "num_threads": 2}
                    for api in internal_apis]


def test_a_sweep_forks_only_beside_blas_pools_that_stop_around_a_fork(lone_thread, monkeypatch):
    import threadpoolctl

    monkeypatch.setattr(threadpoolctl, "threadpool_info", pools("openblas"))
    assert worker_processes.process_context(fork=True).get_start_method() == "fork"
    for loaded in (("mkl",), ("openblas", "openmp"), ("blis",)):
        monkeypatch.setattr(threadpoolctl, "threadpool_info", pools(*loaded))
        assert worker_processes.process_context(fork=True).get_start_method() == "forkserver", loaded


def test_a_sweep_whose_engine_fails_to_load_uses_the_worker_server(lone_thread, monkeypatch):
    """An engine that raises while it loads for the fork leaves the workers to the worker server,
    which then does not preload it (a server whose preload raises dies before its first worker)."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    monkeypatch.setattr(server, "_preload_modules", server._preload_modules)  # restored after
    def failing(archs):
        raise RuntimeError("the engine could not load")

    monkeypatch.setattr(worker_processes, "warm_up", failing)
    assert worker_processes.process_context(fork=True).get_start_method() == "forkserver"
    assert server._preload_modules == ["rnnviz.horizon"]


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="SciPy is not installed")
def test_the_workers_engine_loads_without_scipy_which_stays_importable():
    """numba imports SciPy where it is installed (for compiled np.dot and np.linalg, which the
    kernels do not use); rnnviz.engine_preload hides it while the engine loads, then gives it back."""
    code = ("import sys, rnnviz.engine_preload; assert 'scipy' not in sys.modules, 'numba imported it'; "
            "import scipy.linalg; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_an_engine_that_fails_to_load_in_the_workers_too_is_one_line_and_exit_code_2(tmp_path):
    """`rnnviz horizon` whose engine fails to load leaves its workers to the worker server, whose
    workers load it themselves; if it fails there too, the command says why in one line and exits
    with code 2, as for any error (no traceback from the workers). The failure is faked in every
    process of the command: a sitecustomize on PYTHONPATH makes importing rnnviz.engine raise."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class EngineFails:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'rnnviz.engine':\n"
        "            raise RuntimeError('no engine here')\n"
        "sys.meta_path.insert(0, EngineFails())\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path),
                                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "rnnviz", "horizon", "--preset", "vanishing", "--set",
                           "hidden=8", "--lags", "2", "--seeds", "1", "--steps", "10"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (
        2, "rnnviz: error: the engine could not load: RuntimeError: no engine here\n")


# ----------------------------------------------------------------------------- command line
def test_horizon_json_reports_runs_and_horizon(capsys):
    code = main(["horizon", "--preset", "vanishing", "--set", "hidden=8", "--lags", "3,2",
                 "--seeds", "2", "--steps", "20", "--search", "grid", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    report = json.loads(out)
    for key in ("preset", "task", "target", "steps", "lags", "seeds", "runs", "remembered",
                "horizon", "seconds", "definition", "settings"):
        assert key in report
    assert report["lags"] == [2, 3] and report["seeds"] == [0, 1] and len(report["runs"]) == 4
    assert set(report["runs"][0]) >= {"lag", "seed", "accuracy", "iterations", "reached", "diverged"}
    assert report["search"] == "grid" and report["inferred"] == {}


def test_horizon_bisects_by_default_and_says_what_it_inferred(capsys):
    # 20 iterations teach nothing: lag 2 fails on its first seed, which settles a 2-seed vote
    # (a tie is no majority), and lag 3 is inferred forgotten without training. Seed 1 races on
    # the second worker; it is reported if it finished before the vote was settled.
    code = main(["horizon", "--preset", "vanishing", "--set", "hidden=8", "--lags", "3,2",
                 "--seeds", "2", "--steps", "20", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["search"] == "bisect"
    assert [(r["lag"], r["seed"]) for r in report["runs"]] in ([(2, 0)], [(2, 0), (2, 1)], [(2, 1)])
    assert not any(r["reached"] for r in report["runs"])
    assert report["horizon"] is None and report["inferred"] == {"3": False}
    main(["horizon", "--preset", "vanishing", "--set", "hidden=8", "--lags", "3,2", "--seeds", "2",
          "--steps", "20"])
    table = capsys.readouterr().out
    assert "(no)" in table and "bisection infers" in table


def test_horizon_table_shows_a_row_per_lag(capsys):
    code = main(["horizon", "--preset", "vanishing", "--set", "hidden=8", "--lags", "2",
                 "--seeds", "1", "--steps", "10"])
    out, _ = capsys.readouterr()
    assert code == 0 and "horizon:" in out and any(line.split()[:1] == ["2"] for line in out.splitlines())


@pytest.mark.parametrize("argv, words", [
    (["--lags", "5,x"], "not an integer"),
    (["--lags", ""], "comma-separated"),
    (["--lags", "5,,10"], "comma-separated"),
    (["--lags", "0,5"], "out of range"),
    (["--lags", "5,5"], "twice"),
    (["--target", "1.5"], "--target"),
    (["--set", "task=adding"], "needs a task with a lag"),
])
def test_bad_horizon_input_exits_2_with_one_line(capsys, argv, words):
    code = main(["horizon", "--preset", "vanishing", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1


def test_a_training_batch_at_the_target_calls_for_a_held_out_check_between_evaluations():
    plain = run_one(EASY, budget(1000, 0.9, eval_every=50), label="easy")
    checked = run_one(EASY, hz.Budget(steps=1000, target=0.9, eval_every=50, eval_batch=256,
                                      early_stop=CONFIG.early_stop, check_gap=5, check_streak=2),
                      label="easy")
    assert plain.reached and checked.reached and checked.accuracy >= 0.9
    # Same training (checks draw only held-out data), judged sooner: by iteration 50 at the latest.
    assert plain.iterations % 50 == 0 and checked.iterations <= plain.iterations
    assert checked.iterations % 50 != 0


def test_checks_need_a_streak_of_batches_at_the_target_and_back_off_when_they_fall_short():
    checks = hz._Checks(10, 50, streak=3)
    assert [checks.due(i, acc, 0.9) for i, acc in enumerate([1.0, 1.0, 0.5, 1.0, 0.95], 8)] == \
        [False, False, False, False, False]       # 10 breaks the streak; 12: two in a row
    assert checks.due(13, 0.91, 0.9)              # three in a row, 13 >= gap after 0
    assert not checks.due(14, None, 0.9) and not checks.due(15, 1.0, 0.9)
    gaps = []
    for _ in range(4):
        checks.missed(checks.last + checks.gap)
        gaps.append(checks.gap)
    assert gaps == [20, 40, 50, 50]
    single = hz._Checks(10, 50, streak=1)
    assert not single.due(5, 1.0, 0.9) and single.due(10, 1.0, 0.9)
    assert not hz._Checks(0, 50, 1).due(100, 1.0, 0.9)     # gap 0: no checks


FLAT = EASY.replace(lag=40, init="xavier", init_scale=0.5, optimizer="sgd", lr=0.05, momentum=0.9)
EXPLODING = Settings(task="recall", lag=20, activation="relu", init="normal", init_scale=3.0,
                     optimizer="sgd", lr=0.1, momentum=0.9, clip="none", hidden=32)


@pytest.mark.parametrize("settings, stopped", [(EASY, "reached"), (FLAT, None), (EXPLODING, "diverged")])
def test_deferred_regular_evaluations_judge_as_if_taken_on_time(monkeypatch, settings, stopped):
    """The regular evaluations, deferred (weights kept, evaluated later in order) or taken at once,
    give the same run: same held-out scores, same stop and the iteration it was judged at. The
    check gap is on but never due, so only the regular evaluations judge."""
    never = hz.Budget(steps=120, target=0.9, eval_every=5, eval_batch=128,
                      early_stop=CONFIG.early_stop, check_gap=10**9)
    deferred = run_one(settings, never)
    monkeypatch.setattr(hz, "DEFER_BYTES", 0)
    at_once = run_one(settings, never)
    fields = ("accuracy", "loss", "iterations", "stopped", "reached", "diverged")
    assert [getattr(deferred, f) for f in fields] == [getattr(at_once, f) for f in fields]
    if stopped:
        assert deferred.stopped == stopped
