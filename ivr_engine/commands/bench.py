"""``ivr bench``: load the lab with the SIPp caller mix and compare with the plain-dialplan baseline."""

from __future__ import annotations

import json

import click

from ivr_engine.bench import BenchError, BenchOptions, bench
from ivr_engine.config import Settings

__all__ = ["bench_command"]


@click.command("bench")
@click.option(
    "--rate", type=click.FloatRange(0.1, 50), default=2.0, show_default=True, help="New calls per second."
)
@click.option("--calls", type=click.IntRange(1, 2000), default=30, show_default=True, help="Calls per run.")
@click.option("--concurrency", type=click.IntRange(1, 500), default=20, show_default=True,
              help="At most this many calls up at once.")  # fmt: skip
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the path mix's order.")
@click.option("--rounds", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Run both paths this many times (ivr-engine, then the dialplan, each round) and print "
                   "each figure's median over the rounds too.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (progress goes to stderr).")
@click.pass_obj
def bench_command(
    settings: Settings, rate: float, calls: int, concurrency: int, seed: int, rounds: int, as_json: bool
) -> None:
    """Run the caller mix through ivr-engine (100) and the dialplan IVR (9100); print the figures.

    Uses the lab at --state-dir if it runs, else starts a private one on free loopback ports. Times
    key -> answer heard from the callers' RTP with a packet socket: needs root (CAP_NET_RAW). With
    --rounds N (N > 1) the JSON is {mix, rounds: [one report per round], median: {figure: value}}.
    """
    options = BenchOptions(rate=rate, calls=calls, concurrency=concurrency, seed=seed, rounds=rounds)
    try:
        report = bench(settings, options, echo=lambda line: click.echo(line, err=as_json))
    except BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report.as_json(), indent=2) if as_json else report.table())
