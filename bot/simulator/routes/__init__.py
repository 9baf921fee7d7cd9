"""HTTP handlers of the simulator, one module per API family (site, gateway, admin, status)."""

from bot.simulator.routes.api import handle_api
from bot.simulator.routes.oauth import handle_auth
from bot.simulator.routes.site import handle_site
from bot.simulator.routes.status import handle_status

__all__ = ["handle_api", "handle_auth", "handle_site", "handle_status"]
