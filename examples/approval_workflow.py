"""A refund workflow with a human approval step, written with the functional API.

``@task`` steps check the request, look the order up, compute the refund and draft a reply to
the customer; then ``interrupt()`` asks a person to approve, reject or edit the refund, and the
last step issues it (or sends the rejection). Runs are stored in SQLite, so you can quit while
the approval is pending and come back later, even after a restart of the machine:

    python examples/approval_workflow.py --thread r1                 # start; answer or quit
    python examples/approval_workflow.py --thread r1                 # later: the approval is still there
    python examples/approval_workflow.py --thread r1 --approve yes   # decide without a prompt
    python examples/approval_workflow.py --thread r1 --edit 80       # approve 80.00 instead
    python examples/approval_workflow.py --thread r2 --order B-2002 --amount 40 --reason "changed my mind"

Each task prints ``ran task <name>`` when it runs. On the second invocation only the last step
runs: the workflow function starts again from the top, but every task call that had finished
returns its saved result instead of running.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from stategraph.func import entrypoint, task
from stategraph.types import Command, interrupt

ORDERS: dict[str, dict[str, Any]] = {
    "A-1001": {"customer": "Ada Lovelace", "item": "brass gear set", "total": 120.00},
    "B-2002": {"customer": "Charles Babbage", "item": "punched-card reader", "total": 48.00},
    "C-3003": {"customer": "Grace Hopper", "item": "compiler handbook", "total": 35.50},
}
DAMAGE_WORDS = ("damaged", "broken", "defective", "faulty", "never arrived")
RESTOCKING_FEE = 0.15
QUIT_WORDS = {"q", "quit", "exit"}


def report(line: str) -> None:
    print(line, flush=True)


# -- the steps -------------------------------------------------------------------------------


@task
def validate_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request with its amount as a number; ``ValueError`` naming what is wrong."""
    report("  ran task validate_request")
    order_id = str(request.get("order_id", "")).strip().upper()
    if order_id not in ORDERS:
        raise ValueError(f"unknown order {order_id!r}; known orders: {', '.join(sorted(ORDERS))}")
    amount = round(float(request.get("amount", ORDERS[order_id]["total"])), 2)
    if amount <= 0:
        raise ValueError(f"the requested amount must be positive, got {amount:.2f}")
    if amount > ORDERS[order_id]["total"]:
        raise ValueError(f"{amount:.2f} is more than order {order_id} cost ({ORDERS[order_id]['total']:.2f})")
    reason = str(request.get("reason", "")).strip()
    if not reason:
        raise ValueError("give a reason for the refund")
    return {"order_id": order_id, "amount": amount, "reason": reason}


@task
def look_up_order(order_id: str) -> dict[str, Any]:
    """The order, from the (here canned) order system."""
    report("  ran task look_up_order")
    return {"order_id": order_id, **ORDERS[order_id]}


