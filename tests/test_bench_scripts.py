"""Every bench script still imports against the current package and its sibling modules.

The benchmarks are run by hand, not in CI (bench/README.md), so a helper moved from one bench module to another
(say, settle_bodies from ceiling to benchlib) would otherwise break a script silently until someone runs it.
Importing one runs nothing: each script's work is under `if __name__ == "__main__"`.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"
# locust is in the `bench` extra only (CI installs `dev`): the Locust file is checked by the mix, not here.
NEEDS_BENCH_EXTRA = {"locustfile"}


def test_every_bench_script_imports():
    names = sorted(path.stem for path in BENCH.glob("*.py") if path.stem not in NEEDS_BENCH_EXTRA)
    assert len(names) >= 15, names  # the directory is there and holds the scripts
    program = ("import importlib, sys; sys.path.insert(0, sys.argv[1]); "
               "[importlib.import_module(name) for name in sys.argv[2:]]; print('imported', len(sys.argv) - 2)")
    done = subprocess.run([sys.executable, "-c", program, str(BENCH), *names], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"imported {len(names)}"


def test_a_cached_nation_of_an_older_record_format_is_seeded_again(tmp_path, monkeypatch):
    """The benches share one cached seeded nation: one seeded by a release that wrote records as maps (format 1)
    would make every read convert them, which no migrated deployment does, and skew both sides of an A/B."""
    import lmdb

    from medsettle.store import codec

    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    def nation_with(first_byte: bytes, name: str) -> str:
        path = tmp_path / name
        env = lmdb.open(str(path), max_dbs=64, map_size=1 << 20)
        with env.begin(write=True) as txn:
            txn.put(b"P1", first_byte + b"\x90", db=env.open_db(b"persons", txn=txn))
            for other in (b"catalog", b"policies", b"institutions"):
                env.open_db(other, txn=txn)
        env.close()
        return str(path)

    assert benchlib.stale_records(nation_with(bytes([codec.LEGACY_MAP]), "old"))
    assert not benchlib.stale_records(nation_with(bytes([codec.ARRAY]), "current"))
    assert not benchlib.stale_records(str(tmp_path / "not-seeded"))


def test_collections_are_counted_only_inside_the_measured_phase(tmp_path, monkeypatch):
    """bench/collector.py compares the collector's pauses during a phase: runs before or after it do not count."""
    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    log = tmp_path / "collections.json"
    log.write_text('{"collections": [[99.0, 2, 50.0], [100.5, 0, 0.25], [101.0, 2, 14.5], [101.5, 0, 0.5],'
                   ' [102.0, 1, 0.75], [103.5, 2, 40.0]]}')
    assert benchlib.collections_between(str(log), 100.0, 103.0) == {
        "gen0": {"count": 2, "total_ms": 0.75, "max_ms": 0.5},
        "gen1": {"count": 1, "total_ms": 0.75, "max_ms": 0.75},
        "gen2": {"count": 1, "total_ms": 14.5, "max_ms": 14.5},
    }


