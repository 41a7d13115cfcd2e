"""`flask --app bot mulinfang add|remove|list`: 睦邻坊 members per building (wraps bot.domain.mulinfang)."""
from __future__ import annotations

from itertools import groupby

import click
from flask.cli import AppGroup

from bot.cli.common import open_session, refused
from bot.clock import utcnow
from bot.constants import MulinfangRole
from bot.domain import mulinfang
from bot.errors import MulinError
from bot.messaging.texts import render_text

mulinfang_group = AppGroup("mulinfang", help="睦邻坊: each building's self-governance group.")


@mulinfang_group.command("add")
@click.option("--compound", required=True, help="compound (小区) name")
@click.option("--building", required=True, help="building name, e.g. 5 or 5号楼")
@click.option("--openid", required=True, help="the member's WeChat openid")
@click.option("--name", required=True, help="the member's name")
@click.option("--role", required=True, type=click.Choice([r.value for r in MulinfangRole]))
@click.option("--contact", is_flag=True, help="the group's contact, shown to the building's residents")
@click.option("--phone", default=None, help="the contact's phone (optional)")
def add_command(compound: str, building: str, openid: str, name: str, role: str, contact: bool,
                phone: str | None) -> None:
    """Add a member to a building's group (or change their role)."""
    with open_session() as session:
        try:
            member = mulinfang.add_member(session, compound=compound, building=building, openid=openid, name=name,
                                          role=role, contact=contact, phone=phone, actor="cli", now=utcnow())
        except MulinError as exc:
            raise refused(exc) from None
        session.commit()
        click.echo(render_text("mulinfang/added", m=member))


@mulinfang_group.command("remove")
@click.option("--openid", required=True)
@click.option("--compound", required=True)
@click.option("--building", required=True)
def remove_command(openid: str, compound: str, building: str) -> None:
    """Take a member out of a building's group."""
    with open_session() as session:
        try:
            member = mulinfang.remove_member(session, compound=compound, building=building, openid=openid)
        except MulinError as exc:
            raise refused(exc) from None
        done = render_text("mulinfang/removed", m=member, compound=member.building.compound.name)
        session.commit()
        click.echo(done)


@mulinfang_group.command("list")
@click.option("--compound", default=None, help="only this compound")
def list_command(compound: str | None) -> None:
    """Every group with its members, building by building."""
    with open_session() as session:
        try:
            members = mulinfang.list_members(session, compound)
        except MulinError as exc:
            raise refused(exc) from None
        groups = [(place, list(rows)) for place, rows in
                  groupby(members, key=lambda m: f"{m.building.compound.name}{m.building.name}号楼")]
        click.echo(render_text("mulinfang/list", groups=groups))
