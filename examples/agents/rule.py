"""A rule of thumb for a Fishbanks seat, shared by the example agents.

Keep the fleet (order nothing) and fish at the regeneration: send to each area only the
ships whose catch matches this team's share of what that area regrows at its present
density. Every other question gets the answer the rule implies (a TAC of the total
regeneration, a vote for a TAC no larger, a plain message), or, for a question the rule
does not know, the smallest answer its JSON schema admits.

The tables are Meadows' defaults (the harness's docs/DESIGN.md); a game with other
tables would need them here too. Standard library only.
"""

import math

# Density 0, 0.1, ..., 1.0 (Meadows' defaults).
REGEN = [0.0, 1.0, 2.0, 4.0, 7.0, 10.0, 11.0, 9.5, 5.5, 3.0, 0.0]
REGEN_SCALE = {"deep": 50.0, "coast": 30.0}
CATCH = {
    "deep": [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0],
    "coast": [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0],
}


def table(values, x):
    """Linear interpolation of a table at densities 0, 0.1, ..., 1."""
    x = min(max(x, 0.0), 1.0) * 10.0
    i = min(int(math.floor(x)), 9)
    return values[i] + (values[i + 1] - values[i]) * (x - i)


def densities(payload):
    d = payload["observation"]["public"].get("density")
    # Without revealed stocks, assume a sea near its start (0.83 and 0.8 of capacity).
    return (d[0], d[1]) if d else (0.83, 0.8)


def regeneration(payload):
    deep, coast = densities(payload)
    return {
        "deep": REGEN_SCALE["deep"] * table(REGEN, deep),
        "coast": REGEN_SCALE["coast"] * table(REGEN, coast),
    }


def plan(payload):
    """Order nothing; ships per area so that this team catches its share of the regrowth."""
    obs = payload["observation"]
    ships = int(obs["own"]["ships"])
    teams = max(int(obs["public"]["teams"]), 1)
    regen = regeneration(payload)
    deep_d, coast_d = densities(payload)
    per_ship = {"deep": table(CATCH["deep"], deep_d), "coast": table(CATCH["coast"], coast_d)}
    need = {
        area: int(regen[area] / teams // per_ship[area]) if per_ship[area] > 0 else 0
        for area in ("deep", "coast")
    }
    deep = min(ships, need["deep"])
    coast = min(ships - deep, need["coast"])
    return {"order": 0, "deep": deep, "coast": coast}


def smallest(schema):
    """The smallest answer a JSON schema admits (the first branch of an anyOf)."""
    if "anyOf" in schema:
        return smallest(schema["anyOf"][0])
    kind = schema.get("type")
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: smallest(props[name]) for name in schema.get("required", [])}
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "string":
        return ""
    return None


def answer(payload):
    """The answer object to one question (`docs/REMOTE.md` of the harness)."""
    question = payload["question"]
    request = payload.get("request") or {}
    sustainable = int(sum(regeneration(payload).values()))
    base = smallest(payload["schema"]) if payload.get("schema") else {}
    if question in ("decision", "pledge"):
        return plan(payload)
    if question == "proposal":
        return dict(base, tac=sustainable) if "tac" in base else base
    if question == "vote":
        tac = request.get("tac")
        accept = tac is not None and float(tac) <= sustainable
        return dict(base, accept=accept)
    if question == "message":
        # Numbers may arrive as floats (an A2A data part is a protobuf Struct).
        team = int(payload["team"])
        text = f"Team {team}: I keep my fleet and fish what the sea regrows, about {sustainable} fish a year for all of us."
        limit = int(payload["schema"].get("properties", {}).get("message", {}).get("maxLength", 200))
        return dict(base, message=text[:limit])
    return base
