"""Who may command Gekko from a chat or a terminal.

Roles:

* ``viewer`` — read commands (status, positions, orders, pnl, risk, why, help) **and ``halt``**.
  Halting only ever reduces risk, so anyone trusted to watch is trusted to pull the brake.
* ``trader`` — everything a viewer can, plus ``approve``, ``reject``, ``resume``, ``flatten`` and
  ``cancel``.

Only configured user ids may command at all; anyone else gets a refusal and an audit entry. The local
terminal (CLI, TUI) acts as the operator named by ``ops.local_operator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from gekko_agent.errors import UserError
from gekko_agent.risk.governance import ActorAuthority, HumanActor

__all__ = ["OpsConfig", "OpsUser", "Principal", "Role", "Unauthorized", "authorize"]


class Role(StrEnum):
    """What a person may do."""

    VIEWER = "viewer"
    TRADER = "trader"


class Unauthorized(UserError):
    """The user is unknown, or their role does not allow the command."""


class OpsUser(BaseModel):
    """One person allowed to command Gekko."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Name used in the journal (who did it).")
    channel: str = Field(description="slack, telegram, tui or cli.")
    user_id: str = Field(
        description="The user's id on that channel (Slack U…, Telegram numeric id, or local)."
    )
    role: Role = Field(Role.VIEWER, description="viewer or trader.")


class OpsConfig(BaseModel):
    """The ``ops:`` section: people and roles."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: list[OpsUser] = Field(default_factory=list, description="People allowed to command Gekko.")
    local_operator: str = Field(
        "operator", description="Name journaled for commands typed at the local terminal (CLI, TUI)."
    )


TRADER_COMMANDS = frozenset({"approve", "reject", "resume", "flatten", "cancel", "reduce"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person on a channel."""

    name: str
    channel: str
    role: Role

    def actor(self, authority: ActorAuthority) -> HumanActor:
        """The HumanActor the risk layer requires for state and limit changes."""
        return authority.human(self.name, self.channel)


def authorize(config: OpsConfig, channel: str, user_id: str, command: str) -> Principal:
    """Find the user and check their role allows ``command``.

    Raises:
        Unauthorized: unknown user on that channel, or a viewer asking for a trader command.
    """
    if channel in ("tui", "cli"):
        return Principal(config.local_operator, channel, Role.TRADER)
    user = next((u for u in config.users if u.channel == channel and u.user_id == user_id), None)
    if user is None:
        raise Unauthorized(f"{channel} user {user_id} is not allowed to command Gekko")
    if command in TRADER_COMMANDS and user.role is not Role.TRADER:
        raise Unauthorized(f"{user.name} is a viewer; `{command}` needs the trader role")
    return Principal(user.name, channel, user.role)
