"""Fuzzing ``zoo tune``: generated options, and studies tampered with (issue 23, items 4 and 6).

Options: every option, alone or together, valid or not: counts zero, negative, past the zoo's
ranges and past any int; seeds likewise; NaN, inf and junk thresholds; names with markup,
control characters and 600 characters; storage URLs in memory, in a missing folder, of an
unreachable server, not URLs at all; output places that are files, under files, or hold another
study. Tampered studies: a small study written by Optuna, then its rows changed the way a hand,
a script or a disk could: parameters renamed, out of their range, of another type, with
distributions that are junk or of another kind; trials with unknown states, repeated numbers,
bad dates; values and intermediate values that are not numbers; directions, study names and
schema versions changed; rows deleted or added.

Every command ends with exit code 0, 1 (every trial of the run failed: one ``error:`` line
last) or 2; never a traceback. Exit 2 is exactly one ``error:`` line on stderr, and then nothing
was written: the sandbox, the study's database included, is byte for byte as it was. Trials run
in this process, one after another (``jobs_in_this_process``; the backends have tests of their
own), on budgets of at most 400 env steps (without ``--budget``, the agents' default budget is
made 400 steps: ``small_default_budget``), so a valid command takes about a second.

Examples per test: ``ZOO_FUZZ=ci`` (the default; fixed and derandomized) or ``ZOO_FUZZ=slow``
(ten times more, random), as the other fuzz suites (:func:`support.checks.fuzz`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.checks import fuzz, invoke_zoo, snapshot

from zoo.limits import MAX_SEED
from zoo.tools import tune

STUDY = "reinforce__CartPole-v1"
MARKUP = ["[/x]", "[bold red]x", "\\[x]", "ö日本", "\u202eevil", "tab\there", "new\nline", "-x", "", " ", "a" * 600]
junk = st.sampled_from([*MARKUP, "nan", "inf", "-inf", "1e309", "1.5", "0x10", "1_000", "٣", "-0", "abc"]) | st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=10)


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy, odds: int = 5) -> st.SearchStrategy:
    """``valid`` in about ``odds - 1`` draws of ``odds``, else ``invalid`` (0, what hypothesis
    tries first, is valid)."""
    return st.integers(0, odds - 1).flatmap(lambda i: invalid if i == odds - 1 else valid)


def counts(low: int, high: int) -> st.SearchStrategy[str]:
    return mostly(st.integers(low, high).map(str), st.one_of(
        st.integers(-(2**70), 0).map(str), st.integers(10**12 + 1, 2**80).map(str), junk))


seeds = mostly(st.sampled_from([0, 1, 7, MAX_SEED]).map(str), st.one_of(
    st.integers(-(2**70), -1).map(str), st.integers(MAX_SEED + 1, 2**80).map(str), junk))
thresholds = st.one_of(st.sampled_from(["20", "-5", "1e6", "nan", "inf", "-inf", "1e309"]),
                       st.floats().map(repr), junk)
STORAGES = ["sqlite:///shared.db", "sqlite://", "sqlite:///:memory:", "sqlite:///missing/dir/x.db",
            "sqlite:///afile/x.db", "postgresql://zoo@127.0.0.1:9/zoo", "nonsense://", "not a url", "sqlite:///adir"]
PLACES = ["new", "new/deeper", "afile", "afile/x", "adir", "STUDY", "ö/[/x]"]


def option(flag: str, value: st.SearchStrategy, rare: bool = False) -> st.SearchStrategy[list[str]]:
    """``[flag, value]`` half of the time (an eighth if ``rare``), else nothing."""
    return st.integers(0, 7 if rare else 1).flatmap(
        lambda i: value.map(lambda v: [flag, v]) if i == 1 else st.just([]))


tune_commands = st.tuples(
    mostly(st.just(["reinforce", "cartpole"]), st.sampled_from(
        [["hardcoded", "cartpole"], ["reinforce", "pendulum"], ["reinforc", "cartpole"], ["reinforce", "[/x]"]])),
    st.tuples(
        option("--trials", counts(1, 2)),
        option("--budget", counts(64, 400)),
        option("--seeds", counts(1, 2)),
        option("--eval-every", counts(32, 400)),
        option("--eval-episodes", counts(1, 2)),
        option("--objective", mostly(st.sampled_from(["mean-return", "steps-to-threshold"]), junk)),
        option("--threshold", thresholds, rare=True),
        option("--sampler-seed", seeds),
        option("--study", mostly(st.sampled_from(["s", "other", STUDY]), junk), rare=True),
        option("--storage", st.sampled_from(STORAGES), rare=True),
        option("--workers", mostly(st.just("1"), st.sampled_from(["0", "-1", "4097", str(2**70), "x"]))),
        option("--backend", mostly(st.just("local"), junk), rare=True),
        option("--out", mostly(st.sampled_from(PLACES), junk)),
        option("--json", st.just(None), rare=True),
    ).flatmap(lambda parts: st.permutations(list(parts))),
).map(lambda c: ["tune", *c[0], *[w for part in c[1] for w in part if w is not None]])


# -- the sandbox -------------------------------------------------------------------------------------
def base_study(db: Path) -> None:
    """A study as `zoo tune` leaves it: trials complete, pruned, failed and one RUNNING whose
    driver is gone, with intermediate values and the zoo's user attribute."""
    space = tune.search_space("reinforce", "cartpole")
    study = optuna.create_study(study_name=STUDY, storage=f"sqlite:///{db}", direction="maximize")
    for i, state in enumerate(["COMPLETE", "COMPLETE", "PRUNED", "FAIL", "RUNNING"]):
        params = {name: (dist.choices[i % len(dist.choices)] if hasattr(dist, "choices")
                         else dist.low + (dist.high - dist.low) * (i + 1) / 7) for name, dist in space.items()}
        trial = optuna.trial.create_trial(
            params=params, distributions=space, state=optuna.trial.TrialState[state],
            value=10.0 + i if state == "COMPLETE" else None, intermediate_values={32: 5.0 + i, 64: 6.0 + i},
            user_attrs={"zoo_driver": {"host": "elsewhere", "pid": 1, "started": None}})
        study.add_trial(trial)


