"""Generate src/medsettle/v1 from protos/ (Python modules, gRPC stubs and .pyi type stubs).

Run: python scripts/gen_protos.py  (tests/test_contract.py fails when the checked-in output is stale).
"""

from __future__ import annotations

import pathlib
import shutil
import sys
import tempfile

from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
OUT_PACKAGE = ROOT / "src" / "medsettle" / "v1"


def generate(out_root: pathlib.Path) -> None:
    """Write generated modules under out_root/medsettle/v1 with imports rewritten to medsettle.v1."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "medsettle" / "v1").glob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--pyi_out={out_root}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (out_root / "medsettle" / "v1" / "__init__.py").write_text('"""Generated from protos/medsettle/v1; do not edit."""\n')


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate(pathlib.Path(tmp))
        shutil.rmtree(OUT_PACKAGE, ignore_errors=True)
        shutil.copytree(pathlib.Path(tmp) / "medsettle" / "v1", OUT_PACKAGE)
    print(f"generated {sorted(p.name for p in OUT_PACKAGE.iterdir())}", file=sys.stderr)


if __name__ == "__main__":
    main()
