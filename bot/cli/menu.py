"""`flask --app bot menu push|show`: the account's custom menu from templates/menu.yaml."""
from __future__ import annotations

from flask.cli import AppGroup

menu_group = AppGroup("menu", help="The official account's custom menu.")
