"""`flask --app bot outbox [retry]`: what the outbox holds, and re-queueing failed sends once the cause is fixed."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from bot.clock import fmt_local, parse_local, utcnow
from bot.messaging import gateway_health, outbox
from bot.messaging.texts import render_text
from bot.services import services


@click.group("outbox", cls=AppGroup, invoke_without_command=True)
@click.pass_context
@with_appcontext
def outbox_group(ctx: click.Context) -> None:
    """The durable outbox: counts by status (uncertain ones too), failures by errcode, the token alarm."""
    if ctx.invoked_subcommand is not None:
        return
    svc = services(current_app)
    with svc.sessions() as session:
        click.echo(render_text("outbox/status", counts=outbox.status_counts(session),
                               failures=outbox.failure_counts(session),
                               health=gateway_health.gateway_health(svc.redis), date=fmt_local))


@outbox_group.command("retry")
@click.option("--since", help='only sends created at or after "YYYY-MM-DD HH:MM" (Asia/Shanghai)')
@click.option("--errcode", type=int, help="only sends that failed with this WeChat errcode, e.g. 40164")
@click.option("--uncertain", is_flag=True, help="also sends WeChat may already have delivered (a timed-out answer)")
def retry_command(since: str | None, errcode: int | None, uncertain: bool) -> None:
    """Re-queue failed sends (due now, attempts counted afresh) and ask WeChat for a token again at once."""
    try:
        start = parse_local(since) if since else None
    except ValueError as exc:
        raise click.BadParameter('expected "YYYY-MM-DD HH:MM"', param_hint="--since") from exc
    svc = services(current_app)
    with svc.sessions() as session:
        count = outbox.requeue(session, utcnow(), since=start, errcode=errcode, uncertain=uncertain)
    reset = gateway_health.reset(svc.redis)
    click.echo(render_text("outbox/retried", count=count, redis_down=not reset))
