"""The app's long-lived parts, for the code that runs outside dependency injection.

Handlers get these by name through Litestar's DI (see `app.py`). Middleware, the `before_request`
hook and the exception handlers run before or around DI, so they read the app's state here, once.
"""

from litestar.datastructures import State
from litestar.types import Scope


def app_state(scope: Scope) -> State:
    return scope["app"].state
