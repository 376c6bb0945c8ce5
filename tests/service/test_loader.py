"""`medsettle load` as a provincial data team uses it, against a real server process: files with a BOM, in GBK, with
decimal yuan and an extra column, in JSON and XLSX; bad rows reported by line and column with nothing written; a
re-run reported as already present; a dry run; a policy without a cap refused."""

from __future__ import annotations

import json

import grpc
import pytest

from medsettle import cli, connect
from medsettle.service import identity
from medsettle.v1 import reference_data_pb2, reference_data_pb2_grpc
from tests.service.test_lifecycle import free_port, start_server, wait_serving

CATALOG_HEADER = "med_list_codg,name,list_type,chrgitm_lv,selfpay_prop,pric_uplmt_amt,lmt_sex,begndate,remark"
CATALOG_ROWS = ["{p}0001,阿司匹林肠溶片,101,01,,12.50,,2026-01-01,新增",
                "{p}0002,布洛芬缓释胶囊,101,02,10%,3.2,,2026/1/1,",
                "{p}0003,女性专用检查,201,01,,,2,20260101,"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    process = start_server(str(tmp_path_factory.mktemp("loader") / "data"), port, "serve", "--create", "--insecure")
    try:
        wait_serving(port, process)
        operator = connect.caller_header(identity.of("national:ops"))
        with grpc.intercept_channel(grpc.insecure_channel(f"127.0.0.1:{port}"), operator) as channel:
            yield f"127.0.0.1:{port}", reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def load(server, *args: str) -> int:
    # A catalog is pushed as its province, the rest as national operations (loopback plaintext: the caller in metadata).
    return cli.main(["load", *args, "--target", server[0], "--insecure", "--no-progress"])


def item(server, code: str, date: str = "2026-02-01"):
    try:
        return server[1].GetCatalogItem(reference_data_pb2.GetCatalogItemRequest(
            mdtrtarea_admvs="440000", med_list_codg=code, date=date)).item
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # UNKNOWN_CATALOG_ITEM
        return None


def test_excel_csv_utf8_with_a_bom_decimal_yuan_percent_and_an_extra_column(server, tmp_path, capsys):
    path = tmp_path / "目录.csv"
    rows = [CATALOG_HEADER, *(row.format(p="BOM") for row in CATALOG_ROWS)]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8") + b"\r\n")  # Excel's "CSV UTF-8"
    assert load(server, "catalog", str(path), "--province", "440000") == 0
    out, err = capsys.readouterr()
    assert "3 new, 0 already present" in out
    assert "(UTF-8 with BOM)" in err and "ignored column(s) not part of catalog: remark" in err
    first, second, third = (item(server, f"BOM000{n}") for n in (1, 2, 3))
    assert (first.name, first.pric_uplmt_amt) == ("阿司匹林肠溶片", 1_250)  # 12.50 yuan, exactly
    assert (second.selfpay_prop, second.pric_uplmt_amt, second.begndate) == (1_000, 320, "2026-01-01")
    assert third.lmt_sex == "2" and third.lmt_used_flag and not third.HasField("pric_uplmt_amt")

    assert load(server, "catalog", str(path), "--province", "440000") == 0  # the same file again
    assert "0 new, 3 already present" in capsys.readouterr().out


def test_a_gbk_file_is_detected_and_read(server, tmp_path, capsys):
    path = tmp_path / "catalog_gbk.csv"
    path.write_bytes("\r\n".join([CATALOG_HEADER, *(row.format(p="GBK") for row in CATALOG_ROWS)]).encode("gbk"))
    assert load(server, "catalog", str(path), "--province", "440000") == 0
    assert "(GBK/GB18030)" in capsys.readouterr().err
    assert item(server, "GBK0002").name == "布洛芬缓释胶囊"


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(server, tmp_path, capsys):
    """Row 4 is bad and batches hold 2 rows: rows 1-2 are not committed either (the whole file is checked first)."""
    rows = [CATALOG_HEADER.removesuffix(",remark"),
            "BAD0001,好药,101,01,,1.00,,2026-01-01",
            "BAD0002,好药,101,01,,2.00,,2026-01-01",
            "BAD0003,好药,101,01,,3.00,,2026-01-01",
            "BAD0004,坏药,101,01,,12.505,,2026-01-01",  # three decimals of yuan
            "BAD0005,坏药,101,02,,1.00,,2026-01-01",  # class B without its share
            "BAD0006,坏药,104,01,,1.00,,2026-01-01",  # no such list type
            "BAD0007,坏药,101,01,,1.00,,2026-02-30"]  # no such day
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert load(server, "catalog", str(path), "--province", "440000", "--batch-items", "2") == 1
    err = capsys.readouterr().err
    assert "bad.csv: line 5, column 6 (pric_uplmt_amt): 12.505 yuan has more than 2 decimals" in err
    assert "bad.csv: line 6, column 5 (selfpay_prop): NATIONAL_RULE_VIOLATED" in err
    assert "bad.csv: line 7, column 3 (list_type): INVALID_ARGUMENT" in err
    assert "bad.csv: line 8, column 8 (begndate)" in err
    assert "nothing was written" in err
    assert all(item(server, f"BAD000{n}") is None for n in range(1, 8))


def test_a_version_the_server_already_holds_differently_is_placed_at_its_line(server, tmp_path, capsys):
    good = tmp_path / "v1.csv"
    good.write_text("med_list_codg,name,list_type,chrgitm_lv,pric_uplmt_amt,begndate\n"
                    "VER0001,药,101,01,5.00,2026-01-01\n", encoding="utf-8")
    assert load(server, "catalog", str(good), "--province", "440000") == 0
    changed = tmp_path / "v2.csv"
    changed.write_text("med_list_codg,name,list_type,chrgitm_lv,pric_uplmt_amt,begndate\n"
                       "VER0002,药,101,01,5.00,2026-01-01\n"
                       "VER0001,药,101,01,6.00,2026-01-01\n", encoding="utf-8")
    capsys.readouterr()
    assert load(server, "catalog", str(changed), "--province", "440000") == 1
    err = capsys.readouterr().err
    assert "v2.csv: line 3, column 6 (begndate): VERSION_OVERLAP" in err and "withdraw" in err
    assert item(server, "VER0002") is None and item(server, "VER0001").pric_uplmt_amt == 500


def test_a_dry_run_checks_everything_and_writes_nothing(server, tmp_path, capsys):
    path = tmp_path / "dry.csv"
    path.write_text("\n".join([CATALOG_HEADER, *(row.format(p="DRY") for row in CATALOG_ROWS)]), encoding="utf-8")
    assert load(server, "catalog", str(path), "--province", "440000", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "dry run: catalog: 3 would be written, 0 already present" in out and "nothing was written" in out
    assert item(server, "DRY0001") is None


def policy_json(**changes) -> dict:
    policy = {"insuplc_admdvs": "120000", "insutype": "310", "category": "1", "psn_type": "11", "hosp_lv": "3",
              "begndate": "2026-01-01", "dedc": "__DEDC__", "bands": [{"upto": 50_000, "ratio": "85%"}, {"ratio": 0.9}],
              "cap_category": 20_000, "cap_overall": 500_000, "reduction_referral": "10%", "reduction_mode": "1",
              "hifob_ratio": 0.9, "hifob_cap": 300_000}
    policy.update(changes)
    return policy


def test_policy_amounts_are_exact_yuan_or_explicit_fen_and_a_missing_cap_is_refused(server, tmp_path, capsys):
    path = tmp_path / "policies.json"
    document = {"policies": [policy_json(), policy_json(hosp_lv="2", dedc_fen=150_000)],
                "insured_places": [{"insuplc_admdvs": "120000", "begndate": "2026-01-01",
                                    "open_med_types": ["11", "21"], "tmp_filing_months": 6}]}
    del document["policies"][1]["dedc"]
    # "dedc": 2000.00 is two thousand yuan, written as the JSON number: never 2000 fen
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2).replace('"__DEDC__"', "2000.00"),
                    encoding="utf-8")
    assert load(server, "policies", str(path)) == 0
    out = capsys.readouterr().out
    assert "places: 1 new, 0 already present" in out and "policies: 2 new, 0 already present" in out
    got = [server[1].GetPolicy(reference_data_pb2.GetPolicyRequest(
        insuplc_admdvs="120000", insutype="310", category="1", psn_type="11", hosp_lv=lv, date="2026-02-01")).policy
        for lv in "32"]
    assert [p.dedc for p in got] == [200_000, 150_000]
    assert [(b.upto, b.ratio) for b in got[0].bands] == [(5_000_000, 8500), (0, 9000)] and not got[0].bands[1].HasField(
        "upto")
    assert (got[0].reduction_referral, got[0].hifob_ratio, got[0].cap_category) == (1_000, 9_000, 2_000_000)

    missing = tmp_path / "no_cap.json"
    no_cap = policy_json(hosp_lv="1", dedc=100)
    del no_cap["cap_overall"]
    missing.write_text(json.dumps([no_cap], indent=2), encoding="utf-8")
    assert load(server, "policies", str(missing)) == 1
    err = capsys.readouterr().err
    assert "no_cap.json: line 2, column 3 (cap_overall): INVALID_ARGUMENT" in err and "required" in err
    three_places = tmp_path / "three.json"
    three_places.write_text(json.dumps([policy_json(hosp_lv="1", dedc=12.345)]), encoding="utf-8")
    assert load(server, "policies", str(three_places)) == 1
    assert "12.345 yuan has more than 2 decimals" in capsys.readouterr().err


