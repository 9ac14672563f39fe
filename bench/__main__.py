"""`python -m bench [NAME ...] [--OPTION ...]` runs the named benchmarks (default: all),
each a module bench/<NAME>.py with a `main() -> None` that prints its figures and reads
its own options from sys.argv (`python -m bench catalog --skip-postgres`)."""

import importlib
import sys

BENCHES = ["ack", "worker", "stream", "export", "charts", "agent", "warehouse", "sandbox",
           "verified", "catalog", "big_catalog", "cli", "prompt_cache", "warm_worker"]


def main(argv: list[str]) -> None:
    names = [arg for arg in argv if not arg.startswith("--")]
    for name in names or BENCHES:
        if name not in BENCHES:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}")
        print(f"== bench {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
