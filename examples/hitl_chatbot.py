"""A chatbot that asks a human expert when it needs one: LangGraph's human-in-the-loop tutorial.

The graph is the tutorial's, with the import prefix ``stategraph``: a ``chatbot`` node, a
``tools`` node holding a search tool and ``human_assistance`` (which calls ``interrupt()``),
``tools_condition`` between them, and a checkpointer. Here it runs in your terminal: you type
messages; when the model asks for human assistance the program shows the question, reads your
answer as the expert's, and resumes the run with ``Command(resume={"data": answer})``.

Threads are stored in SQLite (or in PostgreSQL: ``--db postgresql://user@host/db``), so you can
quit while a question is pending and answer it later, from another process or machine:

    python examples/hitl_chatbot.py                      # offline, scripted model
    python examples/hitl_chatbot.py --thread 7           # another conversation
    python examples/hitl_chatbot.py --demo               # a scripted session, no typing
    python examples/hitl_chatbot.py --db postgresql://postgres@127.0.0.1:5432/test
    python examples/hitl_chatbot.py --model openai:gpt-4.1   # a real model (needs `langchain`)

Offline, the model is a ``ScriptedChatModel`` whose replies depend on the conversation: ask for
an expert, a human or guidance and it calls ``human_assistance``; ask a question and it searches
(a canned search, no network); otherwise it chats.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from typing_extensions import TypedDict

from stategraph.graph import START, StateGraph
from stategraph.graph.message import add_messages
from stategraph.prebuilt import ToolNode, tools_condition
from stategraph.testing import ScriptedChatModel, canned_search_tool, tool_call
from stategraph.types import Command, interrupt

QUIT_WORDS = {"quit", "exit", "q"}
HELP_WORDS = ("expert", "human", "assistance", "guidance", "a person", "someone")
QUESTION_WORDS = ("what", "who", "when", "where", "which", "how", "why", "search", "look up", "find")
DEMO_TURNS = (
    "I need some expert guidance for building an AI agent. Could you request assistance for me?",
    "What is LangGraph?",
)
DEMO_EXPERT_ANSWER = (
    "We, the experts are here to help! We'd recommend you check out LangGraph to build your "
    "agent. It's much more reliable and extensible than simple autonomous agents."
)


# -- the tutorial's graph ---------------------------------------------------------------------


class State(TypedDict):
    messages: Annotated[list, add_messages]


@tool
def human_assistance(query: str) -> str:
    """Request assistance from a human."""
    human_response = interrupt({"query": query})
    return human_response["data"]


def build_graph(llm: Any, search_tool: BaseTool, checkpointer: Any) -> Any:
    """The tutorial's graph: chatbot -> (tools -> chatbot)* with a checkpointer."""
    tools = [search_tool, human_assistance]
    llm_with_tools = llm.bind_tools(tools)

    def chatbot(state: State) -> dict[str, Any]:
        message = llm_with_tools.invoke(state["messages"])
        # The run is interrupted inside a tool, and a resumed tools node runs all its calls
        # again: one call per message keeps the other tools from running twice.
        assert len(message.tool_calls) <= 1
        return {"messages": [message]}

    graph_builder = StateGraph(State)
    graph_builder.add_node("chatbot", chatbot)
    graph_builder.add_node("tools", ToolNode(tools=tools))
    graph_builder.add_conditional_edges("chatbot", tools_condition)
    graph_builder.add_edge("tools", "chatbot")
    graph_builder.add_edge(START, "chatbot")
    return graph_builder.compile(checkpointer=checkpointer)


# -- the offline model ------------------------------------------------------------------------


def scripted_reply(messages: list[BaseMessage], search_name: str = "search") -> Any:
    """What the offline model says next, given the conversation so far."""
    last = messages[-1]
    if isinstance(last, ToolMessage):
        if last.name == "human_assistance":
            return f"I asked a human expert for you. Their answer: {last.content}"
        return f"Here is what I found: {_first_search_hit(last.content)}"
    text = last.content if isinstance(last.content, str) else str(last.content)
    lowered = text.lower()
    if any(word in lowered for word in HELP_WORDS):
        return tool_call("human_assistance", {"query": text})
    if "?" in text or any(lowered.startswith(word) or f" {word} " in f" {lowered} " for word in QUESTION_WORDS):
        return tool_call(search_name, {"query": text})
    if lowered.strip(" !.") in ("hi", "hello", "hey"):
        return "Hello! Ask me a question and I will search for it, or ask for an expert and I will fetch a human."
    return (
        f"You said: {text!r}. Ask me a question (I search the web, offline here) or ask for "
        "expert help (a human answers through me)."
    )


def _first_search_hit(content: Any) -> str:
    try:
        hits = json.loads(content) if isinstance(content, str) else content
        return str(hits[0]["content"])
    except (ValueError, TypeError, KeyError, IndexError):
        return str(content)


def offline_model() -> ScriptedChatModel:
    return ScriptedChatModel([scripted_reply], cycle=True, model_name="hitl-chatbot-offline")


def real_model(spec: str) -> Any:
    try:
        from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
    except ImportError:
        raise SystemExit(
            f"--model {spec} needs the `langchain` package and your provider's integration, e.g.\n"
            "    pip install langchain langchain-openai\n"
            "Run without --model to use the offline scripted model."
        ) from None
    return init_chat_model(spec)


