"""Messages in graph state: the ``add_messages`` reducer, ``MessagesState`` and ``push_message``.

Needs langchain-core (its message classes are the vocabulary). ``stategraph.graph`` serves
these names lazily, so graphs that never use messages do not import it.
"""

from stategraph.graph._message import REMOVE_ALL_MESSAGES as REMOVE_ALL_MESSAGES
from stategraph.graph._message import MessageGraph as MessageGraph
from stategraph.graph._message import Messages as Messages
from stategraph.graph._message import MessagesState as MessagesState
from stategraph.graph._message import add_messages as add_messages
from stategraph.graph._message import push_message as push_message

__all__ = ["REMOVE_ALL_MESSAGES", "MessageGraph", "Messages", "MessagesState", "add_messages", "push_message"]
