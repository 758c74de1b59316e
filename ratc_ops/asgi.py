"""One ASGI application for HTTP and websockets, served by Daphne."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")

from apps.core.handlers import get_asgi_application

# Views and middleware in one thread per request, not handed to and fro (apps/core/handlers.py).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.live.frames import DirectFrames  # noqa: E402
from apps.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sessions authenticate sockets; the Origin must be one of ALLOWED_HOSTS. ``DirectFrames`` only
        # lets numbered messages reach Daphne's sockets in one system call each (apps/live/frames.py).
        "websocket": DirectFrames(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
