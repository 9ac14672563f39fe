"""The Bedrock agent: `create_agent(...)` builds the Engine that answers with a model."""

from __future__ import annotations

from executor.agent.configure import how_to_configure
from executor.agent.loop import Agent, AgentConfig, Examples
from executor.agent.models import ConverseClient, bedrock_client
from executor.agent.pricing import PriceTable
from executor.agent.prompt import Example
from executor.artifacts import ArtifactStore
from executor.config import ModelConfig, SandboxConfig
from executor.engine import Engine
from executor.sandbox import open_sandbox
from executor.tools.registry import TOOLS
from executor.warehouse.base import Warehouse

__all__ = ["Agent", "Example", "Examples", "create_agent", "how_to_configure"]


def create_agent(
    model: ModelConfig,
    sandbox: SandboxConfig,
    warehouse: Warehouse,
    artifacts: ArtifactStore,
    *,
    client: ConverseClient | None = None,
    examples: Examples | None = None,
) -> Engine:
    """The agent on the `model` configured, running Python in the `sandbox` configured,
    over this warehouse and artifact store.

    `client` is anything with Converse's `converse(**request)`; by default the process's
    bedrock-runtime client. `examples` are verified queries shown as worked examples: a
    list of objects with `question` and `sql`, or a function from the question to them.
    """
    return Agent(
        client or bedrock_client(model),
        warehouse,
        artifacts,
        TOOLS,
        AgentConfig.from_model(model),
        prices=PriceTable(model.prices),
        examples=examples,
        sandbox=open_sandbox(sandbox),
    )
