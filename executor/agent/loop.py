"""The agent: a Bedrock Converse tool-use loop that answers a question from the warehouse.

Per question: ground the model in the schema, let it call tools until it gives an answer,
feed SQL errors back so it can fix its query (up to SQL_ATTEMPTS failures in a row), ask
it once to check that the SQL answers the question (reflection), and stop with what it has
at a budget cap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.answer import Answer, Table
from bot.observability import service_logger
from executor.agent.budget import Budget, QuestionLimits
from executor.agent.caching import CACHE_POINT, PromptCache
from executor.agent.history import Message, first_question, history_messages, user_message
from executor.agent.models import ConverseClient, ModelChain, RetryPolicy
from executor.agent.pricing import PriceTable
from executor.agent.prompt import Example, system_prompt
from executor.artifacts import ArtifactStore
from executor.artifacts.export import export_to_store
from executor.assembly import answer_table, as_of_text, with_bundle
from executor.config import ModelConfig
from executor.engine import Request
from executor.errors import BudgetExceeded, DatabotError
from executor.sandbox import Sandbox
from executor.tools import run_sql
from executor.tools.base import SavedQuery, Tool, ToolContext
from executor.tools.registry import call_tool, tool_config
from executor.warehouse.as_of import data_as_of, tables_as_of
from executor.warehouse.base import Warehouse

logger = service_logger()

INFERENCE_CONFIG = {"maxTokens": 4096, "temperature": 0.0}
NO_TEXT = "The model returned no answer to this question; try rephrasing it."

REFLECTION_PROMPT = (
    "Before you answer, check that the SQL you ran really answers the question that was "
    "asked: the units, the filters, the time range, the joins and the grouping. If "
    "something is off, fix it with run_sql. Then reply with the complete final answer for "
    "the person, which replaces your draft (not a comment on the draft)."
)

# The closest verified queries: a fixed list, or a function of the question.
Examples = Sequence[Example] | Callable[[str], Sequence[Example]]


@dataclass(frozen=True)
class AgentConfig:
    model_ids: tuple[str, ...]
    limits: QuestionLimits
    sql_attempts: int = 3
    reflection: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Bedrock's service tier ("flex", "priority", ...); None sends none.
    service_tier: str | None = None
    # Which models get the requests' cache points (executor/agent/caching.py).
    prompt_cache: PromptCache = field(default_factory=PromptCache)

    @classmethod
    def from_model(cls, model: ModelConfig) -> AgentConfig:
        return cls(
            model_ids=model.model_ids,
            limits=QuestionLimits(model.max_turns, model.max_total_tokens, model.max_seconds),
            sql_attempts=model.sql_attempts,
            reflection=model.reflection,
            service_tier=model.service_tier,
            prompt_cache=PromptCache(enabled=model.prompt_cache, overrides=model.cache_models),
        )


class Agent:
    """An Engine backed by a Bedrock model (or anything with Converse's `converse`)."""

    def __init__(
        self,
        client: ConverseClient,
        warehouse: Warehouse,
        artifacts: ArtifactStore,
        tools: Sequence[Tool],
        config: AgentConfig,
        *,
        prices: PriceTable | None = None,
        examples: Examples | None = None,
        sandbox: Sandbox | None = None,
        today: Callable[[], date] = date.today,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.warehouse = warehouse
        self.artifacts = artifacts
        self.tools = {tool.name: tool for tool in tools}
        # The tool specs, the same for every call, open the prefix Bedrock may cache.
        specs = tool_config(list(tools))
        self.tool_config = {**specs, "tools": [*specs["tools"], CACHE_POINT]}
        self.config = config
        self.prices = prices or PriceTable()
        self.examples = examples
        self.sandbox = sandbox
        self.today = today
        self.clock = clock

    def answer(self, request: Request) -> Answer:
        return _Job(self, request).run()

    def examples_for(self, question: str) -> Sequence[Example]:
        if self.examples is None:
            return ()
        return self.examples(question) if callable(self.examples) else self.examples


class _SqlAttempts:
    """Failed run_sql calls in a row: the self-correction cap and the progress wording."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.failures = 0
        self.last_error = ""
        self.last_sql = ""

    def stage(self) -> str:
        attempt = self.failures + 1
        running = run_sql.TOOL.stage
        return running if attempt == 1 else f"{running} ({_ordinal(attempt)} try)"

    def record(self, tool_input: Any, result: dict[str, Any]) -> None:
        if result["status"] == "success":
            self.failures = 0
            return
        self.failures += 1
        self.last_error = result["content"][0]["text"]
        self.last_sql = tool_input.get("sql", "") if isinstance(tool_input, dict) else ""

    @property
    def exhausted(self) -> bool:
        return self.failures >= self.limit


class _Job:
    """One question's run of the loop, with its own context, budget and model chain."""

    def __init__(self, agent: Agent, request: Request) -> None:
        self.agent = agent
        self.request = request
        self.context = ToolContext(
            job_id=request.job_id,
            warehouse=request.warehouse or agent.warehouse,
            artifacts=agent.artifacts,
            progress=request.progress,
            sandbox=agent.sandbox,
        )
        self.budget = Budget(agent.config.limits, agent.prices, agent.clock, request.allowance)
        self.chain = ModelChain(agent.client, agent.config.model_ids, agent.config.retry,
                                request.job_id, cache=agent.config.prompt_cache)
        self.sql = _SqlAttempts(agent.config.sql_attempts)
        self.messages: list[Message] = []
        self.draft = ""

    def run(self) -> Answer:
        agent, request = self.agent, self.request
        logger.info("job_id=<%s> | agent started", request.job_id)
        request.progress("Reading the schema")
        warehouse = self.context.warehouse
        first = first_question(request.history)
        prompt = system_prompt(
            self.context.tables(),
            warehouse.dialect,
            agent.today(),
            request.question,
            agent.examples_for(request.question),
            first_question=first,
            first_examples=agent.examples_for(first) if first is not None else (),
            data_as_of=lambda shown: tables_as_of(
                warehouse, [table.name for table in shown], agent.today()
            ),
            viewing=request.viewing,
            with_samples=warehouse.with_samples,
            earlier_sql=[turn.sql for turn in request.history],
        )
        # The stable part, then a cache point, then what changes per question.
        system = [{"text": prompt.stable}, CACHE_POINT, {"text": prompt.per_question}]
        self.messages = [*history_messages(request.history), user_message(request.question)]
        reflect = agent.config.reflection
        try:
            while True:
                # With reflection on, a turn before the reflection prompt is a draft that
                # the checked answer replaces, unless no query ran yet (then a turn without
                # tool calls is the answer).
                message = self._converse(system, final=not reflect or not self.context.queries)
                calls = [block["toolUse"] for block in message["content"] if "toolUse" in block]
                text = _text(message)
                if calls:
                    results = [self._call(call) for call in calls]
                    self.messages.append({"role": "user", "content": results})
                    if self.sql.exhausted:
                        return self._gave_up()
                    continue
                if reflect and text and self.context.queries:
                    reflect = False
                    self.draft = text
                    request.progress("Checking the answer")
                    self.messages.append(user_message(REFLECTION_PROMPT))
                    continue
                return self._answer(text or self.draft or NO_TEXT)
        except BudgetExceeded as e:
            logger.warning("job_id=<%s> | budget reached: %s", request.job_id, e)
            return self._answer(self._partial(str(e)))

    def _converse(self, system: list[dict[str, Any]], *, final: bool) -> Message:
        """One model turn; streamed into the request's draft when it may be the answer."""
        self.budget.check()
        request = {"system": system, "messages": self.messages,
                   "toolConfig": self.agent.tool_config, "inferenceConfig": INFERENCE_CONFIG,
                   **self._service_tier()}
        draft = self.request.draft
        if final and draft is not None:
            response, model_id = self.chain.converse_stream(draft, **request)
        else:
            response, model_id = self.chain.converse(**request)
        self.budget.spend(model_id, response.get("usage", {}))
        message: Message = response["output"]["message"]
        logger.debug("job_id=<%s>, model=<%s> | stop reason %s", self.request.job_id, model_id,
                     response.get("stopReason"))
        self.messages.append(message)
        return message

    def _service_tier(self) -> dict[str, Any]:
        tier = self.agent.config.service_tier
        return {"serviceTier": {"type": tier}} if tier else {}

    def _call(self, tool_use: dict[str, Any]) -> dict[str, Any]:
        name = tool_use["name"]
        is_sql = name == run_sql.TOOL.name
        tool = self.agent.tools.get(name)
        stage = tool.stage if tool is not None else f"Using {name}"
        self.request.progress(self.sql.stage() if is_sql else stage)
        result = call_tool(self.agent.tools, self.context, tool_use)
        if is_sql:
            self.sql.record(tool_use.get("input"), result["toolResult"])
        return result

    def _gave_up(self) -> Answer:
        text = (
            f"I could not get a working query after {self.sql.failures} attempts. "
            f"The last error was: {self.sql.last_error}"
        )
        if self.sql.last_sql:
            text += f"\n\nThe last query I tried:\n```sql\n{self.sql.last_sql.strip()}\n```"
        return self._answer(text)

    def _main_table(self, as_of: date | None) -> Table | None:
        """The last result's preview; when it is cut, the whole result goes to a file."""
        if not self.context.queries:
            return None
        saved = self.context.queries[-1]
        table = answer_table(saved.result, as_of)
        if table.truncated:
            table.full_result = self._full_result(saved)
        return table

    def _full_result(self, saved: SavedQuery) -> str | None:
        """The link of the saved query's CSV export, exporting it unless the model did."""
        context = self.context
        name = f"query_{context.queries.index(saved) + 1}.csv"
        if name not in context.links:
            try:
                exported = export_to_store(
                    context.warehouse, context.artifacts, context.job_id, saved.sql, name
                )
            except (DatabotError, OSError):
                # The preview still answers; the person only misses the download.
                logger.exception("job_id=<%s> | could not export %s", context.job_id, name)
                return None
            context.links[name] = exported.link
        return context.links[name]

    def _partial(self, reason: str) -> str:
        note = f"I stopped before finishing: I reached {reason}."
        if self.draft:
            return f"{self.draft}\n\n_{note} I had not finished checking this answer._"
        if self.context.queries:
            return f"{note} The last result I got is below; try a narrower question."
        return f"{note} I have no answer yet; try a narrower question."

    def _answer(self, text: str) -> Answer:
        context = self.context
        sql = [saved.sql for saved in context.queries]
        as_of = data_as_of(context.warehouse, sql, self.agent.today())
        answer = Answer(
            text=text,
            sql=sql,
            table=self._main_table(as_of),
            charts=list(context.charts),
            artifacts=dict(context.links),
            code=list(context.code),
            usage=self.budget.final_usage(),
            as_of=as_of_text(as_of),
        )
        with_bundle(self.agent.artifacts, self.request.job_id, self.request.question, answer)
        usage = answer.usage
        logger.info("job_id=<%s>, model=<%s> | agent answered: %s model calls, %s+%s tokens "
                    "(%s read from the prompt cache, %s written), $%.4f, %.1fs",
                    self.request.job_id, usage.model_id, self.budget.turns, usage.input_tokens,
                    usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens,
                    usage.cost_usd, usage.seconds)
        return answer


def _text(message: Message) -> str:
    return "\n".join(block["text"] for block in message["content"] if "text" in block).strip()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
