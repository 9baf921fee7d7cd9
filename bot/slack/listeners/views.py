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
from bot.slack import blocks
from bot.slack.failures import report_failure
from bot.slack.ids import ActionId, BlockId, RunRef
from bot.slack.listeners._shared import refused
from bot.slack.listeners.actions import NOT_YOURS
from bot.slack.private import Place, tell_privately
from bot.slack.runs import place_of, request_from_run, run_in_thread
from bot.slack.sealed import Sealed, metadata_key, unseal
from bot.slack.services import Services
from bot.slack.visibility import may_see


class _FieldError(UsageError):
    """A form value that cannot be used, and the field it belongs under."""

    def __init__(self, message: str, block: BlockId) -> None:
        super().__init__(message)
        self.block = block


def _typed(view: dict[str, Any], block: BlockId, action: ActionId) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return (((values.get(block.value) or {}).get(action.value) or {}).get("value") or "").strip()


def _actor_secret(view: dict[str, Any]) -> ActorSecret:
    """A token (API token, email:token, OAuth access token), or a client id and secret — not both."""
    token = _typed(view, BlockId.TOKEN_INPUT, ActionId.TOKEN_INPUT)
    client_id = _typed(view, BlockId.CLIENT_ID_INPUT, ActionId.CLIENT_ID_INPUT)
    client_secret = _typed(view, BlockId.CLIENT_SECRET_INPUT, ActionId.CLIENT_SECRET_INPUT)
    if token and (client_id or client_secret):
        raise _FieldError("Give a token, or a client id and secret, not both.", BlockId.TOKEN_INPUT)
    if token:
        return _parsed(lambda: ActorSecret.parse(token), BlockId.TOKEN_INPUT)
    if client_id or client_secret:
        missing = BlockId.CLIENT_SECRET_INPUT if client_id else BlockId.CLIENT_ID_INPUT
        if not (client_id and client_secret):
            raise _FieldError("An OAuth 2.0 credential needs both the client id and the client secret.", missing)
        return _parsed(lambda: ActorSecret.parse_client(client_id, client_secret), BlockId.CLIENT_SECRET_INPUT)
    raise _FieldError("Paste the actor's API token (or email:token, or an OAuth access token), or fill in a "
                      "service account's client id and secret.", BlockId.TOKEN_INPUT)


def _parsed(parse: Callable[[], ActorSecret], block: BlockId) -> ActorSecret:
    try:
        return parse()
    except UsageError as exc:
        raise _FieldError(str(exc), block) from None


async def handle_token_submission(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                  services: Services) -> None:
    """Validate in the ack (errors show under the field, https://docs.slack.dev/reference/methods/views.open), then
    replay in the background."""
    try:
        secret = _actor_secret(view)
        sealed = unseal(view.get("private_metadata"), metadata_key(services.settings), user=body["user"]["id"])
        ref = sealed.ref
    except _FieldError as exc:
        await ack(response_action="errors", errors={exc.block.value: str(exc)})
        return
    except UsageError as exc:
        await ack(response_action="errors", errors={BlockId.TOKEN_INPUT.value: str(exc)})
        return
    await ack()
    user = body["user"]["id"]
    services.tasks.spawn(_replay(services, sealed, user, secret), name=f"replay of {ref.run_id}",
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


async def _replay(services: Services, sealed: Sealed, user: str, secret: ActorSecret) -> None:
    ref = sealed.ref
    if not await may_see(services, ref.run_id, user, sealed.channel):  # seen from where the form was opened
        await tell_privately(services.client, Place(channel=sealed.channel, user=user),
                             blocks.notice_message(NOT_YOURS))
        return
    place = await place_of(services, ref.run_id, user)
    if place is None:
        raise UsageError(f"run {ref.run_id} has no Slack thread to replay into")
    if await refused(services, place, "token replay"):
        return
    request = request_from_run(await services.history.get(ref.run_id), services.guard, secret)
    await run_in_thread(services, request, place, previous_run_id=ref.run_id)