def test_persons_csv_with_two_insurance_lines_and_institutions_xlsx(server, tmp_path, capsys):
    import openpyxl

    persons = tmp_path / "persons.csv"
    persons.write_text(
        "psn_no,psn_name,gend,brdy,certno,insutype,psn_type,psn_insu_stas,insuplc_admdvs,balc\n"
        "LP001,王芳,2,1980/5/1,120101198005011234,310,11,1,120101,1234.56\n"
        "LP001,王芳,2,1980/5/1,120101198005011234,390,13,1,120101,\n", encoding="utf-8")
    assert load(server, "persons", str(persons)) == 0
    assert "persons: 1 new" in capsys.readouterr().out

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["fixmedins_code", "fixmedins_name", "admdvs", "hosp_lv", "networked_outpatient", "备注"])
    sheet.append(["H12010100001", "天津某医院", "120101", "3", "是", "测试"])
    sheet.append(["H12010100002", "天津某卫生院", "120101", 0, "否", None])  # a level typed as a number
    institutions = tmp_path / "institutions.xlsx"
    workbook.save(institutions)
    assert load(server, "institutions", str(institutions)) == 0
    out, err = capsys.readouterr()
    assert "institutions: 2 new" in out and "(XLSX)" in err and "ignored column(s) not part of institutions: 备注" in err


