"""The model's graph run in order, without dask.

Rasa runs its graph (the NLU pipeline for each message, the policies for each predicted
action: two to four times per message) through ``DaskGraphRunner.run``, which on every call
works out the sub-graph the targets need (``minimal_graph_schema``), builds a dask task graph
from it and has dask order and execute it. Dask's local scheduler runs one task at a time
here anyway (``dask.get``, synchronous), so all that buys is its bookkeeping, about an eighth
of what the graph costs per call. Here each target list's order is worked out once per
runner (a depth-first walk of the nodes' ``needs``, the same dependency relation dask
orders by) and each call runs the same ``GraphNode`` objects in that order with the same
arguments dask would pass them: each need's ``(node name, output)`` pair, or the need's own
name when nothing provides it. Inputs enter as dask's did (a pair per input, refused when an
input's value is the name of a node), and errors come out as from dask: as raised, a
``RuntimeError`` as Rasa's ``GraphRunError``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

_ORDERS = "_wallet_orders"
DASK_RUN = DaskGraphRunner.run  # Rasa's own (the tests compare against it)


def execution_order(schema: GraphSchema, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """Every node the targets depend on, each after what it needs, with what it needs."""
    order: list[tuple[str, tuple[str, ...]]] = []
    done: set[str] = set()

    def visit(name: str, path: frozenset[str]) -> None:
        if name in done or name not in schema.nodes:
            return  # placeholders (inputs such as ``__message__``) are not run
        if name in path:
            raise GraphRunError(f"the graph has a cycle through node '{name}'")
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            visit(need, path | {name})
        done.add(name)
        order.append((name, needs))

    for target in targets:
        visit(target, frozenset())
    return order


def run(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: the same nodes, arguments and result."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    orders: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = self.__dict__.setdefault(_ORDERS, {})
    order = orders.get(run_targets)
    if order is None:
        order = orders[run_targets] = execution_order(self._graph_schema, run_targets)
    values: dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and any(input_value == name for name, _ in order):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        values[input_name] = (input_name, input_value)
    nodes = self._instantiated_nodes
    try:
        for name, needs in order:
            if name not in values:  # an input of the same name stands in for the node
                values[name] = nodes[name](*(values.get(need, need) for need in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


def install() -> None:
    """Replace ``DaskGraphRunner.run``."""
    DaskGraphRunner.run = run  # type: ignore[method-assign]
