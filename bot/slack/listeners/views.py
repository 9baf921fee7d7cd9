"""Handler of the token modal's submission: replay the run as the actor.

The token is read from the submitted form, wrapped in `Secret` at once and handed to the core
for this run only. It is never logged, echoed, stored or put into private_metadata (which
holds only the RunRef, https://docs.slack.dev/reference/methods/views.open); the view state is never logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.errors import NotFound, UsageError
from bot.request import ActorSecret
from bot.slack.failures import report_failure
from bot.slack.ids import ActionId, BlockId, RunRef, parse_ref
from bot.slack.listeners._shared import refused
from bot.slack.runs import place_of, request_from_run, run_in_thread
from bot.slack.services import Services


def _actor_secret(view: dict[str, Any]) -> ActorSecret:
    values = (view.get("state") or {}).get("values") or {}
    typed = ((values.get(BlockId.TOKEN_INPUT.value) or {}).get(ActionId.TOKEN_INPUT.value) or {}).get("value")
    if not typed or not typed.strip():
        raise UsageError("Paste the actor's API token (or email:token).")
    return ActorSecret.parse(typed)


async def handle_token_submission(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                  services: Services) -> None:
    """Validate in the ack (errors show under the field, https://docs.slack.dev/reference/methods/views.open), then
    replay in the background."""
    try:
        secret = _actor_secret(view)
        ref = parse_ref(view.get("private_metadata"))
    except UsageError as exc:
        await ack(response_action="errors", errors={BlockId.TOKEN_INPUT.value: str(exc)})
        return
    await ack()
    user = body["user"]["id"]
    services.tasks.spawn(_replay(services, ref, user, secret), name=f"replay of {ref.run_id}",
                         on_error=_report(services, ref, user))


def _report(services: Services, ref: RunRef, user: str) -> Callable[[Exception], Awaitable[None]]:
    """A submission has no channel or response_url: failures go to the run's thread, privately."""

    async def report(error: Exception) -> None:
        try:
            place = await place_of(services, ref.run_id, user)
        except NotFound:
            place = None
        await report_failure(services.client, place, error)

    return report


async def _replay(services: Services, ref: RunRef, user: str, secret: ActorSecret) -> None:
    place = await place_of(services, ref.run_id, user)
    if place is None:
        raise UsageError(f"run {ref.run_id} has no Slack thread to replay into")
    if await refused(services, place, "token replay"):
        return
    request = request_from_run(await services.history.get(ref.run_id), services.guard, secret)
    await run_in_thread(services, request, place, previous_run_id=ref.run_id)
