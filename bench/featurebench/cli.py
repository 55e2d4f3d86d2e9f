"""The arguments every benchmark command takes from its shell script (bench/lib.sh, run_bench_module)."""

import argparse
from pathlib import Path


def add_setup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="where results and tables go")
    parser.add_argument("--work", type=Path, required=True, help="scratch: data sets, store dirs, logs")
    parser.add_argument("--store-binary", type=Path, required=True)
    parser.add_argument("--jar", type=Path, required=True, help="our connector's jar")