@pytest.fixture(scope="module")
def study_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("base-study") / "study.db"
    base_study(db)
    return db


def make_sandbox(root: Path, study_db: Path) -> Path:
    box = Path(tempfile.mkdtemp(dir=root))
    (box / "afile").write_text("not a folder")
    (box / "adir").mkdir()
    (box / "STUDY").mkdir()
    shutil.copy(study_db, box / "STUDY" / "study.db")
    return box


#: How the generated commands ended, per test: printed by test_zz_fuzz_tune_tally (-s shows it).
TALLY: dict[str, dict[int, int]] = {}


def check_one(args: list[str], box: Path, test: str) -> int:
    before = snapshot(box)
    code, stdout, stderr = invoke_zoo(args, box)
    TALLY.setdefault(test, {}).setdefault(code, 0)
    TALLY[test][code] += 1
    context = f"zoo {args!r}\nexit {code}\nstdout: {stdout[-2000:]}\nstderr: {stderr[-3000:]}"
    assert "Traceback" not in stdout + stderr and "internal error" not in stderr, context
    assert code in (0, 1, 2), context
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) < 1000, context
        assert snapshot(box) == before, context
    if code == 1:
        assert lines[-1].startswith("error: all ") and "trials of this run failed" in lines[-1], context
    return code


# -- options ---------------------------------------------------------------------------------------
@pytest.fixture
def small_default_budget(monkeypatch):
    """Every agent's default budget made 400 env steps (REINFORCE's for CartPole is hundreds of
    thousands): what is fuzzed is the command line, and ``--budget`` still overrides it."""
    from zoo.agent_base import Agent

    monkeypatch.setattr(Agent, "default_budget", classmethod(lambda cls, env: {"steps": 400}))


# 20 (200 with ZOO_FUZZ=slow): an example that gets past the checks runs a whole study, about 2 s.
@fuzz(20)
@given(args=tune_commands)
def test_fuzz_tune_options(args, tmp_path, study_db, jobs_in_this_process, small_default_budget):
    box = make_sandbox(tmp_path, study_db)
    args = [str(box / "STUDY") if a == "STUDY" else a for a in args]
    code = check_one(args, box, "options")
    if code == 0 and "--storage" not in args:
        out = Path(args[args.index("--out") + 1]) if "--out" in args else None
        if out is not None:
            out = out if out.is_absolute() else box / out
            holds = json.loads((out / "tune.json").read_text())
            assert holds["storage"] == "study.db", holds
    shutil.rmtree(box, ignore_errors=True)


# -- tampered studies -------------------------------------------------------------------------------
TEXT = st.sampled_from(["", "abc", "garbage", "{}", "[]", "null", "1e309", "NaN", "-1", "\u202e", "x" * 300])
NUMBERS = st.one_of(st.sampled_from([0, 1, -1, 99, 2**63 - 1, -(2**63), 0.5, -5.0, 1e308]),
                    st.floats(), st.sampled_from(["'nan'", "'inf'", "'abc'", "NULL"]))
DISTRIBUTIONS = st.sampled_from([
    "garbage", "{}", "null", "[1]", '{"name": "FloatDistribution"}',
    '{"name": "FloatDistribution", "attributes": {"low": 1.0, "high": 0.0, "log": false, "step": null}}',
    '{"name": "FloatDistribution", "attributes": {"low": -1.0, "high": 1.0, "log": true, "step": null}}',
    '{"name": "FloatDistribution", "attributes": {"low": 0.0, "high": 1e300, "log": false, "step": null}}',
    '{"name": "IntDistribution", "attributes": {"low": 0, "high": 10, "log": false, "step": 1}}',
    '{"name": "CategoricalDistribution", "attributes": {"choices": []}}',
    '{"name": "CategoricalDistribution", "attributes": {"choices": [-1.0, "x", null, true]}}',
    '{"name": "CategoricalDistribution", "attributes": {"choices": [8, 16, 32, 64]}}',
    '{"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 1.0}}',
    '{"name": "NoSuchDistribution", "attributes": {}}',
])
NAMES = st.sampled_from(["'gamma'", "'learning_rate'", "'no_such_param'", "''", "'lr'", "'n_envs'", "NULL", "1"])
STATES = st.sampled_from(["'RUNNING'", "'COMPLETE'", "'PRUNED'", "'FAIL'", "'WAITING'", "'BOGUS'", "NULL", "3"])
DATES = st.sampled_from(["'2020-01-01 00:00:00'", "'yesterday'", "NULL", "'9999-99-99'", "0"])
ROWS = st.integers(1, 5)


