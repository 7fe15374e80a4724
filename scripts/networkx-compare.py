#!/usr/bin/env python3
"""Run ctem's attack graph queries with networkx, to check and time ours.

Reads the JSON edge list that `ctem_graph::export::edge_list` writes
(`{"internet": 0, "nodes": [...], "edges": [{"from", "to", "kind",
"probability", "weight"}]}`) and runs, timing each:

1. reachability: the nodes reachable from the internet node (BFS), as
   `analysis::blast_radius` from the internet;
2. reverse reachability: the nodes with a path to a crown-jewel goal
   (a node whose `crown_jewel_goal` is true), as `analysis::reaching`
   marks them, also counted as distinct assets (the internet excluded),
   the unit of `Exposure::assets_with_path`;
3. the most likely path from the internet to any goal: Dijkstra on
   `weight` (-ln p), as `analysis::most_likely_path`.

It prints one JSON object with the results and the times in seconds.

Usage, with the matching Rust example writing the edge list and timing
ctem's own versions of the same queries:

    cargo run --release -p ctem-graph --example compare -- \\
        --seed 7 --assets 100000 --output /tmp/edges.json
    python3 scripts/networkx-compare.py /tmp/edges.json

Requires Python 3.9+ and networkx 3.x (`pip install networkx`).
"""

import json
import math
import sys
import time


def load(path):
    """Build a DiGraph with the cheapest weight of each node pair."""
    import networkx as nx

    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    graph = nx.DiGraph()
    graph.add_nodes_from(node["id"] for node in data["nodes"])
    for edge in data["edges"]:
        current = graph.get_edge_data(edge["from"], edge["to"])
        if current is None or edge["weight"] < current["weight"]:
            graph.add_edge(edge["from"], edge["to"], weight=edge["weight"])
    goals = [node["id"] for node in data["nodes"] if node["crown_jewel_goal"]]
    return data, graph, goals


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import networkx as nx

    (data, graph, goals), load_seconds = timed(lambda: load(argv[1]))
    internet = data["internet"]

    reached, reach_seconds = timed(lambda: nx.descendants(graph, internet) | {internet})

    # One search serves every goal, as in ctem: a sink node that every goal
    # leads to at no cost, added before the clock starts.
    sink = "sink"
    graph.add_edges_from((goal, sink, {"weight": 0.0}) for goal in goals)

    to_goals, reverse_seconds = timed(lambda: nx.ancestors(graph, sink))

    def most_likely():
        try:
            # Stops when the sink is settled, as ctem stops at the first goal.
            distance, path = nx.single_source_dijkstra(graph, internet, target=sink, weight="weight")
        except nx.NetworkXNoPath:
            return None
        return {"path": path[:-1], "probability": math.exp(-distance)}

    path, dijkstra_seconds = timed(most_likely)

    # A node label is `asset key/capability`; the asset key may hold slashes.
    asset_of = {node["id"]: node["label"].rsplit("/", 1)[0] for node in data["nodes"]}
    assets_to_goals = {asset_of[node] for node in to_goals if node != internet}

    print(
        json.dumps(
            {
                "networkx": nx.__version__,
                "nodes": graph.number_of_nodes(),
                "edges": len(data["edges"]),
                "goals": len(goals),
                "reachable_from_internet": len(reached),
                "with_path_to_goal": len(to_goals),
                "assets_with_path_to_goal": len(assets_to_goals),
                "most_likely_path": path,
                "seconds": {
                    "load": load_seconds,
                    "reachability": reach_seconds,
                    "reverse_reachability": reverse_seconds,
                    "most_likely_path": dijkstra_seconds,
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