@task
def compute_refund(request: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """Damaged goods are refunded in full; other returns pay a restocking fee."""
    report("  ran task compute_refund")
    damaged = any(word in request["reason"].lower() for word in DAMAGE_WORDS)
    amount = request["amount"] if damaged else round(request["amount"] * (1 - RESTOCKING_FEE), 2)
    rule = "full refund: the item was damaged" if damaged else f"{RESTOCKING_FEE:.0%} restocking fee"
    return {"amount": amount, "rule": rule}


@task
def draft_reply(order: dict[str, Any], amount: float) -> str:
    """The message the customer will get if the refund is approved."""
    report("  ran task draft_reply")
    first_name = order["customer"].split()[0]
    return (
        f"Dear {first_name}, we are refunding {amount:.2f} for your {order['item']} "
        f"(order {order['order_id']}). It will reach your account within 5 days."
    )


@task
def issue_refund(order: dict[str, Any], amount: float, message: str) -> dict[str, Any]:
    """Pay the refund and send the reply (here: make up a confirmation number)."""
    report("  ran task issue_refund")
    confirmation = f"RF-{order['order_id']}-{round(amount * 100)}"
    return {"status": "refunded", "amount": amount, "confirmation": confirmation, "message": message}


@task
def send_rejection(order: dict[str, Any], note: str) -> dict[str, Any]:
    report("  ran task send_rejection")
    return {"status": "rejected", "amount": 0.0, "message": f"Refund for order {order['order_id']} declined: {note}"}


# -- the workflow ------------------------------------------------------------------------------


def build_workflow(checkpointer: Any) -> Any:
    """The refund workflow as a durable graph on ``checkpointer``."""

    @entrypoint(checkpointer=checkpointer)
    def refund_workflow(request: dict[str, Any]) -> dict[str, Any]:
        # This body runs again from the top when the thread resumes. Every call below is made
        # in the same order each time, so finished tasks are matched to their saved results.
        checked = validate_request(request).result()
        order = look_up_order(checked["order_id"]).result()
        refund = compute_refund(checked, order).result()
        draft = draft_reply(order, refund["amount"]).result()

        decision = interrupt(
            {
                "question": "Approve this refund?",
                "order": order,
                "requested": checked["amount"],
                "reason": checked["reason"],
                "refund": refund,
                "draft": draft,
            }
        )

        action = decision.get("action") if isinstance(decision, dict) else decision
        outcome: dict[str, Any]
        if action == "reject":
            outcome = send_rejection(order, decision.get("note") or "not approved by a reviewer").result()
            return outcome
        amount = refund["amount"]
        if action == "edit":
            amount = min(round(float(decision["amount"]), 2), order["total"])
            draft = draft_reply(order, amount).result()
        outcome = issue_refund(order, amount, draft).result()
        return outcome

    return refund_workflow


# -- the terminal ---------------------------------------------------------------------------------


class Session:
    """One thread of the workflow, driven from the terminal."""

    def __init__(self, workflow: Any, thread_id: str) -> None:
        self.workflow = workflow
        self.thread_id = thread_id
        self.config = {"configurable": {"thread_id": thread_id}}

    def state(self) -> Any:
        return self.workflow.get_state(self.config)

    def pending_approval(self) -> dict[str, Any] | None:
        for pending in self.state().interrupts:
            return dict(pending.value)
        return None

    def has_history(self) -> bool:
        return self.workflow.checkpointer.get_tuple(self.config) is not None

    def run(self, workflow_input: Any) -> bool:
        """Run until the workflow finishes or waits; False if a step failed."""
        try:
            self.workflow.invoke(workflow_input, self.config)
        except ValueError as error:
            report(f"The request was refused: {error}.")
            return False
        return True


def show_approval(approval: dict[str, Any]) -> None:
    order, refund = approval["order"], approval["refund"]
    report("\nApproval needed:")
    report(f"  order {order['order_id']} ({order['customer']}, {order['item']}, paid {order['total']:.2f})")
    report(f"  requested {approval['requested']:.2f}, reason: {approval['reason']}")
    report(f"  proposed refund: {refund['amount']:.2f} ({refund['rule']})")
    report(f"  draft reply: {approval['draft']}")


def show_result(result: Any) -> None:
    if not isinstance(result, dict):
        return
    if result.get("status") == "refunded":
        report(f"Done: refunded {result['amount']:.2f} (confirmation {result['confirmation']}).")
    else:
        report("Done: the refund was rejected.")
    report(f"  message sent: {result['message']}")


def ask_decision(read: Callable[[str], str | None]) -> dict[str, Any] | None:
    """The reviewer's decision, or None to leave the approval pending."""
    while True:
        answer = read("Approve? [y]es / [n]o / [e]dit amount / [q]uit > ")
        if answer is None or answer.strip().lower() in QUIT_WORDS:
            return None
        choice = answer.strip().lower()
        if choice in ("y", "yes"):
            return {"action": "approve"}
        if choice in ("n", "no"):
            note = read("Reason for the customer (optional) > ")
            return {"action": "reject", "note": (note or "").strip()}
        if choice in ("e", "edit"):
            amount = read("Refund amount > ")
            try:
                return {"action": "edit", "amount": float(amount or "")}
            except ValueError:
                report(f"Not an amount: {amount!r}.")
                continue
        report("Please answer y, n, e or q.")


def decision_from_flags(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.edit is not None:
        return {"action": "edit", "amount": args.edit}
    if args.approve == "yes":
        return {"action": "approve"}
    if args.approve == "no":
        return {"action": "reject", "note": args.note}
    return None


def drive(session: Session, args: argparse.Namespace, read: Callable[[str], str | None]) -> int:
    """Start or continue the thread; returns the process exit status."""
    state = session.state()
    approval = session.pending_approval()
    failed = [t.error for t in state.tasks if t.error]
    if approval is not None:
        report(
            f"Resuming thread {session.thread_id!r}: an approval is pending "
            "(finished tasks will not run again)."
        )
    elif failed:
        report(f"Thread {session.thread_id!r} stopped on an error: {failed[0]}. Use another --thread.")
        return 1
    elif state.next:
        # The program stopped in the middle of a run (a crash, a kill): continue that run.
        report(f"Continuing thread {session.thread_id!r}, whose last run was cut short.")
        if not session.run(None):
            return 1
        approval = session.pending_approval()
    elif session.has_history():
        report(f"Thread {session.thread_id!r} is finished; use another --thread for a new request.")
        show_result(state.values)
        return 0
    else:
        request = {"order_id": args.order, "reason": args.reason}
        if args.amount is not None:
            request["amount"] = args.amount
        report(f"Starting refund request for order {args.order} on thread {session.thread_id!r}.")
        if not session.run(request):
            return 1
        approval = session.pending_approval()

    while approval is not None:
        show_approval(approval)
        decision = decision_from_flags(args) or ask_decision(read)
        if decision is None:
            report(f"The approval is still pending: run again with --thread {session.thread_id} to decide.")
            return 0
        report(f"Decision: {decision['action']}.")
        if not session.run(Command(resume=decision)):
            return 1
        approval = session.pending_approval()
    show_result(session.state().values)
    return 0


def read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        print()
        return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="./approval_workflow.sqlite", help="SQLite file holding the threads")
    parser.add_argument("--thread", default="1", help="workflow id; reuse it to continue (default: 1)")
    parser.add_argument("--order", default="A-1001", help=f"order id, one of {', '.join(ORDERS)}")
    parser.add_argument("--amount", type=float, help="amount requested (default: the order total)")
    parser.add_argument("--reason", default="arrived damaged", help="why the customer wants a refund")
    decide = parser.add_mutually_exclusive_group()
    decide.add_argument("--approve", choices=("yes", "no"), help="decide the pending approval without a prompt")
    decide.add_argument("--edit", type=float, metavar="AMOUNT", help="approve a different amount without a prompt")
    parser.add_argument("--note", default="", help="with --approve no: the reason told to the customer")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from stategraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(args.db) as checkpointer:
        report(f"Refund workflow: thread {args.thread!r} in {args.db}.")
        return drive(Session(build_workflow(checkpointer), args.thread), args, read_line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
