"""Framework overhead of hypernodes on the peers' workloads (see ../shared/bench/peers/).

Every node body is trivial (``x + 1``), so the figures are framework overhead:

- chain_run_per_node: a 10-node linear chain, ``Pipeline.run`` 2,000 times;
  time / (runs x 10).
- map_seq_per_item_node: a 3-node chain mapped over 20,000 items with the
  sequential executor; time / (items x 3).
- run_loop_per_item_node: the same 3-node chain, one ``run`` per item.
- python_floor_per_item_node: the same arithmetic as plain function calls.
- chain_run_noop_callback_per_node: the chain with one callback whose every
  hook does nothing (Hamilton's ``chain10_noop_hook_per_node``), and
  callback_cost_per_node: what that callback adds per node.

Each figure is the best of ``--repeats`` timings after one warm-up, like
pipefunc's script. Output: ``name: value us`` lines.

Usage: python bench/overhead.py [--runs N] [--items N] [--repeats N]
"""

from __future__ import annotations

import argparse
import platform

from hypernodes import PipelineCallback
from workloads import best, chain, three_nodes


class NoOp(PipelineCallback):
    """Overrides every hook a run of a chain fires, and does nothing."""

    def on_pipeline_start(self, pipeline, nodes, ctx):
        pass

    def on_pipeline_end(self, pipeline, duration, ctx):
        pass

    def on_node_start(self, node, ctx):
        pass

    def on_node_end(self, node, duration, ctx):
        pass


def report(name: str, seconds: float, divisor: int) -> None:
    print(f"{name}: {seconds / divisor * 1e6:.3f} us", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"# hypernodes, Python {platform.python_version()}")

    ten = chain(10)
    assert ten.run({"x0": 0})["x10"] == 10

    def chain_runs() -> None:
        run = ten.run
        for i in range(args.runs):
            run({"x0": i})

    plain = best(chain_runs, args.repeats)
    report("chain_run_per_node", plain, args.runs * 10)
    ten.with_callbacks([NoOp()])
    observed = best(chain_runs, args.repeats)
    ten.with_callbacks(None)
    report("chain_run_noop_callback_per_node", observed, args.runs * 10)
    report("callback_cost_per_node", observed - plain, args.runs * 10)

    three = three_nodes()
    xs = list(range(args.items))

    def map_seq() -> None:
        out = three.map({"x": xs}, map_over="x")
        assert out["c"][-1] == xs[-1] + 3

    report("map_seq_per_item_node", best(map_seq, args.repeats), args.items * 3)

    def run_loop() -> None:
        run = three.run
        for x in xs:
            run({"x": x}, output_name="c")

    report("run_loop_per_item_node", best(run_loop, args.repeats), args.items * 3)

    def floor() -> None:
        def f(v: int) -> int:
            return v + 1

        for x in xs:
            f(f(f(x)))

    report("python_floor_per_item_node", best(floor, args.repeats), args.items * 3)


if __name__ == "__main__":
    main()
