"""What handlers get injected, each by a typed provider: a handler names the parameter and its type
(`bus: NamedDependency[Bus]`), the provider here says where it comes from.

The tenant comes from the request (the key `auth_guard` checked); the rest are made once, at creation or in the
lifespan (app.py), and kept in the app's state.
"""

from collections.abc import Callable

from litestar.datastructures import State
from litestar.di import Provide
from nats.aio.client import Client as Nats

from voxledger.gateway.adapters.bus import Bus
from voxledger.gateway.adapters.readmodels import ReadModels
from voxledger.gateway.domain.audio_links import AudioLinks
from voxledger.gateway.domain.models import ModelCatalog
from voxledger.gateway.handlers.common import FreshReads
from voxledger.gateway.handlers.openai import JobAnswers
from voxledger.gateway.http.auth import KeyResolver, authenticate
from voxledger.gateway.http.consistency import ProjectionNotifier
from voxledger.gateway.http.metrics import GatewayMetrics
from voxledger.gateway.http.quotas import Quotas
from voxledger.gateway.settings import GatewaySettings


def provide_settings(state: State) -> GatewaySettings:
    return state.settings


def provide_metrics(state: State) -> GatewayMetrics:
    return state.metrics


def provide_metrics_token(state: State) -> str:
    return state.metrics_token


def provide_catalog(state: State) -> ModelCatalog:
    return state.catalog


def provide_nc(state: State) -> Nats:
    return state.nc


def provide_bus(state: State) -> Bus:
    return state.bus


def provide_readmodels(state: State) -> ReadModels:
    return state.readmodels


def provide_key_resolver(state: State) -> KeyResolver:
    return state.key_resolver


def provide_notifier(state: State) -> ProjectionNotifier:
    return state.notifier


def provide_quotas(state: State) -> Quotas:
    return state.quotas


def provide_fresh(state: State) -> FreshReads:
    return state.fresh


def provide_answers(state: State) -> JobAnswers:
    return state.answers


def provide_audio_links(state: State) -> AudioLinks:
    return state.audio_links


PROVIDERS: dict[str, Callable[..., object]] = {
    "tenant": authenticate,
    "settings": provide_settings,
    "metrics": provide_metrics,
    "metrics_token": provide_metrics_token,
    "catalog": provide_catalog,
    "nc": provide_nc,
    "bus": provide_bus,
    "readmodels": provide_readmodels,
    "key_resolver": provide_key_resolver,
    "notifier": provide_notifier,
    "quotas": provide_quotas,
    "fresh": provide_fresh,
    "answers": provide_answers,
    "audio_links": provide_audio_links,
}


def dependencies() -> dict[str, Provide]:
    """The app-level providers; each is a plain function, called in the request's task (no thread)."""
    return {name: Provide(provider, sync_to_thread=False) for name, provider in PROVIDERS.items()}
