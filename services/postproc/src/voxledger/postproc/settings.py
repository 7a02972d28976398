from typing import Annotated

import msgspec

from voxledger.runtime.settings import CommonSettings


class PostprocSettings(CommonSettings, kw_only=True, frozen=True):
    # An OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, OpenAI); empty: built-in only.
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_s: float = 30.0
    llm_max_tokens: Annotated[int, msgspec.Meta(ge=1)] = (
        4096  # the most a model may write per insight (what a request costs is bounded)
    )
    insight_timeout_s: float = 120.0  # per kind, per attempt
    insight_attempts: int = 2  # attempts per engine for transient errors
    retry_base_s: float = 0.5
    ack_wait_s: float = 60.0
    heartbeat_s: float = 5.0
