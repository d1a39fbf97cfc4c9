"""Parameter search over compiled plans: `qtc sweep` (a grid) and `qtc evolve` (a seeded search).

Registered as a layer now (above `outputs` and `pipeline`, beside `live` and `research`):
a search compiles many variants of one strategy and runs them on one loaded market with
`qtc.pipeline.runner.run_on_market`, sharing one `FactorCache`. The commands come with
their issues; until then this package is empty.
"""