def search_tool_for(real: bool) -> BaseTool:
    """Tavily search like the tutorial when installed and configured; else the canned one."""
    if real:
        import os

        if os.environ.get("TAVILY_API_KEY"):
            try:
                from langchain_tavily import TavilySearch  # type: ignore[import-not-found]
            except ImportError:
                pass
            else:
                return TavilySearch(max_results=2)
    return canned_search_tool()


# -- the terminal ----------------------------------------------------------------------------


def describe(message: BaseMessage) -> str:
    if isinstance(message, ToolMessage):
        text = str(message.content)
        return f"  [{message.name} result] {text if len(text) <= 300 else text[:297] + '...'}"
    if isinstance(message, AIMessage):
        parts = [f"Assistant: {message.content}"] if message.content else []
        for call in message.tool_calls:
            parts.append(f"Assistant -> {call['name']}({json.dumps(call['args'], ensure_ascii=False)})")
        return "\n".join(parts)
    return f"User: {message.content}"


class Session:
    """One thread of the chatbot, driven from text input."""

    def __init__(self, graph: Any, thread_id: str, write: Callable[[str], None] = print) -> None:
        self.graph = graph
        self.config = {"configurable": {"thread_id": thread_id}}
        self.write = write
        self.shown: set[str | None] = {m.id for m in self.messages()}

    def messages(self) -> list[BaseMessage]:
        return list(self.graph.get_state(self.config).values.get("messages", []))

    def pending_query(self) -> str | None:
        """The question waiting for a human on this thread, if any."""
        for pending in self.graph.get_state(self.config).interrupts:
            value = pending.value
            return str(value.get("query", value)) if isinstance(value, dict) else str(value)
        return None

    def run(self, graph_input: Any) -> None:
        for event in self.graph.stream(graph_input, self.config, stream_mode="values"):
            for message in event.get("messages", []):
                if message.id in self.shown:
                    continue
                self.shown.add(message.id)
                if not isinstance(message, HumanMessage):
                    self.write(describe(message))

    def say(self, text: str) -> None:
        self.run({"messages": [{"role": "user", "content": text}]})

    def answer(self, text: str) -> None:
        self.run(Command(resume={"data": text}))


def chat(session: Session, read: Callable[[str], str | None], thread_id: str) -> None:
    history = session.messages()
    if history:
        session.write(f"Resuming thread {thread_id!r} ({len(history)} messages so far).")
    while True:
        query = session.pending_query()
        if query is not None:
            session.write(f"\nThe assistant asks for human assistance:\n  {query}")
            answer = read("Expert answer> ")
            if answer is None or answer.strip().lower() in QUIT_WORDS:
                session.write(
                    f"Goodbye. The question is still pending: run again with --thread {thread_id} to answer it."
                )
                return
            session.answer(answer)
            continue
        text = read("User: ")
        if text is None or text.strip().lower() in QUIT_WORDS:
            session.write("Goodbye!")
            return
        if text.strip():
            session.say(text)


def demo(session: Session) -> None:
    for text in DEMO_TURNS:
        session.write(f"User: {text}")
        session.say(text)
        query = session.pending_query()
        if query is not None:
            session.write(f"\nThe assistant asks for human assistance:\n  {query}")
            session.write(f"Expert answer> {DEMO_EXPERT_ANSWER}")
            session.answer(DEMO_EXPERT_ANSWER)
        session.write("")


def read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        print()
        return None


@contextlib.contextmanager
def open_checkpointer(db: str) -> Iterator[Any]:
    """The saver for ``--db``: switching from SQLite to PostgreSQL is this one choice."""
    if db.startswith(("postgresql://", "postgres://")):
        from stategraph.checkpoint.postgres import PostgresSaver

        with PostgresSaver.from_conn_string(db) as checkpointer:
            checkpointer.setup()  # creates or migrates the tables; safe to run every time
            yield checkpointer
    else:
        from stategraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(db) as checkpointer:
            yield checkpointer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a chat model as provider:name (needs `langchain`); default: offline scripted model")
    parser.add_argument(
        "--db",
        default="./hitl_chatbot.sqlite",
        help="where the threads are kept: a SQLite file, or a postgresql:// connection string",
    )
    parser.add_argument("--thread", default="1", help="conversation id; reuse it to continue (default: 1)")
    parser.add_argument("--demo", action="store_true", help="play a scripted session (in memory) and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    llm = real_model(args.model) if args.model else offline_model()
    search = search_tool_for(real=bool(args.model))
    if args.demo:
        from stategraph.checkpoint.memory import InMemorySaver

        demo(Session(build_graph(llm, search, InMemorySaver()), "demo"))
        return
    with open_checkpointer(args.db) as checkpointer:
        session = Session(build_graph(llm, search, checkpointer), args.thread)
        print(
            f"Human-in-the-loop chatbot ({'model ' + args.model if args.model else 'offline scripted model'}); "
            f"thread {args.thread!r} in {args.db}.\n"
            "Ask a question, or ask for expert help to bring a human in. Type 'quit' to leave."
        )
        chat(session, read_line, args.thread)


if __name__ == "__main__":
    main(sys.argv[1:])
