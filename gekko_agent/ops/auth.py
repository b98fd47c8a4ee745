"""Who may command Gekko from a chat or a terminal.

Roles:

* ``viewer`` — read commands (status, positions, orders, pnl, risk, limits, why, approvals, ask, help).
* ``trader`` — everything a viewer can, plus ``halt``, ``resume``, ``approve``, ``reject``,
  ``flatten``, ``reduce``, ``cancel``, ``limit``, ``limit-approve`` and ``limit-reject``.

**Halt is a trader command by default.** HALTED sends nothing (only cancels pass), exposure-reducing
exits included, so a halt is not free of risk: a mistaken one can leave a position unmanaged until a
trader resumes. Desks that want every watcher to be able to pull the brake set
``ops.viewers_may_halt: true``; ``resume`` stays trader-only either way, because it takes risk back on.

Only configured user ids may command at all; anyone else gets a refusal and an audit entry, whatever
they sent. The local terminal (CLI, TUI) acts as the operator named by ``ops.local_operator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from gekko_agent.errors import UserError
from gekko_agent.risk.governance import ActorAuthority, HumanActor

__all__ = [
    "OpsConfig",
    "OpsUser",
    "Principal",
    "Role",
    "Unauthorized",
    "authorize",
    "command_name",
    "identify",
    "permit",
]


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
    viewers_may_halt: bool = Field(
        False,
        description="Let viewers run `halt` too (resume, approve and the rest stay trader-only). "
        "Off: only traders may halt.",
    )


TRADER_COMMANDS = frozenset(
    {
        "approve",
        "reject",
        "halt",
        "resume",
        "flatten",
        "cancel",
        "reduce",
        "limit",
        "limit-approve",
        "limit-reject",
    }
)
"""Commands that need the trader role (``halt`` too, unless ``viewers_may_halt``)."""


def command_name(word: str) -> str:
    """The command a first word names: ``/Limit_Approve@gekko_bot`` → ``limit-approve``.

    Telegram commands cannot hold ``-``, so ``_`` stands for it.
    """
    return word.strip().lstrip("/").split("@")[0].lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person on a channel."""

    name: str
    channel: str
    role: Role

    def actor(self, authority: ActorAuthority) -> HumanActor:
        """The HumanActor the risk layer requires for state and limit changes."""
        return authority.human(self.name, self.channel)


def identify(config: OpsConfig, channel: str, user_id: str) -> Principal:
    """The configured person behind ``user_id`` on ``channel``.

    Raises:
        Unauthorized: nobody with that id is configured on that channel.
    """
    if channel in ("tui", "cli"):
        return Principal(config.local_operator, channel, Role.TRADER)
    user = next((u for u in config.users if u.channel == channel and u.user_id == user_id), None)
    if user is None:
        raise Unauthorized(f"{channel} user {user_id} is not allowed to command Gekko")
    return Principal(user.name, channel, user.role)


def permit(config: OpsConfig, who: Principal, command: str) -> None:
    """Check that ``who``'s role allows ``command``.

    Raises:
        Unauthorized: a viewer asking for a trader command.
    """
    command = command_name(command)
    if who.role is Role.TRADER or command not in TRADER_COMMANDS:
        return
    if command == "halt" and config.viewers_may_halt:
        return
    raise Unauthorized(f"{who.name} is a viewer; `{command}` needs the trader role")


def authorize(config: OpsConfig, channel: str, user_id: str, command: str) -> Principal:
    """Find the user and check their role allows ``command``.

    Raises:
        Unauthorized: unknown user on that channel, or a viewer asking for a trader command.
    """
    who = identify(config, channel, user_id)
    permit(config, who, command)
    return who
