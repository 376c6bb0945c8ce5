"""`medsettle up` on a small demo nation, the scripted day against it, then `medsettle report`: a non-empty report
with its five PNG charts, read from the store beside the running server. On both backends: over PostgreSQL the
same commands take `--store postgresql://...` (the server in a subprocess, as in production)."""

from __future__ import annotations

import argparse
import signal
import time

from medsettle import connect, report, tls
from medsettle.demo import day
from medsettle.service import identity
from medsettle.service.clock import Clock
from tests.service.test_lifecycle import free_port, start_server, wait_serving

PERSONS_PER_PROVINCE = 80
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_up_a_scripted_day_and_the_month_report(tmp_path, capsys, backend, request):
    from tests.conftest import new_postgres_location

    data_dir = str(tmp_path / "data")
    location = (new_postgres_location(request.getfixturevalue("postgres_server")) if backend == "postgresql"
                else data_dir)
    port = free_port()
    server = start_server(data_dir, port, "up", "--items-per-province", "200", "--persons-per-province",
                          str(PERSONS_PER_PROVINCE), *(["--store", location] if backend == "postgresql" else []))
    tls_dir = tmp_path / "data" / "tls"  # `up` serves mutual TLS with the development CA it makes there
    try:
        deadline = time.monotonic() + 120
        while not (tls_dir / "national-ops.pem").exists() and time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.1)
        wait_serving(port, server, credentials=tls.channel_credentials(tls_dir, identity.of("national:ops")))
        target = argparse.Namespace(target=f"127.0.0.1:{port}", tls_dir=str(tls_dir), insecure=False)
        tally = day.run(lambda caller: connect.channel_as(target, caller), PERSONS_PER_PROVINCE, 40)
        assert tally.settled > 50 and sum(tally.refused.values()) > 5 and tally.flagged > 5
        assert tally.confirmed > 0 and tally.deducted_fen > 0 and tally.reversed > 0
        assert "AUDIT_RULE_BLOCKED" in tally.refused  # some province blocks a duplicate, a limit or a restriction
        month = Clock().today()[:7]
        out = tmp_path / "report"
        assert report.run(location, month, str(out)) == 0  # beside the running server
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    printed = capsys.readouterr().out
    text = (out / f"report_{month}.txt").read_text(encoding="utf-8")
    assert text in printed
    for section in ("Daily volumes", "Refusals by cause", "Direct settlement rate by province",
                    "Most-flagged institutions", "Clearing flows"):
        assert section in text
    assert f"settled {tally.settled:,}" in text and "NO_FILING" in text and "北京市" in text
    assert "nets sum to 0.00" in text
    for name, _ in report.CHARTS:
        png = out / f"{name}_{month}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000, name


def test_report_refuses_a_malformed_month_and_a_directory_without_a_store(tmp_path, capsys):
    from medsettle.cli import main as cli_main

    assert report.run(str(tmp_path / "nothing"), "2026-13", str(tmp_path / "out")) == 2
    assert cli_main(["report", "--month", "2026-03", "--data-dir", str(tmp_path / "nothing"),
                     "--out", str(tmp_path / "out")]) == 2
    assert "holds no medsettle store" in capsys.readouterr().err
    assert not (tmp_path / "nothing" / "data.mdb").exists()
    # --names-from names the institutions of a report gathered from shards; one store names its own.
    assert cli_main(["report", "--month", "2026-03", "--data-dir", str(tmp_path / "nothing"),
                     "--names-from", str(tmp_path / "nothing")]) == 2
    assert "--names-from goes with --shard-map" in capsys.readouterr().err
    assert cli_main(["report", "--month", "2026-13", "--shard-map", str(tmp_path / "shards.json")]) == 2
    assert "--month must be YYYY-MM" in capsys.readouterr().err