def test_every_example_file_in_the_loading_doc_reads_and_converts_without_a_problem(tmp_path):
    """docs/loading.md's examples are files the loader accepts: read whole and converted by the server's rules."""
    import re

    from medsettle import loader, reference_file
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "loading.md").read_text(encoding="utf-8")
    examples = re.findall(r"```(csv|json) (\w+)\.\w+\n(.*?)```", text, flags=re.S)
    kinds = {"catalog": "catalog", "policies": "policies", "places": "places", "institutions": "institutions",
             "persons": "persons"}
    assert {name for _, name, _ in examples} == set(kinds)
    for suffix, name, body in examples:
        path = tmp_path / f"{name}.{suffix}"
        path.write_text(body, encoding="utf-8")
        parts, _, _, problems, total = loader.read_parts(path, kinds[name], "")
        assert total == 0, [str(p) for p in problems]
        for part in parts:
            assert part.records, (name, part.kind)
            assert loader.check_locally(part) == ([], 0), (name, part.kind)
    assert reference_file.ERRORS_MAX == 50


def test_at_most_fifty_problems_are_listed_and_all_are_counted(server, tmp_path, capsys):
    rows = ["med_list_codg,name,list_type,chrgitm_lv,pric_uplmt_amt,begndate"]
    rows += [f"MANY{n:04d},药,101,01,1.005,2026-01-01" for n in range(60)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert load(server, "catalog", str(path), "--province", "440000") == 1
    err = capsys.readouterr().err
    assert err.count("yuan has more than 2 decimals") == 50 and "line 51, column 5" in err
    assert "... and 10 more (60 problems in all)" in err and "line 62" not in err