def sql_value(value) -> str:
    """A number or SQL literal as SQLite reads it (no NaN literal: NULL; infinities overflow)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:
        return "NULL"
    if isinstance(value, float) and abs(value) == float("inf"):
        return "9e999" if value > 0 else "-9e999"
    return repr(value)


tamper = st.one_of(
    st.tuples(NAMES, ROWS).map(lambda t: f"UPDATE trial_params SET param_name = {t[0]} WHERE param_id = {t[1]}"),
    st.tuples(NUMBERS, ROWS).map(
        lambda t: f"UPDATE trial_params SET param_value = {sql_value(t[0])} WHERE param_id = {t[1]}"),
    st.tuples(DISTRIBUTIONS, ROWS).map(
        lambda t: f"UPDATE trial_params SET distribution_json = '{t[0]}' WHERE param_id = {t[1]}"),
    st.tuples(STATES, ROWS).map(lambda t: f"UPDATE trials SET state = {t[0]} WHERE trial_id = {t[1]}"),
    st.tuples(st.sampled_from([0, 1, -1, 7, 10**6]), ROWS).map(
        lambda t: f"UPDATE trials SET number = {t[0]} WHERE trial_id = {t[1]}"),
    st.tuples(st.sampled_from(["datetime_start", "datetime_complete"]), DATES, ROWS).map(
        lambda t: f"UPDATE trials SET {t[0]} = {t[1]} WHERE trial_id = {t[2]}"),
    st.tuples(NUMBERS, st.sampled_from(["'FINITE'", "'INF_POS'", "'INF_NEG'", "'BOGUS'"])).map(
        lambda t: f"UPDATE trial_values SET value = {sql_value(t[0])}, value_type = {t[1]}"),
    st.tuples(NUMBERS, st.sampled_from(["'FINITE'", "'NAN'", "'INF_POS'", "'BOGUS'"])).map(
        lambda t: f"UPDATE trial_intermediate_values SET intermediate_value = {sql_value(t[0])}, "
                  f"intermediate_value_type = {t[1]}"),
    st.tuples(NUMBERS).map(lambda t: f"UPDATE trial_intermediate_values SET step = {sql_value(t[0])}"),
    TEXT.map(lambda t: f"UPDATE trial_user_attributes SET value_json = '{t}'"),
    st.sampled_from(["'MAXIMIZE'", "'MINIMIZE'", "'NOT_SET'", "'UP'", "NULL"]).map(
        lambda d: f"UPDATE study_directions SET direction = {d}"),
    st.sampled_from(["'other'", "''", "NULL"]).map(lambda n: f"UPDATE studies SET study_name = {n}"),
    st.sampled_from(["0", "99", "'x'", "NULL"]).map(lambda v: f"UPDATE version_info SET schema_version = {v}"),
    st.sampled_from(["'v0'", "'x'"]).map(lambda v: f"UPDATE alembic_version SET version_num = {v}"),
    st.sampled_from(["trial_params", "trials", "trial_values", "trial_intermediate_values", "trial_user_attributes",
                     "studies", "study_directions", "version_info", "trial_heartbeats"]).map(
        lambda table: f"DELETE FROM {table}"),
    st.tuples(NAMES, NUMBERS, DISTRIBUTIONS).map(
        lambda t: "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
                  f"VALUES (1, {t[0]}, {sql_value(t[1])}, '{t[2]}')"),
)


@fuzz(40)
@given(changes=st.lists(tamper, min_size=1, max_size=3))
def test_fuzz_tampered_studies(changes, tmp_path, study_db, jobs_in_this_process):
    box = make_sandbox(tmp_path, study_db)
    with contextlib.closing(sqlite3.connect(box / "STUDY" / "study.db")) as connection:
        for change in changes:
            with contextlib.suppress(sqlite3.Error):  # a change the schema refuses is no change
                connection.execute(change)
        connection.commit()
    check_one(["tune", "reinforce", "cartpole", "--budget", "64", "--eval-every", "32", "--seeds", "1",
               "--eval-episodes", "1", "--trials", "1", "--out", str(box / "STUDY")], box, "tampered studies")
    shutil.rmtree(box, ignore_errors=True)


def test_zz_fuzz_tune_tally():
    """Prints how many commands each fuzz test ran and how they ended (run with -s to see it)."""
    for test, codes in sorted(TALLY.items()):
        print(f"fuzz tune {test}: {sum(codes.values())} commands, exit codes {dict(sorted(codes.items()))}")