def test_a_mix_user_keeps_its_own_beat_and_never_catches_up_in_a_burst(monkeypatch):
    """bench/locustfile.py paces each user with benchlib.next_beat from a start of its own (Locust's
    constant_throughput counted every user's beat from one instant, so all users called together)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    # (Times in binary fractions of a second, so that the sums are exact.)
    assert benchlib.next_beat(10.0, 0.5, 10.125) == (10.5, 0.375)  # on time: waits out the rest of the beat
    assert benchlib.next_beat(10.0, 0.5, 10.5) == (10.5, 0.0)
    assert benchlib.next_beat(10.0, 0.5, 11.25) == (11.25, 0.0)  # overran: next task now, the beat restarts there
    starts, beat = [], 3.25  # a user whose first task starts 3.25 s in; its tasks take 1/8 s, one overruns
    for took in (0.125, 0.125, 0.875, 0.125, 0.125):
        starts.append(beat)
        beat, _ = benchlib.next_beat(beat, 0.5, beat + took)
    assert starts == [3.25, 3.75, 4.25, 5.125, 5.625]


def test_aged_distributions_hold_the_whole_window_in_nine_slots(tmp_path, monkeypatch):
    """--aged-days: what the settlements of an A/B read and feed holds a deployment's steady state (9 slots of the
    window, 81-90 days, at the volumes benchlib names), not the seeded nation's single slot; and the same on every run."""
    from medsettle.domain import amount_sketch
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.view import SKETCH_ITEM, SKETCH_VISIT
    from medsettle.visits_export import Visit

    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    visits = [Visit(psn_no=f"P{n}", fixmedins_code=f"H{n % 2}", province="440100", insuplc_admdvs="110100",
                    lines=(("X01", "2", "8.94", 1788), ("C02", "1", "50.00", 5000))) for n in range(4)]
    today = "2026-12-04"
    day = amount_sketch.day_number(today)
    sketches = []
    for name in ("a", "b"):
        Store(StoreConfig(path=str(tmp_path / name))).close()
        assert benchlib.age_sketches(str(tmp_path / name), visits, today, 0) == 0  # the benches' default: as seeded
        assert benchlib.age_sketches(str(tmp_path / name), visits, today, 90) == 2 + 2  # 2 items, 2 institutions
        store = Store(StoreConfig(path=str(tmp_path / name)))
        with store.read() as view:
            item = view.sketch(SKETCH_ITEM, "440000", "X01")
            visit = view.sketch(SKETCH_VISIT, "H1", "11")
            sketches.append((item, visit))
        store.close()
        assert len(item.slots) == len(visit.slots) == amount_sketch.SLOTS_KEPT
        in_window = day - amount_sketch.slot_start(day) + (amount_sketch.SLOTS_KEPT - 1) * amount_sketch.SLOT_DAYS
        assert amount_sketch.count(item, day) == in_window * benchlib.AGED_ITEM_AMOUNTS_PER_DAY
        assert amount_sketch.count(visit, day) == in_window * benchlib.AGED_VISIT_AMOUNTS_PER_DAY
        assert min(amount_sketch.bucket_upper_fen(b) for s in item.slots for b in s.counts) >= 894  # unit price up
    assert sketches[0] == sketches[1]


