"""The node types, one module each; ``ivr_engine.flow.registry`` lists them."""
