"""``make bench``: every benchmark → bench/results.json and docs/benchmarks.md.

Exits non-zero when a budget is missed (after writing both files, so the figures can be read).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench.client_import import measure_client_import
from bench.cold_init import measure_cold_init
from bench.cost_model import SAMPLE_LOGS, measure_cost_model
from bench.cursor_pages import CURSOR_LOGS, measure_cursor_pages
from bench.dashboard import measure_dashboard
from bench.enhanced_summary import measure_enhanced_summary
from bench.export import measure_export
from bench.figures import BUDGETS, failed_budgets, format_figure
from bench.item_size import measure_worst_case_item
from bench.make_run_ready import measure_make_run_ready
from bench.metadata_filter import measure_metadata_filter
from bench.percentile_error import measure_percentile_error
from bench.read_amplification import measure_read_amplification
from bench.readme_examples import RUNS, SETTLED, WARMUPS, measure_readme_examples
from bench.report import DOC_PATH, RESULTS_PATH, write_reports
from bench.scaling import LARGE, SMALL, measure_local_days, measure_world, summary_figures
from bench.stats_reads import DAYS, aggregated_stack, measure_stats
from local.stack.template import REGION, ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logs", type=int, default=50_000, help="logs in the read-amplification data set")
    parser.add_argument("--stats-logs", type=int, default=100_000, help="logs in the stats data set")
    parser.add_argument("--cursor-logs", type=int, default=CURSOR_LOGS, help="logs in the cursor-paging data set")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each cold-start variant")
    args = parser.parse_args()
    # Never a real account: moto in process, or a moto server the cold-start children are pointed at.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)

    started = time.monotonic()
    print("make run: seconds from start to the first answer of its API")
    results = measure_make_run_ready()
    print(
        f"README examples: make run again, until it prints {SETTLED!r} (minutes), then {WARMUPS} warm-up and "
        f"{RUNS} timed requests of each curl example it prints"
    )
    results.update(measure_readme_examples())
    print(f"cold start: {args.runs} interleaved runs of each variant")
    results.update(measure_cold_init(args.runs))
    print(f"read amplification: {args.logs} logs over 30 days")
    results.update(measure_read_amplification(args.logs))
    print(f"metadata filter: {args.logs} logs over 30 days, metadata.feature matching about 2 %")
    results.update(measure_metadata_filter(args.logs))
    print(f"stats: {args.stats_logs} logs over {DAYS} days through the stream aggregator, then the stats endpoint")
    with aggregated_stack(args.stats_logs) as world:
        results.update(measure_stats(world))
        print("enhanced endpoint: total and summary over 30 days from the same rollups")
        results.update(measure_enhanced_summary(world))
        if args.stats_logs == LARGE:
            print(f"scaling: the spec's headline requests on the same {LARGE} logs, checked against brute force")
            results.update(measure_world(world, LARGE))
            results.update(measure_local_days(world, LARGE))
    for size in (SMALL,) if args.stats_logs == LARGE else (SMALL, LARGE):
        print(f"scaling: the same requests on {size} logs over {DAYS} days")
        with aggregated_stack(size) as world:
            results.update(measure_world(world, size))
            results.update(measure_local_days(world, size))
    results.update(summary_figures(results, SMALL, LARGE))
    print(f"cursor pages: {args.cursor_logs} logs over 30 days aggregated, 50 pages by cursor and by offset")
    results.update(measure_cursor_pages(args.cursor_logs))
    print("percentile error of merged hourly sketches; worst-case rollup item size")
    results.update(measure_percentile_error())
    results.update(measure_worst_case_item())
    print(f"cost model: {SAMPLE_LOGS} messages through ingest and the aggregator, priced per million logs")
    results.update(measure_cost_model())
    print("dashboard: a first visit of /logs and the API calls of each view, in Chromium")
    results.update(measure_dashboard())
    print("exports: reads per row of a 100,000-log export, and its memory at 100,000 rows against 10,000")
    results.update(measure_export())
    print("client: import request_logs_client against import httpx, CPU time in fresh interpreters")
    results.update(measure_client_import())
    elapsed = time.monotonic() - started
    write_reports(results, elapsed)

    for name, budget in BUDGETS.items():
        print(f"{name} = {format_figure(name, results[name])} (budget {budget.describe()})")
    print(f"wrote {RESULTS_PATH.relative_to(ROOT)} and {DOC_PATH.relative_to(ROOT)} in {elapsed:.0f} s")
    failed = failed_budgets(results)
    if failed:
        print(f"budget missed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