def test_an_item_pool_bills_many_items_by_popularity_and_ages_each_as_busy_as_its_rank(tmp_path, monkeypatch):
    """--item-pool: the visits bill billable items of a large pool (a deployment's caches miss), the head far more
    often than the tail, the same on every run; with --aged-days each item's history is as busy as its rank."""
    from medsettle.demo import seeding
    from medsettle.domain import amount_sketch, codes
    from medsettle.store.env import Store, StoreConfig
    from medsettle.store.view import SKETCH_ITEM

    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    today = "2026-03-02"
    data_dir = str(tmp_path / "nation")
    store = Store(StoreConfig(path=data_dir))
    seeding.seed(store, seed=2026, items_per_province=600, persons_per_province=20, today="2026-01-01",
                 progress=False)
    store.close()
    visits = benchlib.find_visits(data_dir, "11", 300, today)
    assert len(visits) >= 100
    pool_items = 300
    drawn, ranks = benchlib.with_item_pool(data_dir, visits, today, pool_items)
    assert (drawn, ranks) == benchlib.with_item_pool(data_dir, visits, today, pool_items)  # deterministic
    assert benchlib.with_item_pool(data_dir, visits, today, 0) == (visits, None)  # the default: as exported
    store = Store(StoreConfig(path=data_dir))
    with store.read() as view:
        for before, after in zip(visits, drawn, strict=True):
            assert (after.psn_no, after.fixmedins_code) == (before.psn_no, before.fixmedins_code)
            assert len(after.lines) == len(before.lines) == len({code for code, *_ in after.lines})
            for code, *_ in after.lines:
                item = view.catalog_item(after.province, code, today)
                assert not item.restricted and item.chrgitm_lv in (codes.CLASS_A, codes.CLASS_B)
                assert 1 <= ranks[after.province, code] <= pool_items
    store.close()
    billed = [ranks[visit.province, code] for visit in drawn for code, *_ in visit.lines]
    assert len(set(billed)) > 20  # far more than the export's ten items a province
    assert billed.count(1) > 3 * billed.count(pool_items)  # Zipf: the head billed more often than the tail

    benchlib.age_sketches(data_dir, drawn, today, 90, item_ranks=ranks)
    day = amount_sketch.day_number(today)
    in_window = day - amount_sketch.slot_start(day) + (amount_sketch.SLOTS_KEPT - 1) * amount_sketch.SLOT_DAYS
    per_day_times_rank = benchlib.AGED_ITEM_AMOUNTS_PER_DAY * benchlib.ITEM_POOL_HEAD
    first = 90 - in_window  # the day (counted from 90 days ago) the window starts on
    checked = set()
    store = Store(StoreConfig(path=data_dir))
    with store.read() as view:
        for visit in drawn:
            for code, *_ in visit.lines:
                rank = ranks[visit.province, code]
                sketch = view.sketch(SKETCH_ITEM, visit.province, code)
                assert amount_sketch.count(sketch, day) == (90 * per_day_times_rank // rank
                                                            - first * per_day_times_rank // rank)
                checked.add(rank)
    store.close()
    assert 1 in checked and max(checked) > per_day_times_rank  # the tail: fewer than one amount a day


def test_a_server_runs_under_the_interpreter_it_is_given(tmp_path, monkeypatch):
    """cpu.py --before-python, ceiling.py --python and mix.sh's SERVER_PY compare builds of CPython in one run: the
    server must really run under the one named, not under the driver's."""
    monkeypatch.syspath_prepend(str(BENCH))
    import benchlib

    used = tmp_path / "used"
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\necho "$@" > {used}\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    with benchlib.server(str(tmp_path / "data"), python=str(python), extra=("--create",)):  # serving once entered
        assert used.read_text().startswith("-m medsettle.cli serve --data-dir")


def test_the_mix_check_shows_where_in_a_run_its_tail_came_from(tmp_path, monkeypatch, capsys):
    """bench/mix.sh's check prints each budgeted call's p99 over every 10 s (Locust's --csv-full-history), so that
    a load tester tells a steady shortfall from one burst; the verdict stays the whole run's p99."""
    monkeypatch.syspath_prepend(str(BENCH))
    import mixtool

    percentiles = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    history = [f"Timestamp,User Count,Type,Name,Requests/s,Failures/s,{percentiles},Total Request Count,"
               "Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,"
               "Total Max Response Time,Total Average Content Size"]
    for second in range(61):  # a burst in seconds 32-41 of a quiet run
        p99 = "N/A" if second == 0 else "45" if 32 <= second <= 41 else "12"
        for name in ("SettleOutpatient", "Aggregated"):
            history.append(f"{1000 + second},100,,{name},900,0,4,5,6,7,8,9,10,{p99},50,60,70,1,0,4,5.0,1,70,100")
    (tmp_path / "mix_stats_history.csv").write_text("\n".join(history) + "\n")
    stats = tmp_path / "mix_stats.csv"
    stats.write_text("Type,Name,Request Count,Failure Count,Requests/s,50%,95%,99%,Max Response Time\n"
                     "grpc,SettleOutpatient,54000,0,900,4,9,16,93\n,Aggregated,60000,0,1000,4,9,16,93\n")
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[run]\ntarget_rps = 1000\nfailure_ratio_max = 0.001\n\n[p99_ms]\nSettleOutpatient = 20\n')

    windows = mixtool.window_p99s_ms(str(tmp_path / "mix_stats_history.csv"), "SettleOutpatient")
    assert windows == [(10, 12), (20, 12), (30, 12), (40, 45), (50, 12), (59, 12)]
    assert mixtool.check(str(stats), str(budgets)) == 0  # the run's p99 (16) decides, not its worst window
    shown = capsys.readouterr().out
    assert "budget SettleOutpatient: p99 16 ms <= 20 ms: ok" in shown
    assert "p99 of each 10 s: 12 12 12 45 12 12 ms; 1 of 6 over 20; the worst 45 ms, ending 40 s in" in shown
    (tmp_path / "mix_stats_history.csv").unlink()  # a run without --csv-full-history: the verdict alone
    assert mixtool.check(str(stats), str(budgets)) == 0
    shown = capsys.readouterr().out
    assert "budget SettleOutpatient: p99 16 ms <= 20 ms: ok" in shown and "p99 of each" not in shown
